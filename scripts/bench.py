#!/usr/bin/env python3
"""Benchmarks of the built zip in the local Lambda runtime against a real local RabbitMQ, each
as a ratio against a baseline measured in the same run (make bench).

    bench.py [--quick] [--url AMQP_URL] [--out bench/results.json] [--plot bench/warm_latency.png]

Baselines (scripts/bench_baselines/, run from a copy of the same zip): the seed's strategy
(a connection per invocation), a raw pika publish-with-confirms loop, and a naive handler that
imports everything and makes a boto3 client at module level.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import local_runtime
import moto_secrets
from generate_event import event, new_crash_id, raw_crash_key

ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "dist" / "pigeon.zip"
BASELINES = Path(__file__).resolve().parent / "bench_baselines"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report_field(report: str, name: str) -> float | None:
    for part in report.split("\t"):
        if part.startswith(f"{name}: "):
            return float(part.split(": ")[1].split()[0])
    return None


class Bench:
    def __init__(self, url: str, quick: bool, workdir: Path) -> None:
        self.url = url
        self.quick = quick
        self.python = local_runtime.find_python313()
        self.packages = local_runtime.runtime_packages(self.python)
        self.ours = workdir / "ours"
        self.baseline = workdir / "baseline"
        with zipfile.ZipFile(ZIP) as archive:
            archive.extractall(self.ours)
        shutil.copytree(self.ours, self.baseline)
        for module in BASELINES.glob("*.py"):
            shutil.copy(module, self.baseline / module.name)
        self.queue = f"bench.{uuid.uuid4().hex[:8]}"
        self._declare()

    def _declare(self) -> None:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        connection.channel().queue_declare(self.queue, durable=True)
        connection.close()

    def purge(self) -> None:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        connection.channel().queue_purge(self.queue)
        connection.close()

    def sandbox(self, root: Path, handler: str, **env: str) -> local_runtime.Sandbox:
        environment = {
            "PIGEON_ENV": "bench",
            "PIGEON_QUEUES": self.queue,
            "PIGEON_RABBITMQ_URL": self.url,
            "PIGEON_METRICS": "none",
            "PIGEON_LOG_LEVEL": "WARNING",
            **env,
        }
        spec = local_runtime.FunctionSpec(
            task_root=root,
            handler=handler,
            timeout_s=60,
            memory_mb=256,
            environment={k: v for k, v in environment.items() if v},
        )
        return local_runtime.Sandbox(spec, self.python, self.packages, echo=False)

    @staticmethod
    def one_accepted() -> bytes:
        return json.dumps(event([raw_crash_key(new_crash_id("accept"))])).encode()

    # -- figures ------------------------------------------------------------------------------
    def warm_latency(self, n: int, url: str | None = None) -> dict[str, Any]:
        """Warm invoke, 1 accepted record: Pigeon vs a connection per invocation."""
        out: dict[str, Any] = {}
        for name, root, handler in (
            ("ours", self.ours, "pigeon.handler.handler"),
            ("baseline", self.baseline, "seed_strategy.handler"),
        ):
            box = self.sandbox(root, handler, PIGEON_RABBITMQ_URL=url or self.url)
            try:
                box.invoke(self.one_accepted())  # cold start, not counted
                durations = []
                for _ in range(n):
                    outcome = box.invoke(self.one_accepted())
                    assert not outcome.error, outcome.payload
                    durations.append(report_field(outcome.report, "Duration") or 0.0)
            finally:
                box.kill()
            out[name] = {
                "p50_ms": percentile(durations, 50),
                "p99_ms": percentile(durations, 99),
                "samples_ms": durations,
            }
        out["p50_ratio"] = out["ours"]["p50_ms"] / out["baseline"]["p50_ms"]
        out["p99_ratio"] = out["ours"]["p99_ms"] / out["baseline"]["p99_ms"]
        self.purge()
        return out

    def throughput(self, rounds: int, records: int = 500) -> dict[str, Any]:
        """One 500-record event in the warm function vs a raw pika loop with confirms."""
        import pika

        box = self.sandbox(self.ours, "pigeon.handler.handler")
        ours = []
        try:
            box.invoke(self.one_accepted())
            for _ in range(rounds):
                ids = [new_crash_id("accept") for _ in range(records)]
                outcome = box.invoke(json.dumps(event([raw_crash_key(i) for i in ids])).encode())
                assert not outcome.error, outcome.payload
                ours.append(records / ((report_field(outcome.report, "Duration") or 1) / 1000))
        finally:
            box.kill()
        raw = []
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        channel = connection.channel()
        channel.confirm_delivery()
        for _ in range(rounds):
            ids = [new_crash_id("accept") for _ in range(records)]
            started = time.perf_counter()
            for crash_id in ids:
                channel.basic_publish(
                    "",
                    self.queue,
                    crash_id.encode(),
                    pika.BasicProperties(delivery_mode=2, message_id=crash_id),
                    mandatory=True,
                )
            raw.append(records / (time.perf_counter() - started))
        connection.close()
        self.purge()
        result = {
            "ours_ids_per_s": statistics.median(ours),
            "baseline_ids_per_s": statistics.median(raw),
            "records": records,
        }
        result["ratio"] = result["ours_ids_per_s"] / result["baseline_ids_per_s"]
        return result

    def cold_starts(self, n: int, **env: str) -> dict[str, Any]:
        """Init Duration (median of n cold starts), the first invoke, and Max Memory Used."""
        out: dict[str, Any] = {}
        # The naive handler reads the URL itself; it only makes its boto3 client at import.
        naive_env = {**env, "PIGEON_RABBITMQ_URL": self.url, "PIGEON_RABBITMQ_SECRET_ARN": ""}
        for name, root, handler, variables in (
            ("ours", self.ours, "pigeon.handler.handler", env),
            ("baseline", self.baseline, "naive_init.handler", naive_env),
        ):
            inits, firsts, memory = [], [], []
            for _ in range(n):
                box = self.sandbox(root, handler, **variables)
                try:
                    outcome = box.invoke(self.one_accepted())
                finally:
                    box.kill()
                assert not outcome.error, outcome.payload
                inits.append(report_field(outcome.report, "Init Duration") or 0.0)
                firsts.append(report_field(outcome.report, "Duration") or 0.0)
                memory.append(report_field(outcome.report, "Max Memory Used") or 0.0)
            out[name] = {
                "init_ms": statistics.median(inits),
                "first_invoke_ms": statistics.median(firsts),
                "max_memory_mb": statistics.median(memory),
                "cold_starts": n,
            }
        out["init_ratio"] = out["ours"]["init_ms"] / out["baseline"]["init_ms"]
        out["memory_ratio"] = out["ours"]["max_memory_mb"] / out["baseline"]["max_memory_mb"]
        self.purge()
        return out

    def runtime_overhead(self, n: int) -> dict[str, Any]:
        """Warm invoke through the local runtime vs calling the handler in this process."""
        env = {
            "PIGEON_ENV": "bench",
            "PIGEON_QUEUES": self.queue,
            "PIGEON_RABBITMQ_URL": self.url,
            "PIGEON_METRICS": "none",
            "PIGEON_LOG_LEVEL": "WARNING",
        }
        code = (
            "import json, sys, time\n"
            f"sys.path[:0] = [{str(self.ours)!r}, {str(ROOT / 'scripts')!r}]\n"
            "from pigeon.handler import handler\n"
            "from bench import Bench\n"
            "class Context:\n"
            "    aws_request_id = 'bench'\n"
            "    def get_remaining_time_in_millis(self): return 60000\n"
            "handler(json.loads(Bench.one_accepted()), Context())\n"
            "times = []\n"
            f"for _ in range({n}):\n"
            "    event = json.loads(Bench.one_accepted())\n"
            "    started = time.perf_counter(); handler(event, Context())\n"
            "    times.append((time.perf_counter() - started) * 1000)\n"
            "print(json.dumps(times))\n"
        )
        # A separate process with the zip first on sys.path, like the runtime, and no runtime.
        done = subprocess.run(
            [self.python, "-S", "-c", code],
            capture_output=True,
            text=True,
            env={**env, "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=600,
        )
        direct = json.loads(done.stdout.strip().splitlines()[-1])
        box = self.sandbox(self.ours, "pigeon.handler.handler")
        through = []
        try:
            box.invoke(self.one_accepted())
            for _ in range(n):
                payload = self.one_accepted()
                started = time.perf_counter()
                outcome = box.invoke(payload)
                through.append((time.perf_counter() - started) * 1000)
                assert not outcome.error, outcome.payload
        finally:
            box.kill()
        self.purge()
        result = {
            "direct_p50_ms": percentile(direct, 50),
            "runtime_p50_ms": percentile(through, 50),
        }
        result["overhead_ms"] = result["runtime_p50_ms"] - result["direct_p50_ms"]
        return result


def local_tls_url() -> str | None:
    """The TLS listener of the private node that scripts/rabbitmq.sh starts, if it runs."""
    ca = ROOT / ".cache" / "rabbitmq" / "tls" / "ca.pem"
    port = int(os.environ.get("PIGEONTOOLS_RABBITMQ_TLS_PORT", "5671"))
    if not ca.exists():
        return None
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return None
    options = quote(repr({"ca_certs": str(ca)}), safe="")
    return f"amqps://guest:guest@localhost:{port}/%2F?ssl_options={options}"


def zip_figures() -> dict[str, Any]:
    aws = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
    with zipfile.ZipFile(ZIP) as archive:
        infos = archive.infolist()

    def top(info: zipfile.ZipInfo) -> str:
        return info.filename.split("/")[0].split("-")[0].removesuffix(".py")

    aws_compressed = sum(i.compress_size for i in infos if top(i) in aws)
    return {
        "zip_mb": ZIP.stat().st_size / 1e6,
        "unzipped_mb": sum(i.file_size for i in infos) / 1e6,
        "boto3_and_deps_in_zip_mb": aws_compressed / 1e6,
        "zip_without_boto3_mb": (ZIP.stat().st_size - aws_compressed) / 1e6,
    }


def build_times() -> dict[str, Any]:
    """A cold build (empty pip and build caches) vs a warm rebuild (both caches filled)."""
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-build-") as scratch:
        env = {**os.environ, "PIP_CACHE_DIR": f"{scratch}/pip", "PIGEONTOOLS_BUILD_DOCKER": "never"}
        cmd = [
            sys.executable,
            str(ROOT / "scripts" / "build.py"),
            "--cache-dir",
            f"{scratch}/build",
            "--build-dir",
            f"{scratch}/out/build",
            "--dist-dir",
            f"{scratch}/out/dist",
        ]
        times = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
            times.append(time.perf_counter() - started)
    return {"cold_s": times[0], "warm_s": times[1], "ratio": times[1] / times[0]}


def secret_for(url: str, endpoint: str) -> dict[str, str]:
    """A secret holding the broker URL in moto's Secrets Manager; the function's variables."""
    arn = moto_secrets.client(endpoint).create_secret(
        Name=f"bench-{uuid.uuid4().hex[:6]}", SecretString=json.dumps({"url": url})
    )["ARN"]
    return {
        "PIGEON_RABBITMQ_SECRET_ARN": arn,
        "PIGEON_RABBITMQ_URL": "",
        **moto_secrets.function_environment(endpoint),
    }


def table(results: dict[str, Any]) -> str:
    w, t, c, s, o = (
        results[k]
        for k in ("warm_latency", "throughput", "init_url", "init_secret", "runtime_overhead")
    )
    tls, z, b = results.get("warm_latency_tls"), results["zip"], results.get("build")

    def ms(value: float, digits: int = 2) -> str:
        return f"{value:.{digits}f} ms"

    rows = [
        (
            "warm invoke, 1 record, p50",
            ms(w["ours"]["p50_ms"]),
            ms(w["baseline"]["p50_ms"]),
            f"{w['p50_ratio']:.2f}x",
            "<= 0.2x",
        ),
        (
            "warm invoke, 1 record, p99",
            ms(w["ours"]["p99_ms"]),
            ms(w["baseline"]["p99_ms"]),
            f"{w['p99_ratio']:.2f}x",
            "report",
        ),
    ]
    if tls:
        rows.append(
            (
                "warm invoke over TLS (amqps), p50",
                ms(tls["ours"]["p50_ms"]),
                ms(tls["baseline"]["p50_ms"]),
                f"{tls['p50_ratio']:.2f}x",
                "report",
            )
        )
    rows += [
        (
            "throughput, one 500-record event",
            f"{t['ours_ids_per_s']:.0f} ids/s",
            f"{t['baseline_ids_per_s']:.0f} ids/s",
            f"{t['ratio']:.2f}x",
            ">= 0.8x",
        ),
        (
            "Init Duration, URL config (median)",
            ms(c["ours"]["init_ms"], 0),
            ms(c["baseline"]["init_ms"], 0),
            f"{c['init_ratio']:.2f}x",
            "<= 0.35x",
        ),
        (
            "Init Duration, secret ARN (moto)",
            ms(s["ours"]["init_ms"], 0),
            ms(s["baseline"]["init_ms"], 0),
            f"{s['init_ratio']:.2f}x",
            "report",
        ),
        (
            "first invoke after init, secret ARN",
            ms(s["ours"]["first_invoke_ms"], 0),
            ms(s["baseline"]["first_invoke_ms"], 0),
            "",
            "report",
        ),
        (
            "runtime overhead per warm invoke",
            ms(o["runtime_p50_ms"]),
            ms(o["direct_p50_ms"]) + " (direct)",
            f"+{o['overhead_ms']:.2f} ms",
            "<= +3 ms",
        ),
        (
            "Max Memory Used (cold, URL)",
            f"{c['ours']['max_memory_mb']:.0f} MB",
            f"{c['baseline']['max_memory_mb']:.0f} MB",
            f"{c['memory_ratio']:.2f}x",
            "report",
        ),
        (
            "zip size (without boto3 and its deps)",
            f"{z['zip_mb']:.1f} MB",
            f"{z['zip_without_boto3_mb']:.1f} MB",
            "",
            "report",
        ),
    ]
    if b:
        rows.append(
            (
                "build: warm rebuild vs cold",
                f"{b['warm_s']:.1f} s",
                f"{b['cold_s']:.1f} s (cold)",
                f"{b['ratio']:.2f}x",
                "<= 0.3x",
            )
        )
    header = ("figure", "ours", "baseline", "ratio", "goal")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    )


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    series = [("", results["warm_latency"])]
    if results.get("warm_latency_tls"):
        series.append((" over TLS", results["warm_latency_tls"]))
    data, labels = [], []
    for suffix, warm in series:
        data += [warm["baseline"]["samples_ms"], warm["ours"]["samples_ms"]]
        labels += [
            f"seed strategy{suffix}\n(connection per invocation)",
            f"Pigeon{suffix}\n(kept connection)",
        ]
    figure, axis = plt.subplots(figsize=(9, 1.2 + 1.1 * len(data)))
    axis.boxplot(data, orientation="horizontal", showfliers=True, widths=0.5)
    axis.set_yticks(range(1, len(data) + 1), labels)
    axis.set_xscale("log")
    axis.xaxis.set_major_formatter(ScalarFormatter())
    axis.set_xlabel("warm invoke Duration (REPORT), ms, log scale; 1 accepted record")
    warm = results["warm_latency"]
    axis.set_title(
        f"Warm latency, {len(warm['ours']['samples_ms'])} invokes each, same broker "
        f"and run: p50 {warm['ours']['p50_ms']:.2f} vs "
        f"{warm['baseline']['p50_ms']:.2f} ms"
    )
    axis.grid(True, axis="x", which="both", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    say(f"{label} …")
    result = work()
    say(f"{label}: done in {time.perf_counter() - started:.1f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few samples, no build timing")
    parser.add_argument("--url", default=os.environ.get("PIGEON_RABBITMQ_URL", DEFAULT_URL))
    parser.add_argument(
        "--tls-url",
        default=os.environ.get("PIGEONTOOLS_RABBITMQ_TLS_URL"),
        help="amqps URL of the same broker (default with the default --url: the local TLS port)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "warm_latency.png")
    args = parser.parse_args(argv)
    if args.tls_url is None and args.url == DEFAULT_URL:
        args.tls_url = local_tls_url()  # the TLS port of the same local node
    if not ZIP.exists():
        parser.error("dist/pigeon.zip is missing: run make build (make bench does)")
    n_warm, rounds, colds, n_over = (20, 2, 3, 20) if args.quick else (300, 7, 11, 300)
    with tempfile.TemporaryDirectory(prefix="pigeon-bench-") as workdir:
        bench = Bench(args.url, args.quick, Path(workdir))
        results: dict[str, Any] = {
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "machine": f"{os.cpu_count()} cpus, {os.uname().machine}",
        }
        results["warm_latency"] = timed("warm latency", lambda: bench.warm_latency(n_warm))
        if args.tls_url:
            results["warm_latency_tls"] = timed(
                "warm latency over TLS", lambda: bench.warm_latency(n_warm, args.tls_url)
            )
        results["throughput"] = timed("throughput", lambda: bench.throughput(rounds))
        results["init_url"] = timed("cold starts (URL)", lambda: bench.cold_starts(colds))
        with moto_secrets.moto_server() as endpoint:
            env = secret_for(args.url, endpoint)
            results["init_secret"] = timed(
                "cold starts (secret ARN)", lambda: bench.cold_starts(colds, **env)
            )
        results["runtime_overhead"] = timed(
            "runtime overhead", lambda: bench.runtime_overhead(n_over)
        )
    results["zip"] = zip_figures()
    if not args.quick:
        results["build"] = timed("cold and warm builds", build_times)
    text = table(results)
    print(text)
    results["table"] = text
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.plot)
    say(f"wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
