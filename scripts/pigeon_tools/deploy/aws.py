"""What deploy.sh reads from AWS before a plan, with boto3 and the deploy's own credentials.

Every read goes to the region of the environment's settings (not AWS_REGION), and a failed read
is a refusal that names the permission, never a guess: a check that cannot tell does not pass.
AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) point the reads elsewhere, as boto3 does:
the tests use moto on loopback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

# The error codes that mean the caller may not do it.
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}


class ReadFailed(Exception):
    """A read AWS refused or could not answer; `code` is AWS's error code."""

    def __init__(self, action: str, code: str, message: str) -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.action = action
        self.code = code
        self.message = message

    @property
    def denied(self) -> bool:
        return self.code in DENIED


def client(service: str, region: str) -> Any:
    return boto3.session.Session().client(service, region_name=region)  # type: ignore[call-overload]


def call(action: str, method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise ReadFailed(
            action, str(details.get("Code", "Error")), str(details.get("Message", error))
        ) from error
    except NoCredentialsError as error:
        raise ReadFailed(action, "NoCredentials", "no AWS credentials found") from error
    except BotoCoreError as error:
        raise ReadFailed(action, type(error).__name__, str(error)) from error


def caller_account(region: str) -> str:
    sts = client("sts", region)
    return str(call("sts:GetCallerIdentity", sts.get_caller_identity)["Account"])


@dataclass(frozen=True)
class SecretState:
    exists: bool
    current: bool  # a version is staged AWSCURRENT
    deleted: bool = False


def secret_state(arn: str) -> SecretState:
    """DescribeSecret: whether a version is staged AWSCURRENT. Never reads the value."""
    region = arn.split(":")[3]
    secrets = client("secretsmanager", region)
    try:
        described = call("secretsmanager:DescribeSecret", secrets.describe_secret, SecretId=arn)
    except ReadFailed as failed:
        if failed.code == "ResourceNotFoundException":
            return SecretState(exists=False, current=False)
        raise
    stages: Mapping[str, list[str]] = described.get("VersionIdsToStages") or {}
    current = any("AWSCURRENT" in labels for labels in stages.values())
    return SecretState(exists=True, current=current, deleted="DeletedDate" in described)


def bucket_notification(bucket: str, account: str, region: str) -> dict[str, Any]:
    s3 = client("s3", region)
    answer = call(
        "s3:GetBucketNotificationConfiguration",
        s3.get_bucket_notification_configuration,
        Bucket=bucket,
        ExpectedBucketOwner=account,
    )
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def bucket_region(bucket: str, account: str, region: str) -> str:
    """GetBucketLocation: the bucket's region. S3 answers no LocationConstraint for us-east-1,
    and EU for eu-west-1 buckets made with that older name."""
    s3 = client("s3", region)
    answer = call(
        "s3:GetBucketLocation",
        s3.get_bucket_location,
        Bucket=bucket,
        ExpectedBucketOwner=account,
    )
    location = answer.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


def account_settings(region: str) -> dict[str, Any]:
    functions = client("lambda", region)
    answer = call("lambda:GetAccountSettings", functions.get_account_settings)
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def queue_counts(url: str, region: str) -> dict[str, int]:
    """A queue's approximate message counts: visible, in flight, delayed."""
    sqs = client("sqs", region)
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    answer = call(
        "sqs:GetQueueAttributes", sqs.get_queue_attributes, QueueUrl=url, AttributeNames=names
    )
    return {name: int(answer.get("Attributes", {}).get(name, 0)) for name in names}
