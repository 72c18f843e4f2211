#!/usr/bin/env python3
"""Print an S3 event notification exactly as S3 sends it to Lambda.

    generate_event.py --key v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313
    generate_event.py --new-crash-id accept --new-crash-id defer --key junk

Each --key, --crash-id and --new-crash-id adds one record, in order, to one event.
New crash ids are printed on stderr so that a script can look for them on a queue.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import uuid
from typing import Any
from urllib.parse import quote_plus

RAW_CRASH_PREFIX = "v2/raw_crash/"
THROTTLE = {"accept": "0", "defer": "1"}


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
    bucket: str = "crashstats-raw",
    event_name: str = "ObjectCreated:Put",
    region: str = "us-west-2",
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


class _AddKey(argparse.Action):
    """Keeps --key, --crash-id and --new-crash-id in the order given."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        items = getattr(namespace, "items", None) or []
        items.append((self.dest, value))
        namespace.items = items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", action=_AddKey, help="an object key (repeatable)")
    parser.add_argument("--crash-id", action=_AddKey, help="the raw-crash key of this crash id")
    parser.add_argument(
        "--new-crash-id",
        action=_AddKey,
        choices=sorted(THROTTLE),
        help="a fresh crash id with this throttle result",
    )
    parser.add_argument("--bucket", default="crashstats-raw")
    parser.add_argument("--event-name", default="ObjectCreated:Put")
    parser.add_argument("--region", default="us-west-2")
    parser.add_argument("--prefix", default=RAW_CRASH_PREFIX, help="raw-crash key prefix")
    parser.set_defaults(items=[])
    args = parser.parse_args(argv)
    if not args.items:
        parser.error("give at least one --key, --crash-id or --new-crash-id")
    keys = []
    for kind, value in args.items:
        if kind == "key":
            keys.append(value)
        elif kind == "crash_id":
            keys.append(raw_crash_key(value, args.prefix))
        else:
            crash_id = new_crash_id(value)
            print(f"{value} crash id: {crash_id}", file=sys.stderr)
            keys.append(raw_crash_key(crash_id, args.prefix))
    options = {"bucket": args.bucket, "event_name": args.event_name, "region": args.region}
    json.dump(event(keys, **options), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
