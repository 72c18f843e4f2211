"""The plan and apply roles' policies come from the types the modules declare: a module that adds
a resource type the table does not cover fails here, before a first apply stops on AccessDenied
part way (issue 20 review, item 6). The pull-request plan role (pr-plan) reads as the plan role
does and writes nothing, not even the state lock: its environment admits any branch."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from pigeon_tools.deploy import iam
from pigeon_tools.paths import ROOT, SCRIPTS
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
        env="prod",
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
    [passrole] = [s for s in apply["Statement"] if s["Sid"] == "PassTheFunctionsRole"]
    assert passrole["Resource"] == "arn:aws:iam::123456789012:role/pigeon-prod*"
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
