"""scripts/deploy.sh checks the artifact before any plan: its attestation (gh), its sha256 file,
every build check. Here gh is absent or fails, and terraform is a recorder: a refusal must say
which check failed, and terraform must never run."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from pigeon_tools.paths import DIST, ROOT

FAKE_TERRAFORM = """#!/bin/sh
echo "terraform $*" >> "$TERRAFORM_CALLS"
"""


def tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def system_without(folder: Path, *missing: str) -> Path:
    """The system's commands (/usr/bin, /bin) as links in one folder, but for `missing`: a
    machine without gh (GitHub's runners have one) on which only our fakes can answer."""
    folder.mkdir()
    for directory in (Path("/usr/bin"), Path("/bin")):
        for command in directory.iterdir():
            link = folder / command.name
            if command.name not in missing and not link.exists():
                link.symlink_to(command)
    return folder


@pytest.fixture
def deploy(tmp_path):
    """Run deploy.sh on a copy of dist/, with a recording terraform and the given gh."""
    bin_dir, dist, terraform = tmp_path / "bin", tmp_path / "dist", tmp_path / "terraform"
    bin_dir.mkdir()
    shutil.copytree(DIST, dist)
    shutil.copytree(ROOT / "terraform", terraform, ignore=shutil.ignore_patterns(".terraform*"))
    (terraform / "environments" / ".terraform.lock.hcl").write_text("# providers locked\n")
    calls = tmp_path / "terraform-calls"
    tool(bin_dir, "terraform", FAKE_TERRAFORM)
    system = str(system_without(tmp_path / "system", "gh", "terraform"))

    def run(*args: str, gh: str | None = None) -> subprocess.CompletedProcess[str]:
        if gh is not None:
            tool(bin_dir, "gh", gh)
        env = {
            "PATH": f"{bin_dir}:{system}",
            "HOME": str(tmp_path),
            "PYTHON": os.environ.get("PYTHON", shutil.which("python3") or "python3"),
            "PIGEONTOOLS_ARTIFACT_DIR": str(dist),
            "PIGEONTOOLS_TERRAFORM_ROOT": str(terraform / "environments"),
            "PIGEONTOOLS_REPOSITORY": "example/pigeon",
            "TF_STATE_BUCKET": "state",
            "TF_STATE_REGION": "us-west-2",
            "TERRAFORM_CALLS": str(calls),
        }
        return subprocess.run(
            ["/bin/bash", str(ROOT / "scripts" / "deploy.sh"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    run.dist = dist  # type: ignore[attr-defined]
    run.root = terraform / "environments"  # type: ignore[attr-defined]
    run.terraform_calls = calls  # type: ignore[attr-defined]
    return run


GH_FAILS = """#!/bin/sh
echo "Error: no attestations found for subject" >&2
exit 1
"""
GH_PASSES = """#!/bin/sh
echo "Loaded 1 attestation from GitHub API" >&2
exit 0
"""


def test_without_gh_the_zip_is_refused_before_any_plan(deploy):
    done = deploy("stage", "apply")
    assert done.returncode == 1
    assert "REFUSED" in done.stderr
    assert "gh (the GitHub CLI) is not installed" in done.stderr
    assert not deploy.terraform_calls.exists()


@pytest.mark.parametrize("action", ["plan", "apply"])
def test_a_zip_without_a_valid_attestation_is_refused(deploy, action):
    done = deploy("stage", action, gh=GH_FAILS)
    assert done.returncode == 1
    assert "provenance: pigeon.zip has no valid attestation from example/pigeon's ci.yml" in (
        done.stderr
    )
    assert not deploy.terraform_calls.exists()


def test_a_zip_changed_after_ci_is_refused_by_its_sha256(deploy):
    zip_path = deploy.dist / "pigeon.zip"
    zip_path.write_bytes(zip_path.read_bytes() + b"\0")
    done = deploy("stage", "plan", gh=GH_PASSES)
    assert done.returncode == 1
    assert "sha256: " in done.stderr
    assert "changed after it was built" in done.stderr
    assert not deploy.terraform_calls.exists()


def test_an_unattested_zip_may_be_planned_but_never_applied(deploy):
    refused = deploy("stage", "apply", "--allow-unattested")
    assert refused.returncode == 1
    assert "--allow-unattested is for plans only" in refused.stderr
    assert not deploy.terraform_calls.exists()
    planned = deploy("stage", "plan", "--allow-unattested")
    assert planned.returncode == 0, planned.stderr
    assert "PLAN ONLY" in planned.stderr
    assert "apply" not in deploy.terraform_calls.read_text()


def test_only_a_verified_zip_reaches_terraform_and_the_checks_come_first(deploy):
    done = deploy("stage", "plan", gh=GH_PASSES)
    assert done.returncode == 0, done.stderr
    calls = deploy.terraform_calls.read_text().splitlines()
    assert calls[0].startswith("terraform -chdir=")
    assert " init " in calls[0]
    assert "key=pigeon/stage.tfstate" in calls[0]
    assert " plan " in calls[1]
    assert "-var-file=stage.tfvars" in calls[1]
    assert "provenance: pigeon.zip and its SBOM were built and attested" in done.stdout


def test_a_root_without_a_committed_lock_file_is_refused_with_how_to_make_one(deploy):
    (deploy.root / ".terraform.lock.hcl").unlink()
    done = deploy("stage", "plan", gh=GH_PASSES)
    assert done.returncode == 1
    assert "providers: terraform/environments/.terraform.lock.hcl is not committed" in done.stderr
    assert "terraform-lock workflow" in done.stderr
    assert not deploy.terraform_calls.exists()


def test_init_reads_the_lock_file_without_changing_it(deploy):
    done = deploy("stage", "plan", gh=GH_PASSES)
    assert done.returncode == 0, done.stderr
    init = deploy.terraform_calls.read_text().splitlines()[0]
    assert "-lockfile=readonly" in init
