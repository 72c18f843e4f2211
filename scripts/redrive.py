#!/usr/bin/env python3
"""Redrive the on-failure queue: invoke the function again with each event Lambda gave up on.

    redrive.py --queue-url URL [--function pigeon] [--dry-run] [--max N] [--rate N]
    redrive.py --queue-url URL --endpoint-url http://127.0.0.1:9001   # the local runtime

The queue is the function's on-failure destination (terraform output failure_queue_url). A
message is deleted only after its event was invoked successfully; a failed one stays, and the
summary names it. --dry-run lists the crash ids that would be redriven, by error type. SQS is
reached through the usual AWS settings (AWS_REGION, AWS_ENDPOINT_URL_SQS, credentials).
"""

from __future__ import annotations

import argparse
import os
import sys

from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.redrive import Redrive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True, help="the on-failure queue")
    parser.add_argument("--function", default="pigeon", help="function name or ARN")
    parser.add_argument("--endpoint-url", help="Lambda endpoint (the local runtime's serve)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-west-2"))
    parser.add_argument("--dry-run", action="store_true", help="list, invoke nothing")
    parser.add_argument("--max", type=int, dest="most", help="redrive at most N events")
    parser.add_argument("--rate", type=float, default=0.0, help="invocations a second (0: any)")
    parser.add_argument("--prefix", default="v2/raw_crash/", help="raw-crash key prefix")
    parser.add_argument(
        "--visibility-timeout", type=int, default=300, help="seconds a message is held per try"
    )
    args = parser.parse_args()
    if args.most is not None and args.most < 1:
        parser.error("--max must be at least 1")
    if args.rate < 0:
        parser.error("--rate must not be negative")
    import boto3

    sqs = boto3.client("sqs", region_name=args.region)
    invoker = None
    if not args.dry_run:
        invoker = Invoker(args.function, args.endpoint_url, args.region, args.rate)
    redrive = Redrive(
        sqs, args.queue_url, invoker, args.prefix, visibility_timeout=args.visibility_timeout
    )
    try:
        summary = redrive.run(args.dry_run, args.most)
    except KeyboardInterrupt:
        print("redrive: interrupted: what was not redriven stays on the queue", file=sys.stderr)
        return 130
    for line in summary.lines(args.dry_run):
        print(f"redrive: {line}")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
