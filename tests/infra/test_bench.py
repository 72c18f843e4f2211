"""`scripts/bench.py --quick` runs end to end and writes well-formed results (no timing asserts:
figures are for reading, and these machines are noisy)."""

from __future__ import annotations

import json
import subprocess
import sys

from pigeon_tools.paths import ROOT


def test_quick_bench_writes_json_and_a_plot(broker, pigeon_url, tmp_path):
    out, plot = tmp_path / "results.json", tmp_path / "warm.png"
    user, password = pigeon_url.split("//")[1].split("@")[0].split(":")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench.py"),
            "--quick",
            "--url",
            pigeon_url,
            "--tls-url",
            broker.tls_url(user, password),
            "--out",
            str(out),
            "--plot",
            str(plot),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    for figure in (
        "warm_latency",
        "warm_latency_tls",
        "throughput",
        "init_url",
        "init_secret",
        "runtime_overhead",
        "zip",
    ):
        assert figure in results, figure
    for side in ("ours", "baseline"):
        assert results["warm_latency"][side]["p50_ms"] > 0
        assert len(results["warm_latency"][side]["samples_ms"]) == 20
        assert results["init_url"][side]["init_ms"] > 0
        assert results["init_url"][side]["max_memory_mb"] > 0
    assert results["throughput"]["ours_ids_per_s"] > 0
    assert results["throughput"]["baseline_ids_per_s"] > 0
    assert "build" not in results  # --quick skips the build timings
    assert "| warm invoke, 1 record, p50" in done.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
