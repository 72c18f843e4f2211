#!/usr/bin/env python3
"""Benchmarks of the built zip in the local Lambda runtime against a real local RabbitMQ, each
as a ratio against a baseline measured in the same run (make bench).

    bench.py [--quick] [--url AMQP_URL] [--tls-url AMQPS_URL] [--out bench/results.json]
             [--plot bench/warm_latency.png]

Baselines (pigeon_tools/bench/baselines/, run from a copy of the same zip): the seed's strategy
(a connection per invocation), a raw pika publish-with-confirms loop, and a naive handler that
imports everything and makes a boto3 client at module level.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pigeon_tools import function, moto_server
from pigeon_tools.bench import figures, report
from pigeon_tools.bench.workbench import Workbench
from pigeon_tools.broker import local
from pigeon_tools.lambda_local.runtime_package import Runtime
from pigeon_tools.paths import ROOT, ZIP


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    say(f"{label} …")
    result = work()
    say(f"{label}: done in {time.perf_counter() - started:.1f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few samples, no build timing")
    parser.add_argument(
        "--url", default=os.environ.get("PIGEON_RABBITMQ_URL", function.LOCAL_BROKER_URL)
    )
    parser.add_argument(
        "--tls-url",
        default=os.environ.get("PIGEONTOOLS_RABBITMQ_TLS_URL"),
        help="amqps URL of the same broker (default with the default --url: the local TLS port)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "warm_latency.png")
    args = parser.parse_args()
    if args.tls_url is None and args.url == function.LOCAL_BROKER_URL:
        args.tls_url = local.tls_url()  # the TLS port of the same local node
    if not ZIP.exists():
        parser.error("dist/pigeon.zip is missing: run make build (make bench does)")
    n_warm, rounds, colds, n_over = (20, 2, 3, 20) if args.quick else (300, 7, 11, 300)
    python = Runtime.local().python
    results: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": f"{os.cpu_count()} cpus, {os.uname().machine}",
    }
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as workdir:
        bench = Workbench(args.url, Path(workdir))
        results["warm_latency"] = timed("warm latency", lambda: figures.warm_latency(bench, n_warm))
        if args.tls_url:
            results["warm_latency_tls"] = timed(
                "warm latency over TLS", lambda: figures.warm_latency(bench, n_warm, args.tls_url)
            )
        results["throughput"] = timed("throughput", lambda: figures.throughput(bench, rounds))
        results["init_url"] = timed("cold starts (URL)", lambda: figures.cold_starts(bench, colds))
        with moto_server.moto_server() as endpoint:
            env = figures.secret_for(args.url, endpoint)
            results["init_secret"] = timed(
                "cold starts (secret ARN)", lambda: figures.cold_starts(bench, colds, **env)
            )
        results["runtime_overhead"] = timed(
            "runtime overhead", lambda: figures.runtime_overhead(bench, python, n_over)
        )
    results["zip"] = figures.zip_figures()
    if not args.quick:
        results["build"] = timed("cold and warm builds", figures.build_times)
    text = report.markdown(report.rows(results))
    print(text)
    results["table"] = text
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    report.plot(results, args.plot)
    say(f"wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
