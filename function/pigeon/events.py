"""S3 event notifications: which records are new objects, and their decoded keys. How the
records reach Pigeon (directly, SQS, SNS, EventBridge) is ``pigeon.delivery``'s job."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pigeon.parsers import event_counts

SNIPPET_LIMIT = 300


class NotAnS3Notification(ValueError):
    """The event has no Records list: it is not an S3 notification at all."""


@dataclass(frozen=True)
class S3Object:
    """A new object: its bucket and its decoded key."""

    bucket: str
    key: str


@dataclass(frozen=True)
class Skipped:
    """A well-formed record that Pigeon doesn't handle (other source or event name); `key`
    when it has one. `routine` is for what S3 sends on its own, such as its test event."""

    reason: str
    key: str | None = None
    routine: bool = False


@dataclass(frozen=True)
class Malformed:
    """A record that is not a valid S3 record; ``snippet`` is it, truncated, for the log."""

    reason: str
    snippet: str


RecordResult = S3Object | Skipped | Malformed


def snippet(value: Any, limit: int = SNIPPET_LIMIT) -> str:
    """A short, log-safe rendering of any JSON-ish value."""
    try:
        text = json.dumps(value, default=repr, ensure_ascii=True)
    except Exception:  # nested past the recursion limit, a repr that raises
        try:
            text = repr(value)[: limit + 1]
        except Exception:
            text = f"<{type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else text[:limit] + "…"


def parse_record(record: Any, event_names: frozenset[str]) -> RecordResult:
    if not isinstance(record, dict):
        return Malformed("record is not an object", snippet(record))
    source = record.get("eventSource")
    name = record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        return Malformed("eventSource or eventName missing or not a string", snippet(record))
    bucket_name, key = bucket_and_key(record.get("s3"))
    if source != "aws:s3":
        return Skipped(f"eventSource {source!r} is not aws:s3", _decoded(key))
    if not event_counts(name, event_names):
        return Skipped(f"eventName {name!r} is not in PIGEON_EVENT_NAMES", _decoded(key))
    if bucket_name is None or key is None:
        return Malformed("s3.bucket.name or s3.object.key missing or not a string", snippet(record))
    # S3 URL-encodes keys in notifications, with '+' for a space.
    return S3Object(bucket=bucket_name, key=unquote_plus(key))


def _decoded(key: str | None) -> str | None:
    return None if key is None else unquote_plus(key)


def bucket_and_key(container: Any) -> tuple[str | None, str | None]:
    """`bucket.name` and `object.key` of an S3 record's `s3`, or of an EventBridge `detail`
    (None for what is missing or not a string)."""
    bucket = container.get("bucket") if isinstance(container, dict) else None
    obj = container.get("object") if isinstance(container, dict) else None
    name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    return (name if isinstance(name, str) else None), (key if isinstance(key, str) else None)
