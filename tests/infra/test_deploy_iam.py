"""The plan and apply roles' policies come from the types the modules declare: a module that adds
a resource type the table does not cover fails here, before a first apply stops on AccessDenied
part way (issue 20 review, item 6). The pull-request plan role (pr-plan) reads as the plan role
does and writes nothing, not even the state lock: its environment admits any branch."""

from __future__ import annotations

import functools
import json
import re
import subprocess

import pytest

from pigeon_tools.deploy import iam
from pigeon_tools.paths import ROOT, SCRIPTS
from support import iam_eval
from support.deploy_world import prepared

TERRAFORM = ROOT / "terraform"
ACTION = re.compile(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+")


def policy(role, types=None):
    return iam.policy(
        types or iam.declared(TERRAFORM),
        role=role,
        state_bucket="state",
        state_key="pigeon/prod.tfstate",
        crash_bucket="crashes-prod",
        account_id="123456789012",
        region="us-west-2",
        env="prod",
        name=iam.resource_name(TERRAFORM, "prod"),
    )


allowed = iam.allowed


def test_every_type_the_modules_declare_is_covered():
    types = iam.declared(TERRAFORM)
    # What the first apply creates (the review's list): all of it is declared and covered.
    for needed in (
        "aws_lambda_function",
        "aws_iam_role",
        "aws_s3_bucket_notification",
        "aws_sqs_queue",
        "aws_secretsmanager_secret",
        "aws_kms_key",
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_log_group",
    ):
        assert needed in types["resource"], needed
    assert iam.uncovered(types) == []


def test_a_module_adding_an_unknown_type_is_caught(tmp_path):
    module = tmp_path / "terraform" / "modules" / "new"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'resource "aws_sns_topic" "t" {}\ndata "aws_ami" "a" {}\nresource "terraform_data" "x" {}\n'
        'resource "datadog_monitor" "m" {}\n'
    )
    examples = tmp_path / "terraform" / "examples" / "e"
    examples.mkdir(parents=True)
    (examples / "main.tf").write_text('resource "aws_instance" "i" {}\n')  # never deployed
    types = iam.declared(tmp_path / "terraform")
    assert iam.uncovered(types) == ["data aws_ami", "resource aws_sns_topic"]


def test_the_apply_role_may_do_everything_each_type_needs_the_plan_role_only_read():
    types = iam.declared(TERRAFORM)
    apply, plan = allowed(policy("apply")), allowed(policy("plan"))
    for name in types["resource"]:
        if name in iam.RESOURCES:
            access = iam.RESOURCES[name]
            assert set(access.read) <= plan, name
            assert set(access.read) | set(access.write) <= apply, name
            # Writes the plan role must never have (a shared action like ec2 tags: none here).
            assert not (set(access.write) - set(access.read)) & (plan - {"s3:PutObject"}), name
    for name in types["data"]:
        assert set(iam.DATA.get(name, ())) <= plan
    assert set(iam.PREFLIGHT) <= plan & apply
    for action in apply | plan:
        assert ACTION.fullmatch(action), action
        assert "*" not in action, action


def test_the_state_is_this_environments_and_only_apply_writes_it():
    plan, apply = policy("plan"), policy("apply")
    [state] = [s for s in apply["Statement"] if s["Sid"] == "State"]
    assert state["Resource"] == "arn:aws:s3:::state/pigeon/prod.tfstate"
    assert "s3:PutObject" in state["Action"]
    [state] = [s for s in plan["Statement"] if s["Sid"] == "State"]
    assert state["Action"] == ["s3:GetObject"]
    [lock] = [s for s in plan["Statement"] if s["Sid"] == "StateLock"]
    assert lock["Resource"] == "arn:aws:s3:::state/pigeon/prod.tfstate.tflock"
    [deny] = [s for s in plan["Statement"] if s["Effect"] == "Deny"]
    assert "secretsmanager:GetSecretValue" in deny["Action"]
    assert not [s for s in apply["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    [passrole] = [s for s in apply["Statement"] if "iam:PassRole" in s["Action"]]
    assert passrole["Action"] == ["iam:PassRole"]
    assert passrole["Resource"] == ["arn:aws:iam::123456789012:role/pigeon-prod-lambda"]
    assert passrole["Condition"]["StringEquals"]["iam:PassedToService"] == "lambda.amazonaws.com"


def test_deploy_sh_prints_the_policy_for_an_environment():
    done = subprocess.run(
        [str(ROOT / "scripts" / "deploy.sh"), "stage", "policy", "apply"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TF_STATE_BUCKET": "my-state"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    resources = [s["Resource"] for s in document["Statement"]]
    assert "arn:aws:s3:::my-state/pigeon/stage.tfstate" in resources
    assert "lambda:CreateFunction" in allowed(document)
    wrong = subprocess.run(
        [str(ROOT / "scripts" / "deploy.sh"), "stage", "policy", "admin"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 2
    assert "policy plan|pr-plan|apply" in wrong.stderr


def test_the_pull_request_plan_role_reads_as_the_plan_role_and_writes_nothing():
    plan, pr_plan = policy("plan"), policy("pr-plan")
    assert allowed(pr_plan) == allowed(plan) - {"s3:PutObject", "s3:DeleteObject"}
    assert iam.writes(pr_plan) == []
    assert "s3:PutObject" in iam.writes(plan)  # the lock
    assert {"s3:PutObject", "lambda:CreateFunction"} <= set(iam.writes(policy("apply")))
    assert not [s for s in pr_plan["Statement"] if str(s["Resource"]).endswith(".tflock")]
    [state] = [s for s in pr_plan["Statement"] if s["Sid"] == "State"]
    assert state == {**state, "Action": ["s3:GetObject"]}
    deny = [s for s in pr_plan["Statement"] if s["Effect"] == "Deny"]
    assert deny == [s for s in plan["Statement"] if s["Effect"] == "Deny"]


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


def as_role(world, role):
    """The credentials are ENV's `role` role, with the policy deploy.sh prints for it."""
    printed = world.deploy(world.checkout_path, "stage", "policy", role)
    assert printed.returncode == 0, printed.stderr
    path = world.base / f"{role}.policy.json"
    path.write_text(printed.stdout)
    world.extra_env["FAKE_TERRAFORM_ROLE_POLICY"] = str(path)


def lock_puts(world):
    log = world.terraform_dir / "locks.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


LOCK_OBJECT = "arn:aws:s3:::state/pigeon/stage.tfstate.tflock"


def test_a_pull_request_plan_under_the_pr_plan_role_never_writes_the_lock(world):
    as_role(world, "pr-plan")
    done = world.deploy(world.checkout_path, "stage", "plan", "--allow-unattested")
    assert done.returncode == 0, done.stderr
    [plan] = [c for c in world.terraform_calls() if c["args"][0] == "plan"]
    assert "-lock=false" in plan["args"]
    assert lock_puts(world) == []


def test_a_locking_plan_under_the_pr_plan_role_is_denied_as_s3_denies_it(world):
    """The role is what keeps a branch's workflow from writing the lock: a plan that takes the
    lock (a deploy's plan, or a pull-request plan edited to drop -lock=false) is refused."""
    world.attest_artifact(world.dist)
    as_role(world, "pr-plan")
    done = world.deploy(world.checkout_path, "stage", "plan")
    assert done.returncode == 1
    assert "Error: Error acquiring the state lock" in done.stderr
    assert "api error AccessDenied" in done.stderr
    assert f'not authorized to perform: s3:PutObject on resource: "{LOCK_OBJECT}"' in done.stderr
    assert lock_puts(world) == [{"put": LOCK_OBJECT, "allowed": False}]


def test_a_deploy_plan_under_the_plan_role_takes_and_releases_the_lock(world):
    world.attest_artifact(world.dist)
    as_role(world, "plan")
    done = world.deploy(world.checkout_path, "stage", "plan")
    assert done.returncode == 0, done.stderr
    assert lock_puts(world) == [{"put": LOCK_OBJECT, "allowed": True}]
    lock = world.terraform_dir / "backend" / "state" / "pigeon" / "stage.tfstate.tflock"
    assert not lock.exists()  # released


# The API a read calls, where its IAM action has another name.
IAM_ACTION = {"s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification"}


def test_every_read_deploy_sh_makes_is_in_both_roles():
    """Each AWS read of deploy.sh goes through aws.call(ACTION, …): each ACTION (as IAM names
    it) is one the plan and the apply role are given, or the documented roles are refused
    before any plan (the bucket-region read once was)."""
    source = "\n".join(p.read_text() for p in (SCRIPTS / "pigeon_tools" / "deploy").glob("*.py"))
    reads = set(re.findall(r'call\(\s*"([a-z0-9-]+:[A-Za-z]+)"', source))
    assert {"s3:GetBucketLocation", "sts:GetCallerIdentity"} <= reads  # the pattern finds them
    missing = {IAM_ACTION.get(read, read) for read in reads} - set(iam.PREFLIGHT)
    assert not missing, f"deploy.sh reads these without the roles having them: {missing}"


# --- Each action on Pigeon's own resources (the account is shared) ----------------------------

ACCOUNT, REGION = "123456789012", "us-west-2"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@functools.cache
def scoped(role):
    """policy(role), read once per role: these tests only read it."""
    return policy(role)


def every_action():
    actions = set(iam.PREFLIGHT)
    for access in iam.RESOURCES.values():
        actions |= {*access.read, *access.write}
    for data in iam.DATA.values():
        actions |= set(data)
    return actions


def test_every_action_the_table_knows_has_its_resources():
    assert every_action() - set(iam.SCOPE) == set()
    assert set(iam.UNSCOPED) <= every_action()  # none listed that no type needs
    for action, kinds in iam.SCOPE.items():
        assert kinds, action
        assert set(kinds) <= set(iam.ARNS), action
        assert ("*" in kinds) == (action in iam.UNSCOPED), action


@pytest.mark.parametrize("role", list(iam.ROLES))
def test_every_statement_names_only_pigeons_resources_of_the_environment(role):
    """`*` only for the actions IAM authorizes on no resource; every other resource is one of
    the environment's names, the crash or state bucket, or a type IAM names by id alone."""
    document = scoped(role)
    by_type = set(
        iam.arns(
            iam.BY_TYPE_ONLY,
            region=REGION,
            account=ACCOUNT,
            name="",
            crash_bucket="",
            partition="aws",
        )
    )
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if resources == ["*"]:
            assert set(actions) <= iam.UNSCOPED, statement["Sid"]
            continue
        for resource in resources:
            assert resource != "*", statement["Sid"]
            assert (
                "pigeon-prod" in resource
                or resource in by_type
                or resource.startswith(("arn:aws:s3:::crashes-prod", "arn:aws:s3:::state"))
            ), (statement["Sid"], resource)
            assert ACCOUNT in resource or resource.startswith(("arn:aws:s3:::", *by_type))
    assert "pigeon-stage" not in json.dumps(document)
    # The pull-request plan role: nothing by type but the key (read by its alias) and the
    # event source mapping.
    if role == "pr-plan":
        kinds = {k for a in allowed(document) if a in iam.SCOPE for k in iam.SCOPE[a]}
        assert kinds & iam.BY_TYPE_ONLY <= {"key", "event-source-mapping", "ec2"}
        [keys] = [s for s in document["Statement"] if "kms:GetKeyPolicy" in s["Action"]]
        assert keys["Condition"] == {
            "ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/pigeon-prod/*"}
        }


OTHER_TEAMS = [
    ("lambda:GetFunction", f"{LAMBDA}:function:billing-api"),
    ("lambda:GetFunctionConfiguration", f"{LAMBDA}:function:billing-api"),
    ("lambda:GetFunctionConfiguration", f"{LAMBDA}:function:billing-api:live"),
    ("lambda:GetFunction", f"{LAMBDA}:function:pigeon-stage"),  # another environment's
    ("lambda:GetFunction", f"{LAMBDA}:function:pigeon-production"),
    ("lambda:GetPolicy", f"{LAMBDA}:function:billing-api"),
    ("s3:ListBucket", "arn:aws:s3:::billing-invoices"),
    ("s3:GetBucketNotification", "arn:aws:s3:::billing-invoices"),
    ("s3:GetBucketLocation", "arn:aws:s3:::billing-invoices"),
    ("s3:GetObject", "arn:aws:s3:::crashes-prod/v2/raw_crash/0001"),
    ("s3:GetObject", "arn:aws:s3:::state/billing/prod.tfstate"),
    ("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/billing-api"),
    ("iam:GetRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/billing-api"),
    ("iam:ListAttachedRolePolicies", f"arn:aws:iam::{ACCOUNT}:role/pigeon-stage-lambda"),
    (
        "secretsmanager:DescribeSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/db-AbCdEf",
    ),
    (
        "secretsmanager:GetResourcePolicy",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/db-AbCdEf",
    ),
    (
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:pigeon-prod/rabbitmq-AbCdEf",
    ),
    ("sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:billing-jobs"),
    (
        "logs:ListTagsForResource",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/billing-api",
    ),
    (
        "logs:DescribeSubscriptionFilters",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/billing-api:*",
    ),
    ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing-errors"),
    ("lambda:GetFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:pigeon-prod"),  # region
    ("lambda:GetFunction", "arn:aws:lambda:us-west-2:999999999999:function:pigeon-prod"),
]
PIGEONS = [
    ("lambda:GetFunction", f"{LAMBDA}:function:pigeon-prod"),
    ("lambda:GetFunctionConfiguration", f"{LAMBDA}:function:pigeon-prod:live"),
    ("lambda:GetPolicy", f"{LAMBDA}:function:pigeon-prod"),
    ("s3:GetBucketNotification", "arn:aws:s3:::crashes-prod"),
    ("s3:GetBucketLocation", "arn:aws:s3:::crashes-prod"),
    ("s3:ListBucket", "arn:aws:s3:::state"),
    ("s3:GetObject", "arn:aws:s3:::state/pigeon/prod.tfstate"),
    ("iam:GetRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/pigeon-prod-lambda"),
    (
        "secretsmanager:DescribeSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:pigeon-prod/rabbitmq-AbCdEf",
    ),
    ("sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pigeon-prod-on-failure"),
    (
        "logs:ListTagsForResource",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/pigeon-prod",
    ),
    (
        "cloudwatch:DescribeAlarms",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:pigeon-prod-errors",
    ),
    ("sts:GetCallerIdentity", "*"),
    ("lambda:GetAccountSettings", "*"),
]


@pytest.mark.parametrize("role", ["pr-plan", "plan", "apply"])
@pytest.mark.parametrize(("action", "resource"), OTHER_TEAMS)
def test_no_role_reads_another_teams_resources(role, action, resource):
    """Anyone who can push a branch can assume the pull-request plan role: what it reads is
    Pigeon's, of its environment, and nothing else of the shared account."""
    assert not iam_eval.allows(scoped(role), action, resource), (role, action, resource)


@pytest.mark.parametrize("role", ["pr-plan", "plan", "apply"])
@pytest.mark.parametrize(("action", "resource"), PIGEONS)
def test_every_role_reads_pigeons_own(role, action, resource):
    assert iam_eval.allows(scoped(role), action, resource), (role, action, resource)


@pytest.mark.parametrize("role", ["pr-plan", "plan"])
def test_the_plan_roles_read_only_the_key_pigeons_alias_names(role):
    document = scoped(role)
    for action in ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags"):
        ours = {"kms:ResourceAliases": ["alias/pigeon-prod/rabbitmq"]}
        assert iam_eval.allows(document, action, KEY, ours)
        for theirs in (["alias/billing"], ["alias/pigeon-stage/rabbitmq"], []):
            context = {"kms:ResourceAliases": theirs} if theirs else {}
            assert not iam_eval.allows(document, action, KEY, context), (action, theirs)


APPLY_ELSEWHERE = [
    ("lambda:UpdateFunctionCode", f"{LAMBDA}:function:billing-api"),
    ("lambda:AddPermission", f"{LAMBDA}:function:billing-api"),
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/billing-api"),
    ("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/admin"),
    ("s3:PutBucketNotification", "arn:aws:s3:::billing-invoices"),
    ("s3:PutObject", "arn:aws:s3:::state/billing/prod.tfstate"),
    (
        "secretsmanager:DeleteSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/db-AbCdEf",
    ),
    ("sqs:DeleteQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:billing-jobs"),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/billing-api:*"),
    ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing-errors"),
    ("kms:DeleteAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/billing"),
]


@pytest.mark.parametrize(("action", "resource"), APPLY_ELSEWHERE)
def test_the_apply_role_writes_nothing_of_another_team(action, resource):
    assert not iam_eval.allows(scoped("apply"), action, resource)


def test_the_apply_role_passes_and_maps_only_pigeons_function_and_role():
    apply = scoped("apply")
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    ours, theirs = (f"arn:aws:iam::{ACCOUNT}:role/{r}" for r in ("pigeon-prod-lambda", "admin"))
    assert iam_eval.allows(apply, "iam:PassRole", ours, to_lambda)
    assert not iam_eval.allows(apply, "iam:PassRole", theirs, to_lambda)
    assert not iam_eval.allows(
        apply, "iam:PassRole", ours, {"iam:PassedToService": "ec2.amazonaws.com"}
    )
    for function, verdict in (
        ("pigeon-prod", True),
        ("pigeon-prod:live", True),
        ("billing-api", False),
    ):
        context = {"lambda:FunctionArn": f"{LAMBDA}:function:{function}"}
        assert iam_eval.allows(apply, "lambda:CreateEventSourceMapping", "*", context) is verdict
        mapping = f"{LAMBDA}:event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
        assert (
            iam_eval.allows(apply, "lambda:DeleteEventSourceMapping", mapping, context) is verdict
        )


# The names the modules give: each rendered from terraform/modules by python-hcl2, for prod.
NAMED = {
    ("aws_lambda_function", "function_name"): ("lambda:GetFunction", f"{LAMBDA}:function:{{}}"),
    ("aws_iam_role", "name"): ("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/{{}}"),
    ("aws_cloudwatch_log_group", "name"): (
        "logs:ListTagsLogGroup",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{}}:*",
    ),
    ("aws_sqs_queue", "name"): ("sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{{}}"),
    ("aws_cloudwatch_metric_alarm", "alarm_name"): (
        "cloudwatch:DescribeAlarms",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{{}}",
    ),
    ("aws_secretsmanager_secret", "name"): (
        "secretsmanager:DescribeSecret",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{{}}-AbCdEf",
    ),
    ("aws_kms_alias", "name"): ("kms:ListAliases", "*"),
}
# Named, but authorized on the resource they belong to, or named by an id IAM cannot know.
NAMED_ELSEWHERE = {
    "aws_iam_role_policy",  # the role's
    "aws_cloudwatch_log_subscription_filter",  # the log group's
    "aws_cloudwatch_log_metric_filter",
    "aws_lambda_alias",  # the function's (function:NAME:live)
    "aws_lambda_function_event_invoke_config",
    "aws_lambda_permission",
    "aws_lambda_event_source_mapping",  # a UUID
    "aws_security_group",  # an id
}


def rendered_names():
    """(type, attribute, name) of every named resource of the modules, for prod."""
    from pigeon_tools.terraform import hcl

    modules = {m.name.removeprefix("modules/"): m for m in hcl.all_modules()}
    pigeon = modules["pigeon"]
    calls = pigeon.module_calls()
    name = iam.resource_name(TERRAFORM, "prod")

    def render(text, values):
        text = str(text)
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
        assert "${" not in text, text
        return text

    top = {"local.name": name}
    function_name = render(
        modules["function"].resources("aws_lambda_function")["this"]["function_name"],
        {"var.name": render(calls["function"]["name"], top)},
    )
    assert calls["alarms"]["function_name"] == "${module.function.function_name}"
    assert "name_prefix" not in calls["alarms"]
    values = {
        "function": {"var.name": render(calls["function"]["name"], top)},
        "sqs_delivery": {"var.name": render(calls["sqs_delivery"]["name"], top)},
        "secrets": {"var.name": render(calls["secrets"]["name"], top)},
        "alarms": {"coalesce(var.name_prefix, var.function_name)": function_name},
    }
    values["sqs_delivery"]["local.prefix"] = render(
        modules["sqs_delivery"].locals()["prefix"], values["sqs_delivery"]
    )
    values["alarms"]["local.prefix"] = render(
        modules["alarms"].locals()["prefix"], values["alarms"]
    )
    values["alarms"]["each.key"] = "errors"
    secret = values["secrets"]["var.name"]
    values["secrets"]['replace(var.name, "/[^A-Za-z0-9/_-]/", "-")'] = re.sub(
        r"[^A-Za-z0-9/_-]", "-", secret
    )
    found = []
    for module_name, module in modules.items():
        for block in module.blocks.get("resource", []):
            for kind, named in block.items():
                if kind in NAMED_ELSEWHERE or not kind.startswith("aws_"):
                    continue
                for body in named.values():
                    for attribute in ("name", "function_name", "alarm_name", "name_prefix"):
                        if attribute in body:
                            text = render(body[attribute], values.get(module_name, {}))
                            found.append((kind, attribute, text))
    return found


def test_the_roles_name_what_the_modules_name():
    """The names come from one owner: the modules' own (local.name of terraform/modules/pigeon,
    and each module's suffix); every one of them is what the roles read and write."""
    found = rendered_names()
    assert ("aws_lambda_function", "function_name", "pigeon-prod") in found
    assert ("aws_secretsmanager_secret", "name", "pigeon-prod/rabbitmq") in found
    documents = {role: scoped(role) for role in iam.ROLES}
    for kind, attribute, name in found:
        assert (kind, attribute) in NAMED, f"{kind}.{attribute} = {name}: which ARN does IAM check?"
        action, arn = NAMED[(kind, attribute)]
        for role, document in documents.items():
            assert iam_eval.allows(document, action, arn.format(name)), (role, kind, name)
        if kind == "aws_kms_alias":
            alias = f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"
            assert iam_eval.allows(documents["apply"], "kms:CreateAlias", alias)
            assert iam_eval.allows(documents["apply"], "kms:CreateAlias", KEY)
            context = {"kms:ResourceAliases": [name]}
            for document in documents.values():
                assert iam_eval.allows(document, "kms:GetKeyPolicy", KEY, context)


def test_deploy_sh_reads_only_pigeons_resources():
    """deploy.sh's own reads (PREFLIGHT), on what it reads them of: the secret and the queues
    the modules name, the crash bucket; sts and Lambda's account settings on no resource."""
    found = rendered_names()
    [secret] = [n for k, a, n in found if k == "aws_secretsmanager_secret"]
    queues = [n for k, a, n in found if k == "aws_sqs_queue"]
    assert len(queues) == 3
    reads = [
        (
            "secretsmanager:DescribeSecret",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf",
        ),
        ("s3:GetBucketNotification", "arn:aws:s3:::crashes-prod"),
        ("s3:GetBucketLocation", "arn:aws:s3:::crashes-prod"),
        ("sts:GetCallerIdentity", "*"),
        ("lambda:GetAccountSettings", "*"),
        *[("sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{q}") for q in queues],
    ]
    assert {a for a, _ in reads} == set(iam.PREFLIGHT)
    for role in iam.ROLES:
        for action, resource in reads:
            assert iam_eval.allows(scoped(role), action, resource), (role, action, resource)


ENI_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"


def test_the_apply_role_cannot_rewrite_a_deploy_role_or_attach_another_policy():
    """The deploy roles may be named pigeon-ENV-… too: a prefix would let the apply role put
    any policy on itself. Only Pigeon's own role, and only the VPC option's managed policy."""
    apply = scoped("apply")
    own = f"arn:aws:iam::{ACCOUNT}:role/pigeon-prod-lambda"
    for deploy_role in ("pigeon-prod-apply", "pigeon-prod-pr-plan"):
        arn = f"arn:aws:iam::{ACCOUNT}:role/{deploy_role}"
        for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"):
            assert not iam_eval.allows(apply, action, arn, {"iam:PolicyARN": [ENI_POLICY]})
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert iam_eval.allows(apply, "iam:AttachRolePolicy", own, {"iam:PolicyARN": [ENI_POLICY]})
    assert not iam_eval.allows(apply, "iam:AttachRolePolicy", own, {"iam:PolicyARN": [admin]})


def test_the_apply_role_harms_no_key_but_pigeons_and_still_makes_its_own():
    apply = scoped("apply")
    ours, theirs = {"kms:ResourceAliases": ["alias/pigeon-prod/rabbitmq"]}, {}
    for action in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:UntagResource"):
        assert iam_eval.allows(apply, action, KEY, ours), action
        assert not iam_eval.allows(apply, action, KEY, theirs), action
    for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:TagResource"):
        assert iam_eval.allows(apply, action, KEY, theirs), action  # before its alias exists


def test_the_apply_role_may_delete_the_lambda_enis_its_security_group_holds():
    """The provider deletes a security group's lingering Lambda ENIs before the group."""
    apply = scoped("apply")
    eni = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/eni-0123456789abcdef0"
    for action in ("ec2:DetachNetworkInterface", "ec2:DeleteNetworkInterface"):
        assert iam_eval.allows(apply, action, eni), action


def test_govcloud_policies_name_govcloud_arns():
    document = iam.policy(
        iam.declared(TERRAFORM), role="pr-plan", state_bucket="state",
        state_key="pigeon/prod.tfstate", crash_bucket="crashes-prod", account_id=ACCOUNT,
        region="us-gov-west-1", env="prod", name=iam.resource_name(TERRAFORM, "prod"),
    )  # fmt: skip
    text = json.dumps(document)
    assert "arn:aws:" not in text
    assert f"arn:aws-us-gov:lambda:us-gov-west-1:{ACCOUNT}:function:pigeon-prod" in text
