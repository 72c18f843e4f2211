"""S3 event notifications exactly as S3 sends them to Lambda (event version 2.1), and the
crash ids and raw-crash keys the collector makes. Standard library only: the generate_event
command runs with any Python 3."""

from __future__ import annotations

import datetime
import hashlib
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
