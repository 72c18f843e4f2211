"""scripts/terraform_lock.sh makes the provider lock files every deploy needs. `terraform
providers lock` reads the whole configuration, modules included: before the modules are
installed it stops with "Module not installed" (the stand-in says what Terraform says; the real
binary, where there is one, is the check). The script installs them first, in every directory
it locks, and a failure names the directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pigeon_tools.paths import ROOT
from pigeon_tools.terraform import validate
from support.deploy_world import SUPPORT, install_stand_in, system_without


@pytest.fixture
def locker(tmp_path):
    """A copy of scripts/terraform_lock.sh and terraform/, and the recording terraform."""
    ignore = shutil.ignore_patterns(".terraform*", ".plan", ".artifact")
    shutil.copytree(ROOT / "terraform", tmp_path / "terraform", ignore=ignore)
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "terraform_lock.sh", tmp_path / "scripts")
    bin_dir = tmp_path / "bin"
    install_stand_in(bin_dir, "terraform")
    system = system_without(tmp_path / "system", "terraform")
    world = tmp_path / "terraform-world"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/bash", str(tmp_path / "scripts" / "terraform_lock.sh")],
            capture_output=True,
            text=True,
            env={
                "PATH": f"{bin_dir}:{system}",
                "HOME": str(tmp_path),
                "FAKE_TERRAFORM_DIR": str(world),
                "PYTHONPATH": f"{ROOT / 'scripts'}:{ROOT / 'tests'}",
            },
            timeout=300,
        )

    run.terraform = tmp_path / "terraform"
    run.calls = lambda: [
        json.loads(line) for line in (world / "calls.jsonl").read_text().splitlines()
    ]
    return run


def locked_dirs(terraform: Path) -> list[str]:
    dirs = [
        "environments",
        *(f"modules/{p.name}" for p in sorted((terraform / "modules").iterdir())),
    ]
    dirs += [f"examples/{p.name}" for p in sorted((terraform / "examples").glob("*")) if p.is_dir()]
    return dirs


def test_every_root_installs_its_modules_before_its_providers_are_locked(locker):
    done = locker()
    assert done.returncode == 0, done.stderr
    calls = [
        ((Path(c["cwd"]) / c["chdir"]).relative_to(locker.terraform).as_posix(), c["args"][:2])
        for c in locker.calls()
    ]
    expected = []
    for directory in locked_dirs(locker.terraform):
        expected += [(directory, ["get", "-no-color"]), (directory, ["providers", "lock"])]
    assert calls == expected
    for directory in locked_dirs(locker.terraform):
        assert (locker.terraform / directory / ".terraform.lock.hcl").is_file(), directory
    platforms = [a for a in locker.calls()[1]["args"] if a.startswith("-platform=")]
    assert platforms == [
        "-platform=linux_amd64",
        "-platform=linux_arm64",
        "-platform=darwin_amd64",
        "-platform=darwin_arm64",
    ]


def test_a_directory_whose_modules_cannot_be_installed_is_named(locker):
    broken = locker.terraform / "modules" / "alarms" / "broken.tf"
    broken.write_text('module "gone" {\n  source = "../no_such_module"\n}\n')
    done = locker()
    assert done.returncode == 1
    assert "Error: Unreadable module directory" in done.stderr
    assert "terraform_lock: FAILED in terraform/modules/alarms: terraform get" in done.stderr
    assert not (locker.terraform / "modules" / "alarms" / ".terraform.lock.hcl").exists()


def locked(lock_file: Path) -> dict[str, str]:
    """Each provider's locked version in a .terraform.lock.hcl."""
    import hcl2

    from pigeon_tools.terraform.hcl import unquote

    with lock_file.open() as handle:
        blocks = unquote(hcl2.load(handle)).get("provider", [])
    return {source: body["version"] for block in blocks for source, body in block.items()}


AWS = "registry.terraform.io/hashicorp/aws"
DATADOG = "registry.terraform.io/datadog/datadog"


def test_a_new_major_in_the_registry_is_locked_by_no_module_and_a_drifting_one_is_named(locker):
    """The AWS provider 7.0 is out: the environments root pins 6.x, and every module and
    example locks the root's major too (CI tests them with those lock files). A module whose
    constraint is a lower bound only would lock 7.0: the script fails and names it."""
    world = locker.terraform.parent / "terraform-world"
    world.mkdir()
    registry = {"hashicorp/aws": ["6.0.0", "6.28.0", "7.0.0"], "datadog/datadog": ["3.84.0"]}
    (world / "registry.json").write_text(json.dumps(registry))
    done = locker()
    assert done.returncode == 0, done.stderr
    for directory in locked_dirs(locker.terraform):
        versions = locked(locker.terraform / directory / ".terraform.lock.hcl")
        assert versions.get(AWS, "6.28.0") == "6.28.0", directory
        assert versions.get(DATADOG, "3.84.0") == "3.84.0", directory
    assert set(locked(locker.terraform / "environments" / ".terraform.lock.hcl")) == {AWS, DATADOG}

    versions_tf = locker.terraform / "modules" / "function" / "versions.tf"
    versions_tf.write_text(versions_tf.read_text().replace(">= 6.0, < 7.0", ">= 6.0"))
    done = locker()
    assert done.returncode == 1
    assert (
        f"terraform_lock: FAILED in terraform/modules/function: {AWS} is locked at major 7, the "
        "environments root (what deploys) at 6: bound its version constraint in "
        'terraform/modules/function to ">= MINIMUM, < 7.0"'
    ) in done.stderr
    assert "FAILED in terraform/modules/alarms" not in done.stderr


def error_block(text: str) -> str:
    """From `Error:` on: what Terraform says, without the CLI-configuration warnings."""
    return text[text.index("Error:") :].strip()


def stand_in(args: list[str], cwd: Path, world: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SUPPORT / "fake_terraform.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "FAKE_TERRAFORM_DIR": str(world)},
        check=False,
    )


def test_a_lock_before_the_modules_are_installed_fails_as_terraform_says(tmp_path):
    shutil.copytree(
        ROOT / "terraform", tmp_path / "terraform", ignore=shutil.ignore_patterns(".terraform*")
    )
    root = tmp_path / "terraform" / "environments"
    args = [f"-chdir={root}", "providers", "lock", "-no-color", "-platform=linux_amd64"]
    fake = stand_in(args, tmp_path, tmp_path / "world")
    assert fake.returncode == 1
    assert error_block(fake.stderr).startswith("Error: Module not installed")
    assert 'Run "terraform init" to install all modules' in fake.stderr
    if not validate.available():
        pytest.skip(validate.WHY_SKIPPED)
    real = subprocess.run(["terraform", *args], capture_output=True, text=True, check=False)
    assert real.returncode == 1
    assert error_block(real.stderr) == error_block(fake.stderr)
