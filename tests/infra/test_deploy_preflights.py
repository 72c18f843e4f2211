"""deploy.sh's preflights against stand-ins that answer as the real things do: gh for the
attestations (a build of another ref is refused: --source-ref), moto for the account (the
broker secret's versions decide traffic_enabled), and a terraform that records what it was
given. Every refusal of a run is reported at once."""

from __future__ import annotations

import pytest

from pigeon_tools.moto_server import client
from support.aws_standins import Behaviour, serve
from support.deploy_world import commit_of, prepared


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


def run(world, *args, **env):
    return world.deploy(world.checkout_path, *args, **env)


def plan_call(world) -> list[str]:
    [plan] = [c["args"] for c in world.terraform_calls() if c["args"][0] == "plan"]
    return plan


def refused_checks(stderr: str) -> list[str]:
    return [
        line.split(":")[0].strip("- ").strip()
        for line in stderr.splitlines()
        if line.startswith("  - ")
    ]


def test_every_refusal_is_reported_at_once_and_nothing_is_planned(world):
    zip_path = world.dist / "pigeon.zip"
    zip_path.write_bytes(zip_path.read_bytes() + b"\0")  # no attestation, and a wrong sha256
    (world.root(world.checkout_path) / "stage.local.tfvars").write_text('queues = "x"\n')
    done = run(world, "stage", "apply", TF_VAR_bucket_name="elsewhere")
    assert done.returncode == 1
    assert "REFUSED (" in done.stderr
    assert "nothing planned or applied" in done.stderr
    checks = refused_checks(done.stderr)
    assert {"one-source", "provenance", "sha256", "build-checks"} <= set(checks), done.stderr
    assert "TF_VAR_bucket_name is set in the environment" in done.stderr
    assert "stage.local.tfvars exists" in done.stderr
    assert not [c for c in world.terraform_calls() if c["args"][0] in ("plan", "apply")]


def test_the_attestation_must_come_from_main_for_stage(world):
    world.attest_artifact(world.dist, ref="refs/heads/unreviewed")
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "expected SourceRepositoryRef to be refs/heads/main, got refs/heads/unreviewed" in (
        done.stderr
    )
    assert "only builds of refs/heads/main are deployed" in done.stderr
    verify = world.gh_calls()[0]
    assert verify[verify.index("--source-ref") + 1] == "refs/heads/main"
    assert verify[verify.index("--signer-workflow") + 1] == (
        "github.com/example/pigeon/.github/workflows/ci.yml"
    )
    assert not [c for c in world.terraform_calls() if c["args"][0] == "plan"]


def test_another_workflow_or_a_self_hosted_runner_is_refused(world):
    world.attest(world.dist / "pigeon.zip", workflow=".github/workflows/release.yml")
    world.attest(world.dist / "pigeon.cdx.json", runner="self-hosted")
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert done.stderr.count('verifying with issuer "sigstore.dev"') >= 2
    assert "pigeon.zip has no valid attestation" in done.stderr
    assert "pigeon.cdx.json has no valid attestation" in done.stderr


def test_prod_takes_main_or_the_release_tag_it_deploys_never_another_tag(world):
    world.settings(
        world.checkout_path, env="prod", alarm_actions=["arn:aws:sns:us-west-2:123456789012:page"]
    )
    world.aws("s3").create_bucket(
        Bucket="crashes-prod", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    world.attest_artifact(world.dist, ref="refs/tags/v1.2.0")
    world.stage_applied(commit_of(world.dist))
    released = run(world, "prod", "plan", GITHUB_REF="refs/tags/v1.2.0")
    assert released.returncode == 0, released.stderr
    other = run(world, "prod", "plan", GITHUB_REF="refs/tags/v1.3.0")
    assert other.returncode == 1
    assert (
        "expected SourceRepositoryRef to be refs/tags/v1.3.0, got refs/tags/v1.2.0" in other.stderr
    )
    stage = run(world, "stage", "plan", GITHUB_REF="refs/tags/v1.2.0")
    assert stage.returncode == 1  # stage runs main's builds only
    assert "--source-ref refs/tags" not in " ".join(" ".join(c) for c in world.gh_calls()[-2:])


def test_gh_not_signed_in_is_refused_with_how_to_sign_in(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan", GH_TOKEN=None)
    assert done.returncode == 1
    assert "gh auth login" in done.stderr
    assert "GH_TOKEN" in done.stderr


def test_first_deploy_plans_with_traffic_off(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan")
    assert done.returncode == 0, done.stderr
    assert "-var=traffic_enabled=false" in plan_call(world)
    assert "first deploy: no broker secret yet" in done.stderr


def test_traffic_starts_only_when_the_broker_secret_has_a_current_value(world):
    world.attest_artifact(world.dist)
    secrets = world.aws("secretsmanager")
    arn = secrets.create_secret(Name="pigeon-stage-broker")["ARN"]
    world.state_outputs("stage", {"secret_arn": arn})
    empty = run(world, "stage", "plan")
    assert empty.returncode == 0, empty.stderr
    assert "-var=traffic_enabled=false" in plan_call(world)
    assert "the broker secret has no value yet" in empty.stderr
    secrets.put_secret_value(SecretId=arn, SecretString='{"url": "amqps://u:p@broker:5671/%2F"}')
    (world.terraform_dir / "calls.jsonl").unlink()
    ready = run(world, "stage", "plan")
    assert ready.returncode == 0, ready.stderr
    assert "-var=traffic_enabled=true" in plan_call(world)


def test_a_secret_it_cannot_describe_is_refused_not_taken_as_empty(world, tmp_path):
    world.attest_artifact(world.dist)
    arn = world.aws("secretsmanager").create_secret(Name="pigeon-stage-broker")["ARN"]
    world.state_outputs("stage", {"secret_arn": arn})
    with serve(Behaviour(deny=True)) as denying:
        done = run(world, "stage", "plan", AWS_ENDPOINT_URL_SECRETS_MANAGER=denying)
    assert done.returncode == 1
    assert (
        "traffic-gate: cannot tell whether the broker secret has a value (AccessDeniedException)"
        in (done.stderr)
    )
    assert f"secretsmanager:DescribeSecret on {arn}" in done.stderr
    assert not [c for c in world.terraform_calls() if c["args"][0] == "plan"]


def test_credentials_of_another_account_are_refused_before_any_read(world):
    world.attest_artifact(world.dist)
    world.settings(world.checkout_path, account_id="210987654321")
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "these credentials are for account 123456789012" in done.stderr
    assert "stage.tfvars says 210987654321" in done.stderr
    assert "traffic-gate: not checked, it needs aws-account" in done.stderr


def test_a_missing_bucket_and_unreadable_account_settings_are_refused_together(world, deploy_aws):
    _, behaviour, _ = deploy_aws
    world.attest_artifact(world.dist)
    world.settings(world.checkout_path, bucket_name="no-such-bucket")
    behaviour.deny = True
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert (
        "cannot read the notification configuration of no-such-bucket (NoSuchBucket)" in done.stderr
    )
    assert "bucket_name in terraform/environments/stage.tfvars" in done.stderr
    assert "cannot read the account's Lambda concurrency (AccessDeniedException)" in done.stderr
    assert "grant lambda:GetAccountSettings" in done.stderr


def test_the_zip_of_another_commit_is_refused(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan", GITHUB_SHA="0" * 40)
    assert done.returncode == 1
    assert (
        f"the zip was built from commit {commit_of(world.dist)}, this checkout is {'0' * 40}"
        in (done.stderr)
    )


def test_only_target_and_replace_go_on_to_terraform(world):
    done = run(world, "stage", "plan", "-var=bucket_name=other")
    assert done.returncode == 2
    assert "only -target=… and -replace=… go on to terraform plan" in done.stderr
    assert world.terraform_calls() == []


# --- the bucket's region (21.3): S3 notifies only a function or queue of its own region -------


def bucket_in(world, region: str, name: str = "crashes-elsewhere") -> str:
    s3 = client("s3", world.moto, region=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)  # S3 takes no LocationConstraint there, and answers none
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return name


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "us-west-1"])
def test_a_bucket_in_another_region_is_refused_before_the_plan(world, region):
    world.attest_artifact(world.dist)
    world.settings(world.checkout_path, bucket_name=bucket_in(world, region))
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert (
        f"bucket-region: the bucket crashes-elsewhere is in {region}, and region in "
        "terraform/environments/stage.tfvars is us-west-2" in done.stderr
    )
    assert "S3 notifies only a function or queue of the bucket's own region" in done.stderr
    assert f'set region = "{region}" in terraform/environments/stage.tfvars' in done.stderr
    assert not [c for c in world.terraform_calls() if c["args"][0] == "plan"]


def test_a_bucket_in_the_functions_region_passes(world):
    world.attest_artifact(world.dist)
    done = run(world, "stage", "plan")
    assert done.returncode == 0, done.stderr
    assert "bucket-region" not in done.stderr


def test_a_missing_bucket_is_refused_once_not_again_for_its_region(world):
    world.attest_artifact(world.dist)
    world.settings(world.checkout_path, bucket_name="no-such-bucket")
    done = run(world, "stage", "plan")
    assert done.returncode == 1
    assert "bucket-region: not checked, it needs read-bucket-notification" in done.stderr
    assert "  - bucket-region" not in done.stderr


def test_the_region_check_is_the_deploys_not_a_static_terraform_one():
    """A plan-time data source reads the bucket with the function's provider, in the function's
    region, and needs its own permission: the deploy reads the bucket's region itself."""
    from pigeon_tools.terraform import hcl

    for module in hcl.all_modules():
        assert not module.data("aws_s3_bucket"), module.name
