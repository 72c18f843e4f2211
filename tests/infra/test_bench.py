"""`scripts/bench.py --quick` runs end to end and writes well-formed results (no timing asserts:
figures are for reading, and these machines are noisy)."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import uuid
import zipfile

import pytest

from pigeon_tools.paths import ROOT

NO_OP_SECRET_TLS_LIMIT = (
    "no-op Init + stdlib GetSecretValue + raw pika TLS connect, publish and confirm"
)


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
    colds = (
        figures["cold_url"]["runs"] + figures["cold_tls"]["runs"] + figures["cold_secret"]["runs"]
    )
    for run in colds:
        for side in ("ours", "source", "baseline", "noop"):
            assert run[side]["init_ms"] > 0
            assert run[side]["cold_total_ms"] > run[side]["init_ms"]
            assert run[side]["billed_ms"] >= run[side]["cold_total_ms"]  # whole ms, rounded up
        limit = run["limit"]  # measured in the same run: the no-op Init, raw pika's connect...
        assert limit["noop_init_ms"] == run["noop"]["init_ms"]
        assert limit["connect_ms"] > 0
        assert limit["publish_ms"] > 0
        assert limit["total_ms"] == pytest.approx(
            sum(v for k, v in limit.items() if k != "total_ms")
        )
    for run in figures["cold_secret"]["runs"]:
        assert run["limit"]["get_secret_value_ms"] > 0  # ...and GetSecretValue with the stdlib
        assert run["eager"]["init_ms"] > 0  # the prototype's Init (Pigeon now prefetches too)
    lines = results["lines"]
    for line in lines:
        assert len(line["runs"]) == 2
        assert isinstance(line["noisy"], bool)
        assert (
            line["verdict"] == "report"
            or line["verdict"] in ("met",)
            or (line["verdict"].startswith("missed by "))
        )
    goals = {(line["figure"], line["against"]): line["goal"] for line in lines}
    secret = "cold start, secret ARN + TLS (Init + first invoke)"
    assert goals[(secret, "the same build without bytecode")] == "<= 0.45x"
    assert goals[(secret, NO_OP_SECRET_TLS_LIMIT)] == "<= 2.00x"
    url = "cold start, URL config (Init + first invoke)"
    assert goals[(url, "the same build without bytecode")] == "<= 0.60x"
    assert goals[("Init Duration, URL config", "no-op handler: Python + runtime client")] == (
        "<= +30.00 ms"
    )
    assert goals[("warm invoke, 1 record, p50", "connection per invocation (seed)")] == "report"
    names = {line["figure"] for line in lines}
    assert "Pigeon's own warm cost (p50 minus no-op p50)" in names
    assert "billed ms per cold start, secret ARN + TLS" in names
    assert "TLS: cold start, URL config (Init + first invoke)" in names
    missed = [line for line in lines if line["verdict"].startswith("missed")]
    assert len(results["missed"]) == len(missed)  # each missed goal is explained
    breakdowns = results["cold_breakdown"]
    assert list(breakdowns) == [
        "URL config, bytecode",
        "URL config, no bytecode",
        "secret ARN + TLS, bytecode",
        "secret ARN + TLS, no bytecode",
    ]
    url_phases = [
        "Python and the runtime client",
        "pigeon.handler import",
        "first-publish imports (pika)",
        "connect",
        "publish and confirm",
        "the rest in the runtime (invoke handling, first call)",
    ]
    assert list(breakdowns["URL config, no bytecode"]) == url_phases
    assert list(breakdowns["secret ARN + TLS, bytecode"]) == [
        *url_phases[:2],
        "the secret read (signed GetSecretValue)",
        *url_phases[2:],
    ]
    # Each measured phase takes time; the rest is what they leave of the cold start the runtime
    # reported, never clamped (negative when the phases measured apart overshoot it).
    for name, phases in breakdowns.items():
        *measured_phases, _rest = phases.values()
        assert all(ms > 0 for ms in measured_phases), (name, phases)
    assert figures["zip"]["runs"][0]["bytecode_in_zip_mb"] > 0
    billed = math.ceil(
        statistics.mean(r["ours"]["billed_ms"] for r in figures["cold_secret"]["runs"])
    )
    assert f"per cold start {billed} ms (Init + first invoke, secret ARN + TLS)" in done.stdout
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


def test_the_cold_phases_add_up_to_the_total_even_when_they_overshoot_it():
    from pigeon_tools.bench import figures

    under = figures.with_rest({"a": 40.0, "b": 50.0}, 100.0)
    over = figures.with_rest({"a": 70.0, "b": 50.0}, 100.0)
    assert math.isclose(sum(under.values()), 100.0)
    assert math.isclose(sum(over.values()), 100.0)  # never clamped to 0: that would add 20
    assert math.isclose(over[figures.REST], -20.0)
    assert figures.negative_rests({"u": under, "o": over}) == {"o": pytest.approx(20.0)}


def test_what_the_bytecode_adds_to_the_zip_is_counted_exactly():
    from pigeon_tools.bench import figures
    from pigeon_tools.paths import ZIP

    found = figures.zip_figures(ZIP)
    sizes = found["bytes"]
    # The writer gives the very zip back when it keeps everything: the difference is exact.
    assert figures.zip_without(ZIP, lambda _name: True) == ZIP.stat().st_size == sizes["zip"]
    assert sizes["zip"] == sizes["zip_without_bytecode"] + sizes["bytecode_in_zip"]
    assert sizes["unzipped"] == sizes["unzipped_without_bytecode"] + sizes["bytecode_unzipped"]
    with zipfile.ZipFile(ZIP) as archive:
        pycs = [i for i in archive.infolist() if i.filename.endswith(".pyc")]
    assert sizes["bytecode_unzipped"] == sum(i.file_size for i in pycs)
    # More than the compressed bytes alone: each entry has a header and a directory record.
    assert sizes["bytecode_in_zip"] > sum(i.compress_size for i in pycs)


def test_cold_phases_measure_each_phase_of_a_first_publish(broker, pigeon_url):
    from pigeon_tools import queues
    from pigeon_tools.lambda_local import function
    from pigeon_tools.python import python313

    queue = f"bench.phases.{uuid.uuid4().hex[:8]}"
    queues.declare(broker.url, queue)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "build")}
    env.update(function.environment(pigeon_url, queue, PIGEON_ENV="bench"))
    script = ROOT / "scripts" / "pigeon_tools" / "bench" / "cold_phases.py"
    done = subprocess.run(
        [python313(), "-S", "-B", str(script), queue],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    phases = json.loads(done.stdout)
    assert list(phases) == [
        "pigeon.handler import",
        "first-publish imports (pika)",
        "connect",
        "publish and confirm",
    ]
    assert all(ms > 0 for ms in phases.values())
    assert len(queues.bodies(broker.url, queue)) == 1
    queues.delete(broker.url, queue)
