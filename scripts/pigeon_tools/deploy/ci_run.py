"""The CI run whose artifact a commit deploys: the newest successful `ci` run of a push to main
for exactly that commit. Pull-request runs build the same commit but attest nothing (and a
workflow_dispatch run may come from any branch), so they never count.

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
FIELDS = "databaseId,headSha,headBranch,event,conclusion,workflowName,createdAt"


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
        "success",
        "--limit",
        "20",
        "--json",
        FIELDS,
        *where,
    ]


def fits(run: Mapping[str, Any], commit: str) -> bool:
    """The filters again, on what gh answered: a filter gh ignored must not let a run in."""
    return (
        run.get("headSha") == commit
        and run.get("headBranch") == BRANCH
        and run.get("event") == EVENT
        and run.get("conclusion") == "success"
    )


def ci_run(commit: str, repository: str | None = None) -> str:
    command = list_command(commit, repository)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoRun(f"gh run list failed: {done.stderr.strip() or done.stdout.strip()}")
    runs = [r for r in json.loads(done.stdout or "[]") if fits(r, commit)]
    if not runs:
        raise NoRun(
            f"no successful ci run of a push to {BRANCH} for {commit}: wait for CI on main "
            "(pull-request runs have no attestations), or pass artifact-run-id"
        )
    newest = max(runs, key=lambda r: str(r.get("createdAt", "")))
    return str(newest["databaseId"])


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
