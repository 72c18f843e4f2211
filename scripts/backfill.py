#!/usr/bin/env python3
"""Backfill a date range: publish the raw crashes of those days from the bucket, through the
function (a day of crashes that never produced an event: a deleted trigger, a deploy gap).

examples:
  backfill.py --env prod --from 2026-11-28 --to 2026-11-29 --dry-run   # count; invoke nothing
  backfill.py --env prod --from 2026-11-28 --to 2026-11-29 --rate 10   # pigeon-prod
  backfill.py --bucket B --function NAME --from 2026-11-28             # one day, names given
  backfill.py --env prod --print-bucket                                # the bucket of --env
  backfill.py --bucket B --function pigeon --from 2026-11-28 --endpoint-url http://127.0.0.1:9001
                                                        # the local runtime's serve

Keys are `<prefix><3 hex>/<YYYYMMDD>/<crash id>`: 4,096 entropy prefixes, listed in parallel
(--workers). They go to the function as S3-shaped events of --batch records, so its one
decision path (accept, defer, throttle, queues) applies. --dry-run counts accept, defer and
invalid per day and invokes nothing. With --env and no --bucket, the bucket is bucket_name of
terraform/environments/ENV.tfvars.

checkpoint: .cache/backfill/BUCKET_FROM_TO.json (or --checkpoint) records each batch the
function took. Ctrl-C stops after the current batch, Ctrl-C again at once (exit 130, with the
summary); after a stop or a failure run the same command again: it resumes after the last
batch taken. A batch in flight at the second Ctrl-C may be sent again.

environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, …   the credentials, as for the aws CLI
  AWS_REGION, AWS_DEFAULT_REGION      the region (or --region)
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA    other endpoints (moto, the local runtime)

exit status: 0 done (or already complete), 1 the function or AWS failed, 2 usage,
130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import re
import signal
from pathlib import Path
from typing import Any

from pigeon_tools import cli
from pigeon_tools.operate import environment
from pigeon_tools.operate.backfill import Backfill, BackfillError, Checkpoint
from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.listing import DateRange, Lister
from pigeon_tools.paths import CACHE

HINTS = {
    "Invoke": "--env or --function, and the region",
    "ListObjectsV2": "--bucket (or bucket_name in terraform/environments/ENV.tfvars), the region",
}


def day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def arguments() -> argparse.Namespace:
    parser = cli.parser(__doc__)
    environment.add_arguments(parser)
    parser.add_argument(
        "--bucket", help="the crash bucket (default with --env: bucket_name of its tfvars)"
    )
    parser.add_argument("--from", dest="first", type=day, help="first day (required)")
    parser.add_argument("--to", dest="last", type=day, help="last day (default: --from)")
    parser.add_argument("--prefix", default="v2/raw_crash/", help="raw-crash key prefix")
    parser.add_argument("--endpoint-url", help="Lambda endpoint (the local runtime's serve)")
    parser.add_argument(
        "--region",
        help="AWS region (default: AWS_REGION, else boto3's: AWS_DEFAULT_REGION, the profile's)",
    )
    parser.add_argument("--batch", type=int, default=100, help="records per event (1-1000)")
    parser.add_argument("--workers", type=int, default=16, help="prefixes listed at once")
    parser.add_argument("--rate", type=float, default=0.0, help="invocations a second, 0: no limit")
    parser.add_argument("--dry-run", action="store_true", help="count per day, invoke nothing")
    parser.add_argument("--checkpoint", type=Path, help="the checkpoint file (default: above)")
    parser.add_argument(
        "--print-bucket", action="store_true", help="print the bucket (of --env) and exit"
    )
    args = parser.parse_args()
    args.region = environment.region(args.region)
    if args.bucket is None and args.env is not None:
        args.bucket = environment.setting(args.env, "bucket_name")
        if not args.bucket:
            tfvars = environment.terraform_root() / f"{args.env}.tfvars"
            parser.error(f"{tfvars} sets no bucket_name: give --bucket NAME")
    if args.bucket is None:
        parser.error("which bucket? give --bucket NAME, or --env stage|prod")
    if args.print_bucket:
        return args
    if args.first is None:
        parser.error("the following arguments are required: --from")
    args.last = args.last or args.first
    if args.last < args.first:
        parser.error("--to is before --from")
    if not 1 <= args.batch <= 1000:
        parser.error("--batch must be from 1 to 1000 (an event of 1000 records is about 1 MB)")
    if not 1 <= args.workers <= 128:
        parser.error("--workers must be from 1 to 128")
    if args.rate < 0:
        parser.error("--rate must not be negative")
    args.function_name = environment.function(args)
    if args.function_name is None and not args.dry_run:
        parser.error(environment.WHICH_FUNCTION)
    if args.checkpoint is None:
        # The function is part of the name (and of the identity): a rehearsal against stage
        # or the local runtime never marks prod's range complete.
        target = re.sub(
            r"[^A-Za-z0-9.-]+", "-", f"{args.function_name}@{args.endpoint_url or args.region}"
        )
        name = f"{args.bucket}_{args.first}_{args.last}_{target}.json"
        args.checkpoint = CACHE / "backfill" / name
    return args


def main() -> int:
    args = arguments()
    if args.print_bucket:
        print(args.bucket)
        return cli.OK
    import boto3

    identity = {"bucket": args.bucket, "prefix": args.prefix}
    identity.update({"from": str(args.first), "to": str(args.last)})
    # Which function took the batches: a checkpoint of a rehearsal (stage, the local runtime)
    # is not one of prod's.
    identity.update(
        {
            "function": str(args.function_name),
            "endpoint": str(args.endpoint_url or ""),
            "region": str(args.region or ""),
        }
    )
    try:
        checkpoint = Checkpoint.open(None if args.dry_run else args.checkpoint, identity)
    except BackfillError as error:
        todo = "give another --checkpoint, or remove that file"
        raise cli.Failure(str(error), todo, cli.USAGE) from None
    if checkpoint.complete:
        print(f"backfill: already complete ({args.checkpoint}); remove it to run again")
        return cli.OK
    s3 = boto3.client("s3", region_name=args.region)
    lister = Lister(s3, args.bucket, args.prefix, DateRange(args.first, args.last), args.workers)
    invoker = None
    if not args.dry_run:
        invoker = Invoker(args.function_name, args.endpoint_url, args.region, args.rate)
        invoker.check()
    backfill = Backfill(lister, invoker, checkpoint, args.batch)

    def stop(*_: Any) -> None:
        if backfill.stop_requested:
            raise KeyboardInterrupt
        backfill.stop_requested = True
        cli.say("backfill", "stopping after the current batch (Ctrl-C again to stop now)")

    signal.signal(signal.SIGINT, stop)
    try:
        summary = backfill.run(args.dry_run)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: a Ctrl-C now would cut the summary
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        report(backfill, args)
        print(
            "backfill: stopped now; every batch the function took is in the checkpoint (the one "
            f"in flight may be sent again): run the same command to resume ({args.checkpoint})"
        )
        return cli.INTERRUPTED
    except BackfillError as error:
        report(backfill, args)
        raise cli.Failure(str(error)) from None
    except Exception:
        if backfill.summary.listed:
            report(backfill, args)
        raise
    report(backfill, args)
    if summary.interrupted:
        print(f"backfill: stopped; run the same command again to resume ({args.checkpoint})")
        return cli.INTERRUPTED
    return cli.OK


def report(backfill: Backfill, args: argparse.Namespace) -> None:
    for line in backfill.summary.lines(args.dry_run):
        print(f"backfill: {line}", flush=True)


if __name__ == "__main__":
    cli.run(main, "backfill", HINTS)
