"""The GitHub environments of the workflows against docs/ci-cd.md's set-up table: credentials
reach only the refs the jobs run from, and an environment that admits any branch (the pull
requests': refs/pull/N/merge matches no rule) has a role that writes nothing. The review found
the pull-request plans in `<env>-plan`, unrestricted, with the plan role that writes the state
lock: any pushed branch could use it."""

from __future__ import annotations

import shutil

import pytest

from pigeon_tools.deploy import environments
from pigeon_tools.deploy.environments import ANY, PULL_REQUEST, read_setup
from pigeon_tools.deploy.sources import Repository
from pigeon_tools.paths import ROOT


def the_repository(base=ROOT) -> Repository:
    return Repository(
        base / "terraform" / "environments",
        base / ".github" / "workflows",
        (),
        base / "docs" / "ci-cd.md",
    )


def test_the_repositorys_environments_admit_only_what_their_jobs_run_from():
    assert environments.problems(the_repository()) == []


def test_the_set_up_table_is_read_as_github_applies_it():
    setup = read_setup(ROOT / "docs" / "ci-cd.md")
    assert setup.rules == {
        "stage-plan": {"refs/heads/main"},
        "prod-plan": {"refs/heads/main", "refs/tags/v*"},
        "stage-pr-plan": {ANY},
        "prod-pr-plan": {ANY},
        "stage": {"refs/heads/main"},
        "prod": {"refs/heads/main", "refs/tags/v*"},
    }
    assert sorted(setup.roles.values()) == [
        ("ENV", "apply"),
        ("ENV-plan", "plan"),
        ("ENV-pr-plan", "pr-plan"),
    ]
    roles = {key: setup.roles[step][1] for key, step in setup.variables.items()}
    assert roles == {
        ("stage-plan", "AWS_PLAN_ROLE_ARN"): "plan",
        ("prod-plan", "AWS_PLAN_ROLE_ARN"): "plan",
        ("stage-pr-plan", "AWS_PR_PLAN_ROLE_ARN"): "pr-plan",
        ("prod-pr-plan", "AWS_PR_PLAN_ROLE_ARN"): "pr-plan",
        ("stage", "AWS_ROLE_ARN"): "apply",
        ("prod", "AWS_ROLE_ARN"): "apply",
    }


def test_each_job_runs_from_the_refs_its_triggers_say():
    found: list[str] = []
    uses = environments.uses(environments.load_workflows(ROOT / ".github" / "workflows"), found)
    assert found == []
    runs = {(u.where.split(":")[1], u.event, u.environment, u.ref) for u in uses}
    assert runs == {
        ("plan", "workflow_call", "stage-plan", "refs/heads/main"),  # ci.yml's deploy-stage
        ("plan", "workflow_dispatch", "stage-plan", "refs/heads/main"),
        ("plan", "workflow_dispatch", "prod-plan", "refs/heads/main"),
        ("plan", "release", "prod-plan", "refs/tags/v*"),
        ("apply", "workflow_call", "stage", "refs/heads/main"),
        ("apply", "workflow_dispatch", "stage", "refs/heads/main"),
        ("apply", "workflow_dispatch", "prod", "refs/heads/main"),
        ("apply", "release", "prod", "refs/tags/v*"),
        ("pull-request-plan", "pull_request", "stage-pr-plan", PULL_REQUEST),
        ("pull-request-plan", "pull_request", "prod-pr-plan", PULL_REQUEST),
    }


@pytest.fixture
def copy(tmp_path) -> Repository:
    """The workflows, the set-up table and the Terraform the roles come from, to break."""
    for part in (".github/workflows", "docs", "terraform"):
        ignore = shutil.ignore_patterns(".terraform*", ".plan", ".artifact")
        shutil.copytree(ROOT / part, tmp_path / part, ignore=ignore)
    return the_repository(tmp_path)


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_pull_request_plans_in_the_deploys_plan_environment_are_found(copy):
    """The review's finding: pull requests in <env>-plan, whose role writes the lock."""
    deploy = copy.workflows / "deploy.yml"
    edit(
        deploy,
        "format('{0}-pr-plan', matrix.environment)",
        "format('{0}-plan', matrix.environment)",
    )
    edit(deploy, "vars.AWS_PR_PLAN_ROLE_ARN", "vars.AWS_PLAN_ROLE_ARN")
    found = environments.problems(copy)
    assert any(
        p.startswith("stage-plan is used by pull requests and by runs from refs/heads/main")
        for p in found
    ), found
    assert any(
        p.startswith("ci-cd.md restricts prod-plan's branches, and pull requests use it")
        for p in found
    ), found
    assert any(
        p.startswith("stage-plan admits any branch (deploy.yml:p")
        and "`deploy.sh stage policy plan`) may write: s3:DeleteObject, s3:PutObject" in p
        for p in found
    ), found


def test_an_unrestricted_plan_environment_is_found(copy):
    """The set-up table as it was: `<env>-plan` with no branch restriction."""
    row = "| 9 | GitHub, Settings → Environments → `stage-plan` | deployment branches"
    edit(copy.setup, f"{row} and tags: `main` |", f"{row}: no restriction |")
    assert environments.problems(copy) == [
        "stage-plan admits every branch and tag; deploy.yml:plan run from refs/heads/main only: "
        "its branch rules must admit exactly those",
        "stage-plan admits any branch (deploy.yml:plan) and its role (step 3, `deploy.sh stage "
        "policy plan`) may write: s3:DeleteObject, s3:PutObject",
    ]


def test_a_pull_request_role_that_may_write_is_found(copy):
    edit(
        copy.setup, "`scripts/deploy.sh ENV policy pr-plan`", "`scripts/deploy.sh ENV policy plan`"
    )
    found = environments.problems(copy)
    assert [p.split(":")[0] for p in found] == [
        "prod-pr-plan admits any branch (deploy.yml",
        "stage-pr-plan admits any branch (deploy.yml",
    ]


def test_an_environment_without_rules_or_a_role_it_cannot_assume_is_found(copy):
    edit(
        copy.setup,
        "`repo:OWNER/REPO:environment:ENV-pr-plan`",
        "`repo:OWNER/REPO:environment:ENV-plan`",
    )
    edit(copy.setup, "→ `stage-pr-plan`, `prod-pr-plan` |", "→ `prod-pr-plan` |")
    found = environments.problems(copy)
    assert (
        "deploy.yml:pull-request-plan name the environment stage-pr-plan: ci-cd.md's set-up "
        "table gives it no deployment-branch rules" in found
    )
    assert (
        "AWS_PR_PLAN_ROLE_ARN in stage-pr-plan is the role of step 4, whose trust names "
        "environment ENV-plan: AWS refuses stage-pr-plan's token" in found
    )
