"""The measurements, each against its baseline in the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from pigeon_tools import moto_server
from pigeon_tools.bench import cost, limits
from pigeon_tools.bench.stats import median, percentile
from pigeon_tools.bench.workbench import Workbench
from pigeon_tools.lambda_local.function import HANDLER
from pigeon_tools.paths import ROOT, ZIP

SIDES = {
    "ours": HANDLER,
    "baseline": "seed_strategy.handler",
    "noop": "noop.handler",
}


def warm_latency(bench: Workbench, n: int, url: str | None = None) -> dict[str, Any]:
    """Warm invoke, 1 accepted record: Pigeon, a connection per invocation (the seed), and a
    no-op handler (the runtime client's own cost); the limit: raw pika's publish and confirm."""
    url = url or bench.url
    out: dict[str, Any] = {}
    for name, handler in SIDES.items():
        root = bench.ours if name == "ours" else bench.baseline
        with bench.sandbox(root, handler, PIGEON_RABBITMQ_URL=url) as box:
            box.invoke(bench.one_accepted())  # cold start, not counted
            durations = []
            for _ in range(n):
                outcome = box.invoke(bench.one_accepted())
                assert outcome.ok, outcome.payload
                durations.append(outcome.report.duration_ms)
        out[name] = {
            "p50_ms": percentile(durations, 50),
            "p99_ms": percentile(durations, 99),
            "samples_ms": durations,
        }
    out["limit"] = limits.single_confirm(url, bench.queue, n)
    out["p50_ratio"] = out["ours"]["p50_ms"] / out["baseline"]["p50_ms"]
    out["p99_ratio"] = out["ours"]["p99_ms"] / out["baseline"]["p99_ms"]
    out["own_cost_ms"] = out["ours"]["p50_ms"] - out["noop"]["p50_ms"]
    out["own_cost_ratio"] = out["own_cost_ms"] / out["limit"]["p50_ms"]
    bench.purge()
    return out


def throughput(bench: Workbench, rounds: int, records: int = 500) -> dict[str, Any]:
    """One 500-record event in the warm function vs a raw pika loop with a confirm per message
    (the seed's way), and vs the limit: raw pika pipelined, all published then all confirmed."""
    ours = []
    with bench.ours_sandbox() as box:
        box.invoke(bench.one_accepted())
        for _ in range(rounds):
            outcome = box.invoke(bench.accepted_event(records))
            assert outcome.ok, outcome.payload
            ours.append(records / (outcome.report.duration_ms / 1000))
    # The seed's way: a confirm per message, one after the other.
    raw = [
        records / (sum(limits.confirm_each(bench.url, bench.queue, records)) / 1000)
        for _ in range(rounds)
    ]
    pipelined = limits.pipelined(bench.url, bench.queue, records, rounds)
    bench.purge()
    result = {
        "ours_ids_per_s": median(ours),
        "baseline_ids_per_s": median(raw),
        "limit_ids_per_s": median(pipelined),
        "records": records,
    }
    result["ratio"] = result["ours_ids_per_s"] / result["baseline_ids_per_s"]
    result["limit_ratio"] = result["ours_ids_per_s"] / result["limit_ids_per_s"]
    return result


@dataclass(frozen=True)
class Secret:
    """A secret holding the broker's URL in moto's Secrets Manager, and what a function needs
    to read it."""

    endpoint: str
    arn: str
    environment: dict[str, str]


# A cold start's sides: (tree, handler). The no-op handler and the baselines run from a copy
# of the same zip; "source" is the same build without its bytecode.
COLD_SIDES = {
    "ours": ("ours", HANDLER),
    "source": ("source", HANDLER),
    "baseline": ("baseline", "naive_init.handler"),
    "noop": ("baseline", "noop.handler"),
    "eager": ("baseline", "eager_secret.handler"),
}


def _cold_start(bench: Workbench, side: str, env: dict[str, str]) -> tuple[float, float, float]:
    """One cold start in a new sandbox: (Init Duration, first invoke, Max Memory Used)."""
    tree, handler = COLD_SIDES[side]
    with bench.sandbox(getattr(bench, tree), handler, **env) as box:
        outcome = box.invoke(bench.one_accepted())
    assert outcome.ok, outcome.payload
    report = outcome.report
    return report.init_ms or 0.0, report.duration_ms, float(report.max_memory_mb)


def cold_starts(
    bench: Workbench, n: int, url: str | None = None, secret: Secret | None = None
) -> dict[str, Any]:
    """n cold starts of each side, interleaved (a shared machine's drift hits every side alike):
    Init Duration, the first invoke, their sum as the caller sees it and as Lambda bills it
    since August 2025, and Max Memory Used (medians). Pigeon; the same build without bytecode;
    the naive eager handler; a no-op handler (Python and the runtime client); with a secret,
    the prototype that reads it during Init. Then the limit, in the same run: the no-op
    handler's Init, plus raw pika's connect and one publish with its confirm, plus one
    GetSecretValue over HTTP with the standard library when there is a secret."""
    url = url or bench.url
    ours_env = {"PIGEON_RABBITMQ_URL": url, **(secret.environment if secret else {})}
    # The naive handler reads the URL itself; it only makes its boto3 client at import.
    naive_env = {**ours_env, "PIGEON_RABBITMQ_URL": url, "PIGEON_RABBITMQ_SECRET_ARN": ""}
    sides = ["ours", "source", "baseline", "noop"] + (["eager"] if secret else [])
    samples: dict[str, list[tuple[float, float, float]]] = {side: [] for side in sides}
    for _ in range(n):
        for side in sides:
            env = naive_env if side == "baseline" else ours_env
            samples[side].append(_cold_start(bench, side, env))
    out: dict[str, Any] = {}
    for side, runs in samples.items():
        out[side] = {
            "init_ms": median([init for init, _, _ in runs]),
            "first_invoke_ms": median([first for _, first, _ in runs]),
            "cold_total_ms": median([init + first for init, first, _ in runs]),
            "billed_ms": median([float(cost.billed_ms(init + first)) for init, first, _ in runs]),
            "max_memory_mb": median([memory for _, _, memory in runs]),
            "cold_starts": n,
        }
    broker = limits.connect_and_publish(url, bench.queue, max(n, 3))
    limit = {"noop_init_ms": out["noop"]["init_ms"], **broker}
    if secret:
        limit["get_secret_value_ms"] = limits.get_secret_value(
            secret.endpoint, secret.arn, moto_server.REGION, max(n, 3)
        )
    limit["total_ms"] = sum(limit.values())
    out["limit"] = limit
    out["init_ratio"] = out["ours"]["init_ms"] / out["baseline"]["init_ms"]
    out["cold_ratio"] = out["ours"]["cold_total_ms"] / out["baseline"]["cold_total_ms"]
    out["bytecode_ratio"] = out["ours"]["cold_total_ms"] / out["source"]["cold_total_ms"]
    out["limit_ratio"] = out["ours"]["cold_total_ms"] / limit["total_ms"]
    out["init_over_noop_ms"] = out["ours"]["init_ms"] - out["noop"]["init_ms"]
    out["memory_ratio"] = out["ours"]["max_memory_mb"] / out["baseline"]["max_memory_mb"]
    bench.purge()
    return out


def in_process(
    bench: Workbench,
    python: str,
    script: str,
    *args: str,
    text: str = "",
    url: str = "",
    root: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """One of the bench's scripts in a fresh interpreter of the runtime's Python, with a task
    root (Pigeon's unless told) first on the path and the function's environment, as the
    runtime would (-B: nothing written, as in Lambda's read-only task root); its stdout."""
    root = root or bench.ours
    variables = {"PIGEON_RABBITMQ_URL": url or bench.url, **(env or {})}
    environment = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(root),
        **bench.sandbox(root, HANDLER, **variables).spec.environment,
    }
    done = subprocess.run(
        [python, "-S", "-B", str(Path(__file__).with_name(script)), *args],
        input=text,
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=600,
    )
    return done.stdout.strip().splitlines()[-1]


def runtime_overhead(bench: Workbench, python: str, n: int) -> dict[str, Any]:
    """Warm invoke through the local runtime vs calling the handler in a plain process."""
    lines = "".join(bench.one_accepted().decode() + "\n" for _ in range(n + 1))
    direct = json.loads(in_process(bench, python, "direct_call.py", text=lines))
    through = []
    with bench.ours_sandbox() as box:
        box.invoke(bench.one_accepted())
        for _ in range(n):
            payload = bench.one_accepted()
            started = time.perf_counter()
            outcome = box.invoke(payload)
            through.append((time.perf_counter() - started) * 1000)
            assert outcome.ok, outcome.payload
    bench.purge()
    result = {"direct_p50_ms": percentile(direct, 50), "runtime_p50_ms": percentile(through, 50)}
    result["overhead_ms"] = result["runtime_p50_ms"] - result["direct_p50_ms"]
    return result


def where_warm_time_goes(
    bench: Workbench, python: str, n: int, records: int, url: str = ""
) -> dict[str, float]:
    """cProfile of n warm calls of the handler in-process, ms per call by area."""
    event = bench.accepted_event if records > 1 else (lambda _n: bench.one_accepted())
    lines = "".join(event(records).decode() + "\n" for _ in range(n + 1))
    found = in_process(bench, python, "direct_call.py", "--profile", text=lines, url=url)
    areas = json.loads(found)
    bench.purge()
    return {str(name): float(ms) for name, ms in areas.items()}


def cold_breakdown(
    bench: Workbench, python: str, n: int, root: Path, secret: Secret | None = None
) -> dict[str, float]:
    """Where a cold start's own work goes (medians of n fresh interpreters, ms), from `root`
    (with or without bytecode): pigeon.handler's import, with a secret its read (one signed
    GetSecretValue), the first publish's imports, the connection, one publish
    and its confirm. The caller puts Python and the runtime client in front."""
    env = secret.environment if secret else {}
    url = "" if secret else bench.url
    runs = [
        json.loads(in_process(bench, python, "cold_phases.py", bench.queue, url=url, root=root,
                              env=env))
        for _ in range(n)
    ]  # fmt: skip
    bench.purge()
    return {str(name): median([float(run[name]) for run in runs]) for name in runs[0]}


REST = "the rest in the runtime (invoke handling, first call)"


def cold_breakdowns(
    bench: Workbench,
    python: str,
    n: int,
    measured: dict[str, Any],
    secret: Secret,
    label: str,
) -> dict[str, dict[str, float]]:
    """Where a cold start goes, with and without bytecode, for the URL configuration and the
    secret one: Python and the runtime client (the no-op handler's Init Duration in the same
    figure), the phases of a fresh interpreter, and what they leave out of the cold start the
    runtime reported for that tree (the runtime client's invoke handling, the first call)."""
    configs = {
        "URL config, bytecode": (bench.ours, None, "cold_url", "ours"),
        "URL config, no bytecode": (bench.source, None, "cold_url", "source"),
        f"{label}, bytecode": (bench.ours, secret, "cold_secret", "ours"),
        f"{label}, no bytecode": (bench.source, secret, "cold_secret", "source"),
    }
    found: dict[str, dict[str, float]] = {}
    for name, (root, config_secret, figure, side) in configs.items():
        runs = measured[figure]["runs"]
        phases = {"Python and the runtime client": mean(r["noop"]["init_ms"] for r in runs)}
        phases.update(cold_breakdown(bench, python, n, root, config_secret))
        total = mean(r[side]["cold_total_ms"] for r in runs)
        found[name] = with_rest(phases, total)
    return found


def with_rest(phases: dict[str, float], total: float) -> dict[str, float]:
    """The phases and what they leave of `total` (REST), so that they add up to it exactly.
    REST is never clamped: negative, it says the phases measured apart took longer than the
    cold starts the runtime reported (noise, or a phase counted twice), and the figure says so."""
    return {**phases, REST: total - sum(phases.values())}


def negative_rests(breakdowns: dict[str, dict[str, float]]) -> dict[str, float]:
    """The configurations whose phases overshoot their total, by how much (ms)."""
    return {name: -p[REST] for name, p in breakdowns.items() if p.get(REST, 0.0) < 0}


def import_times(
    python: str, root: Path, module: str = "pigeon.handler"
) -> list[tuple[str, float, float]]:
    """`python -X importtime -c 'import MODULE'`: the slowest imports, [module, self ms,
    cumulative ms], by cumulative time."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), **_quiet_environment()}
    done = subprocess.run(
        [python, "-S", "-B", "-X", "importtime", "-c", f"import {module}"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    rows: list[tuple[str, float, float]] = []
    for line in done.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            rows.append((parts[2], int(parts[0]) / 1000, int(parts[1]) / 1000))
    return sorted(rows, key=lambda row: -row[2])[:12]


def _quiet_environment() -> dict[str, str]:
    from pigeon_tools.lambda_local import function

    return function.environment(function.LOCAL_BROKER_URL, "bench", PIGEON_ENV="bench")


def zip_figures(zip_path: Path = ZIP) -> dict[str, Any]:
    """The zip's size, zipped and unzipped, and what its bytecode adds, exactly: zipped, the
    zip's size less that of the same zip written without its .pyc (their entries' headers and
    directory records included); unzipped, the .pyc files' sizes (what Lambda's 250 MB
    counts)."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    pycs = [i for i in infos if i.filename.endswith(".pyc")]
    zipped = zip_path.stat().st_size
    without = zip_without(zip_path, lambda name: not name.endswith(".pyc"))
    unzipped = sum(i.file_size for i in infos)
    pyc_unzipped = sum(i.file_size for i in pycs)
    return {
        "zip_mb": zipped / 1e6,
        "unzipped_mb": unzipped / 1e6,
        "bytecode_in_zip_mb": (zipped - without) / 1e6,
        "bytecode_unzipped_mb": pyc_unzipped / 1e6,
        "zip_without_bytecode_mb": without / 1e6,
        "unzipped_without_bytecode_mb": (unzipped - pyc_unzipped) / 1e6,
        "bytes": {
            "zip": zipped,
            "zip_without_bytecode": without,
            "bytecode_in_zip": zipped - without,
            "unzipped": unzipped,
            "unzipped_without_bytecode": unzipped - pyc_unzipped,
            "bytecode_unzipped": pyc_unzipped,
        },
        "pyc_files": len(pycs),
    }


def zip_without(zip_path: Path, keep: Callable[[str], bool]) -> int:
    """The size in bytes of `zip_path` written again by the build's own zip writer (same
    order, dates, modes, compression) with only the entries `keep` keeps."""
    from pigeon_tools import archive as archives
    from pigeon_tools.build.package import write_zip

    with tempfile.TemporaryDirectory(prefix="pigeon-bench-zip-") as scratch:
        root = archives.extract(zip_path, Path(scratch) / "root")
        for path in sorted(root.rglob("*"), reverse=True):
            name = path.relative_to(root).as_posix()
            if path.is_file() and not keep(name):
                path.unlink()
        target = Path(scratch) / "without.zip"
        write_zip(root, target)
        return target.stat().st_size


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


def secret_for(url: str, endpoint: str) -> Secret:
    """A secret holding the broker URL in moto's Secrets Manager; the function's variables."""
    client = moto_server.client("secretsmanager", endpoint)
    name = f"bench-{uuid.uuid4().hex[:6]}"
    arn = client.create_secret(Name=name, SecretString=json.dumps({"url": url}))["ARN"]
    environment = {
        "PIGEON_RABBITMQ_SECRET_ARN": arn,
        "PIGEON_RABBITMQ_URL": "",
        **moto_server.function_environment(endpoint),
    }
    return Secret(endpoint, arn, environment)
