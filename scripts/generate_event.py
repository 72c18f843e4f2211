#!/usr/bin/env python3
"""Print an S3 event notification exactly as S3 sends it to Lambda.

examples:
  generate_event.py --key v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313
  generate_event.py --new-crash-id accept --new-crash-id defer --key junk
  generate_event.py --new-crash-id accept | scripts/invoke.sh

Each --key, --crash-id and --new-crash-id adds one record, in order, to one event.
New crash ids are printed on stderr so that a script can look for them on a queue.

exit status: 0 done, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pigeon_tools import cli
from pigeon_tools.events import (
    RAW_CRASH_PREFIX,
    THROTTLE,
    event,
    eventbridge_event,
    new_crash_id,
    raw_crash_key,
    sns_event,
    sqs_batch,
)


class _AddKey(argparse.Action):
    """Keeps --key, --crash-id and --new-crash-id in the order given."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        items = getattr(namespace, "items", None) or []
        items.append((self.dest, value))
        namespace.items = items


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--key", action=_AddKey, help="an object key (repeatable)")
    parser.add_argument("--crash-id", action=_AddKey, help="the raw-crash key of this crash id")
    parser.add_argument(
        "--new-crash-id",
        action=_AddKey,
        choices=sorted(THROTTLE),
        help="a fresh crash id with this throttle result",
    )
    parser.add_argument("--bucket", default="crashstats-raw", help="the bucket of the records")
    parser.add_argument("--event-name", default="ObjectCreated:Put", help="S3's eventName")
    parser.add_argument("--region", default="us-west-2", help="the records' awsRegion")
    parser.add_argument("--prefix", default=RAW_CRASH_PREFIX, help="raw-crash key prefix")
    parser.add_argument(
        "--via",
        choices=("s3", "sqs", "sqs+sns", "sns", "eventbridge"),
        default="s3",
        help="the delivery path: S3 directly, an SQS batch of one message (with an "
        "SNS envelope: sqs+sns), SNS, or EventBridge (one event per key)",
    )
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
    notification = event(keys, **options)
    delivered = {
        "s3": lambda: notification,
        "sqs": lambda: sqs_batch([notification]),
        "sqs+sns": lambda: sqs_batch([notification], via_sns=True),
        "sns": lambda: sns_event(notification),
    }
    if args.via == "eventbridge":
        if len(keys) != 1:
            parser.error("--via eventbridge takes one key: EventBridge sends one event per object")
        output = eventbridge_event(keys[0], bucket=args.bucket, region=args.region)
    else:
        output = delivered[args.via]()
    json.dump(output, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    cli.run(main, "generate_event")
