"""docs/deploy.md's first deploy works as written (issue 20 "done when", issue 21.1): its
commands, run in order by bash in a fresh clone, against gh, terraform and aws stand-ins and
moto's account, reach a working state: the broker secret has a value, and the bucket notifies
Pigeon, which it did not before the secret had one. And deploy.sh's section lists every check
it declares, as declared."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from pigeon_tools.build.package import base64_sha256
from pigeon_tools.deploy.checks import PLAN_CHECKS, PREFLIGHTS
from pigeon_tools.paths import DIST, ROOT
from support.deploy_world import ARTIFACT, REPOSITORY, ci_jobs, ci_run_record, prepared

DEPLOY_MD = ROOT / "docs" / "deploy.md"
BUCKET = "crashes-stage"


def section(title: str) -> str:
    text = DEPLOY_MD.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def documented_commands() -> list[str]:
    """The ```sh blocks of "First deploy", in order, as a reader would paste them."""
    blocks = re.findall(
        r"^( *)```sh\n(.*?)^\1```", section("First deploy"), re.MULTILINE | re.DOTALL
    )
    return [textwrap.dedent(body) for _, body in blocks]


def ci_artifact(folder: Path, commit: str) -> Path:
    """What CI's build job uploads for `commit`: the zip, its sha256, SBOM and version."""
    folder.mkdir(parents=True)
    version = json.loads((DIST / "pigeon.version.json").read_text())
    version.update(commit=commit, build="ci")
    version_bytes = (json.dumps(version, indent=2, sort_keys=True) + "\n").encode()
    with (
        zipfile.ZipFile(DIST / "pigeon.zip") as source,
        zipfile.ZipFile(folder / "pigeon.zip", "w") as target,
    ):
        for info in source.infolist():
            data = version_bytes if info.filename == "version.json" else source.read(info)
            target.writestr(info, data)
    (folder / "pigeon.version.json").write_bytes(version_bytes)
    (folder / "pigeon.zip.sha256").write_text(base64_sha256(folder / "pigeon.zip") + "\n")
    (folder / "pigeon.cdx.json").write_bytes((DIST / "pigeon.cdx.json").read_bytes())
    return folder


def git(checkout: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "o",
        "GIT_AUTHOR_EMAIL": "o@example.com",
        "GIT_COMMITTER_NAME": "o",
        "GIT_COMMITTER_EMAIL": "o@example.com",
        "HOME": str(checkout),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(checkout), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


def test_the_documented_first_deploy_reaches_a_working_state(world):
    checkout = world.checkout("home/operator/pigeon")
    world.settings(checkout)  # step 1: committed settings
    for name in ARTIFACT:
        (checkout / "dist" / name).unlink()
    git(checkout, "init", "-q")
    git(checkout, "add", "-A")
    git(checkout, "commit", "-qm", "the commit CI built")
    commit = git(checkout, "rev-parse", "HEAD")

    # GitHub: CI's push run on main for this commit, as on a new repository: every check passed,
    # its deploy-stage failed (stage's set-up is not complete), so the run failed. And a newer
    # pull-request run of the commit.
    artifact = ci_artifact(world.gh_dir / "artifacts" / "777" / "pigeon-x86_64", commit)
    world.attest_artifact(artifact)
    runs = [
        ci_run_record(
            777, commit, "2026-01-01T10:00:00Z", conclusion="failure", jobs=ci_jobs(stage="failure")
        ),
        ci_run_record(778, commit, "2026-01-01T11:00:00Z", event="pull_request", headBranch="f"),
    ]
    (world.gh_dir / "runs.json").write_text(json.dumps(runs))

    commands = documented_commands()
    assert len(commands) == 5, commands
    script = "set -euo pipefail\n" + "\n".join(commands).replace("your-org/pigeon", REPOSITORY)
    env = world.environment(FAKE_TERRAFORM_MODEL="support.first_deploy_model:Root")
    # An operator's shell: no CI variables; the state backend from backend.hcl (step 2).
    for unset in ("TF_STATE_BUCKET", "TF_STATE_REGION", "PIGEONTOOLS_REPOSITORY", "GITHUB_SHA"):
        env.pop(unset)
    done = subprocess.run(
        ["/bin/bash", "-c", script],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    gates = re.findall(r"traffic gate: traffic_enabled=(\w+)", done.stderr)
    assert gates == ["false", "true"]
    assert [c["args"][0] for c in world.terraform_calls()].count("apply") == 2
    notification = world.aws("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    [entry] = notification["LambdaFunctionConfigurations"]
    assert entry["LambdaFunctionArn"].endswith(":function:pigeon-stage")
    assert entry["Events"] == ["s3:ObjectCreated:Put"]
    [secret] = world.aws("secretsmanager").list_secrets()["SecretList"]
    assert any("AWSCURRENT" in s for s in secret["SecretVersionsToStages"].values())


def test_the_first_apply_leaves_the_bucket_alone_until_the_secret_has_a_value(world):
    checkout = world.checkout_path
    world.attest_artifact(world.dist)
    env = {"FAKE_TERRAFORM_MODEL": "support.first_deploy_model:Root"}
    first = world.deploy(checkout, "stage", "apply", **env)
    assert first.returncode == 0, first.stderr
    assert "LambdaFunctionConfigurations" not in world.aws(
        "s3"
    ).get_bucket_notification_configuration(Bucket=BUCKET)
    again = world.deploy(checkout, "stage", "apply", **env)  # the secret still has no value
    assert again.returncode == 0, again.stderr
    assert "LambdaFunctionConfigurations" not in world.aws(
        "s3"
    ).get_bucket_notification_configuration(Bucket=BUCKET)


def test_deploy_sh_s_section_lists_every_check_as_declared():
    text = section("deploy.sh: what it checks and refuses")
    listed = re.findall(r"^- `([a-z0-9-]+)`: (.+)$", text, re.MULTILINE)
    assert listed == [(c.name, c.summary) for c in (*PREFLIGHTS, *PLAN_CHECKS)]
    table = section("First deploy")
    for check in (*PREFLIGHTS, *PLAN_CHECKS):
        assert f"| `{check.name}` |" in table, f"no row for {check.name} in When deploy.sh refuses"
