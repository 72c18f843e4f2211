#!/usr/bin/env python3
"""Run the built function in a real Lambda runtime: the local runtime (no Docker), or the Lambda
runtime image with a Docker engine.

examples:
  local_runtime.py invoke [options] < event.json     one event; result on stdout, exit 1 on error
  local_runtime.py invoke --snap-start N < event.json
                                                     restore mode: Init once (SnapStart), the
                                                     event once in each of N restored environments
  local_runtime.py serve --port 9001 [options]       the Lambda Invoke API, scaled as Lambda

Locally the function runs as in Lambda's python3.13 runtime: `python3.13 -m awslambdaric
HANDLER` (Amazon's runtime interface client) in a clean process whose sys.path is the task root
(the extracted zip) then the runtime's own packages, against a Runtime API served on loopback.
Reserved environment variables, START/END/REPORT lines with measured Max Memory Used and Init
Duration, the timeout enforced by killing the runtime, errors as Lambda's error JSON.
`invoke --docker` uses the Lambda runtime image and its emulator instead (a Docker engine).
`invoke --snap-start N` is restore mode (docs/local-runtime.md): Init once with SnapStart's
initialization type and the before-snapshot hooks, then N environments restored from that one
process state, each running the after-restore hooks and the event; one result per line.

`serve` starts environments on demand up to --concurrency (429 past it), reuses the most
recently used, freezes idle ones (SIGSTOP) and retires those idle for --idle-timeout; Event
invocations go through a queue with Lambda's retries (2, after 1 and 2 minutes; scaled by
--async-time-scale), --maximum-event-age and the --on-failure SQS queue.

environment: PIGEONTOOLS_INVOKE_MODE (local, docker or auto: the default of invoke's mode).

exit status: 0 done, 1 the function failed (invoke), 2 usage or setup, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from pigeon_tools import cli, docker, variables
from pigeon_tools.lambda_local import function, lambda_image
from pigeon_tools.lambda_local import spec as task_roots
from pigeon_tools.lambda_local.async_invoke import AsyncConfig, EventQueue
from pigeon_tools.lambda_local.destinations import DestinationError, SqsDestination
from pigeon_tools.lambda_local.envfile import EnvFileError
from pigeon_tools.lambda_local.fleet import IDLE_TIMEOUT_S, Fleet
from pigeon_tools.lambda_local.invoke_api import PREFIX, InvokeAPI
from pigeon_tools.lambda_local.runtime_package import RuntimeSetupError
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.snapstart import Snapshot
from pigeon_tools.paths import BUILD, ENV_FILE


def say(message: str) -> None:
    print(f"local-runtime: {message}", file=sys.stderr, flush=True)


def arguments() -> argparse.Namespace:
    parser = cli.parser(__doc__)
    parser.add_argument(
        "command", choices=("invoke", "serve"), help="one event (stdin), or the Invoke API"
    )
    parser.add_argument("--task-root", type=Path, default=BUILD, help="folder or zip (build/)")
    parser.add_argument("--handler", default=function.HANDLER, help="module.function to run")
    parser.add_argument(
        "--function-name", default="pigeon", help="AWS_LAMBDA_FUNCTION_NAME, and serve's path"
    )
    parser.add_argument(
        "--env-file", type=Path, default=ENV_FILE, help="the function's environment (pigeon.env)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (Lambda: 1-900)")
    parser.add_argument("--memory", type=int, default=256, help="MB, reported (Lambda: 128-10240)")
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION", "us-west-2"),
        help="AWS_REGION for the function (default: AWS_REGION, else us-west-2)",
    )
    parser.add_argument("--event", type=Path, help="read the event from a file, not stdin")
    parser.add_argument(
        "--snap-start",
        type=int,
        metavar="N",
        help="invoke: restore mode, the event in each of N environments restored from one Init",
    )
    parser.add_argument("--port", type=int, default=9001, help="serve: the Invoke API port")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="serve: most execution environments at once"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=IDLE_TIMEOUT_S,
        help="serve: seconds an idle environment lives before it is retired (600)",
    )
    parser.add_argument(
        "--on-failure", help="serve: SQS queue URL or ARN for events given up on (Event)"
    )
    parser.add_argument(
        "--maximum-retry-attempts", type=int, default=2, help="serve: Event retries, 0-2 (2)"
    )
    parser.add_argument(
        "--maximum-event-age",
        type=int,
        default=21600,
        help="serve: seconds an Event invocation is kept, 60-21600 (21600)",
    )
    parser.add_argument(
        "--async-time-scale",
        type=float,
        default=1.0,
        help="serve: factor on the retry delays (60 s, 120 s) and the maximum event age, "
        "for tests (1: Lambda's)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--local",
        dest="mode",
        action="store_const",
        const="local",
        help="the local runtime, no Docker (default: PIGEONTOOLS_INVOKE_MODE, else auto: "
        "Docker when an engine answers, else local)",
    )
    mode.add_argument(
        "--docker",
        dest="mode",
        action="store_const",
        const="docker",
        help="invoke: the Lambda runtime image and its emulator (a Docker engine)",
    )
    parser.set_defaults(mode=os.environ.get("PIGEONTOOLS_INVOKE_MODE") or variables.INVOKE_MODE)
    args = parser.parse_args()
    if not 1 <= args.timeout <= 900:
        parser.error("--timeout must be from 1 to 900 seconds")
    if not 128 <= args.memory <= 10240:
        parser.error("--memory must be from 128 to 10240 MB")
    if args.mode not in ("local", "docker", "auto"):
        parser.error(f"unknown mode {args.mode} (local, docker or auto)")
    if args.snap_start is not None and (args.command != "invoke" or args.mode == "docker"):
        parser.error("--snap-start is for invoke in the local runtime")
    if args.snap_start is not None and args.snap_start < 1:
        parser.error("--snap-start must be at least 1")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if not args.idle_timeout > 0:
        parser.error("--idle-timeout must be positive")
    args.async_config = AsyncConfig(
        args.maximum_retry_attempts, args.maximum_event_age, args.async_time_scale
    )
    for problem in args.async_config.problems():
        parser.error(problem)
    if args.command == "invoke":
        args.event_bytes = args.event.read_bytes() if args.event else sys.stdin.buffer.read()
        try:
            json.loads(args.event_bytes or b"{}")
        except ValueError:
            parser.error("the event is not JSON")
    return args


def invoke(args: argparse.Namespace) -> int:
    event = args.event_bytes or b"{}"
    if args.mode == "auto":
        args.mode = "docker" if docker.engine_answers() else "local"
    if args.snap_start is not None:
        return restore(args, event)
    if args.mode == "docker":
        payload, failed = lambda_image.invoke(
            event, args.env_file, function.caller_settings(), args.timeout, args.memory
        )
    else:
        with task_roots.opened(args.task_root) as root, Sandbox(spec(args, root), echo=True) as box:
            outcome = box.invoke(event)
        payload, failed = outcome.payload, outcome.error
    sys.stdout.buffer.write(payload + b"\n")
    sys.stdout.flush()
    return 1 if failed else 0


def restore(args: argparse.Namespace, event: bytes) -> int:
    """Restore mode: one Init, then the event in each restored environment, in turn."""
    failed = False
    with (
        task_roots.opened(args.task_root) as root,
        Snapshot(spec(args, root), args.snap_start, echo=True) as snapshot,
    ):
        error = snapshot.take()
        if error is not None:
            say(f"Init failed before the snapshot ({snapshot.init_error_type or 'no type'})")
            sys.stdout.buffer.write(error + b"\n")
            return 1
        for environment in snapshot:
            outcome = environment.invoke(event)
            sys.stdout.buffer.write(outcome.payload + b"\n")
            sys.stdout.flush()
            failed = failed or outcome.error
    return 1 if failed else 0


def spec(args: argparse.Namespace, root: Path) -> task_roots.FunctionSpec:
    return function.spec(
        root,
        env_file=args.env_file,
        from_caller=True,
        handler=args.handler,
        name=args.function_name,
        memory_mb=args.memory,
        timeout_s=args.timeout,
        region=args.region,
    )


def serve(args: argparse.Namespace) -> int:
    with task_roots.opened(args.task_root) as root:
        function_spec = spec(args, root)
        destination = None
        if args.on_failure:
            destination = SqsDestination(args.on_failure, function_spec.region)
        fleet = Fleet(function_spec, args.concurrency, args.idle_timeout)
        events = EventQueue(fleet, args.async_config, destination, note=say)
        server = InvokeAPI(args.port, fleet, events)
        say(
            f"Invoke API on {server.url}{PREFIX}{function_spec.name}/invocations "
            f"(up to {args.concurrency} environment(s), started on demand"
            f"{'; on failure: ' + args.on_failure if args.on_failure else ''}); Ctrl-C to stop"
        )
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            left = server.close()
            if left:
                say(f"stopped with {len(left)} Event invocation(s) not done (the queue is in "
                    "memory); their events, one per line:")  # fmt: skip
                for request_id, payload in left:
                    say(f"not done {request_id}: {payload.decode('utf-8', 'replace')}")
    return 0


def main() -> int:
    args = arguments()
    if args.task_root.is_dir() and not (args.task_root / args.handler.split(".")[0]).exists():
        say(f"warning: {args.task_root} has no {args.handler.split('.')[0]}; was it built?")
    try:
        return invoke(args) if args.command == "invoke" else serve(args)
    except (EnvFileError, task_roots.TaskRootError, RuntimeSetupError, DestinationError) as error:
        say(str(error))
        return 2
    except lambda_image.NoDockerEngine as error:
        print(f"invoke.sh: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    cli.run(main, "local-runtime")
