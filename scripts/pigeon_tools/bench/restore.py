"""SnapStart's cold start, as far as it can be measured here: a restored environment's first
invoke next to an ordinary cold start (Init + first invoke), in the same run.

The restored side is the local runtime's restore mode (lambda_local/snapstart.py): Init ran
once, before the snapshot; the figure is the local Restore Duration (the after-restore hooks,
until the runtime asks for its event) plus the first invoke, which opens the broker connection
the before-snapshot hook closed. It is the LOCAL STAND-IN for Lambda's Restore Duration: the
real restore resumes a microVM from a cached snapshot, which cannot be measured here, and adds
to it. The snapshot's own Init, paid once per published version, is reported beside it.
"""

from __future__ import annotations

from typing import Any

from pigeon_tools.bench.report import Line, _side
from pigeon_tools.bench.stats import median
from pigeon_tools.bench.workbench import Workbench
from pigeon_tools.lambda_local.function import HANDLER
from pigeon_tools.lambda_local.snapstart import Snapshot

FIGURE = "snapstart_restore"
LABEL = "local stand-in for Restore Duration; the microVM restore is not measurable here"


def restored_cold_starts(bench: Workbench, n: int, restored: int = 2) -> dict[str, Any]:
    """n rounds, interleaved: an ordinary cold start of Pigeon (URL config), then a snapshot
    with `restored` environments, each invoked once (medians over every restored one)."""
    ordinary: list[float] = []
    inits: list[float] = []
    restores: list[tuple[float, float]] = []
    for _ in range(n):
        with bench.ours_sandbox() as box:
            outcome = box.invoke(bench.one_accepted())
        assert outcome.ok, outcome.payload
        ordinary.append((outcome.report.init_ms or 0.0) + outcome.report.duration_ms)
        spec = bench.sandbox(bench.ours, HANDLER).spec
        with Snapshot(spec, restored) as snapshot:
            error = snapshot.take()
            assert error is None, error
            inits.append(snapshot.init_ms or 0.0)
            for environment in snapshot:
                outcome = environment.invoke(bench.one_accepted())
                assert outcome.ok, outcome.payload
                restores.append((outcome.report.restore_ms or 0.0, outcome.report.duration_ms))
    bench.purge()
    out: dict[str, Any] = {
        "ours": {"cold_total_ms": median(ordinary)},
        "restored": {
            "restore_ms": median([restore for restore, _ in restores]),
            "first_invoke_ms": median([first for _, first in restores]),
            "cold_total_ms": median([restore + first for restore, first in restores]),
            "snapshot_init_ms": median(inits),
            "environments": len(restores),
        },
        "label": LABEL,
        "rounds": n,
    }
    out["ratio"] = out["restored"]["cold_total_ms"] / out["ours"]["cold_total_ms"]
    return out


def lines() -> list[Line]:
    """The rows of this figure, for the bench's table: reported, no goal (the real restore
    time is not in them)."""
    return [
        Line("SnapStart: restored environment's first invoke (Restore Duration + invoke)",
             FIGURE, _side("restored", "cold_total_ms"), _side("ours", "cold_total_ms"), "ms",
             f"ordinary cold start, URL config ({LABEL})"),
        Line("SnapStart: Restore Duration, local (after-restore hooks)", FIGURE,
             _side("restored", "restore_ms"), _side("ours", "cold_total_ms"), "ms",
             "ordinary cold start, URL config"),
    ]  # fmt: skip
