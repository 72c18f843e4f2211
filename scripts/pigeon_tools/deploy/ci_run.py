"""The CI run whose artifact a commit deploys: the newest completed `ci` run of a push to main
for exactly that commit whose gate jobs all succeeded (every job ci.yml's deploy-stage needs),
whatever deploy-stage itself did: a stage deploy that failed (a new repository before its set-up
is complete) leaves an artifact as trustworthy as one that applied. Pull-request runs build the
same commit but attest nothing (and a workflow_dispatch run may come from any branch), so they
never count; nor does a run still in progress.

    scripts/ci_run_for_commit.sh COMMIT_SHA      prints the run id (needs gh, signed in)

in PIGEONTOOLS_REPOSITORY (or GITHUB_REPOSITORY), else the repository of the checkout's remote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

WORKFLOW = "ci.yml"
BRANCH = "main"
EVENT = "push"
# `gh run list --json` fields (it has no jobs: those come from `gh run view`).
FIELDS = "databaseId,headSha,headBranch,event,status,conclusion,workflowName,createdAt"

# The jobs of a ci run that make its artifact trustworthy: every job ci.yml's deploy-stage
# needs, as GitHub names them (a matrix leg is "build (x86_64)").
# tests/infra/test_deploy_ci_run.py derives the list from ci.yml and keeps it equal.
GATE_JOBS = (
    "lint",
    "test",
    "build (x86_64)",
    "build (arm64)",
    "smoke",
    "terraform",
    "workflow-lint",
)
# The job of a ci run that applied stage: ci.yml's deploy-stage calling deploy.yml's apply (GitHub
# names a called workflow's job "<caller job> / <called job>"). Prod deploys only a commit whose
# ci run has it succeeded (tests/infra/test_workflows.py ties the name to both files).
STAGE_APPLY_JOB = "deploy-stage / apply"
STAGE_PLAN_JOB = "deploy-stage / plan"
# How to get a ci run whose gate jobs pass: re-run the failed ones, and with them what depends on
# them (GitHub re-runs a re-run job's dependents: deploy-stage's plan and apply).
RERUN_GATES = "gh run rerun {run} --failed"
# How to deploy again from a run (a ci run's stage deploy after it failed, or after a by-hand
# apply of stage; a deploy run whose saved plan went stale): every job, so the plan job plans
# again. Never only the failed jobs: when the
# apply failed after its plan succeeded, --failed re-runs the apply alone, with the first
# attempt's plan (a job not re-run keeps its outputs), stale once stage's state changed
# ("Saved plan is stale"), every time. tests/infra/test_deploy_ci_run.py runs both against the
# stand-in gh; docs/deploy.md gives them as written here.
RERUN_ALL = "gh run rerun {run}"
VIEW_FIELDS = "databaseId,headSha,headBranch,event,status,conclusion,workflowName,jobs"


class NoRun(Exception):
    """No run fits; the message says what to do."""


def list_command(commit: str, repository: str | None) -> list[str]:
    where = ["--repo", repository] if repository else []  # else: the checkout's own remote
    return [
        "gh",
        "run",
        "list",
        "--workflow",
        WORKFLOW,
        "--commit",
        commit,
        "--branch",
        BRANCH,
        "--event",
        EVENT,
        "--status",
        "completed",
        "--limit",
        "20",
        "--json",
        FIELDS,
        *where,
    ]


def of_commit(run: Mapping[str, Any], commit: str) -> bool:
    """A run of a push to main at exactly `commit`."""
    return (
        run.get("headSha") == commit
        and run.get("headBranch") == BRANCH
        and run.get("event") == EVENT
    )


def fits(run: Mapping[str, Any], commit: str) -> bool:
    """The filters again, on what gh answered: a filter gh ignored must not let a run in."""
    return of_commit(run, commit) and run.get("status") == "completed"


def gates_failed(run: Mapping[str, Any]) -> list[str]:
    """The gate jobs of this run that did not succeed, each with how it ended ("missing": the
    run has no such job, so it never passed)."""
    jobs = run.get("jobs") or []
    failed = []
    for name in GATE_JOBS:
        ends = [j for j in jobs if j.get("name") == name]
        if not ends:
            failed.append(f"{name} (missing)")
        elif not all(j.get("conclusion") == "success" for j in ends):
            said = ", ".join(str(j.get("conclusion") or j.get("status")) for j in ends)
            failed.append(f"{name} ({said})")
    return failed


def ci_run(commit: str, repository: str | None = None) -> str:
    command = list_command(commit, repository)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoRun(f"gh run list failed: {done.stderr.strip() or done.stdout.strip()}")
    runs = [r for r in json.loads(done.stdout or "[]") if fits(r, commit)]
    if not runs:
        raise NoRun(
            f"no completed ci run of a push to {BRANCH} for {commit}: wait for CI on main "
            "(pull-request runs have no attestations), or pass artifact-run-id"
        )
    refused = []  # (run id, its gate jobs that did not pass), newest first
    for run in sorted(runs, key=lambda r: str(r.get("createdAt", "")), reverse=True):
        run_id = str(run["databaseId"])
        failed = gates_failed(view(run_id, repository))
        if not failed:
            return run_id
        refused.append((run_id, failed))
    run_id, failed = refused[0]
    raise NoRun(
        f"no ci run of a push to {BRANCH} for {commit} passed the jobs deploy-stage needs "
        f"({', '.join(GATE_JOBS)}); the newest, run {run_id}, did not pass: "
        f"{', '.join(failed)}. Fix them and push again, or re-run the failed jobs of run "
        f"{run_id} ({RERUN_GATES.format(run=run_id)})"
    )


def rerun_stage(run_id: str) -> str:
    """What to do to deploy stage again from ci run `run_id`: every place that says it says
    this."""
    return (
        f"re-run all jobs of ci run {run_id} ({RERUN_ALL.format(run=run_id)}; Actions, the "
        f"run, Re-run all jobs), so that {STAGE_PLAN_JOB} plans again; not only its failed "
        f"jobs (--failed): after a failed {STAGE_APPLY_JOB} that re-runs the apply alone, with "
        "the first attempt's saved plan, stale once stage changed. Only the newest ci run of "
        "main: an older run's re-run applies its older zip over stage"
    )


def view(run_id: str, repository: str | None) -> dict[str, Any]:
    """gh run view RUN --json …: the run and its jobs."""
    where = ["--repo", repository] if repository else []
    command = ["gh", "run", "view", run_id, "--json", VIEW_FIELDS, *where]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoRun(f"gh run view {run_id} failed: {done.stderr.strip() or done.stdout.strip()}")
    answer: dict[str, Any] = json.loads(done.stdout or "{}")
    return answer


def stage_not_applied(run: Mapping[str, Any], commit: str) -> str | None:
    """Why this ci run is no evidence that stage applied `commit` (None: it is)."""
    if not of_commit(run, commit):
        return (
            f"ci run {run.get('databaseId')} is of {run.get('event')} to "
            f"{run.get('headBranch')} at {run.get('headSha')}, "
            f"not of a push to {BRANCH} at {commit}"
        )
    jobs = [j for j in run.get("jobs") or [] if j.get("name") == STAGE_APPLY_JOB]
    if not jobs:
        return f"ci run {run.get('databaseId')} has no {STAGE_APPLY_JOB!r} job: stage never applied"
    if not all(j.get("conclusion") == "success" for j in jobs):
        said = ", ".join(str(j.get("conclusion") or j.get("status")) for j in jobs)
        return f"stage's apply in ci run {run.get('databaseId')} did not succeed ({said})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0]:
        print("usage: ci_run_for_commit.sh COMMIT_SHA", file=sys.stderr)
        return 2
    try:
        repository = os.environ.get("PIGEONTOOLS_REPOSITORY") or os.environ.get("GITHUB_REPOSITORY")
        print(ci_run(args[0], repository))
    except NoRun as error:
        print(f"ci_run_for_commit: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
