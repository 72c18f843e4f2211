"""Plan, then apply exactly that plan (issue 20, item 4): `deploy.sh ENV plan` saves the plan
and what it was made from; the apply job, on another runner with its own checkout, applies that
saved plan only when its checkout, its zip and the plan file are the ones the plan names, and
the account still gives the same decisions."""

from __future__ import annotations

import json
import shutil

import pytest

from pigeon_tools.build.package import base64_sha256
from support.deploy_world import commit_of, prepared


@pytest.fixture
def world(tmp_path, deploy_aws):
    world = prepared(tmp_path, deploy_aws)
    world.planner = world.checkout_path
    world.applier = world.checkout("apply-runner")
    world.settings(world.applier)
    world.attest_artifact(world.dist)
    world.extra_env["ARTIFACT_RUN_ID"] = "4242"
    return world


def saved_folder(world, checkout):
    return world.root(checkout) / ".plan" / "stage"


def hand_over(world):
    """What the workflow's artifact upload and download do between the two jobs."""
    target = saved_folder(world, world.applier)
    shutil.copytree(saved_folder(world, world.planner), target)
    return target


def calls_in(world, checkout):
    root = str(world.root(checkout))
    return [c["args"] for c in world.terraform_calls() if c["chdir"] == root]


def test_the_apply_job_applies_exactly_the_saved_plan(world, tmp_path):
    outputs = tmp_path / "github-output"
    done = world.deploy(world.planner, "stage", "plan", GITHUB_OUTPUT=str(outputs))
    assert done.returncode == 0, done.stderr
    folder = saved_folder(world, world.planner)
    meta = json.loads((folder / "metadata.json").read_text())
    dist = world.planner / "dist"
    assert meta["environment"] == "stage"
    assert meta["commit"] == commit_of(dist)
    assert meta["zip_sha256"] == base64_sha256(dist / "pigeon.zip")
    assert meta["attested"] is True
    assert meta["traffic_enabled"] is False
    assert meta["ci_run_id"] == "4242"
    assert "-backend-config=key=pigeon/stage.tfstate" in meta["backend"]
    assert "Plan: " in (folder / "plan.txt").read_text()
    # The plan job's output: the sha256 of the tfplan the reviewers approve.
    [approved] = [
        line.removeprefix("plan-sha256=")
        for line in outputs.read_text().splitlines()
        if line.startswith("plan-sha256=")
    ]
    assert approved == meta["plan_sha256"]

    hand_over(world)
    # The apply job's environment has the apply role, not the plan environment's state settings.
    applied = world.deploy(
        world.applier,
        "stage",
        "apply-saved",
        TF_STATE_BUCKET="",
        TF_STATE_REGION="",
        GITHUB_ACTIONS="true",
        APPROVED_PLAN_SHA256=approved,
    )
    assert applied.returncode == 0, applied.stderr
    calls = calls_in(world, world.applier)
    assert [c[0] for c in calls] == ["init", "output", "show", "show", "apply"]
    assert "-backend-config=bucket=state" in calls[0]
    assert calls[-1][-1] == ".plan/stage/tfplan"
    assert "provenance: pigeon.zip and its SBOM were built and attested" in applied.stderr


def test_the_apply_job_refuses_another_commit_another_zip_or_another_plan(world):
    assert world.deploy(world.planner, "stage", "plan").returncode == 0
    folder = hand_over(world)
    (folder / "tfplan").write_text(
        (folder / "tfplan").read_text().replace('"serial": 0', '"serial": 0 ')
    )
    zip_path = world.applier / "dist" / "pigeon.zip"
    zip_path.write_bytes(zip_path.read_bytes() + b"\0")
    (world.applier / "dist" / "pigeon.zip.sha256").write_text(base64_sha256(zip_path) + "\n")
    done = world.deploy(
        world.applier,
        "stage",
        "apply-saved",
        GITHUB_SHA="1" * 40,
        GITHUB_ACTIONS="true",
        APPROVED_PLAN_SHA256="0" * 64,
    )
    assert done.returncode == 1
    assert "saved-plan: tfplan is not the plan the metadata describes" in done.stderr
    assert f"the approved plan {'0' * 64}" in done.stderr
    assert (
        f"the plan was made at commit {commit_of(world.planner / 'dist')}, this is {'1' * 40}"
        in (done.stderr)
    )
    assert "the plan was made with zip" in done.stderr
    assert "provenance: pigeon.zip has no valid attestation" in done.stderr
    assert "apply" not in [c[0] for c in calls_in(world, world.applier)]


def test_a_plan_of_an_unattested_zip_is_never_applied(world):
    assert world.deploy(world.planner, "stage", "plan", "--allow-unattested").returncode == 0
    hand_over(world)
    done = world.deploy(world.applier, "stage", "apply-saved")
    assert done.returncode == 1
    assert "the plan is of an unattested zip: it is never applied" in done.stderr


def test_a_plan_made_before_the_secret_had_a_value_is_not_applied_after(world):
    secrets = world.aws("secretsmanager")
    arn = secrets.create_secret(Name="pigeon-stage-broker")["ARN"]
    world.state_outputs("stage", {"secret_arn": arn})
    assert world.deploy(world.planner, "stage", "plan").returncode == 0  # traffic off
    hand_over(world)
    secrets.put_secret_value(SecretId=arn, SecretString='{"url": "amqps://u:p@b:5671/%2F"}')
    done = world.deploy(world.applier, "stage", "apply-saved")
    assert done.returncode == 1
    assert "plan-inputs: the plan used traffic_enabled = false, the checks used true" in done.stderr


def test_a_plan_made_stale_by_another_apply_fails_as_terraform_says(world):
    assert world.deploy(world.planner, "stage", "plan").returncode == 0
    hand_over(world)
    world.state_outputs("stage", {"function_name": "pigeon-stage"})  # another apply, meanwhile
    done = world.deploy(world.applier, "stage", "apply-saved")
    assert done.returncode == 1
    assert "Error: Saved plan is stale" in done.stderr
    # Two runs waiting for approval: the one approved second is superseded, never applied.
    assert "it is superseded and never applied" in done.stderr
