"""Terraform checked here without providers: every file parsed (python-hcl2), the wiring tested.

`terraform init/validate/test` need provider downloads; they run in GitHub Actions (ci.yml).
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from pigeon.metrics import CATALOG, metric_name
from pigeon_tools.build.verify import check_import
from pigeon_tools.paths import ROOT
from pigeon_tools.python import python313
from pigeon_tools.terraform import docs as terraform_docs
from pigeon_tools.terraform import hcl as terraform_hcl
from pigeon_tools.terraform import validate, versions

MODULES = {m.name: m for m in terraform_hcl.all_modules()}
REUSABLE = {k: m for k, m in MODULES.items() if k.startswith("modules/")}
EXAMPLES = {k: m for k, m in MODULES.items() if k.startswith("examples/")}
ROOT_MODULE = MODULES["environments"]
ENVIRONMENT_FILES = sorted((ROOT_MODULE.path).glob("*.tfvars"))


def test_every_expected_module_example_and_environment_exists():
    assert set(REUSABLE) == {
        "modules/function",
        "modules/bucket_notification",
        "modules/alarms",
        "modules/secrets",
        "modules/datadog",
        "modules/pigeon",
        "modules/sqs_delivery",
    }
    assert set(EXAMPLES) == {"examples/direct", "examples/sqs"}
    assert {p.stem for p in ENVIRONMENT_FILES} == {"stage", "prod"}
    assert set(MODULES) == {*REUSABLE, *EXAMPLES, "environments"}


@pytest.mark.parametrize("name", sorted(REUSABLE))
def test_modules_follow_the_conventions(name):
    module = REUSABLE[name]
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= set(module.files)
    assert (module.path / "README.md").exists()
    assert list((module.path / "tests").glob("*.tftest.hcl")), "a terraform test with mocks"
    [settings] = module.blocks["terraform"]
    for provider in settings["required_providers"][0].values():
        assert provider["source"]
        assert provider["version"]


def roots_major(provider: str) -> int:
    """The major of `provider` the environments root (the one that deploys) pins."""
    constraint = terraform_docs.required_providers(ROOT_MODULE)[provider]["version"]
    major = versions.lowest(constraint)[0]
    assert versions.below(constraint) == (major + 1, 0, 0), f"environments: {constraint}"
    return major


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_provider_constraint_admits_the_roots_major_and_not_the_next(name):
    """Each module and example is also a root of its own (`terraform test` in CI, with its own
    lock file): a constraint open above would lock, and test against, a major the environments
    root never deploys. So each gives its real minimum and the root's next major as a bound."""
    for provider, spec in terraform_docs.required_providers(MODULES[name]).items():
        constraint, major = spec["version"], roots_major(provider)
        top = versions.below(constraint)
        assert top is not None, f"{name}: {provider} {constraint!r} has no upper bound"
        assert top <= (major + 1, 0, 0), f"{name}: {provider} {constraint!r} admits {major + 1}.x"
        assert versions.admits(constraint, (major, 999, 999)), (
            f"{name}: {provider} {constraint!r} excludes the root's {major}.x"
        )
        if name in REUSABLE:  # a child module: its real minimum, then the bound
            assert re.fullmatch(rf">= \d+(\.\d+)*, < {major + 1}\.0", constraint), name


def test_the_roots_agree_on_each_providers_major():
    """The environments root and every example root admit one and the same major."""
    for provider in terraform_docs.required_providers(ROOT_MODULE):
        majors = {
            name: versions.lowest(terraform_docs.required_providers(m)[provider]["version"])[0]
            for name, m in {"environments": ROOT_MODULE, **EXAMPLES}.items()
            if provider in terraform_docs.required_providers(m)
        }
        assert set(majors.values()) == {roots_major(provider)}, f"{provider}: {majors}"


@pytest.mark.parametrize(
    ("constraint", "lowest", "below", "admits", "refuses"),
    [
        (">= 6.0", (6, 0, 0), None, [(6, 0, 0), (7, 0, 0)], [(5, 99, 0)]),
        (">= 6.0, < 7.0", (6, 0, 0), (7, 0, 0), [(6, 28, 1)], [(7, 0, 0), (5, 9, 9)]),
        ("~> 6.0", (6, 0, 0), (7, 0, 0), [(6, 99, 0)], [(7, 0, 0)]),
        ("~> 3.40", (3, 40, 0), (4, 0, 0), [(3, 84, 0)], [(3, 39, 0), (4, 0, 0)]),
        ("~> 6.1.2", (6, 1, 2), (6, 2, 0), [(6, 1, 9)], [(6, 2, 0), (6, 1, 1)]),
        ("<= 6.5", (0, 0, 0), (6, 5, 1), [(6, 5, 0)], [(6, 5, 1)]),
        ("6.2.0", (6, 2, 0), (6, 2, 1), [(6, 2, 0)], [(6, 2, 1)]),
    ],
)
def test_version_constraints_read_as_terraform_reads_them(
    constraint, lowest, below, admits, refuses
):
    assert versions.lowest(constraint) == lowest
    assert versions.below(constraint) == below
    assert all(versions.admits(constraint, v) for v in admits)
    assert not any(versions.admits(constraint, v) for v in refuses)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_one_terraform_requirement_everywhere(name):
    """The root's required_version is the one source: every module and example says the same,
    and docs/deploy.md shows it (generated; test_module_readmes… checks it is current)."""
    source = terraform_docs.required_version(ROOT_MODULE)
    assert source == ">= 1.11.0"  # S3 native locking (use_lockfile) is GA from 1.11
    assert terraform_docs.required_version(MODULES[name]) == source
    assert f"Terraform `{source}`" in (ROOT / "docs" / "deploy.md").read_text()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_variable_has_a_description_and_a_type(name):
    for variable, spec in MODULES[name].variables().items():
        assert spec.get("description"), f"{name}: var.{variable} has no description"
        assert spec.get("type"), f"{name}: var.{variable} has no type"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_referenced_variable_is_declared(name):
    module = MODULES[name]
    assert module.referenced_variables() <= set(module.variables())


def calls():
    for name, module in MODULES.items():
        for call, body in module.module_calls().items():
            callee = (module.path / body["source"]).resolve()
            yield name, call, body, MODULES[callee.relative_to(terraform_hcl.TERRAFORM).as_posix()]


@pytest.mark.parametrize(
    ("caller", "call", "body", "callee"), [pytest.param(*c, id=f"{c[0]}:{c[1]}") for c in calls()]
)
def test_module_inputs_exist_and_required_ones_are_given(caller, call, body, callee):
    meta = {"source", "count", "for_each", "providers", "depends_on", "version"}
    given = set(body) - meta
    declared = callee.variables()
    assert given <= set(declared), f"{caller} passes unknown inputs to {call}"
    required = {v for v, spec in declared.items() if "default" not in spec}
    assert required <= given, f"{caller} leaves required inputs of {call} unset"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_outputs_used_exist(name):
    module = MODULES[name]
    targets = {call: callee for caller, call, _, callee in calls() if caller == name}
    for text in module.files.values():
        for call, output in re.findall(r"\bmodule\.([a-z_]+)(?:\[\d+\])?\.([a-z_]+)", text):
            assert output in targets[call].outputs(), f"{name}: module.{call}.{output}"


def test_the_notification_is_raw_crash_puts_after_the_permission():
    module = REUSABLE["modules/bucket_notification"]
    variables = module.variables()
    assert variables["events"]["default"] == ["s3:ObjectCreated:Put"]
    assert variables["filter_prefix"]["default"] == "v2/raw_crash/"
    local_values = module.locals()
    assert local_values["pigeon"]["events"] == "${var.events}"
    assert local_values["pigeon"]["filter_prefix"] == "${var.filter_prefix}"
    notification = module.resources("aws_s3_bucket_notification")["this"]
    targets = terraform_hcl.pigeon_entries(notification)
    assert set(targets) == {"lambda_function", "queue"}
    for block, target in targets.items():
        assert target["events"] == f"${{{block}.value.events}}"
        assert target["filter_prefix"] == f"${{{block}.value.filter_prefix}}"
    assert targets["lambda_function"]["lambda_function_arn"] == "${var.function_arn}"
    assert targets["queue"]["queue_arn"] == "${var.queue_arn}"
    assert "${aws_lambda_permission.s3}" in notification["depends_on"]
    permission = module.resources("aws_lambda_permission")["s3"]
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == "${local.bucket_arn}"
    assert permission["source_account"] == "${var.bucket_account_id}"
    assert "count" not in permission  # S3 may invoke the function in either mode: no gap


def identity_statements():
    """Statements of IAM policy documents that grant to a role (no principals: not a resource
    policy such as the KMS key policy, where "*" means the key itself)."""
    for name, module in MODULES.items():
        for doc, body in module.data("aws_iam_policy_document").items():
            conditional = [c for d in body.get("dynamic", []) for c in d["statement"]["content"]]
            for statement in [*body.get("statement", []), *conditional]:
                if "principals" not in statement:
                    yield f"{name}:{doc}", statement


def test_no_iam_statement_grants_on_any_resource():
    found = list(identity_statements())
    assert found, "the function's policy document was not found"
    for where, statement in found:
        resources = statement.get("resources", [])
        assert resources, f"{where}: a statement without resources"
        assert "*" not in resources, f"{where}: Resource * for {statement['actions']}"
        services = {a.split(":")[0] for a in statement["actions"]}
        assert services <= {"logs", "secretsmanager", "kms", "sqs"}, f"{where}: {services}"


def test_the_role_can_do_what_pigeon_needs():
    [(_, statements)] = [(k, m) for k, m in REUSABLE.items() if k == "modules/function"]
    doc = statements.data("aws_iam_policy_document")["permissions"]
    actions = {a: s["resources"] for s in doc["statement"] for a in s["actions"]}
    assert actions["secretsmanager:GetSecretValue"] == ["${var.rabbitmq_secret_arn}"]
    assert actions["kms:Decrypt"] == ["${var.rabbitmq_secret_kms_key_arn}"]
    assert actions["sqs:SendMessage"] == ["${aws_sqs_queue.on_failure.arn}"]
    assert actions["logs:PutLogEvents"] == ["${aws_cloudwatch_log_group.this.arn}:*"]


def test_every_failure_mode_has_an_alarm():
    module = REUSABLE["modules/alarms"]
    text = module.files["main.tf"]
    for metric in (
        "Errors",
        "Throttles",
        "Duration",
        "AsyncEventsDropped",
        "AsyncEventAge",
        "DestinationDeliveryFailures",
        "ApproximateNumberOfMessagesVisible",
        "Invocations",
    ):
        assert f'"{metric}"' in text, metric
    for alarm in module.resources("aws_cloudwatch_metric_alarm").values():
        # silence breaches on missing data (tests/infra/test_alarms_runbook.py)
        assert alarm["treat_missing_data"] in ("notBreaching", "breaching")
        assert alarm["alarm_actions"] == "${var.alarm_actions}"


def test_the_function_is_built_from_the_zip_and_its_sha():
    function = REUSABLE["modules/function"].resources("aws_lambda_function")["this"]
    assert function["runtime"] == "python3.13"
    assert function["filename"] == "${var.zip_path}"
    assert function["source_code_hash"] == "${trimspace(file(var.zip_sha256_path))}"
    assert function["reserved_concurrent_executions"] == "${var.reserved_concurrent_executions}"
    invoke = REUSABLE["modules/function"].resources("aws_lambda_function_event_invoke_config")
    [on_failure] = invoke["this"]["destination_config"][0]["on_failure"]
    assert on_failure["destination"] == "${aws_sqs_queue.on_failure.arn}"


def test_the_terraform_handler_resolves_to_a_callable_in_the_built_zip():
    handler = REUSABLE["modules/function"].variables()["handler"]["default"]
    check_import(ROOT / "dist" / "pigeon.zip", python313(), handler)


def datadog_metrics() -> set[str]:
    text = "".join(REUSABLE["modules/datadog"].files.values())
    return set(re.findall(r"\bsocorro\.pigeon\.[a-z_]+", text))


def test_datadog_uses_only_catalog_metrics_and_shows_them_all():
    catalog = {metric_name(short) for short in CATALOG}
    assert datadog_metrics() <= catalog
    dashboard = REUSABLE["modules/datadog"].files["main.tf"].split('resource "datadog_monitor"')[0]
    assert set(re.findall(r"\bsocorro\.pigeon\.[a-z_]+", dashboard)) == catalog


def test_datadog_monitors():
    monitors = REUSABLE["modules/datadog"].resources("datadog_monitor")
    queries = {name: body["query"] for name, body in monitors.items()}
    assert "socorro.pigeon.publish_error" in queries["publish_errors"]
    assert "socorro.pigeon.accept" in queries["accepted_stopped"]
    assert "aws.lambda.invocations" in queries["accepted_stopped"]
    assert "aws.lambda.errors" in queries["lambda_errors"]
    assert "socorro.pigeon.item_failure" in queries["item_failures"]
    assert "aws.lambda.invocations" in queries["no_invocations"]


def test_datadog_is_off_unless_an_environment_turns_it_on():
    call = REUSABLE["modules/pigeon"].module_calls()["datadog"]
    assert call["count"] == "${var.datadog_enabled ? 1 : 0}"
    assert REUSABLE["modules/pigeon"].variables()["datadog_enabled"]["default"] is False
    assert REUSABLE["modules/function"].variables()["metrics_sink"]["default"] == "log"
    for path in ENVIRONMENT_FILES:  # a first deploy needs no Datadog key
        assert tfvars(path)["datadog_enabled"] is False
        assert tfvars(path)["function"]["metrics_sink"] == "log"


def tfvars(path: Path) -> dict:
    with path.open() as handle:
        return terraform_hcl.unquote(hcl2.load(handle))


def test_environments_differ_only_in_their_tfvars():
    """One root; each <env>.tfvars sets the same declared variables, and names its env."""
    values = {p.stem: tfvars(p) for p in ENVIRONMENT_FILES}
    assert values["stage"].keys() == values["prod"].keys()
    assert set(values["stage"]) <= set(ROOT_MODULE.variables())
    for env, given in values.items():
        assert given["env"] == env
    concurrency = {e: v["function"]["reserved_concurrent_executions"] for e, v in values.items()}
    assert concurrency["prod"] > concurrency["stage"]
    assert values["prod"]["account_id"] != values["stage"]["account_id"]  # an account each


def test_the_root_locks_state_and_pins_providers():
    [settings] = ROOT_MODULE.blocks["terraform"]
    backend = settings["backend"][0]["s3"]
    assert backend["use_lockfile"] is True
    assert "bucket" not in backend  # passed at init
    providers = settings["required_providers"][0]
    assert providers["aws"]["version"].startswith("~> 6.")
    assert providers["datadog"]["version"].startswith("~> 3.")
    assert "default_tags" in ROOT_MODULE.files["providers.tf"]
    assert not (ROOT_MODULE.path / "site.tfvars.example").exists()  # one source: <env>.tfvars
    assert (ROOT_MODULE.path / "backend.hcl.example").exists()


@pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)
def test_prod_pages_someone_and_stage_does_not_have_to():
    variables = ROOT_MODULE.path / "variables.tf"
    checks = validate.Validations(
        validate.variable_block(variables, "env"),
        validate.variable_block(variables, "alarm_actions"),
    )
    pager = "arn:aws:sns:us-west-2:123456789012:pager"
    try:
        assert "prod alarms must notify someone" in checks.errors(env="prod", alarm_actions=[])
        assert checks.errors(env="prod", alarm_actions=[pager]) == ""
        assert checks.errors(env="stage", alarm_actions=[]) == ""
        assert "env must be stage or prod" in checks.errors(env="qa", alarm_actions=[])
    finally:
        checks.close()


def test_module_readmes_and_the_requirement_are_generated_from_the_code():
    assert terraform_docs.stale_docs(write=False) == [], "run make docs"
    readme = (REUSABLE["modules/function"].path / "README.md").read_text()
    for table in ("Requirements", "Providers", "Resources", "Inputs", "Outputs"):
        assert f"## {table}" in readme
    assert "| `aws_lambda_function.this` | resource |" in readme
    assert "| terraform | `>= 1.11.0` |" in readme
    assert "## Modules" in (REUSABLE["modules/pigeon"].path / "README.md").read_text()


def test_a_stale_readme_is_found(tmp_path, monkeypatch):
    """The docs check fails when a module changes and its README does not."""
    module = tmp_path / "modules" / "m"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text(
        'variable "x" {\n  description = "X."\n  type        = string\n}\n'
    )
    monkeypatch.setattr(terraform_docs, "TERRAFORM", tmp_path)
    monkeypatch.setattr(terraform_docs, "all_modules", lambda: [terraform_hcl.load(module)])
    assert terraform_docs.stale_readmes(write=True) == [module / "README.md"]
    assert terraform_docs.stale_readmes(write=False) == []
    (module / "variables.tf").write_text(
        'variable "y" {\n  description = "Y."\n  type        = number\n}\n'
    )
    monkeypatch.setattr(terraform_docs, "all_modules", lambda: [terraform_hcl.load(module)])
    assert terraform_docs.stale_readmes(write=False) == [module / "README.md"]


def test_every_pigeon_variable_the_function_module_sets_is_a_setting_of_the_function():
    from pigeon.settings import NAMES, PREFIX

    names = set(REUSABLE["modules/function"].locals()["pigeon_environment"])
    assert names
    assert {n for n in names if n.startswith(PREFIX)} <= NAMES
