"""scripts/ci_run_for_commit.sh picks the CI run whose artifact deploys: a successful push to
main of exactly that commit. A pull-request run of the same commit is newer and green but has
no attestation; a run on another branch or of another workflow never counts either."""

from __future__ import annotations

import json
import subprocess

import pytest

from pigeon_tools.paths import ROOT
from support.deploy_world import ci_run_record, install_stand_in, system_without

COMMIT = "a" * 40


def a_run(run_id, created, **fields):
    return ci_run_record(run_id, COMMIT, created, **fields)


@pytest.fixture
def find(tmp_path):
    install_stand_in(tmp_path / "bin", "gh")
    system = system_without(tmp_path / "system", "gh")

    def run(runs, commit=COMMIT, **env):
        (tmp_path / "runs.json").write_text(json.dumps(runs))
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
        a_run(4, "2026-01-01T13:00:00Z", conclusion="failure"),
        a_run(5, "2026-01-01T14:00:00Z", workflowName="deploy", path=".github/workflows/d.yml"),
        a_run(6, "2026-01-01T15:00:00Z", headSha="b" * 40),
    ]
    done = find(runs)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    [call] = find.calls()
    for flag, value in (("--event", "push"), ("--branch", "main"), ("--workflow", "ci.yml")):
        assert call[call.index(flag) + 1] == value


def test_a_commit_with_only_a_pull_request_run_has_nothing_to_deploy(find):
    done = find([a_run(2, "2026-01-01T11:00:00Z", event="pull_request", headBranch="feature")])
    assert done.returncode == 1
    assert f"no successful ci run of a push to main for {COMMIT}" in done.stderr
    assert "pull-request runs have no attestations" in done.stderr


def test_gh_not_signed_in_says_so(find):
    done = find([a_run(1, "2026-01-01T10:00:00Z")], GH_TOKEN="")
    assert done.returncode == 1
    assert "gh auth login" in done.stderr
