"""scripts/deploy.sh checks the artifact before any plan: its attestation (gh), its sha256 file,
every build check. Here gh is absent or fails, and terraform is a recorder that answers as
Terraform does: a refusal must say which check failed, and nothing may be planned or applied."""

from __future__ import annotations

import pytest

from support.deploy_world import prepared


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


def run(world, *args, **env):
    return world.deploy(world.checkout_path, *args, **env)


def planned_or_applied(world) -> list[str]:
    return [c["args"][0] for c in world.terraform_calls() if c["args"][0] in ("plan", "apply")]


GH_FAILS = "#!/bin/sh\necho 'Error: HTTP 404: Not Found' >&2\nexit 1\n"


def test_without_gh_the_zip_is_refused_before_any_plan(world):
    world.without("gh")
    done = run(world, "stage", "apply")
    assert done.returncode == 1, done.stderr
    assert "REFUSED" in done.stderr
    assert "gh (the GitHub CLI) is not installed" in done.stderr
    assert planned_or_applied(world) == []


@pytest.mark.parametrize("action", ["plan", "apply"])
def test_a_zip_without_a_valid_attestation_is_refused(world, action):
    done = run(world, "stage", action)  # the stand-in gh knows no attestation of it
    assert done.returncode == 1
    assert "provenance: pigeon.zip has no valid attestation from example/pigeon's ci.yml" in (
        done.stderr
    )
    assert "HTTP 404: Not Found" in done.stderr  # gh's own words, shown
    assert planned_or_applied(world) == []


def test_a_zip_changed_after_ci_is_refused_by_its_sha256(world):
    dist = world.dist
    world.attest_artifact(dist)
    zip_path = dist / "pigeon.zip"
    zip_path.write_bytes(zip_path.read_bytes() + b"\0")
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "sha256: " in done.stderr
    assert "changed after it was built" in done.stderr
    assert planned_or_applied(world) == []


def test_an_unattested_zip_may_be_planned_but_never_applied(world):
    refused = run(world, "stage", "apply", "--allow-unattested")
    assert refused.returncode == 1
    assert "--allow-unattested is for plans only" in refused.stderr
    assert planned_or_applied(world) == []
    planned = run(world, "stage", "plan", "--allow-unattested")
    assert planned.returncode == 0, planned.stderr
    assert "PLAN ONLY" in planned.stderr
    assert planned_or_applied(world) == ["plan"]
    [plan] = [c for c in world.terraform_calls() if c["args"][0] == "plan"]
    assert "-lock=false" in plan["args"]  # a plan that is never applied takes no lock


def test_only_a_verified_zip_reaches_terraform_and_the_checks_come_first(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan")
    assert done.returncode == 0, done.stderr
    calls = [c["args"] for c in world.terraform_calls()]
    assert [c[0] for c in calls] == ["init", "output", "plan", "show", "show"]
    assert "-backend-config=key=pigeon/stage.tfstate" in calls[0]
    assert "-var-file=stage.tfvars" in calls[2]
    assert "-lock-timeout=10m" in calls[2]
    assert "provenance: pigeon.zip and its SBOM were built and attested" in done.stderr
    gh = world.gh_calls()
    assert len(gh) == 2
    assert all(c[:2] == ["attestation", "verify"] for c in gh)


def test_a_root_without_a_committed_lock_file_is_refused_with_how_to_make_one(world):
    world.attest_artifact(world.dist)
    (world.root(world.checkout_path) / ".terraform.lock.hcl").unlink()
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "terraform/environments/.terraform.lock.hcl is not committed" in done.stderr
    assert "terraform-lock workflow" in done.stderr
    assert world.terraform_calls() == []  # init needs the lock file: not even that


def test_init_reads_the_lock_file_without_changing_it(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan")
    assert done.returncode == 0, done.stderr
    init = world.terraform_calls()[0]["args"]
    assert "-lockfile=readonly" in init


def test_a_failing_gh_is_a_refusal_with_its_words(world):
    (world.bin / "gh").write_text(GH_FAILS)
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "HTTP 404: Not Found" in done.stderr
    assert planned_or_applied(world) == []


def test_output_reads_the_state_on_a_machine_that_never_planned(world):
    world.state_outputs("stage", {"secret_arn": "arn:aws:secretsmanager:us-west-2:1:secret:x"})
    done = run(world, "stage", "output", "-raw", "secret_arn")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "arn:aws:secretsmanager:us-west-2:1:secret:x"
    assert [c["args"][0] for c in world.terraform_calls()] == ["init", "output"]
