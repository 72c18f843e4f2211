"""The ways an S3 notification reaches Pigeon, unwrapped to the same records.

- directly: ``{"Records": [{"eventSource": "aws:s3", …}]}``;
- SNS: ``{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "<S3 notification>"}}]}``;
- SQS: ``{"Records": [{"eventSource": "aws:sqs", "messageId": …, "body": …}]}``, each body an S3
  notification, or an SNS envelope of one (``{"Type": "Notification", "Message": …}``);
- EventBridge: ``{"source": "aws.s3", "detail-type": "Object Created", "detail": {…}}``.

Keys are URL-encoded (``+`` for a space) on every path; S3's ``s3:TestEvent`` is ignored. Each
SQS message is a unit of its own (``Unit.item_id``): Lambda can retry it alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pigeon.events import (
    Malformed,
    NotAnS3Notification,
    RecordResult,
    S3Object,
    Skipped,
    bucket_and_key,
    parse_record,
    snippet,
)

# EventBridge says why an object was created; notifications say ObjectCreated:<name>.
EVENTBRIDGE_REASONS = {
    "PutObject": "ObjectCreated:Put",
    "POST Object": "ObjectCreated:Post",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
}


@dataclass(frozen=True)
class Unit:
    """What Lambda retries as one: the whole event, or one SQS message (item_id)."""

    item_id: str | None
    results: list[RecordResult]


@dataclass(frozen=True)
class Delivery:
    source: str  # s3, sns, sqs or eventbridge
    units: list[Unit]

    @property
    def batch(self) -> bool:
        """SQS: failures are reported per message (batchItemFailures), not raised."""
        return self.source == "sqs"


def unwrap(event: Any, names: frozenset[str]) -> Delivery:
    """The records of any delivery path; NotAnS3Notification for anything else."""
    if isinstance(event, dict) and event.get("source") == "aws.s3" and "detail" in event:
        return Delivery("eventbridge", [Unit(None, [eventbridge_record(event, names)])])
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise NotAnS3Notification(f"not an S3 notification: {snippet(event)}")
    first = records[0] if records and isinstance(records[0], dict) else {}
    if first.get("eventSource") == "aws:sqs":
        units = [Unit(_item_id(r), list(_message(r.get("body"), names))) for r in _dicts(records)]
        return Delivery("sqs", units + _malformed_units(records))
    if first.get("EventSource") == "aws:sns":
        results = [r for record in records for r in _sns(record, names)]
        return Delivery("sns", [Unit(None, results)])
    return Delivery("s3", [Unit(None, [parse_record(record, names) for record in records])])


def eventbridge_record(event: dict[str, Any], names: frozenset[str]) -> RecordResult:
    detail = event["detail"]
    if event.get("detail-type") != "Object Created":
        return Skipped(f"EventBridge detail-type {event.get('detail-type')!r}")
    name, key = bucket_and_key(detail)
    if name is None or key is None:
        return Malformed("detail.bucket.name or detail.object.key missing", snippet(event))
    event_name = EVENTBRIDGE_REASONS.get(str(detail.get("reason")), "ObjectCreated:Put")
    if event_name not in names:
        return Skipped(f"EventBridge reason {detail.get('reason')!r}")
    return S3Object(bucket=name, key=unquote_plus(key))


def _dicts(records: list[Any]) -> list[dict[str, Any]]:
    return [r for r in records if isinstance(r, dict)]


def _malformed_units(records: list[Any]) -> list[Unit]:
    return [
        Unit(None, [Malformed("SQS record is not an object", snippet(r))])
        for r in records
        if not isinstance(r, dict)
    ]


def _item_id(record: dict[str, Any]) -> str | None:
    item = record.get("messageId")
    return item if isinstance(item, str) else None


def _sns(record: Any, names: frozenset[str]) -> Iterable[RecordResult]:
    sns = record.get("Sns") if isinstance(record, dict) else None
    message = sns.get("Message") if isinstance(sns, dict) else None
    return _message(message, names, via="SNS")


def _message(body: Any, names: frozenset[str], via: str = "SQS") -> Iterable[RecordResult]:
    """An S3 notification as text: straight from S3, or in an SNS envelope."""
    try:
        document = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return [Malformed(f"{via} message is not JSON of an S3 notification", snippet(body))]
    if document.get("Type") == "Notification" and "Message" in document:
        return _message(document["Message"], names, via="SNS")
    if document.get("Event") == "s3:TestEvent":
        return [Skipped("s3:TestEvent (sent when a notification is configured)")]
    records = document.get("Records")
    if not isinstance(records, list):
        return [Malformed(f"{via} message is not an S3 notification", snippet(body))]
    return [parse_record(record, names) for record in records]
