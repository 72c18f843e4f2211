#!/usr/bin/env python3
"""Backfill a date range: publish the raw crashes of those days from the bucket, through the
function (a day of crashes that never produced an event: a deleted trigger, a deploy gap).

    backfill.py --bucket B --from 2026-11-28 [--to 2026-11-29] --dry-run
    backfill.py --bucket B --from 2026-11-28 [--to 2026-11-29] [--batch 100] [--rate N]
    backfill.py … --endpoint-url http://127.0.0.1:9001      # the local runtime's serve

Keys are `<prefix><3 hex>/<YYYYMMDD>/<crash id>`: 4,096 entropy prefixes, listed in parallel
(--workers). They go to the function as S3-shaped events of --batch records, so its one
decision path (accept, defer, throttle, queues) applies. --dry-run counts accept, defer and
invalid per day and invokes nothing. A checkpoint file (--checkpoint, default under
.cache/backfill/) records the last batch the function took: run the same command again to
resume after a stop (Ctrl-C stops after the current batch). S3 is reached through the usual AWS
settings (AWS_REGION, AWS_ENDPOINT_URL_S3, credentials).
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pigeon_tools.operate.backfill import Backfill, BackfillError, Checkpoint
from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.listing import DateRange, Lister
from pigeon_tools.paths import CACHE


def day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--from", dest="first", type=day, required=True, help="first day")
    parser.add_argument("--to", dest="last", type=day, help="last day (default: --from)")
    parser.add_argument("--prefix", default="v2/raw_crash/", help="raw-crash key prefix")
    parser.add_argument("--function", default="pigeon", help="function name or ARN")
    parser.add_argument("--endpoint-url", help="Lambda endpoint (the local runtime's serve)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-west-2"))
    parser.add_argument("--batch", type=int, default=100, help="records per event (1-1000)")
    parser.add_argument("--workers", type=int, default=16, help="prefixes listed at once")
    parser.add_argument("--rate", type=float, default=0.0, help="invocations a second (0: any)")
    parser.add_argument("--dry-run", action="store_true", help="count per day, invoke nothing")
    parser.add_argument("--checkpoint", type=Path, help="the checkpoint file")
    args = parser.parse_args()
    args.last = args.last or args.first
    if args.last < args.first:
        parser.error("--to is before --from")
    if not 1 <= args.batch <= 1000:
        parser.error("--batch must be from 1 to 1000 (an event of 1000 records is about 1 MB)")
    if not 1 <= args.workers <= 128:
        parser.error("--workers must be from 1 to 128")
    if args.rate < 0:
        parser.error("--rate must not be negative")
    if args.checkpoint is None:
        name = f"{args.bucket}_{args.first}_{args.last}.json"
        args.checkpoint = CACHE / "backfill" / name
    return args


def main() -> int:
    args = arguments()
    import boto3

    identity = {"bucket": args.bucket, "prefix": args.prefix}
    identity.update({"from": str(args.first), "to": str(args.last)})
    try:
        checkpoint = Checkpoint.open(None if args.dry_run else args.checkpoint, identity)
    except BackfillError as error:
        print(f"backfill: {error}", file=sys.stderr)
        return 2
    if checkpoint.complete:
        print(f"backfill: already complete ({args.checkpoint}); remove it to run again")
        return 0
    s3 = boto3.client("s3", region_name=args.region)
    lister = Lister(s3, args.bucket, args.prefix, DateRange(args.first, args.last), args.workers)
    invoker = (
        None if args.dry_run else Invoker(args.function, args.endpoint_url, args.region, args.rate)
    )
    backfill = Backfill(lister, invoker, checkpoint, args.batch)

    def stop(*_: Any) -> None:
        if backfill.stop_requested:
            raise KeyboardInterrupt
        backfill.stop_requested = True
        print(
            "backfill: stopping after the current batch (Ctrl-C again to stop now)", file=sys.stderr
        )

    signal.signal(signal.SIGINT, stop)
    try:
        summary = backfill.run(args.dry_run)
    except BackfillError as error:
        print(f"backfill: {error}", file=sys.stderr)
        return 1
    for line in summary.lines(args.dry_run):
        print(f"backfill: {line}")
    if summary.interrupted:
        print(f"backfill: stopped; run the same command again to resume ({args.checkpoint})")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
