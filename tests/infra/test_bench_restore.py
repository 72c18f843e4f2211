"""The bench's SnapStart figure, measured once with one round (no timing asserts): a restored
environment's first invoke next to an ordinary cold start, labelled as the local stand-in."""

from __future__ import annotations

from pigeon_tools.bench import report, restore
from pigeon_tools.bench.workbench import Workbench


def test_the_restored_first_invoke_is_measured_beside_the_ordinary_cold_start(broker, tmp_path):
    bench = Workbench(broker.url, tmp_path)
    run = restore.restored_cold_starts(bench, 1, restored=2)
    assert run["restored"]["environments"] == 2
    assert run["restored"]["restore_ms"] > 0
    assert run["restored"]["cold_total_ms"] > run["restored"]["restore_ms"]
    assert run["restored"]["snapshot_init_ms"] > 0
    assert run["ours"]["cold_total_ms"] > 0
    assert "cannot" in restore.LABEL or "not measurable" in restore.LABEL
    results = {"figures": {restore.FIGURE: {"runs": [run, run]}}}
    rows = report.evaluate(results)
    assert [row["verdict"] for row in rows] == ["report", "report"]
    assert "local stand-in for Restore Duration" in rows[0]["against"]
