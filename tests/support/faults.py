"""What every fault test records: the ids it checked, lost (0) and the cases survived."""

from __future__ import annotations

from pigeon_tools.events import new_crash_id
from support import evidence


def accepted(n: int) -> list[str]:
    return [new_crash_id("accept") for _ in range(n)]


def survived(case: str, ids: list[str], on_queue: list[str]) -> None:
    """Record the case for the report, and check that no id was lost."""
    lost = set(ids) - set(on_queue)
    evidence.figures["ids_lost"] += len(lost)
    evidence.figures["ids_checked"] += len(ids)
    assert not lost, f"{case}: lost {sorted(lost)[:5]}"
    evidence.figures["faults_survived"] += 1
