"""The reliability figures of a full test session (reports/reliability.json) as a table."""

from __future__ import annotations

from typing import Any

# Figures every full session must have produced before it writes the report.
REQUIRED = ("faults_survived", "ids_checked", "ids_lost", "bad_inputs_tried", "load", "secret_scan")


def complete(report: dict[str, Any]) -> bool:
    return all(key in report for key in REQUIRED)


def table(report: dict[str, Any]) -> str:
    load, scan = report["load"], report["secret_scan"]
    rows = [
        ("fault cases survived", f"{report['faults_survived']}"),
        ("crash ids checked after faults and load", f"{report['ids_checked']:,}"),
        ("ids lost", f"**{report['ids_lost']}**"),
        (
            "duplicates after retries (broker killed mid-event)",
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
