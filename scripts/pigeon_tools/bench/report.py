"""The bench's table (also written into docs/performance.md), its verdicts and its two plots.

Every figure was measured twice, back to back (`runs` in bench/results.json): the table shows
both results, and flags a figure whose two runs differ by more than 15% as noisy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pigeon_tools.build.verify import LAMBDA_UNZIPPED_LIMIT, LAMBDA_ZIPPED_LIMIT

NOISY = 0.15

Run = dict[str, Any]


@dataclass(frozen=True)
class Line:
    """One row: a figure of one measurement, Pigeon's value against a baseline or a limit."""

    name: str
    figure: str  # the key in results["figures"]
    ours: Callable[[Run], float]
    other: Callable[[Run], float]
    unit: str  # ms, ids/s, MB, s
    against: str  # what `other` is
    goal: tuple[str, float] | None = None  # ("<=", 1.3), (">=", 0.9); None: report only
    difference: bool = False  # ours - other in the unit, instead of ours / other

    def result(self, run: Run) -> float:
        ours, other = self.ours(run), self.other(run)
        return ours - other if self.difference else ours / other

    def shown(self, value: float) -> str:
        if self.difference:
            return f"{value:+.2f} {self.unit}"
        return f"{value:.2f}x"


def _value(value: float, unit: str) -> str:
    if unit == "MB" and value < 100:
        return f"{value:.1f} MB"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "ids/s":
        return f"{value:,.0f} ids/s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.1f} {unit}"


def _side(side: str, key: str = "p50_ms") -> Callable[[Run], float]:
    """One side's figure of a run: _side("ours"), _side("noop", "init_ms")."""
    return lambda run: float(run[side][key])


def _limit(key: str = "total_ms") -> Callable[[Run], float]:
    return lambda run: float(run["limit"][key])


def secret_label(tls: bool) -> str:
    """The production configuration's name: the broker's URL in a secret (over TLS, as Amazon
    MQ has it, when the run had a TLS broker)."""
    return "secret ARN + TLS" if tls else "secret ARN"


NO_BYTECODE = "the same build without bytecode"
COLD_LIMIT = "no-op Init + raw pika connect, publish and confirm"


def lines(tls: bool) -> list[Line]:
    """The rows, in order; the TLS ones when the run had a TLS broker."""
    secret = secret_label(tls)
    secret_limit = "no-op Init + stdlib GetSecretValue + raw pika " + (
        "TLS connect, publish and confirm" if tls else "connect, publish and confirm"
    )
    found = [
        Line("Pigeon's own warm cost (p50 minus no-op p50)", "warm_latency",
             lambda r: float(r["own_cost_ms"]), _side("limit"), "ms",
             "raw pika: 1 publish + confirm, open channel", ("<=", 1.3)),
        Line("warm invoke, 1 record, p50", "warm_latency", _side("ours"), _side("baseline"),
             "ms", "connection per invocation (seed)"),
        Line("warm floor: no-op p50 + raw pika publish and confirm", "warm_latency",
             lambda r: float(r["noop"]["p50_ms"] + r["limit"]["p50_ms"]), _side("baseline"),
             "ms", "connection per invocation (seed)"),
        Line("warm invoke, 1 record, p99", "warm_latency", _side("ours", "p99_ms"),
             _side("baseline", "p99_ms"), "ms", "connection per invocation (seed)"),
        Line("no-op handler, warm p50 (runtime client)", "warm_latency", _side("noop"),
             _side("ours"), "ms", "Pigeon's warm p50"),
        Line("throughput, one 500-record event", "throughput",
             lambda r: float(r["ours_ids_per_s"]), lambda r: float(r["limit_ids_per_s"]),
             "ids/s", "raw pika pipelined: all published, then all confirmed", (">=", 0.9)),
        Line("throughput, one 500-record event", "throughput",
             lambda r: float(r["ours_ids_per_s"]), lambda r: float(r["baseline_ids_per_s"]),
             "ids/s", "raw pika, a confirm per message (seed)", (">=", 0.8)),
        Line("burst at concurrency 1: Event invocations, 1 id each", "burst",
             lambda r: float(r["first_ids_per_s"]),
             lambda r: float(r["single_environment_ids_per_s"]), "ids/s",
             "one environment, the same events back to back", (">=", 0.8)),
        Line("burst at the highest concurrency", "burst", lambda r: float(r["top"]["ids_per_s"]),
             lambda r: float(r["top"]["limit_ids_per_s"]), "ids/s",
             "raw pika pipelined over as many connections"),
        Line("burst: ids lost, at every concurrency", "burst", lambda r: float(r["lost"]),
             lambda r: 0.0, "ids", "none", ("<=", 0.0), difference=True),
        Line("burst: ids duplicated, at every concurrency", "burst",
             lambda r: float(r["duplicates"]), lambda r: 0.0, "ids", "none", difference=True),
        Line("burst: peak broker connections per environment", "burst",
             lambda r: float(r["connections_per_environment_limit"]), lambda r: 1.0,
             "connections", "one per environment (peak <= concurrency)", ("<=", 1.0)),
        Line(f"cold start, {secret} (Init + first invoke)", "cold_secret",
             _side("ours", "cold_total_ms"), _side("source", "cold_total_ms"), "ms",
             NO_BYTECODE, ("<=", 0.45)),
        Line(f"cold start, {secret} (Init + first invoke)", "cold_secret",
             _side("ours", "cold_total_ms"), _limit(), "ms", secret_limit, ("<=", 2.0)),
        Line(f"billed ms per cold start, {secret}", "cold_secret", _side("ours", "billed_ms"),
             _side("source", "billed_ms"), "ms", NO_BYTECODE),
        Line(f"{secret}: Init Duration", "cold_secret", _side("ours", "init_ms"),
             _side("baseline", "init_ms"), "ms", "naive eager handler (boto3 client at init)"),
        Line(f"{secret}: first invoke after init", "cold_secret",
             _side("ours", "first_invoke_ms"), _side("baseline", "first_invoke_ms"), "ms",
             "naive eager handler", difference=True),
        Line(f"{secret}: the secret read in Init (prototype)", "cold_secret",
             _side("eager", "cold_total_ms"), _side("ours", "cold_total_ms"), "ms",
             "Pigeon: the secret read on the first publish"),
        Line(f"{secret}: first invoke, the secret read in Init (prototype)",
             "cold_secret", _side("eager", "first_invoke_ms"),
             _side("ours", "first_invoke_ms"), "ms",
             "Pigeon: the secret read on the first publish", difference=True),
        Line("cold start, URL config (Init + first invoke)", "cold_url",
             _side("ours", "cold_total_ms"), _side("source", "cold_total_ms"), "ms",
             NO_BYTECODE, ("<=", 0.6)),
        Line("cold start, URL config (Init + first invoke)", "cold_url",
             _side("ours", "cold_total_ms"), _limit(), "ms", COLD_LIMIT),
        Line("cold start, URL config (Init + first invoke)", "cold_url",
             _side("ours", "cold_total_ms"), _side("baseline", "cold_total_ms"), "ms",
             "naive eager handler", ("<=", 0.35)),
        Line("billed ms per cold start, URL config", "cold_url", _side("ours", "billed_ms"),
             _side("source", "billed_ms"), "ms", NO_BYTECODE),
        Line("Init Duration, URL config", "cold_url", _side("ours", "init_ms"),
             _side("noop", "init_ms"), "ms", "no-op handler: Python + runtime client",
             ("<=", 30.0), difference=True),
        Line("Init Duration, URL config", "cold_url", _side("ours", "init_ms"),
             _side("baseline", "init_ms"), "ms", "naive eager handler", ("<=", 0.35)),
        Line("Max Memory Used (cold)", "cold_url", _side("ours", "max_memory_mb"),
             _side("baseline", "max_memory_mb"), "MB", "naive eager handler"),
    ]  # fmt: skip
    if tls:
        found += [
            Line("TLS: Pigeon's own warm cost", "warm_latency_tls",
                 lambda r: float(r["own_cost_ms"]), _side("limit"), "ms",
                 "raw pika over TLS: 1 publish + confirm", ("<=", 1.3)),
            Line("TLS: warm invoke, 1 record, p50", "warm_latency_tls", _side("ours"),
                 _side("baseline"), "ms", "connection per invocation over TLS (seed)"),
            Line("TLS: cold start, URL config (Init + first invoke)", "cold_tls",
                 _side("ours", "cold_total_ms"), _side("baseline", "cold_total_ms"), "ms",
                 "naive eager handler over TLS", ("<=", 0.35)),
        ]  # fmt: skip
    from pigeon_tools.bench import restore  # SnapStart's rows (bench/restore.py)

    found += restore.lines()
    found += [
        Line("local runtime overhead per warm invoke", "runtime_overhead",
             lambda r: float(r["runtime_p50_ms"]), lambda r: float(r["direct_p50_ms"]), "ms",
             "the handler called in-process", ("<=", 3.0), difference=True),
        Line("zip size", "zip", lambda r: float(r["zip_mb"]),
             lambda r: float(r["zip_without_bytecode_mb"]), "MB", "without its bytecode"),
        Line("zip size", "zip", lambda r: float(r["zip_mb"]),
             lambda _r: LAMBDA_ZIPPED_LIMIT / 1e6, "MB", "Lambda's limit, zipped"),
        Line("unzipped size", "zip", lambda r: float(r["unzipped_mb"]),
             lambda _r: LAMBDA_UNZIPPED_LIMIT / 1e6, "MB", "Lambda's limit, unzipped"),
        Line("build: warm rebuild", "build", lambda r: float(r["warm_s"]),
             lambda r: float(r["cold_s"]), "s", "cold build", ("<=", 0.3)),
    ]  # fmt: skip
    return found


def noisy(results: list[float]) -> bool:
    a, b = results[0], results[-1]
    scale = max(abs(a), abs(b))
    return scale > 0 and abs(a - b) / scale > NOISY


def goal_text(line: Line) -> str:
    if line.goal is None:
        return "report"
    op, goal = line.goal
    return f"{op} {line.shown(goal)}"


def verdict(line: Line, value: float) -> str:
    if line.goal is None:
        return "report"
    op, goal = line.goal
    met = value <= goal if op == "<=" else value >= goal
    if met:
        return "met"
    missed = abs(value - goal)
    return f"missed by {missed:.2f} {line.unit}" if line.difference else f"missed by {missed:.2f}x"


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row with both runs' results, the mean, the verdict and the noise flag."""
    figures = results["figures"]
    rows = []
    for line in lines(tls="warm_latency_tls" in figures):
        measured = figures.get(line.figure)
        if measured is None:
            continue
        runs = measured["runs"]
        values = [line.result(run) for run in runs]
        mean = sum(values) / len(values)
        rows.append(
            {
                "figure": line.name,
                "ours": _value(sum(line.ours(r) for r in runs) / len(runs), line.unit),
                "against": line.against,
                "other": _value(sum(line.other(r) for r in runs) / len(runs), line.unit),
                "runs": [line.shown(v) for v in values],
                "result": line.shown(mean),
                "goal": goal_text(line),
                "verdict": verdict(line, mean),
                "noisy": noisy(values),
            }
        )
    return rows


def markdown_table(header: tuple[str, ...], table: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *map(line, table)])


def markdown(rows: list[dict[str, Any]]) -> str:
    header = ("figure", "Pigeon", "against", "value", "runs 1 / 2", "goal", "verdict")
    table = [
        (
            r["figure"],
            r["ours"],
            f"{r['other']}: {r['against']}",
            r["result"],
            " / ".join(r["runs"]) + (" **noisy**" if r["noisy"] else ""),
            r["goal"],
            r["verdict"],
        )
        for r in rows
    ]
    return markdown_table(header, table)


def plot(results: dict[str, Any], path: Path) -> None:
    """Warm latency distributions (first run): Pigeon, the seed's strategy, the no-op handler,
    and raw pika's publish and confirm, over plain AMQP and TLS."""
    plt = _pyplot()
    from matplotlib.ticker import ScalarFormatter

    series = [("", results["figures"]["warm_latency"]["runs"][0])]
    if "warm_latency_tls" in results["figures"]:
        series.append((" over TLS", results["figures"]["warm_latency_tls"]["runs"][0]))
    data, labels = [], []
    for suffix, warm in series:
        data += [
            warm["baseline"]["samples_ms"],
            warm["ours"]["samples_ms"],
            warm["noop"]["samples_ms"],
            warm["limit"]["samples_ms"],
        ]
        labels += [
            f"seed strategy{suffix}\n(connection per invocation)",
            f"Pigeon{suffix}\n(kept connection)",
            f"no-op handler{suffix}\n(runtime client only)",
            f"raw pika{suffix}\n(publish + confirm, no runtime)",
        ]
    figure, axis = plt.subplots(figsize=(9, 1.2 + 0.8 * len(data)))
    axis.boxplot(data, orientation="horizontal", showfliers=True, widths=0.5)
    axis.set_yticks(range(1, len(data) + 1), labels)
    axis.set_xscale("log")
    axis.xaxis.set_major_formatter(ScalarFormatter())
    axis.set_xlabel("warm invoke Duration (REPORT), ms, log scale; 1 accepted record")
    warm = series[0][1]
    axis.set_title(
        f"Warm latency, {len(warm['ours']['samples_ms'])} invokes each, same broker and run: "
        f"Pigeon p50 {warm['ours']['p50_ms']:.2f} ms"
    )
    axis.grid(True, axis="x", which="both", alpha=0.3)
    _save(plt, figure, path)


def plot_cold_start(results: dict[str, Any], path: Path) -> None:
    """Where a cold start goes: the phases of each configuration, with and without bytecode,
    stacked; one colour per phase across the bars."""
    plt = _pyplot()
    breakdowns: dict[str, dict[str, float]] = results["cold_breakdown"]
    from matplotlib.patches import Patch

    longest = max(breakdowns.values(), key=len)
    names = list(dict.fromkeys([*longest, *(n for phases in breakdowns.values() for n in phases)]))
    colours = dict(zip(names, plt.get_cmap("tab10").colors, strict=False))
    figure, axis = plt.subplots(figsize=(10, 1.6 + 0.6 * len(breakdowns)))
    for config, phases in reversed(breakdowns.items()):
        left = 0.0
        for name, ms in phases.items():
            axis.barh(config, ms, left=left, color=colours[name])
            left += ms
        axis.text(left, config, f" {left:.0f} ms", va="center", fontsize=8)
    axis.set_xlabel("ms: Init Duration + first invoke, to the first confirmed crash id")
    axis.set_title("Where a cold start goes (medians), with and without bytecode in the zip")
    handles = [Patch(color=colours[name], label=name) for name in names]
    axis.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3),
                ncol=3)  # fmt: skip
    axis.grid(True, axis="x", alpha=0.3)
    _save(plt, figure, path)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, figure: Any, path: Path) -> None:
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _areas(areas: dict[str, float], top: int = 4) -> str:
    total = sum(areas.values()) or 1.0
    shown = list(areas.items())[:top]
    return ", ".join(f"{name} {ms:.2f} ms ({ms / total:.0%})" for name, ms in shown)


def explain(rows: list[dict[str, Any]], results: dict[str, Any]) -> list[str]:
    """For each missed goal, by how much and where the time goes, from the run's own
    measurements (cProfile of the handler in-process, -X importtime, the cold phases)."""
    diagnosis, found = results.get("diagnosis", {}), []
    for row in rows:
        if not row["verdict"].startswith("missed"):
            continue
        name = row["figure"]
        why = ""
        if "TLS" in name and ("own warm cost" in name or "warm invoke" in name):
            why = "Pigeon's handler per call over TLS, by cProfile: " + _areas(
                diagnosis.get("warm_1_record_tls_ms_by_area", {})
            )
        elif "own warm cost" in name:
            why = "Pigeon's handler per call, by cProfile: " + _areas(
                diagnosis.get("warm_1_record_ms_by_area", {})
            )
        elif name.startswith("burst"):
            run = results["figures"]["burst"]["runs"][0]
            why = (
                "; ".join(
                    f"concurrency {c}: {r['ids_per_s']:,.0f} ids/s, {r['lost']} lost, "
                    f"{r['duplicates']} duplicated, peak {r['peak_connections']} connection(s), "
                    f"{r['failed_invocations']} failed invocation(s)"
                    for c, r in run["by_concurrency"].items()
                )
                + ". "
                + str(run.get("flattening", ""))
            )
        elif "throughput" in name:
            why = "per 500-record event, by cProfile: " + _areas(
                diagnosis.get("warm_500_records_ms_by_area", {})
            )
        elif "build" in name:
            why = "the warm rebuild reuses the export, the installed tree, the SBOM and the "
            why += "import check; what remains is copying, zipping and checking (`make build`)"
        elif "cold start" in name or "Init" in name:
            secret = "secret ARN" in name
            breakdowns = results.get("cold_breakdown", {})
            wanted = "secret ARN" if secret else "URL config"
            phases: dict[str, float] = next(
                (
                    v
                    for k, v in breakdowns.items()
                    if k.startswith(wanted) and "no bytecode" not in k
                ),
                {},
            )
            why = "cold phases with bytecode: " + ", ".join(
                f"{k} {v:.0f} ms" for k, v in phases.items()
            )
            why += f" (together {sum(phases.values()):.0f} ms, the measured cold start"
            overshoot = [v for v in phases.values() if v < 0]
            if overshoot:  # the residual, never clamped
                why += f"; the phases measured apart overshoot it by {-overshoot[0]:.0f} ms"
            why += ")"
            imports = diagnosis.get("slowest_imports_secret" if secret else "slowest_imports", [])
            why += "; slowest imports (cumulative): " + ", ".join(
                f"{module} {cumulative:.0f} ms" for module, _own, cumulative in imports[:3]
            )
        found.append(f"{name}: {row['result']} against {row['goal']}, {row['verdict']}. {why}")
    return found
