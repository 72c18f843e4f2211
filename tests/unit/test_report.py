"""The REPORT line: one grammar writes and parses it."""

from __future__ import annotations

import pytest

from pigeon_tools.lambda_local.report import Report

COLD = (
    "REPORT RequestId: 8f1c0a4e-0000-4000-8000-000000000001\tDuration: 1.50 ms\t"
    "Billed Duration: 2 ms\tMemory Size: 256 MB\tMax Memory Used: 41 MB\tInit Duration: 80.25 ms"
)


def test_a_lambda_report_line_parses_and_writes_back_the_same():
    report = Report.parse(f"END RequestId: x\n{COLD}\nnext line\n")
    assert report == Report("8f1c0a4e-0000-4000-8000-000000000001", 1.5, 256, 41, 80.25, 2)
    assert report.line() == COLD
    assert report.cold


def test_a_warm_report_has_no_init_duration_and_bills_whole_milliseconds():
    report = Report("r", duration_ms=0.2, memory_size_mb=128, max_memory_mb=30)
    assert report.billed == 1
    assert Report.parse(report.line()) == Report("r", 0.2, 128, 30, None, 1)
    assert not report.cold
    assert Report("r", 12.01, 128, 30).billed == 13


def test_text_without_a_report_line_is_an_error():
    with pytest.raises(ValueError, match="no REPORT line"):
        Report.parse("START RequestId: x\nEND RequestId: x\n")
