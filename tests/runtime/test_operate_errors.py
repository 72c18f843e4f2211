"""scripts/redrive.py and scripts/backfill.py as an on-call engineer meets their failures,
against moto's server: no credentials, credentials AWS rejects, a function, queue or bucket that
does not exist, AccessDenied (moto enforcing IAM for a user whose policy lacks the action).
Each ends as ONE line that names what failed and what to do, with exit 1; a usage error exits 2.
No traceback."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import requests

from pigeon_tools import events, moto_server
from support import commands, evidence

NO_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def tool(command: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = commands.developer_environment(AWS_REGION="us-west-2", **env)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        if name not in env:
            base.pop(name, None)
    done = commands.run(command, *args, env=base, timeout=300)
    evidence.seen(command, done.stdout, done.stderr)
    return done


def one_error_line(done: subprocess.CompletedProcess[str], tool_name: str) -> str:
    """The run failed with exit 1 and exactly one error line, no traceback."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"{tool_name}: error: "), done.stderr
    return errors[0]


def on(endpoint: str, **more: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, **moto_server.FAKE_CREDENTIALS, **more}


@pytest.fixture(scope="module")
def account(moto_endpoint):
    """A crash bucket and an on-failure queue holding one destination record; no function."""
    s3 = moto_server.client("s3", moto_endpoint)
    bucket = f"crashes-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    key = events.raw_crash_key(events.new_crash_id("accept"))
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    sqs = moto_server.client("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName=f"on-failure-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    record = {"requestPayload": events.event([key]), "responsePayload": {"errorType": "X"}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    return bucket, url, key


def test_without_credentials_each_tool_says_how_to_get_them(account):
    bucket, url, _ = account
    for command, args in (
        ("redrive.py", ("--env", "prod", "--queue-url", url)),
        ("backfill.py", ("--env", "prod", "--bucket", bucket, "--from", "2026-11-28")),
    ):
        line = one_error_line(tool(command, *args, **NO_CREDENTIALS), command[:-3])
        assert "no AWS credentials found" in line
        assert "AWS_PROFILE" in line


def test_a_missing_function_is_named_before_any_work(moto_endpoint, account):
    bucket, url, _ = account
    redriven = tool("redrive.py", "--env", "prod", "--queue-url", url, **on(moto_endpoint))
    line = one_error_line(redriven, "redrive")
    assert "not found: Invoke: Function not found: " in line
    assert "function:pigeon-prod" in line  # the name --env prod gives, in the account's ARN
    assert "check --env or --function" in line
    assert "redriven" not in redriven.stdout  # nothing was received: the check came first
    days = ("--from", "2026-11-28")
    filled = tool("backfill.py", "--env", "stage", "--bucket", bucket, *days, **on(moto_endpoint))
    line = one_error_line(filled, "backfill")
    assert "function:pigeon-stage" in line
    assert "listed" not in filled.stdout  # it stopped before listing 4,096 prefixes


def test_a_missing_queue_or_bucket_names_the_option_to_check(moto_endpoint):
    by_name = tool("redrive.py", "--env", "stage", "--dry-run", **on(moto_endpoint))
    line = one_error_line(by_name, "redrive")
    assert "no queue pigeon-stage-on-failure in us-west-2" in line
    assert "--queue-url" in line
    url = f"{moto_endpoint}/123456789012/no-such-queue"
    given = tool(
        "redrive.py", "--env", "prod", "--queue-url", url, "--dry-run", **on(moto_endpoint)
    )
    line = one_error_line(given, "redrive")
    assert "not found: GetQueueAttributes" in line
    assert "check --queue-url" in line
    args = ("--env", "prod", "--bucket", "no-such-bucket-here", "--from", "2026-11-28", "--dry-run")
    missing = tool("backfill.py", *args, **on(moto_endpoint))
    line = one_error_line(missing, "backfill")
    assert "not found: ListObjectsV2: The specified bucket does not exist" in line
    assert "check --bucket" in line


def test_usage_errors_exit_2_and_never_default_to_a_function_that_does_not_exist(account):
    bucket, url, _ = account
    for command, args in (
        ("redrive.py", ("--queue-url", url)),
        ("backfill.py", ("--bucket", bucket, "--from", "2026-11-28")),
    ):
        done = tool(command, *args, **moto_server.FAKE_CREDENTIALS)
        assert done.returncode == 2, done.stderr
        assert "which function? give --env stage|prod, or --function NAME" in done.stderr
    done = tool("redrive.py", "--env", "qa", "--dry-run")
    assert done.returncode == 2
    assert "invalid choice: 'qa'" in done.stderr


@pytest.fixture
def enforced_iam(moto_endpoint):
    """moto enforcing IAM, and access keys of users whose policy allows some actions only.
    moto's enforcement (and its account) is the whole process's: it is switched off after."""
    iam = moto_server.client("iam", moto_endpoint)
    bucket = f"crashes-{uuid.uuid4().hex[:8]}"
    location = {"LocationConstraint": "us-west-2"}
    moto_server.client("s3", moto_endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration=location
    )
    sqs = moto_server.client("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName=f"on-failure-{uuid.uuid4().hex[:6]}")["QueueUrl"]

    def user(*allowed: str) -> dict[str, str]:
        name = f"oncall-{uuid.uuid4().hex[:6]}"
        iam.create_user(UserName=name)
        statement = {"Effect": "Allow", "Action": list(allowed), "Resource": "*"}
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        iam.put_user_policy(UserName=name, PolicyName="oncall", PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }

    try:
        yield moto_endpoint, bucket, url, user
    finally:
        requests.post(f"{moto_endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)


def enforce(endpoint: str) -> None:
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()


def test_access_denied_names_the_call_and_the_permission_it_needs(enforced_iam):
    endpoint, bucket, url, user = enforced_iam
    lambda_only, s3_only = user("lambda:*"), user("s3:*", "lambda:*")
    enforce(endpoint)
    args = ("--env", "prod", "--bucket", bucket, "--from", "2026-11-28", "--dry-run")
    denied = tool("backfill.py", *args, AWS_ENDPOINT_URL=endpoint, **lambda_only)
    line = one_error_line(denied, "backfill")
    assert "access denied: ListObjectsV2 needs s3:ListBucket" in line
    redriven = tool(
        "redrive.py", "--env", "prod", "--queue-url", url, "--dry-run",
        AWS_ENDPOINT_URL=endpoint, **s3_only,
    )  # fmt: skip
    line = one_error_line(redriven, "redrive")
    assert "access denied: GetQueueAttributes needs sqs:GetQueueAttributes" in line
    assert "is not authorized to perform: sqs:GetQueueAttributes" in line  # AWS's own words
    assert "<" not in line  # one line, not the XML body


def test_credentials_aws_does_not_know_are_called_rejected(enforced_iam):
    endpoint, _, url, _ = enforced_iam
    enforce(endpoint)
    unknown = {"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00", "AWS_SECRET_ACCESS_KEY": "x" * 40}
    done = tool(
        "redrive.py", "--env", "prod", "--queue-url", url, "--dry-run",
        AWS_ENDPOINT_URL=endpoint, **unknown,
    )  # fmt: skip
    line = one_error_line(done, "redrive")
    assert "AWS rejected the credentials calling GetQueueAttributes: InvalidClientTokenId" in line
