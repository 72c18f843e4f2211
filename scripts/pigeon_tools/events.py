"""S3 event notifications exactly as S3 sends them to Lambda (event version 2.1), and the
crash ids and raw-crash keys the collector makes. Standard library only: the generate_event
command runs with any Python 3."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import quote_plus

RAW_CRASH_PREFIX = "v2/raw_crash/"
THROTTLE = {"accept": "0", "defer": "1"}
BUCKET = "crashstats-raw"
REGION = "us-west-2"


def new_crash_id(decision: str = "accept", when: datetime.date | None = None) -> str:
    """A crash id as the collector makes it: uuid4, throttle character, then YYMMDD."""
    day = when or datetime.datetime.now(datetime.UTC).date()
    return f"{uuid.uuid4()}"[:-7] + THROTTLE[decision] + day.strftime("%y%m%d")


def raw_crash_key(crash_id: str, prefix: str = RAW_CRASH_PREFIX) -> str:
    """<prefix><first 3 chars>/<20YYMMDD>/<crash id>, as the collector stores raw crashes."""
    return f"{prefix}{crash_id[:3]}/20{crash_id[-6:]}/{crash_id}"


def encode_key(key: str) -> str:
    """S3 URL-encodes keys in notifications: '+' for a space, %XX escapes, '/' kept."""
    return quote_plus(key, safe="/")


def record(
    key: str,
    bucket: str = BUCKET,
    event_name: str = "ObjectCreated:Put",
    region: str = REGION,
    size: int = 1024,
    when: datetime.datetime | None = None,
) -> dict[str, Any]:
    moment = when or datetime.datetime.now(datetime.UTC)
    digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": digest[:16].upper(),
            "x-amz-id-2": f"{digest}/{digest[:16]}=",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "pigeon-raw-crash",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKEXAMPLE"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": encode_key(key),
                "size": size,
                "eTag": digest,
                "sequencer": f"{int(moment.timestamp() * 1e6):018X}",
            },
        },
    }


def event(keys: list[str], **options: Any) -> dict[str, Any]:
    return {"Records": [record(key, **options) for key in keys]}


def for_crash_ids(crash_ids: list[str], **options: Any) -> dict[str, Any]:
    """One event whose records are the raw-crash keys of these crash ids."""
    return event([raw_crash_key(crash_id) for crash_id in crash_ids], **options)


# -- the other delivery paths: S3 -> SQS, S3 -> SNS (-> SQS), S3 -> EventBridge ------------------
ACCOUNT = "123456789012"


def s3_test_event(bucket: str = BUCKET) -> dict[str, Any]:
    """What S3 sends once when a notification is configured."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-30T12:00:00.000Z",
        "Bucket": bucket,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }


def sns_envelope(message: dict[str, Any], region: str = REGION) -> dict[str, Any]:
    """An SNS notification as SNS writes it (into an SQS body, or into Lambda's Sns field)."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:{region}:{ACCOUNT}:crashstats-raw-created",
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(message),
        "Timestamp": "2026-11-30T12:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-x.pem",
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe",
    }


def sns_event(message: dict[str, Any], region: str = REGION) -> dict[str, Any]:
    envelope = sns_envelope(message, region)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{envelope['TopicArn']}:{uuid.uuid4()}",
                "Sns": {**envelope, "MessageAttributes": {}},
            }
        ]
    }


def sqs_record(body: str, region: str = REGION) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "AQEB" + hashlib.sha256(body.encode()).hexdigest(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1796040000000",
            "SenderId": "AIDAJHIPRHEMV73VRJEBU",
            "ApproximateFirstReceiveTimestamp": "1796040000100",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:pigeon-raw-crashes",
        "awsRegion": region,
    }


def sqs_batch(messages: list[dict[str, Any]], via_sns: bool = False) -> dict[str, Any]:
    """An SQS batch, one message per S3 notification (in an SNS envelope when `via_sns` and
    raw message delivery is off)."""
    bodies = [json.dumps(sns_envelope(m) if via_sns else m) for m in messages]
    return {"Records": [sqs_record(body) for body in bodies]}


def eventbridge_event(
    key: str, bucket: str = BUCKET, reason: str = "PutObject", region: str = REGION
) -> dict[str, Any]:
    """S3's "Object Created" event as EventBridge delivers it; the key URL-encoded."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-30T12:00:00Z",
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": encode_key(key),
                "size": 1024,
                "etag": hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
                "sequencer": "006408CAD69598B05E",
            },
            "request-id": "57H08PA84AB1JZW0",
            "requester": ACCOUNT,
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        },
    }
