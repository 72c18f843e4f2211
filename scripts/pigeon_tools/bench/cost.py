"""Lambda's compute cost per million crashes, on paper, from the billed durations the bench
measured: one crash per invocation (S3 sends one object per event), Lambda's published on-demand
prices (us-east-1, first tier), Init billed since August 2025.

This machine does not scale CPU with memory as Lambda does, so the same measured durations are
used for every memory size: at 128 MB Lambda gives a function about a twelfth of a vCPU, and the
CPU-bound parts (imports at a cold start, the TLS handshake) take longer there than here."""

from __future__ import annotations

import math
from typing import Any

PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_REQUEST = 0.20 / 1_000_000
MEMORY_MB = (128, 256, 512)
PRICES_AS_OF = "2026-11 (aws.amazon.com/lambda/pricing)"


def billed_ms(duration_ms: float) -> int:
    """Lambda bills each invocation in whole milliseconds, rounded up; a cold start's Init
    Duration is part of its first invoke's billed duration since August 2025."""
    return max(1, math.ceil(duration_ms))


def table(warm_ms: float, cold_ms: float) -> list[dict[str, Any]]:
    """USD per million crashes (warm invocations, requests included) and per 1,000 cold starts
    (Init and the first invoke), for each memory size and architecture."""
    rows = []
    for memory in MEMORY_MB:
        for arch, price in PRICE_PER_GB_SECOND.items():
            gb = memory / 1024
            per_million = 1_000_000 * (billed_ms(warm_ms) / 1000 * gb * price + PRICE_PER_REQUEST)
            per_thousand_cold = 1000 * billed_ms(cold_ms) / 1000 * gb * price
            rows.append(
                {
                    "memory_mb": memory,
                    "arch": arch,
                    "per_million_crashes_usd": round(per_million, 4),
                    "compute_share": round(1 - PRICE_PER_REQUEST * 1_000_000 / per_million, 3),
                    "per_thousand_cold_starts_usd": round(per_thousand_cold, 5),
                }
            )
    return rows


def markdown(rows: list[dict[str, Any]], warm_ms: float, cold_ms: float, config: str = "") -> str:
    from pigeon_tools.bench.report import markdown_table

    header = ("memory", "architecture", "per million crashes", "of which compute",
              "per 1,000 cold starts")  # fmt: skip
    body = [
        (
            f"{row['memory_mb']} MB",
            row["arch"],
            f"${row['per_million_crashes_usd']:.4f}",
            f"{row['compute_share']:.0%}",
            f"${row['per_thousand_cold_starts_usd']:.5f}",
        )
        for row in rows
    ]
    what = f", {config}" if config else ""
    intro = (
        f"Billed per warm crash: {billed_ms(warm_ms)} ms (p50 {warm_ms:.2f} ms); per cold start "
        f"{billed_ms(cold_ms)} ms (Init + first invoke{what}). Prices as of {PRICES_AS_OF}; the "
        "request charge ($0.20 per million) is the same for every size."
    )
    return intro + "\n\n" + markdown_table(header, body)
