"""`scripts/bench.py --quick` runs end to end and writes well-formed results (no timing asserts:
figures are for reading, and these machines are noisy)."""

from __future__ import annotations

import json
import subprocess
import sys

from pigeon_tools.paths import ROOT


def test_quick_bench_writes_every_figure_twice_with_its_limit_and_both_plots(
    broker, pigeon_url, tmp_path
):
    out, plot, cold = tmp_path / "results.json", tmp_path / "warm.png", tmp_path / "cold.png"
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
            "--cold-plot",
            str(cold),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    figures = results["figures"]
    measured = ("warm_latency", "warm_latency_tls", "throughput", "cold_url", "cold_tls",
                "cold_secret", "runtime_overhead")  # fmt: skip
    for figure in measured:
        assert len(figures[figure]["runs"]) == 2, figure  # measured twice, both kept
    assert "build" not in figures  # --quick skips the build timings
    for run in figures["warm_latency"]["runs"] + figures["warm_latency_tls"]["runs"]:
        for side in ("ours", "baseline", "noop", "limit"):
            assert run[side]["p50_ms"] > 0
            assert len(run[side]["samples_ms"]) == 10
        assert run["own_cost_ms"] == run["ours"]["p50_ms"] - run["noop"]["p50_ms"]
    for run in figures["throughput"]["runs"]:
        assert run["limit_ids_per_s"] > 0
        assert run["ours_ids_per_s"] > 0
    for run in figures["cold_url"]["runs"] + figures["cold_tls"]["runs"]:
        for side in ("ours", "baseline", "noop"):
            assert run[side]["init_ms"] > 0
            assert run[side]["cold_total_ms"] > run[side]["init_ms"]
    lines = results["lines"]
    for line in lines:
        assert len(line["runs"]) == 2
        assert isinstance(line["noisy"], bool)
        assert (
            line["verdict"] == "report"
            or line["verdict"] in ("met",)
            or (line["verdict"].startswith("missed by "))
        )
    names = {line["figure"] for line in lines}
    assert "Pigeon's own warm cost (p50 minus no-op p50)" in names
    assert "TLS: cold start: Init + first invoke" in names
    missed = [line for line in lines if line["verdict"].startswith("missed")]
    assert len(results["missed"]) == len(missed)  # each missed goal is explained
    phases = results["cold_breakdown"]
    assert list(phases) == [
        "Python and the runtime client",
        "pigeon.handler import",
        "first-publish imports (pika)",
        "connect",
        "publish and confirm",
        "the rest in the runtime (invoke handling, first call)",
    ]
    assert all(ms >= 0 for ms in phases.values())
    assert {row["memory_mb"] for row in results["cost"]} == {128, 256, 512}
    assert {row["arch"] for row in results["cost"]} == {"x86_64", "arm64"}
    assert "| Pigeon's own warm cost" in done.stdout
    assert "per million crashes" in done.stdout
    for image in (plot, cold):
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --render measures nothing: the same figures give the same table again.
    plot.unlink()
    again = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--render", "--out", str(out),
         "--plot", str(plot), "--cold-plot", str(cold)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(out.read_text())["table"] == results["table"]
    assert plot.exists()


def test_render_names_a_results_file_it_cannot_read(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--render", "--out",
         str(tmp_path / "missing.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--render: cannot read" in done.stderr
