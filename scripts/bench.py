#!/usr/bin/env python3
"""Benchmarks of the built zip in the local Lambda runtime against a real local RabbitMQ, each
as a ratio against a baseline measured in the same run (make bench).

    bench.py [--quick] [--url AMQP_URL] [--tls-url AMQPS_URL] [--out bench/results.json]
             [--plot bench/warm_latency.png] [--cold-plot bench/cold_start.png]
             [--burst-plot bench/burst.png] [--burst-events N]

Baselines (pigeon_tools/bench/baselines/, run from a copy of the same zip): the same build
without its bytecode, the seed's strategy (a connection per invocation), a naive handler that
imports everything and makes a boto3 client at module level, a no-op handler (the runtime
client's own cost), and a prototype that reads the secret during Init. Limits
(bench/limits.py): raw pika's publish and confirm on an open channel, raw pika pipelined, and
for a cold start the no-op handler's Init plus raw pika's connect, publish and confirm (and a
GetSecretValue with the standard library, with a secret). Bursts
(bench/burst.py): 10,000 Event invocations through the local Invoke API at concurrency 1, 2,
4 and 8 on a private RabbitMQ node, against raw pika pipelined over as many connections and
one environment invoked back to back. Every figure is
measured twice, back to back; a figure whose runs differ by more than 15% is flagged noisy.
A missed goal is explained from cProfile and -X importtime of the same build. Written to the
default --out, the results also regenerate docs/performance.md's table.
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
from statistics import mean
from typing import Any

from pigeon_tools import docs, moto_server
from pigeon_tools.bench import burst, cost, figures, report, restore
from pigeon_tools.bench.workbench import Workbench
from pigeon_tools.broker import local
from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.runtime_package import Runtime
from pigeon_tools.paths import ROOT, ZIP

RESULTS = ROOT / "bench" / "results.json"
QUICK_BURST = (50, (1, 2))  # events, concurrencies


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    say(f"{label} …")
    result = work()
    say(f"{label}: done in {time.perf_counter() - started:.1f} s")
    return result


def render(results: dict[str, Any]) -> str:
    """Verdicts, explanations and the cost table from the measured figures; the table text."""
    measured = results["figures"]
    rows = report.evaluate(results)
    results["lines"] = rows
    results["missed"] = report.explain(rows, results)
    # The cost of the production configuration: amqps (Amazon MQ) with a secret ARN.
    tls = "warm_latency_tls" in measured
    warm = measured["warm_latency_tls" if tls else "warm_latency"]["runs"]
    warm_ms = mean(run["ours"]["p50_ms"] for run in warm)
    cold_ms = mean(run["ours"]["billed_ms"] for run in measured["cold_secret"]["runs"])
    config = report.secret_label(tls)
    results["cost"] = cost.table(warm_ms, cold_ms)
    text = report.markdown(rows)
    if "burst" in measured:
        text += "\n\n" + burst.markdown(measured["burst"])
    if results["missed"]:
        text += "\n\nGoals missed, and where the time goes:\n\n"
        text += "\n".join(f"- {line}" for line in results["missed"])
    text += "\n\nCompute cost on paper:\n\n" + cost.markdown(
        results["cost"], warm_ms, cold_ms, config
    )
    results["table"] = text
    return text


def write(
    results: dict[str, Any], out: Path, plot: Path, cold_plot: Path, burst_plot: Path
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    report.plot(results, plot)
    report.plot_cold_start(results, cold_plot)
    written = [out, plot, cold_plot]
    if "burst" in results["figures"]:
        burst.plot(results["figures"]["burst"], burst_plot)
        written.append(burst_plot)
    say(f"wrote {', '.join(map(str, written))}")
    if out.resolve() == RESULTS.resolve():
        for path in docs.stale(write=True):
            say(f"updated {path.relative_to(ROOT)}")


def twice(label: str, measure: Callable[[], Any]) -> dict[str, Any]:
    """Every figure is measured twice, back to back; both runs are kept."""
    return {"runs": [timed(f"{label}, run {i} of 2", measure) for i in (1, 2)]}


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
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "warm_latency.png")
    parser.add_argument("--cold-plot", type=Path, default=ROOT / "bench" / "cold_start.png")
    parser.add_argument("--burst-plot", type=Path, help="(burst.png beside --out)")
    parser.add_argument(
        "--burst-events",
        type=int,
        help=f"crash events per burst ({burst.EVENTS:,}; --quick: {QUICK_BURST[0]})",
    )
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: render --out's figures again"
    )
    args = parser.parse_args()
    args.burst_plot = args.burst_plot or args.out.with_name("burst.png")
    if args.render:
        try:
            saved = json.loads(args.out.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--render: cannot read {args.out}: {error}")
        print(render(saved))
        write(saved, args.out, args.plot, args.cold_plot, args.burst_plot)
        return 0
    if args.burst_events is not None and args.burst_events < 1:
        parser.error("--burst-events must be at least 1")
    if args.tls_url is None and args.url == function.LOCAL_BROKER_URL:
        args.tls_url = local.tls_url()  # the TLS port of the same local node
    if not ZIP.exists():
        parser.error("dist/pigeon.zip is missing: run make build (make bench does)")
    n_warm, rounds, colds, n_over = (10, 2, 1, 10) if args.quick else (300, 7, 11, 300)
    python = Runtime.local().python
    results: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": f"{os.cpu_count()} cpus, {os.uname().machine}",
    }
    measured: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as workdir:
        bench = Workbench(args.url, Path(workdir))
        measured["warm_latency"] = twice(
            "warm latency", lambda: figures.warm_latency(bench, n_warm)
        )
        if args.tls_url:
            measured["warm_latency_tls"] = twice(
                "warm latency over TLS", lambda: figures.warm_latency(bench, n_warm, args.tls_url)
            )
        measured["throughput"] = twice("throughput", lambda: figures.throughput(bench, rounds))
        n_burst, levels = QUICK_BURST if args.quick else (burst.EVENTS, burst.CONCURRENCIES)
        n_burst = args.burst_events or n_burst
        if why := burst.available():
            say(f"bursts: not measured: {why}")
        else:
            with burst.private_broker(Path(workdir)) as node:
                measured["burst"] = twice(
                    f"bursts of {n_burst:,} events at concurrency {levels}",
                    lambda: burst.measure(bench.ours, node, n_burst, levels, say),
                )
        measured["cold_url"] = twice("cold starts", lambda: figures.cold_starts(bench, colds))
        measured[restore.FIGURE] = twice(
            "SnapStart: restored first invokes", lambda: restore.restored_cold_starts(bench, colds)
        )
        if args.tls_url:
            measured["cold_tls"] = twice(
                "cold starts over TLS", lambda: figures.cold_starts(bench, colds, args.tls_url)
            )
        # The production configuration: the broker's URL in a secret, amqps as Amazon MQ has it.
        production = args.tls_url or args.url
        label = report.secret_label(bool(args.tls_url))
        with moto_server.moto_server() as endpoint:
            secret = figures.secret_for(production, endpoint)
            measured["cold_secret"] = twice(
                f"cold starts ({label})",
                lambda: figures.cold_starts(bench, colds, production, secret),
            )
            results["cold_breakdown"] = timed(
                "cold start phases, with and without bytecode",
                lambda: figures.cold_breakdowns(bench, python, colds, measured, secret, label),
            )
        measured["runtime_overhead"] = twice(
            "runtime overhead", lambda: figures.runtime_overhead(bench, python, n_over)
        )
        results["diagnosis"] = timed("where the time goes (cProfile, -X importtime)", lambda: {
            "warm_1_record_ms_by_area": figures.where_warm_time_goes(bench, python, n_warm, 1),
            "warm_500_records_ms_by_area": figures.where_warm_time_goes(
                bench, python, rounds, 500
            ),
            "slowest_imports": figures.import_times(python, bench.ours),
            "slowest_imports_secret": figures.import_times(
                python, bench.ours, "pigeon.handler, pigeon.credentials, pigeon.secrets_api"
            ),
            **({"warm_1_record_tls_ms_by_area": figures.where_warm_time_goes(
                bench, python, n_warm, 1, args.tls_url)} if args.tls_url else {}),
        })  # fmt: skip
    if not args.quick:
        measured["build"] = twice("cold and warm builds", figures.build_times)
    measured["zip"] = {"runs": [figures.zip_figures(), figures.zip_figures()]}
    results["figures"] = measured
    print(render(results))
    write(results, args.out, args.plot, args.cold_plot, args.burst_plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
