#!/usr/bin/env python3
"""Redrive the on-failure queue: invoke the function again with each event Lambda gave up on.

examples:
  redrive.py --env prod --dry-run                  # what would go, by error; invokes nothing
  redrive.py --env prod --rate 5                   # pigeon-prod, its queue pigeon-prod-on-failure
  redrive.py --function NAME --queue-url URL       # names from scripts/deploy.sh ENV output
  redrive.py --function pigeon --queue-url URL --endpoint-url http://127.0.0.1:9001
                                                   # the local runtime (local_runtime.py serve)

The queue is the function's on-failure destination (terraform output failure_queue_url; with
--env and no --queue-url, the queue pigeon-ENV-on-failure of the account). A message is
deleted only after its event was invoked successfully; a failed one stays, and the summary
names it (exit 1). Ctrl-C stops at once with the summary (exit 130): what was not redriven is
visible on the queue again, and the same command carries on. A message that is not a
destination record is never touched. A run invokes each event once and ends: a message
back during the run, or a new one holding an event it already sent, waits for the next run.

environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, …   the credentials, as for the aws CLI
  AWS_REGION, AWS_DEFAULT_REGION      the region (or --region)
  AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_LAMBDA   other endpoints (moto, the local runtime)

exit status: 0 done, 1 an event failed again or an AWS error, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import sys

from pigeon_tools import cli
from pigeon_tools.operate import environment
from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.redrive import Redrive

HINTS = {
    "Invoke": "--env or --function, and the region",
    "GetQueueAttributes": "--queue-url (scripts/deploy.sh ENV output -raw failure_queue_url)",
    "ReceiveMessage": "--queue-url (scripts/deploy.sh ENV output -raw failure_queue_url)",
}


def summary(redrive: Redrive, dry_run: bool) -> None:
    for line in redrive.summary.lines(dry_run):
        print(f"redrive: {line}", flush=True)


def main() -> int:
    parser = cli.parser(__doc__)
    environment.add_arguments(parser)
    parser.add_argument("--queue-url", help="the on-failure queue (default with --env: by name)")
    parser.add_argument("--endpoint-url", help="Lambda endpoint (the local runtime's serve)")
    parser.add_argument(
        "--region",
        help="AWS region (default: AWS_REGION, else boto3's: AWS_DEFAULT_REGION, the profile's)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list, invoke nothing")
    parser.add_argument("--max", type=int, dest="most", help="redrive at most N events")
    parser.add_argument("--rate", type=float, default=0.0, help="invocations a second, 0: no limit")
    parser.add_argument("--prefix", default="v2/raw_crash/", help="raw-crash key prefix")
    parser.add_argument(
        "--visibility-timeout", type=int, default=300, help="seconds a message is held per try"
    )
    args = parser.parse_args()
    args.region = environment.region(args.region)
    if args.most is not None and args.most < 1:
        parser.error("--max must be at least 1")
    if args.rate < 0:
        parser.error("--rate must not be negative")
    function = environment.function(args)
    if function is None and not args.dry_run:
        parser.error(environment.WHICH_FUNCTION)
    if args.queue_url is None and args.env is None:
        parser.error("which queue? give --queue-url URL, or --env stage|prod")
    import boto3

    sqs = boto3.client("sqs", region_name=args.region)
    queue_url = args.queue_url
    if queue_url is None:
        name = environment.failure_queue_name(args.env)
        try:
            queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise cli.Failure(
                f"no queue {name} in {sqs.meta.region_name}",
                "give --queue-url (scripts/deploy.sh ENV output -raw failure_queue_url), or "
                "check the region",
            ) from None
    invoker = None
    if function is not None and not args.dry_run:
        invoker = Invoker(function, args.endpoint_url, args.region, args.rate)
        invoker.check()
    redrive = Redrive(
        sqs, queue_url, invoker, args.prefix, visibility_timeout=args.visibility_timeout
    )
    interrupted = False
    try:
        redrive.run(args.dry_run, args.most)
    except KeyboardInterrupt:
        interrupted = True
    except Exception:
        if redrive.summary.touched:  # before an AWS error's line: what was done so far
            summary(redrive, args.dry_run)
        raise
    summary(redrive, args.dry_run)
    if interrupted:
        print("redrive: interrupted: what was not redriven is on the queue again; run the same "
              "command to carry on", file=sys.stderr)  # fmt: skip
        return cli.INTERRUPTED
    return cli.FAILURE if redrive.summary.failed else cli.OK


if __name__ == "__main__":
    cli.run(main, "redrive", HINTS)
