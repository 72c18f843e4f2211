"""The bench's table (also written into docs/performance.md) and its plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str]


def _ms(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f} ms"


def rows(results: dict[str, Any]) -> list[Row]:
    w, t, c = results["warm_latency"], results["throughput"], results["init_url"]
    s, o, z = results["init_secret"], results["runtime_overhead"], results["zip"]
    tls, b = results.get("warm_latency_tls"), results.get("build")
    table: list[Row] = [
        ("warm invoke, 1 record, p50", _ms(w["ours"]["p50_ms"]), _ms(w["baseline"]["p50_ms"]),
         f"{w['p50_ratio']:.2f}x", "<= 0.2x"),
        ("warm invoke, 1 record, p99", _ms(w["ours"]["p99_ms"]), _ms(w["baseline"]["p99_ms"]),
         f"{w['p99_ratio']:.2f}x", "report"),
    ]  # fmt: skip
    if tls:
        table.append(
            ("warm invoke over TLS (amqps), p50", _ms(tls["ours"]["p50_ms"]),
             _ms(tls["baseline"]["p50_ms"]), f"{tls['p50_ratio']:.2f}x", "report")
        )  # fmt: skip
    table += [
        ("throughput, one 500-record event", f"{t['ours_ids_per_s']:.0f} ids/s",
         f"{t['baseline_ids_per_s']:.0f} ids/s", f"{t['ratio']:.2f}x", ">= 0.8x"),
        ("Init Duration, URL config (median)", _ms(c["ours"]["init_ms"], 0),
         _ms(c["baseline"]["init_ms"], 0), f"{c['init_ratio']:.2f}x", "<= 0.35x"),
        ("Init Duration, secret ARN (moto)", _ms(s["ours"]["init_ms"], 0),
         _ms(s["baseline"]["init_ms"], 0), f"{s['init_ratio']:.2f}x", "report"),
        ("first invoke after init, secret ARN", _ms(s["ours"]["first_invoke_ms"], 0),
         _ms(s["baseline"]["first_invoke_ms"], 0), "", "report"),
        ("runtime overhead per warm invoke", _ms(o["runtime_p50_ms"]),
         _ms(o["direct_p50_ms"]) + " (direct)", f"+{o['overhead_ms']:.2f} ms", "<= +3 ms"),
        ("Max Memory Used (cold, URL)", f"{c['ours']['max_memory_mb']:.0f} MB",
         f"{c['baseline']['max_memory_mb']:.0f} MB", f"{c['memory_ratio']:.2f}x", "report"),
        ("zip size (without boto3 and its deps)", f"{z['zip_mb']:.1f} MB",
         f"{z['zip_without_boto3_mb']:.1f} MB", "", "report"),
    ]  # fmt: skip
    if b:
        table.append(
            ("build: warm rebuild vs cold", f"{b['warm_s']:.1f} s", f"{b['cold_s']:.1f} s (cold)",
             f"{b['ratio']:.2f}x", "<= 0.3x")
        )  # fmt: skip
    return table


def markdown(
    table: list[Row], header: Row = ("figure", "ours", "baseline", "ratio", "goal")
) -> str:
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *map(line, table)])


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
        f"and run: p50 {warm['ours']['p50_ms']:.2f} vs {warm['baseline']['p50_ms']:.2f} ms"
    )
    axis.grid(True, axis="x", which="both", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
