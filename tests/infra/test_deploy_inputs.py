"""Nothing Terraform is given may depend on the machine or the checkout (issue 20, item 6):
deploy.sh run from two checkouts at different paths gives the recording terraform the very same
arguments, environment, var files and artifact bytes, so a plan from another runner shows no
change and uploads no code."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.deploy_world import World, commit_of, prepared


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


def inputs(world: World, checkout: Path, start: int) -> list[dict]:
    """What each terraform call of one deploy was given, its -chdir aside."""
    calls = world.terraform_calls()[start:]
    root = checkout / "terraform" / "environments"
    for call in calls:
        assert Path(call["chdir"]) == root
    return [{k: v for k, v in call.items() if k not in ("chdir", "cwd")} for call in calls]


def test_two_checkouts_give_terraform_identical_inputs(world):
    first = world.checkout("ci-runner-1/work/pigeon")
    second = world.checkout("home/someone/src/pigeon-clone")
    for checkout in (first, second):
        world.settings(checkout)
    world.attest_artifact(first / "dist")
    world.extra_env["GITHUB_SHA"] = commit_of(first / "dist")

    done = world.deploy(first, "stage", "plan")
    assert done.returncode == 0, done.stderr
    seen = len(world.terraform_calls())
    one = inputs(world, first, 0)
    done = world.deploy(second, "stage", "plan")
    assert done.returncode == 0, done.stderr
    two = inputs(world, second, seen)

    assert one == two
    [plan] = [c for c in one if c["args"][0] == "plan"]
    assert "-var=artifact_dir=.artifact/stage" in plan["args"]
    assert set(plan["files"]) == {
        "stage.tfvars",
        ".artifact/stage/pigeon.zip",
        ".artifact/stage/pigeon.zip.sha256",
        ".artifact/stage/pigeon.version.json",
    }
    for call in one:
        text = " ".join(call["args"]) + " ".join(call["env"].values())
        assert str(first) not in text
        assert str(world.base) not in text
