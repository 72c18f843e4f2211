"""What GitHub runs of the real workflow files, event by event (support.actions_model): the
concurrency groups the deploys take, with GitHub's running/pending/cancel rules, and which jobs
run for whom (a Dependabot pull request, a maintainer's, a fork's)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Generator

import pytest
import yaml

from pigeon_tools.paths import ROOT
from support import actions_model as gha

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = {p.name: yaml.safe_load(p.read_text()) for p in WORKFLOWS.glob("*.yml")}
REPOSITORY = "owner/pigeon"
DEPENDABOT = "dependabot[bot]"


def world(**timing: object) -> gha.World:
    return gha.World(FILES, gha.Timing(**timing))  # type: ignore[arg-type]


def merge(w: gha.World, sha: str, at: float, run_id: int) -> gha.Run:
    """A push to main: ci.yml, whose deploy-stage calls deploy.yml."""
    github = {"event_name": "push", "ref": "refs/heads/main", "run_id": run_id, "actor": "dev"}
    return w.trigger("ci.yml", sha, at, github, sha=sha)


def dispatch(
    w: gha.World,
    sha: str,
    at: float,
    run_id: int,
    environment: str,
    action: str = "apply",
    name: str | None = None,
) -> gha.Run:
    """*Run workflow* of deploy.yml on main (action apply, or plan: a preview)."""
    github = {"event_name": "workflow_dispatch", "ref": "refs/heads/main", "run_id": run_id}
    return w.trigger(
        "deploy.yml",
        name or sha,
        at,
        {**github, "actor": "dev"},
        environment=environment,
        action=action,
        sha=sha,
    )


def release(w: gha.World, tag: str, at: float, run_id: int, *, prerelease: bool = False) -> gha.Run:
    event = {"release": {"tag_name": tag, "prerelease": prerelease, "draft": False}}
    github = {"event_name": "release", "ref": f"refs/tags/{tag}", "run_id": run_id, "actor": "dev"}
    return w.trigger("deploy.yml", tag, at, {**github, "event": event}, sha=tag)


def pull_request(
    w: gha.World, at: float, run_id: int, *, actor: str = "dev", head: str = REPOSITORY, **more: str
) -> list[gha.Run]:
    """A pull request's push: ci.yml and deploy.yml both run for it."""
    github = {
        "event_name": "pull_request",
        "ref": f"refs/pull/{run_id}/merge",
        "run_id": run_id,
        "actor": actor,
        "triggering_actor": more.get("triggering_actor", actor),
        "event": {"pull_request": {"head": {"repo": {"full_name": head}}}},
    }
    return [
        w.trigger("ci.yml", f"pr-ci-{run_id}", at, github),
        w.trigger("deploy.yml", f"pr-deploy-{run_id}", at, {**github, "run_id": run_id + 1}),
    ]


# --- the expressions the model evaluates ------------------------------------------------------


def test_the_expression_model_follows_githubs_rules():
    contexts = {"github": {"event_name": "Push", "ref": "refs/heads/main"}, "inputs": {}}
    assert gha.evaluate("inputs.environment || 'prod'", contexts) == "prod"
    assert gha.evaluate("github.event_name == 'push'", contexts) is True  # case-insensitive
    assert gha.evaluate("github.event_name != 'push' && 'x' || 'y'", contexts) == "y"
    assert gha.evaluate("!(github.nothing)", contexts) is True
    assert gha.evaluate("format('a-{0}-{{1}}', github.ref)", contexts) == "a-refs/heads/main-{1}"
    assert gha.evaluate("startsWith(github.ref, 'REFS/')", contexts) is True
    assert gha.interpolate("deploy-${{ inputs.environment || 'stage' }}", contexts) == (
        "deploy-stage"
    )
    with pytest.raises(ValueError, match="not modelled"):
        gha.evaluate("toJSON(github)", contexts)


def test_the_model_reports_a_deadlock_and_a_cancelled_pending_run():
    s = gha.Scheduler()

    def holder() -> Generator[gha.Step]:
        yield gha.Acquire("g", False)
        yield gha.Work(5)
        yield gha.Release("g")

    def self_locking() -> Generator[gha.Step]:
        yield gha.Acquire("h", False)
        yield gha.Acquire("H", False)  # the same group: names are case-insensitive

    a, b, c = (s.start(gha.Run(n, holder()), at) for n, at in (("a", 0), ("b", 1), ("c", 2)))
    s.run()
    assert [a.conclusion, b.conclusion, c.conclusion] == [
        "success",
        "cancelled",
        "success",
    ]
    s.start(gha.Run("stuck", self_locking()), 0)
    with pytest.raises(AssertionError, match="deadlocked"):
        s.run()


# --- the deploys: one environment, one deploy at a time ---------------------------------------


def test_two_merges_close_together_leave_stage_on_the_newer_and_no_plan_stale():
    w = world()
    a, b = merge(w, "a", 0, 101), merge(w, "b", 1, 102)
    w.scheduler.run()
    stage = w.environments["stage"]
    assert stage.stale == []
    assert [a.conclusion, b.conclusion] == ["success", "success"], w.scheduler.log
    assert stage.applied == ["a", "b"]
    assert stage.commit == "b"


def test_three_merges_close_together_cancel_the_middle_deploy_while_it_waits():
    w = world()
    a, b, c = merge(w, "a", 0, 101), merge(w, "b", 1, 102), merge(w, "c", 2, 103)
    w.scheduler.run()
    stage = w.environments["stage"]
    assert stage.stale == []
    assert stage.commit == "c"
    assert stage.applied == ["a", "c"]
    # b's CI run: every check passed, its deploy was cancelled while pending: cancelled, not red.
    assert [a.conclusion, b.conclusion, c.conclusion] == ["success", "cancelled", "success"]
    assert "pending in deploy-stage" in b.why


def test_a_by_hand_stage_deploy_and_cis_stage_deploy_take_turns():
    for first_by_hand in (True, False):
        w = world()
        if first_by_hand:
            runs = [dispatch(w, "x", 10, 201, "stage"), merge(w, "y", 0, 202)]
        else:
            runs = [merge(w, "x", 0, 201), dispatch(w, "y", 20, 202, "stage")]
        w.scheduler.run()
        stage = w.environments["stage"]
        assert stage.stale == [], w.scheduler.log
        assert [r.conclusion for r in runs] == ["success", "success"], w.scheduler.log
        assert stage.applied == ["x", "y"]


def test_a_prod_deploy_holds_the_lock_while_its_reviewers_decide():
    w = world(approval={"prod": 60.0})
    v1, v2 = release(w, "v1.0.0", 0, 301), release(w, "v1.1.0", 10, 302)
    w.scheduler.run()
    prod = w.environments["prod"]
    assert prod.stale == []
    assert [v1.conclusion, v2.conclusion] == ["success", "success"]
    assert prod.applied == ["v1.0.0", "v1.1.0"]
    assert "10 v1.1.0 pending in deploy-prod" in w.scheduler.log
    # A third while v1 waits: v2, pending, is cancelled; prod ends on the newest.
    w = world(approval={"prod": 60.0})
    runs = [release(w, f"v1.{n}.0", 10 * n, 300 + n) for n in range(3)]
    w.scheduler.run()
    assert [r.conclusion for r in runs] == ["success", "cancelled", "success"]
    assert w.environments["prod"].commit == "v1.2.0"
    # By hand, prod takes the same turn as a release.
    w = world(approval={"prod": 60.0})
    runs = [release(w, "v2.0.0", 0, 401), dispatch(w, "v2.0.0", 5, 402, "prod")]
    w.scheduler.run()
    assert [r.conclusion for r in runs] == ["success", "success"]
    assert w.environments["prod"].stale == []


def test_a_release_that_deploys_nothing_never_cancels_a_pending_prod_deploy():
    """A pre-release (or a tag not v*) runs no job; were it in deploy-prod it would cancel a
    real release waiting there, then do nothing."""
    w = world(approval={"prod": 60.0})
    v1, v2 = release(w, "v1.0.0", 0, 301), release(w, "v1.1.0", 10, 302)
    rc = release(w, "v1.2.0-rc1", 20, 303, prerelease=True)
    other = release(w, "nightly", 25, 304)
    w.scheduler.run()
    assert [v1.conclusion, v2.conclusion] == ["success", "success"], w.scheduler.log
    assert w.environments["prod"].applied == ["v1.0.0", "v1.1.0"]
    for nothing in (rc, other):
        assert not {g.casefold() for g in nothing.groups_entered} & {"deploy-prod"}


def test_a_plan_only_run_by_hand_never_cancels_a_pending_stage_deploy():
    """A preview (action plan) while CI's deploy of b waits its turn behind a's: were it in
    deploy-stage it would cancel b's deploy (stage then stays on a, and b, whose CI run has no
    successful deploy-stage / apply, could never reach prod)."""
    w = world()
    a, b = merge(w, "a", 0, 101), merge(w, "b", 1, 102)
    preview = dispatch(w, "b", 20, 201, "stage", action="plan", name="preview")
    w.scheduler.run()
    assert [a.conclusion, b.conclusion, preview.conclusion] == ["success"] * 3, w.scheduler.log
    stage = w.environments["stage"]
    assert stage.applied == ["a", "b"]
    assert stage.stale == []
    assert not {g.casefold() for g in preview.groups_entered} & {"deploy-stage", "deploy-prod"}
    assert "17 b pending in deploy-stage" in w.scheduler.log  # a's deploy runs until 26
    assert not [line for line in w.scheduler.log if "preview pending" in line]
    assert preview.ended == 20 + w.timing.plan
    assert [job for run, job, _ in w.jobs_run if run == preview.name] == ["deploy.yml:plan"]


def test_a_plan_only_run_by_hand_never_waits_behind_a_deploy_awaiting_its_reviewers():
    w = world(approval={"prod": 60.0})
    v1 = release(w, "v1.0.0", 0, 301)  # holds deploy-prod while prod's reviewers decide
    preview = dispatch(w, "v1.0.0", 5, 302, "prod", action="plan", name="preview")
    w.scheduler.run()
    assert [v1.conclusion, preview.conclusion] == ["success", "success"], w.scheduler.log
    assert preview.ended == 5 + w.timing.plan  # at once, not after v1's apply
    assert v1.ended is not None
    assert preview.ended < v1.ended
    assert w.environments["prod"].applied == ["v1.0.0"]  # a preview applies nothing
    # A run by hand that applies still takes prod's turn, and waits.
    w = world(approval={"prod": 60.0})
    v1 = release(w, "v1.0.0", 0, 301)
    by_hand = dispatch(w, "v1.0.0", 5, 302, "prod", action="apply", name="by-hand")
    w.scheduler.run()
    assert "5 by-hand pending in deploy-prod" in w.scheduler.log
    assert [v1.conclusion, by_hand.conclusion] == ["success", "success"]


def test_an_applying_run_by_hand_takes_turns_with_cis_stage_deploy():
    """action apply: deploy-stage, the group of CI's stage deploy; a newer merge's deploy
    cancels it while it is pending, as it would another merge's."""
    w = world()
    a = merge(w, "a", 0, 101)
    by_hand = dispatch(w, "x", 18, 201, "stage", action="apply")  # pending behind a's deploy
    c = merge(w, "c", 3, 103)  # its deploy queues at 19: cancels the pending by-hand one
    w.scheduler.run()
    assert "deploy-stage" in by_hand.groups_entered
    assert [a.conclusion, by_hand.conclusion, c.conclusion] == ["success", "cancelled", "success"]
    assert "pending in deploy-stage, superseded by c" in by_hand.why
    assert w.environments["stage"].applied == ["a", "c"]


def test_a_called_deploy_never_takes_its_callers_group():
    """The called deploy.yml sees ci.yml's github context (event push, ci's run id and name):
    a group of its own there, or it would wait for its own caller forever."""
    w = world()
    run = merge(w, "a", 0, 101)
    w.scheduler.run()  # raises on a deadlock
    assert run.conclusion == "success"
    caller = FILES["ci.yml"]["jobs"]["deploy-stage"]["concurrency"]["group"]
    assert caller in run.groups_entered
    # Were the called workflow's group the caller's, the model would say so.
    same = {**FILES, "deploy.yml": {**FILES["deploy.yml"], "concurrency": caller}}
    w = gha.World(same)
    merge(w, "a", 0, 101)
    with pytest.raises(AssertionError, match="deadlocked: a waits for deploy-stage"):
        w.scheduler.run()


def test_a_pull_request_never_enters_a_deploy_group_nor_cancels_a_waiting_deploy():
    w = world()
    a, b = merge(w, "a", 0, 101), merge(w, "b", 1, 102)  # b's deploy waits for a's
    prs = pull_request(w, 12, 500) + pull_request(w, 13, 600, actor=DEPENDABOT)
    w.scheduler.run()
    assert [a.conclusion, b.conclusion] == ["success", "success"]
    assert w.environments["stage"].commit == "b"
    deploy_groups = {g.casefold() for r in (a, b) for g in r.groups_entered}
    for pr in prs:
        assert pr.conclusion == "success"
        assert not {g.casefold() for g in pr.groups_entered} & {"deploy-stage", "deploy-prod"}
        assert not {g.casefold() for g in pr.groups_entered} & deploy_groups


# --- pull requests: who gets a plan ----------------------------------------------------------


def jobs_for(actor: str = "dev", head: str = REPOSITORY, **more: str) -> list[str]:
    w = world()
    runs = pull_request(w, 0, 700, actor=actor, head=head, **more)
    w.scheduler.run()
    assert all(r.conclusion == "success" for r in runs)
    return [job for run, job, _ in w.jobs_run if run == "pr-deploy-700"]


def reads_secrets_or_assumes_a_role(job: dict) -> bool:
    text = yaml.safe_dump(job)
    return "secrets." in text or "id-token" in text or "configure-aws-credentials" in text


def test_a_maintainers_pull_request_is_planned_for_each_environment():
    assert jobs_for() == ["deploy.yml:pull-request-plan"] * 2
    # A maintainer's push to Dependabot's branch is a maintainer's run: planned.
    assert jobs_for("maintainer") == ["deploy.yml:pull-request-plan"] * 2


def test_a_dependabot_pull_request_is_not_planned_and_says_why():
    """Dependabot's runs get a read-only GITHUB_TOKEN and no Actions or environment secrets;
    a re-run by anyone keeps github.actor and Dependabot's privileges."""
    for ran in (jobs_for(DEPENDABOT), jobs_for(DEPENDABOT, triggering_actor="maintainer")):
        assert "deploy.yml:pull-request-plan" not in ran
        [notice] = ran
        job = FILES["deploy.yml"]["jobs"][notice.split(":")[1]]
        assert not reads_secrets_or_assumes_a_role(job)
        assert job["permissions"] == {}


def test_the_dependabot_notice_says_where_its_plan_is_seen(tmp_path):
    [notice] = jobs_for(DEPENDABOT)
    summary = tmp_path / "summary.md"
    for step in FILES["deploy.yml"]["jobs"][notice.split(":")[1]]["steps"]:
        env = {**os.environ, **step.get("env", {}), "GITHUB_STEP_SUMMARY": str(summary)}
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, check=True
        )
    text = " ".join(summary.read_text().split())
    assert "Dependabot" in text
    # After the merge stage's plan is applied at once: unread, unless stage has reviewers.
    assert "deploy-stage plans it and applies it to stage at once, without review" in text
    # Before: a maintainer's local pull-request plan with their own read-only credentials, the
    # same command and words as docs/ci-cd.md. Never a push to its branch (it was suggested: that
    # run executes the update's code with the pr-plan role and keys).
    command = "scripts/deploy.sh stage plan --allow-unattested"
    assert command in text
    assert "push" not in text
    docs = " ".join((ROOT / "docs" / "ci-cd.md").read_text().split())
    section = docs[docs.index("## Dependency updates") :]
    assert f"`{command}`" in section
    assert "at once, without review unless the `stage` environment has required reviewers" in (
        section
    )
    assert "own read-only credentials" in text
    assert "own read-only credentials" in section
    assert "before it applies" not in section
    usage = subprocess.run(
        [str(ROOT / "scripts" / "deploy.sh"), "--help"], capture_output=True, text=True
    )
    assert "--allow-unattested" in usage.stdout + usage.stderr  # the command exists
    assert done.stdout.startswith("::notice title=")


def test_a_forks_pull_request_neither_plans_nor_reads_a_secret():
    ran = jobs_for(head="someone/pigeon")
    for job in ran:
        assert not reads_secrets_or_assumes_a_role(FILES["deploy.yml"]["jobs"][job.split(":")[1]])
    assert "deploy.yml:pull-request-plan" not in ran
