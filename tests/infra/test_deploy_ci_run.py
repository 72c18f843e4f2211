"""scripts/ci_run_for_commit.sh picks the CI run whose artifact deploys: a completed push to
main of exactly that commit whose gate jobs (every job ci.yml's deploy-stage needs) succeeded,
whatever deploy-stage did: on a new repository stage's deploy fails until the set-up is done,
and the by-hand first deploy takes that run's artifact. A pull-request run of the same commit
is newer and green but has no attestation; a run on another branch or of another workflow, a
run still in progress and a run with a gate job that did not succeed never count."""

from __future__ import annotations

import itertools
import json
import subprocess

import pytest
import yaml

from pigeon_tools.deploy.ci_run import (
    GATE_JOBS,
    RERUN_ALL,
    RERUN_GATES,
    STAGE_APPLY_JOB,
    STAGE_PLAN_JOB,
    rerun_stage,
)
from pigeon_tools.paths import ROOT
from support.deploy_world import ci_jobs, ci_run_record, install_stand_in, system_without

COMMIT = "a" * 40


def a_run(run_id, created, **fields):
    return ci_run_record(run_id, COMMIT, created, **fields)


@pytest.fixture
def find(tmp_path):
    install_stand_in(tmp_path / "bin", "gh")
    system = system_without(tmp_path / "system", "gh")

    def run(runs, commit=COMMIT, failures=None, **env):
        (tmp_path / "runs.json").write_text(json.dumps(runs))
        (tmp_path / "failures.json").write_text(json.dumps(failures or {}))
        return subprocess.run(
            [str(ROOT / "scripts" / "ci_run_for_commit.sh"), commit],
            capture_output=True,
            text=True,
            env={
                "PATH": f"{tmp_path / 'bin'}:{system}",
                "HOME": str(tmp_path),
                "FAKE_GH_DIR": str(tmp_path),
                "GH_TOKEN": "stand-in",
                **env,
            },
            timeout=60,
        )

    run.calls = lambda: [
        json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()
    ]
    return run


def test_the_push_run_on_main_is_chosen_over_newer_runs_that_deploy_nothing(find):
    runs = [
        a_run(1, "2026-01-01T10:00:00Z"),
        a_run(2, "2026-01-01T11:00:00Z", event="pull_request", headBranch="feature"),
        a_run(3, "2026-01-01T12:00:00Z", event="workflow_dispatch", headBranch="feature"),
        a_run(4, "2026-01-01T13:00:00Z", conclusion="failure", jobs=ci_jobs({"test": "failure"})),
        a_run(5, "2026-01-01T14:00:00Z", workflowName="deploy", path=".github/workflows/d.yml"),
        a_run(6, "2026-01-01T15:00:00Z", headSha="b" * 40),
    ]
    done = find(runs)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    listed, *viewed = find.calls()
    for flag, value in (
        ("--event", "push"),
        ("--branch", "main"),
        ("--workflow", "ci.yml"),
        ("--status", "completed"),
    ):
        assert listed[listed.index(flag) + 1] == value
    # Run 4's jobs were read (a failed gate job), then run 1's.
    assert [call[:3] for call in viewed] == [["run", "view", "4"], ["run", "view", "1"]]


def test_a_commit_with_only_a_pull_request_run_has_nothing_to_deploy(find):
    done = find([a_run(2, "2026-01-01T11:00:00Z", event="pull_request", headBranch="feature")])
    assert done.returncode == 1
    assert f"no completed ci run of a push to main for {COMMIT}" in done.stderr
    assert "pull-request runs have no attestations" in done.stderr


def test_a_run_whose_stage_deploy_failed_is_chosen(find):
    """A new repository: every gate job passed, deploy-stage failed (stage's set-up is not done
    yet), so the run failed. Its artifact is what the first deploy by hand takes."""
    failed_stage = ci_jobs(stage="failure")
    assert {j["name"]: j["conclusion"] for j in failed_stage}["deploy-stage / apply"] == "skipped"
    runs = [
        a_run(1, "2026-01-01T10:00:00Z"),
        a_run(2, "2026-01-01T11:00:00Z", conclusion="failure", jobs=failed_stage),
    ]
    done = find(runs)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    done = find(runs[1:])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


@pytest.mark.parametrize(
    ("job", "ended", "said"),
    [
        ("test", "failure", "test (failure)"),
        ("build (arm64)", "cancelled", "build (arm64) (cancelled)"),
        ("smoke", "skipped", "smoke (skipped)"),
        ("workflow-lint", "timed_out", "workflow-lint (timed_out)"),
        ("build (x86_64)", None, "build (x86_64) (missing)"),  # a matrix leg that never ran
    ],
)
def test_a_run_with_a_gate_job_that_did_not_pass_never_counts(find, job, ended, said):
    bad = a_run(2, "2026-01-01T11:00:00Z", conclusion="failure", jobs=ci_jobs({job: ended}))
    done = find([a_run(1, "2026-01-01T10:00:00Z"), bad])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"

    older = a_run(
        1, "2026-01-01T10:00:00Z", conclusion="failure", jobs=ci_jobs({"lint": "failure"})
    )
    done = find([older, bad])
    assert done.returncode == 1
    assert (
        f"no ci run of a push to main for {COMMIT} passed the jobs deploy-stage needs"
        in done.stderr
    )
    # The newest run's failing gate jobs, by name, and how to get a run that passes.
    assert f"the newest, run 2, did not pass: {said}. " in done.stderr
    assert "lint (failure)" not in done.stderr
    assert "gh run rerun 2 --failed" in done.stderr


def test_a_run_in_progress_never_counts(find):
    """Its gate jobs passed but deploy-stage still runs (or waits for stage's reviewers): gh's
    `--status completed` leaves it out, and so does the script if gh did not."""
    running = a_run(
        2,
        "2026-01-01T11:00:00Z",
        status="in_progress",
        conclusion="",
        jobs=ci_jobs({"deploy-stage / apply": ""}),
    )
    done = find([a_run(1, "2026-01-01T10:00:00Z"), running])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    done = find([running])
    assert done.returncode == 1
    assert f"no completed ci run of a push to main for {COMMIT}: wait for CI" in done.stderr


def test_gh_failing_to_read_a_runs_jobs_is_reported(find):
    outage = "HTTP 502: Bad Gateway (https://api.github.com/repos/example/pigeon/actions/runs/1)"
    done = find([a_run(1, "2026-01-01T10:00:00Z")], failures={"run view": outage})
    assert done.returncode == 1
    assert f"ci_run_for_commit: gh run view 1 failed: {outage}" in done.stderr
    assert done.stdout == ""


def test_gh_not_signed_in_says_so(find):
    done = find([a_run(1, "2026-01-01T10:00:00Z")], GH_TOKEN="")
    assert done.returncode == 1
    assert "gh auth login" in done.stderr


def test_the_gate_jobs_are_the_jobs_deploy_stage_needs_as_github_names_them():
    """GitHub names a job by its `name`, else its id, and a matrix leg "<name> (<values>)"."""
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())["jobs"]
    named = []
    for need in jobs["deploy-stage"]["needs"]:
        job = jobs[need]
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        assert not {"include", "exclude"} & set(matrix), f"{need}: name its legs here"
        for values in itertools.product(*matrix.values()):
            name = job.get("name", need)
            named.append(f"{name} ({', '.join(map(str, values))})" if values else name)
    assert list(GATE_JOBS) == named


# --- what to re-run: the advice, run against the stand-in gh (GitHub's re-run rules) ---------


def rerun(tmp_path, record, command):
    """Run a command the tools advise, as written, against the stand-in gh; the jobs it
    queued for the run's next attempt."""
    install_stand_in(tmp_path / "bin", "gh")
    system = system_without(tmp_path / "system", "gh")
    (tmp_path / "runs.json").write_text(json.dumps([record]))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env={
            "PATH": f"{tmp_path / 'bin'}:{system}",
            "HOME": str(tmp_path),
            "FAKE_GH_DIR": str(tmp_path),
            "GH_TOKEN": "stand-in",
        },
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [after] = json.loads((tmp_path / "runs.json").read_text())
    return {j["name"] for j in after["jobs"] if j["status"] == "queued"}


# deploy-stage's plan failed (its apply skipped), or its apply failed after the plan succeeded:
# after a stage deploy by hand (docs/deploy.md, First deploy), either one.
STAGE_FAILED = {
    "plan": ci_jobs(stage="failure"),
    "apply": ci_jobs({STAGE_APPLY_JOB: "failure"}),
}


@pytest.mark.parametrize("failed", sorted(STAGE_FAILED))
def test_the_advised_re_run_plans_stage_again_whichever_deploy_stage_job_failed(tmp_path, failed):
    record = a_run(7, "2026-01-01T10:00:00Z", conclusion="failure", jobs=STAGE_FAILED[failed])
    queued = rerun(tmp_path, record, RERUN_ALL.format(run=7))
    assert {STAGE_PLAN_JOB, STAGE_APPLY_JOB} <= queued  # a new plan, of the current state
    # The deploy-stage job alone, from its plan: the apply is re-run with it (its dependent).
    [plan] = [j for j in record["jobs"] if j["name"] == STAGE_PLAN_JOB]
    queued = rerun(tmp_path, record, f"gh run rerun --job {plan['databaseId']}")
    assert queued == {STAGE_PLAN_JOB, STAGE_APPLY_JOB}


def test_re_running_only_the_failed_apply_keeps_the_first_attempts_plan(tmp_path):
    """Why the advice is not --failed: the apply alone is re-run, with the plan job's outputs of
    the attempt before (its plan artifact), stale after the by-hand apply, every time."""
    record = a_run(7, "2026-01-01T10:00:00Z", conclusion="failure", jobs=STAGE_FAILED["apply"])
    assert rerun(tmp_path, record, "gh run rerun 7 --failed") == {STAGE_APPLY_JOB}
    assert "--failed" not in RERUN_ALL
    assert "--failed" not in rerun_stage("7").split("(")[1].split(";")[0]


def test_the_advised_re_run_of_failed_gate_jobs_deploys_stage_with_them(tmp_path):
    record = a_run(
        7, "2026-01-01T10:00:00Z", conclusion="failure", jobs=ci_jobs({"test": "failure"})
    )
    record["jobs"] = [
        {**j, "conclusion": "skipped"} if j["name"].startswith("deploy-stage") else j
        for j in record["jobs"]
    ]
    queued = rerun(tmp_path, record, RERUN_GATES.format(run=7))
    assert "test" in queued
    assert {STAGE_PLAN_JOB, STAGE_APPLY_JOB} <= queued
    assert "lint" not in queued  # what passed keeps its outcome


def test_every_place_that_says_how_to_deploy_stage_again_says_the_same():
    """docs/deploy.md, the stage-applied refusal (checks.py) and ci_run_for_commit's refusal all
    take the commands from ci_run (RERUN_ALL, RERUN_GATES)."""
    deploy_md = " ".join((ROOT / "docs" / "deploy.md").read_text().split())
    assert f"`{RERUN_ALL.format(run='RUN')}`" in deploy_md
    assert f"`{RERUN_GATES.format(run='RUN')}`" in deploy_md
    # The old advice, which fails for good after a failed apply, is given nowhere.
    stale = "rerun RUN --failed`, or Actions → the run → Re-run failed jobs"
    assert stale not in deploy_md
    for path in (ROOT / "scripts" / "pigeon_tools" / "deploy").glob("*.py"):
        text = path.read_text()
        assert "gh run rerun" not in text or path.name == "ci_run.py", path.name
    assert (
        "ci_run.rerun_stage(run_id)"
        in (ROOT / "scripts" / "pigeon_tools" / "deploy" / "checks.py").read_text()
    )
