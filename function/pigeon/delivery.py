"""The ways an S3 notification reaches Pigeon, unwrapped to the same records.

- directly: ``{"Records": [{"eventSource": "aws:s3", …}]}``;
- SNS: ``{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "<S3 notification>"}}]}``;
- SQS: ``{"Records": [{"eventSource": "aws:sqs", "messageId": …, "body": …}]}``, each body an S3
  notification, an SNS envelope of one (``{"Type": "Notification", "Message": …}``), or an
  EventBridge event (a rule whose target is the queue);
- EventBridge: ``{"source": "aws.s3", "detail-type": "Object Created", "detail": {…}}``.

The path is chosen by what the event holds: an EventBridge envelope, else any record from SQS,
else any from SNS, else S3's own records. Keys are URL-encoded (``+`` for a space) on every
path; S3's ``s3:TestEvent`` is ignored. Each SQS message is a unit of its own
(``Unit.item_id``): Lambda can retry it alone. A message Pigeon cannot read is ``unreadable``:
it fails (its messageId in batchItemFailures), so that the queue's redrive policy moves it to
the dead-letter queue. An SQS record without a messageId cannot be named: ``unnamed`` counts
them, and the handler then fails the whole batch, the only way to keep them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
from pigeon.parsers import ANY_OBJECT_CREATED, event_counts

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

    @property
    def unreadable(self) -> bool:
        """Part of it is not what it claims to be: not an S3 notification, a malformed record."""
        return any(isinstance(result, Malformed) for result in self.results)


@dataclass(frozen=True)
class Delivery:
    source: str  # s3, sns, sqs, eventbridge; none for an event that is not a notification
    units: list[Unit]
    unnamed: int = 0  # SQS records without a messageId: the whole batch must fail

    @property
    def batch(self) -> bool:
        """SQS: failures are reported per message (batchItemFailures), not raised."""
        return self.source == "sqs"


def unwrap(event: Any, names: frozenset[str]) -> Delivery:
    """The records of any delivery path; NotAnS3Notification for anything else."""
    if _is_eventbridge(event):
        return Delivery("eventbridge", [Unit(None, alone(_eventbridge, event, names))])
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise NotAnS3Notification(f"not an S3 notification: {snippet(event)}")
    sources = {_source(record) for record in records}
    if "aws:sqs" in sources:
        units = [Unit(_item_id(r), alone(_body, r, names)) for r in records if _item_id(r)]
        return Delivery("sqs", units, unnamed=sum(1 for r in records if not _item_id(r)))
    if "aws:sns" in sources:
        return Delivery(
            "sns", [Unit(None, [r for rec in records for r in alone(_sns, rec, names)])]
        )
    return Delivery("s3", [Unit(None, [r for rec in records for r in alone(_s3, rec, names)])])


def alone(
    read: Callable[[Any, frozenset[str]], list[RecordResult]], part: Any, names: frozenset[str]
) -> list[RecordResult]:
    """One record (or SQS message) read on its own: whatever it does to the reader (JSON nested
    past the recursion limit, a key of megabytes, a type no one expected), it is Malformed
    alone, and the other records of the event are read and published."""
    try:
        return read(part, names)
    except Exception as error:  # one record's failure is not the event's
        return [Malformed(f"record could not be read ({type(error).__name__})", snippet(part))]


def _eventbridge(event: Any, names: frozenset[str]) -> list[RecordResult]:
    return [eventbridge_record(event, names)]


def _body(record: Any, names: frozenset[str]) -> list[RecordResult]:
    return _message(record.get("body"), names)


def _s3(record: Any, names: frozenset[str]) -> list[RecordResult]:
    return [parse_record(record, names)]


def _is_eventbridge(event: Any) -> bool:
    return isinstance(event, dict) and event.get("source") == "aws.s3" and "detail" in event


def _source(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    source = record.get("eventSource", record.get("EventSource"))
    return source if isinstance(source, str) else None


def eventbridge_record(event: dict[str, Any], names: frozenset[str]) -> RecordResult:
    detail = event["detail"]
    name, key = bucket_and_key(detail)
    if event.get("detail-type") != "Object Created":
        return Skipped(f"EventBridge detail-type {event.get('detail-type')!r}", key)
    if name is None or key is None:
        return Malformed("detail.bucket.name or detail.object.key missing", snippet(event))
    reason = detail.get("reason")
    if not isinstance(reason, str):
        return Malformed("detail.reason missing or not a string", snippet(event))
    # A reason S3 did not send before is not taken for a Put: only ObjectCreated:* counts it.
    if not event_counts(EVENTBRIDGE_REASONS.get(reason, ANY_OBJECT_CREATED), names):
        return Skipped(f"EventBridge reason {reason!r} is not in PIGEON_EVENT_NAMES", key)
    return S3Object(bucket=name, key=unquote_plus(key))


def _item_id(record: Any) -> str | None:
    """The SQS messageId of a record of an SQS event (Lambda names failures by it)."""
    if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs":
        return None
    item = record.get("messageId")
    return item if isinstance(item, str) and item else None


def _sns(record: Any, names: frozenset[str]) -> list[RecordResult]:
    if _source(record) != "aws:sns":
        return [Malformed("record of an SNS event is not from SNS", snippet(record))]
    sns = record.get("Sns")
    message = sns.get("Message") if isinstance(sns, dict) else None
    return _message(message, names, via="SNS")


def _message(body: Any, names: frozenset[str], via: str = "SQS") -> list[RecordResult]:
    """An S3 notification as text: straight from S3, in an SNS envelope, or from EventBridge."""
    try:
        document = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return [Malformed(f"{via} message is not JSON of an S3 notification", snippet(body))]
    if document.get("Type") == "Notification" and "Message" in document:
        return _message(document["Message"], names, via="SNS")
    if document.get("Event") == "s3:TestEvent":
        return [Skipped("s3:TestEvent (sent when a notification is configured)", routine=True)]
    if _is_eventbridge(document):
        return [eventbridge_record(document, names)]
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        return [Malformed(f"{via} message is not an S3 notification", snippet(body))]
    return [parse_record(record, names) for record in records]
