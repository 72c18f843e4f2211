"""The root every deploy runs (terraform/environments) and its two committed files: the
interface scripts/deploy.sh relies on, every setting in <env>.tfvars and valid there, what the
modules can do exposed, the traffic gate, one required_version, and the Datadog tags the
function sends matching what the monitors and the dashboard look for."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import hcl2
import pytest

from pigeon_tools.terraform import hcl, validate

ROOT = hcl.load(hcl.TERRAFORM / "environments")
PIGEON = hcl.load(hcl.TERRAFORM / "modules" / "pigeon")
FUNCTION = hcl.load(hcl.TERRAFORM / "modules" / "function")
DELIVERY = hcl.load(hcl.TERRAFORM / "modules" / "sqs_delivery")
NOTIFICATION = hcl.load(hcl.TERRAFORM / "modules" / "bucket_notification")
DATADOG = hcl.load(hcl.TERRAFORM / "modules" / "datadog")
FILES = {p.stem: p for p in sorted(ROOT.path.glob("*.tfvars"))}
needs_terraform = pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)

# What scripts/deploy.sh passes on every plan: not settings, so in no .tfvars.
FROM_DEPLOY_SH = {"artifact_dir", "traffic_enabled"}
# What the pigeon module wires itself into the function module (not a setting of a site).
WIRED_INTO_FUNCTION = {
    "name", "env", "service", "zip_path", "zip_sha256_path", "artifact_version",
    "rabbitmq_secret_arn", "rabbitmq_secret_kms_key_arn", "key_prefix", "event_names",
    "delivery_queue_arn", "tags",
    "handler",  # the build's entry point, not a site's choice
}  # fmt: skip
WIRED_INTO_DELIVERY = {
    "name", "bucket_name", "bucket_account_id", "function_name", "function_timeout",
    "maximum_concurrency", "traffic_enabled", "alarm_actions", "tags",
}  # fmt: skip


def tfvars(path: Path) -> dict:
    with path.open() as handle:
        return hcl.unquote(hcl2.load(handle))


VALUES = {env: tfvars(path) for env, path in FILES.items()}


# -- the interface to scripts/deploy.sh (CONTRACTS.md, C <-> T) -------------------------------


def test_the_names_deploy_sh_reads_are_top_level_root_variables_and_outputs():
    variables = ROOT.variables()
    for name in ("env", "region", "account_id", "bucket_name", "delivery", *FROM_DEPLOY_SH):
        assert name in variables, name
    assert hcl.unquote(variables["traffic_enabled"]["type"]).strip("${}") == "bool"
    assert "default" not in variables["traffic_enabled"]  # deploy.sh says it on every plan
    assert "default" not in variables["artifact_dir"]
    outputs = set(ROOT.outputs())
    assert {
        "secret_arn", "function_name", "function_arn", "role_arn", "failure_queue_url",
        "delivery_queue_url", "dead_letter_queue_url", "alarm_arns", "dashboard_url",
    } <= outputs  # fmt: skip


def test_the_aws_provider_refuses_another_environments_account():
    [aws] = [p["aws"] for p in ROOT.blocks["provider"] if "aws" in p]
    assert aws["allowed_account_ids"] == ["${var.account_id}"]
    assert aws["region"] == "${var.region}"


def test_no_secret_is_a_root_variable():
    """Datadog's keys reach the provider from DD_API_KEY / DD_APP_KEY (CI's secret store)."""
    [datadog] = [p["datadog"] for p in ROOT.blocks["provider"] if "datadog" in p]
    assert not {"api_key", "app_key"} & set(datadog)
    variables = ROOT.variables()
    assert not {"datadog_api_key", "datadog_app_key"} & set(variables)
    assert not [name for name, spec in variables.items() if spec.get("sensitive")]


def test_the_root_reads_the_artifact_at_relative_paths_only():
    locals_ = ROOT.locals()
    assert locals_["zip_path"] == "${var.artifact_dir}/pigeon.zip"
    assert locals_["zip_sha256_path"] == "${var.artifact_dir}/pigeon.zip.sha256"
    assert locals_["artifact"] == '${jsondecode(file("${var.artifact_dir}/pigeon.version.json"))}'
    text = "".join(ROOT.files.values())
    assert "path.cwd" not in text
    assert "abspath" not in text


# -- every setting in <env>.tfvars, and valid there ---------------------------------------------


@pytest.mark.parametrize("env", sorted(FILES))
def test_every_root_variable_has_its_value_in_the_file(env):
    declared = ROOT.variables()
    given = VALUES[env]
    assert set(given) <= set(declared), f"{env}.tfvars sets undeclared {set(given) - set(declared)}"
    assert set(given) == set(declared) - FROM_DEPLOY_SH
    required = {n for n, spec in declared.items() if "default" not in spec}
    assert required - FROM_DEPLOY_SH <= set(given)
    assert required - set(given) == {"artifact_dir", "traffic_enabled"}


@pytest.mark.parametrize("env", sorted(FILES))
@pytest.mark.parametrize("name", ["function", "sqs", "bucket_notifications", "broker"])
def test_every_setting_of_an_object_is_written_out(env, name):
    """Terraform drops an attribute a type does not declare, silently: a misspelt setting
    would be ignored. So each file's object has exactly the attributes of the root's type."""
    attributes = hcl.object_attributes(ROOT.variables()[name]["type"])
    assert set(VALUES[env][name]) == set(attributes)
    assert not any(kind.startswith("optional(") for kind in attributes.values())


@needs_terraform
@pytest.mark.parametrize("env", sorted(FILES))
def test_the_file_passes_the_roots_validations(env):
    checks = validate.Validations.of(ROOT.path / "variables.tf")
    try:
        deploy_sh = {"artifact_dir": f".artifact/{env}", "traffic_enabled": False}
        errors = checks.errors_with_file(FILES[env], **deploy_sh)
        assert errors == ""
        assert validate.UNDECLARED not in checks.output
        assert checks.errors_with_file(FILES[env], **deploy_sh | {"artifact_dir": "/abs"})
        # A plan that does not say whether traffic is on (terraform by hand) is refused.
        left_out = " ".join(checks.errors_with_file(FILES[env], artifact_dir=".a").split())
        assert "No value for required variable on variables.tf line" in left_out
        assert 'variable "traffic_enabled"' in left_out
    finally:
        checks.close()


@needs_terraform
@pytest.mark.parametrize("env", sorted(FILES))
def test_a_setting_missing_from_the_file_fails_the_plan(env, tmp_path):
    incomplete = tmp_path / f"{env}.tfvars"
    text = FILES[env].read_text()
    incomplete.write_text(re.sub(r"^\s*memory_size\s*=.*$", "", text, flags=re.MULTILINE))
    checks = validate.Validations.of(ROOT.path / "variables.tf")
    try:
        given = {"artifact_dir": ".a", "traffic_enabled": False}
        errors = " ".join(checks.errors_with_file(incomplete, **given).split())
    finally:
        checks.close()
    assert 'attribute "memory_size" is required' in errors


def wired_function(env: str) -> dict:
    given = VALUES[env]
    return {
        "name": f"pigeon-{env}",
        "env": env,
        "zip_path": f".artifact/{env}/pigeon.zip",
        "zip_sha256_path": f".artifact/{env}/pigeon.zip.sha256",
        "rabbitmq_secret_arn": f"arn:aws:secretsmanager:{given['region']}:{given['account_id']}"
        f":secret:pigeon-{env}/rabbitmq-AbCdEf",
        "rabbitmq_secret_kms_key_arn": f"arn:aws:kms:{given['region']}:{given['account_id']}"
        ":key/00000000-0000-0000-0000-000000000000",
        "key_prefix": given["key_prefix"],
        "event_names": given["event_names"],
    }


@needs_terraform
@pytest.mark.parametrize("env", sorted(FILES))
def test_the_files_settings_pass_the_validations_of_the_modules_that_use_them(env):
    given = VALUES[env]
    checks = validate.Validations.of(FUNCTION.path / "variables.tf", base=wired_function(env))
    try:
        assert checks.errors(**given["function"]) == ""
    finally:
        checks.close()
    checks = validate.Validations.of(DELIVERY.path / "variables.tf")
    try:
        wiring = {
            "name": f"pigeon-{env}",
            "bucket_name": given["bucket_name"],
            "bucket_account_id": given["account_id"],
            "function_name": f"pigeon-{env}",
            "function_timeout": given["function"]["timeout"],
            "maximum_concurrency": given["function"]["reserved_concurrent_executions"],
            "traffic_enabled": True,
            "alarm_actions": given["alarm_actions"],
        }
        assert checks.errors(**wiring, **given["sqs"]) == ""
    finally:
        checks.close()
    checks = validate.Validations.of(NOTIFICATION.path / "variables.tf")
    try:
        wiring = {
            "bucket_name": given["bucket_name"],
            "bucket_account_id": given["account_id"],
            "function_arn": f"arn:aws:lambda:{given['region']}:{given['account_id']}:function:p",
            "function_name": f"pigeon-{env}",
            "traffic_enabled": True,
            "filter_prefix": given["key_prefix"],
            "events": given["event_names"],
        }
        notifications = {k: v for k, v in given["bucket_notifications"].items()}
        assert checks.errors(**wiring, **notifications) == ""
    finally:
        checks.close()


# -- what the modules can do, exposed once -----------------------------------------------------


@pytest.mark.parametrize(
    ("module", "variable", "wired"),
    [(FUNCTION, "function", WIRED_INTO_FUNCTION), (DELIVERY, "sqs", WIRED_INTO_DELIVERY)],
    ids=["function", "sqs_delivery"],
)
def test_every_setting_of_a_module_reaches_the_root(module, variable, wired):
    settings = set(module.variables()) - wired
    through_pigeon = hcl.object_attributes(PIGEON.variables()[variable]["type"])
    through_root = hcl.object_attributes(ROOT.variables()[variable]["type"])
    assert set(through_pigeon) == settings
    assert set(through_root) == settings
    call = PIGEON.module_calls()[module.path.name]
    for name in settings:
        assert call[name] == f"${{var.{variable}.{name}}}", name
    assert set(call) - {"source", "count"} == settings | (wired & set(call))
    assert ROOT.module_calls()["pigeon"][variable] == f"${{var.{variable}}}"


@pytest.mark.parametrize(
    ("module", "variable", "wired"),
    [(FUNCTION, "function", WIRED_INTO_FUNCTION), (DELIVERY, "sqs", WIRED_INTO_DELIVERY)],
    ids=["function", "sqs_delivery"],
)
def test_a_setting_left_out_takes_the_modules_default_not_null(module, variable, wired):
    """The pigeon module passes null for a setting its caller leaves out: with nullable =
    false the module then uses its default, where null would otherwise unset the argument."""
    for name, spec in module.variables().items():
        if name in wired or spec.get("default") is None:
            continue
        assert spec.get("nullable") is False, f"{module.name}: var.{name}"


def test_the_bucket_notifications_reach_the_bucket_notification_module():
    names = {"lambda_notifications", "sqs_notifications", "sns_notifications", "eventbridge"}
    assert set(hcl.object_attributes(ROOT.variables()["bucket_notifications"]["type"])) == names
    assert names <= set(NOTIFICATION.variables())
    call = PIGEON.module_calls()["bucket_notification"]
    for name in names:
        assert call[name] == f"${{var.bucket_notifications.{name}}}"


@needs_terraform
def test_terraform_fmt_covers_the_modules_the_examples_and_the_environments():
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(hcl.TERRAFORM)],
        capture_output=True,
        text=True,
        check=False,
        env=validate.ENVIRONMENT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((hcl.TERRAFORM / "examples").glob("*/main.tf"))


def test_the_check_script_covers_the_examples():
    script = (hcl.TERRAFORM.parent / "scripts" / "terraform_check.sh").read_text()
    assert re.search(r"for dir in [^;\n]*examples/\*", script)  # init, validate, test


# -- the traffic gate --------------------------------------------------------------------------


def notification_count(destination: str, traffic: bool, **takeover: object) -> int:
    values = {
        "var.destination": destination,
        "var.traffic_enabled": traffic,
        "var.entry_id": "pigeon-raw-crash",
        "var.events": ["s3:ObjectCreated:Put"],
        "var.filter_prefix": "v2/raw_crash/",
        "var.lambda_notifications": {},
        "var.sqs_notifications": {},
        "var.sns_notifications": {},
        "var.eventbridge": False,
    }
    values.update({f"var.{k}": v for k, v in takeover.items()})
    resource = NOTIFICATION.resources("aws_s3_bucket_notification")["this"]
    return validate.evaluate_in(NOTIFICATION.locals(), resource["count"], values)


@needs_terraform
def test_with_the_gate_closed_a_plan_creates_no_notification():
    assert notification_count("function", traffic=False) == 0
    assert notification_count("function", traffic=True) == 1
    # S3 sends to the queue regardless; the event source mapping is what the gate holds.
    assert notification_count("queue", traffic=False) == 1
    # What is taken over is written back even with the gate closed, EventBridge included.
    assert notification_count("function", traffic=False, eventbridge=True) == 1


def test_the_gate_goes_from_the_root_to_the_notification_and_the_mapping():
    assert ROOT.module_calls()["pigeon"]["traffic_enabled"] == "${var.traffic_enabled}"
    calls = PIGEON.module_calls()
    assert calls["bucket_notification"]["traffic_enabled"] == "${var.traffic_enabled}"
    assert calls["sqs_delivery"]["traffic_enabled"] == "${var.traffic_enabled}"
    mapping = DELIVERY.resources("aws_lambda_event_source_mapping")["this"]
    assert mapping["enabled"] == "${var.traffic_enabled}"
    assert "default" not in PIGEON.variables()["traffic_enabled"]  # every caller decides
    locals_ = NOTIFICATION.locals()
    assert locals_["to_function"] == '${var.destination == "function" && var.traffic_enabled}'


GATED = ["traffic_enabled", "bucket_notifications"]


@pytest.mark.parametrize("module", hcl.all_modules(), ids=lambda m: m.name)
def test_no_layer_turns_traffic_on_or_deletes_notifications_by_omission(module):
    """traffic_enabled (every layer that declares it) and bucket_notifications (the pigeon
    module and the root, which declare it) have no default and refuse null: a caller that
    leaves one out fails the plan, instead of sending events to a function that cannot deliver
    them (a default true, or null, which the event source mapping takes as enabled) or deleting
    the bucket's other notifications (a default of none)."""
    declared = module.variables()
    for name in GATED:
        if name in declared:
            assert "default" not in declared[name], (module.name, name)
            assert declared[name].get("nullable") is False, (module.name, name)
    for call, body in module.module_calls().items():
        if "modules/pigeon" in str(body.get("source")):
            assert {"traffic_enabled", "bucket_notifications"} <= set(body), (module.name, call)


def test_the_gate_is_declared_at_every_layer_that_passes_it():
    layers = {m.name for m in hcl.all_modules() if "traffic_enabled" in m.variables()}
    assert layers == {
        "environments", "examples/direct", "examples/sqs", "modules/pigeon",
        "modules/bucket_notification", "modules/sqs_delivery", "modules/alarms", "modules/datadog",
    }  # fmt: skip


# -- Datadog: what the function sends is what the monitors look for ----------------------------


@needs_terraform
@pytest.mark.parametrize("env", sorted(FILES))
def test_the_tags_the_function_sends_are_the_ones_the_monitors_and_dashboard_use(env):
    calls = PIGEON.module_calls()
    assert calls["function"]["env"] == calls["datadog"]["env"] == "${var.env}"
    assert calls["function"]["service"] == calls["datadog"]["service"] == "${local.service}"
    service = validate.evaluate_in(PIGEON.locals(), PIGEON.locals()["service"], {})
    assert service == "pigeon"  # unified service tagging: the same in every environment

    function_locals = FUNCTION.locals()
    function_values = {
        "var.env": env,
        "var.service": service,
        "var.datadog_site": "datadoghq.com",
        "var.datadog_api_key_secret_arn": "arn",
        "var.artifact_version": "1.0.0",
        "local.dogstatsd": True,
    }
    sent_env = function_locals["pigeon_environment"]["PIGEON_ENV"]
    extension = validate.evaluate_in(
        function_locals, function_locals["datadog_environment"], function_values
    )
    # Pigeon's metrics carry env:<PIGEON_ENV>; the extension adds service and env.
    sent = {
        f"env:{validate.evaluate_with(sent_env, function_values)}",
        f"service:{extension['DD_SERVICE']}",
        f"env:{extension['DD_ENV']}",
    }
    assert sent == {f"env:{env}", "service:pigeon"}

    datadog_values = {
        "var.env": env,
        "var.service": service,
        "var.tags": ["team:socorro"],
        "var.function_name": f"pigeon-{env}",
        "var.notify": [],
        "var.accepted_window": "last_30m",
        "var.silence_window_minutes": 60,
    }
    locals_ = DATADOG.locals()
    tags = set(validate.evaluate_in(locals_, "${local.base_tags}", datadog_values))
    for name, monitor in DATADOG.resources("datadog_monitor").items():
        assert monitor["tags"] == "${local.base_tags}", name
    assert {t for t in tags if t.split(":")[0] in {"service", "env"}} == sent

    widgets = validate.evaluate_in(locals_, "${local.pigeon_widgets}", datadog_values)
    queries = [q for w in widgets for q in w["queries"].values()]
    queries += [
        validate.evaluate_in(locals_, json_template(m["query"]), datadog_values)
        for m in DATADOG.resources("datadog_monitor").values()
    ]
    pigeon_filters = [
        set(f.split(","))
        for q in queries
        for f in re.findall(r"socorro\.pigeon\.[a-z_]+\{([^}]*)\}", q)
    ]
    assert pigeon_filters
    for found in pigeon_filters:
        assert found <= sent, found  # every query selects what the function sends


def json_template(text: str) -> str:
    """A python-hcl2 string with interpolations, as HCL template expression text."""
    return "${" + '"' + text.replace('"', '\\"') + '"' + "}"
