"""The reliability figures of a full test session (reports/reliability.json) as a table."""

from __future__ import annotations

from typing import Any

# Figures every full session must have produced before it writes the report.
REQUIRED = (
    "faults_survived",
    "ids_checked",
    "ids_lost",
    "bad_inputs_tried",
    "load",
    "secret_scan",
    "cluster",
)


def complete(report: dict[str, Any]) -> bool:
    return all(key in report for key in REQUIRED)


def table(report: dict[str, Any]) -> str:
    load, scan = report["load"], report["secret_scan"]
    rows = [
        ("fault cases survived", f"{report['faults_survived']}"),
        ("crash ids checked after faults and load", f"{report['ids_checked']:,}"),
        ("ids lost", f"**{report['ids_lost']}**"),
        (
            "duplicates after retries (a broker or node killed mid-event)",
            f"{report.get('duplicates_after_retry', 0):,} (at least once allows them)",
        ),
        (
            "load",
            f"{load['ids']:,} ids, {load['events']:,} invocations, {load['invokers']} invokers: "
            f"{load['seconds']} s, {load['ids_per_second']:,} ids/s, {load['lost']} lost, "
            f"{load['duplicated']} duplicated",
        ),
        ("bad inputs tried", f"{report['bad_inputs_tried']:,}, nothing invalid published"),
        (
            "secret scan",
            f"{scan['texts']:,} texts, {scan['secrets']} secrets watched, {scan['leaks']} leaks",
        ),
    ]
    rows += cluster_rows(report.get("cluster", {}).get("cases", {}))
    for name, value in sorted(report.get("rows", {}).items()):
        rows.append((name, str(value)))
    lines = [
        f"Full test session of {report.get('when', 'unknown date')}:",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def cluster_rows(cases: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """One row per fault case on the three-node cluster (tests/reliability/test_cluster.py)."""
    rows = []
    for case, figures in sorted(cases.items()):
        parts = [f"{figures['ids']:,} ids", f"{figures['lost']} lost"]
        parts.append(f"{figures.get('duplicates', 0):,} duplicates")
        if "failover_seconds" in figures:
            parts.append(f"failed over in {figures['failover_seconds']} s")
        if "failed_after_seconds" in figures:
            parts.append(f"failed after {figures['failed_after_seconds']} s (publish timeout)")
        if "outcome" in figures:
            parts.append(str(figures["outcome"]))
        if "invocations" in figures:
            parts.append(
                f"{figures['invocations']:,} invocations ({figures['failed_invocations']} failed "
                f"and retried) in {figures['seconds']} s"
            )
        rows.append((f"cluster: {case}", ", ".join(parts)))
    return rows
