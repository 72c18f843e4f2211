"""The burst figure's measurement, small: Event invocations of the built zip through the local
Invoke API at two concurrencies, read from the broker and the queue. The numbers are for
reading; what must hold at any size is asserted: nothing lost or doubled, one environment
(one cold start, one broker connection) per unit of concurrency, every part measured."""

from __future__ import annotations

import secrets

import pika

from pigeon_tools.bench import burst


def test_a_small_burst_loses_nothing_and_holds_one_connection_per_environment(
    broker, task_root, tmp_path
):
    password = secrets.token_urlsafe(12)
    broker.ctl("add_user", burst.USER, password)
    broker.ctl("set_permissions", "-p", "/", burst.USER, ".*", ".*", ".*")
    notes: list[str] = []
    try:
        run = burst.measure(task_root, burst.BurstBroker(broker.node, password), 40, (1, 2),
                            notes.append)  # fmt: skip
    finally:
        broker.ctl("delete_user", burst.USER)
    assert run["lost"] == 0
    assert run["duplicates"] == 0
    assert run["single_environment_ids_per_s"] > 0
    for concurrency, found in run["by_concurrency"].items():
        c = int(concurrency)
        assert found["events"] == 40
        assert found["cold_starts"] == found["environments"] <= c
        assert found["peak_connections"] == found["connections_at_end"] == found["environments"]
        assert found["throttles"] == 0  # Event invocations wait in the queue, never a 429
        assert found["failed_invocations"] == 0
        assert found["ids_per_s"] > 0
        assert found["limit_ids_per_s"] > 0
        assert 0 < found["p50_ms"] <= found["p99_ms"]
        assert set(found["cpu_s"]) >= {"function runtimes", "RabbitMQ"}
    assert run["by_concurrency"]["2"]["environments"] == 2  # a burst scales out
    assert run["connections_per_environment_limit"] <= 1.0
    assert "cores busy" in run["flattening"]
    figure = {"runs": [run, run]}
    table = burst.markdown(figure)
    assert table.count("\n| ") == 3  # the header and one row per concurrency
    burst.plot(figure, tmp_path / "burst.png")
    assert (tmp_path / "burst.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any("burst at concurrency 2" in note for note in notes)


def test_the_connection_peak_counts_a_spike_shorter_than_any_sampling_interval(broker):
    password = secrets.token_urlsafe(12)
    broker.ctl("add_user", burst.USER, password)
    broker.ctl("set_permissions", "-p", "/", burst.USER, ".*", ".*", ".*")
    counted = burst.BurstBroker(broker.node, password)
    url = counted.function_url
    try:
        kept = pika.BlockingConnection(pika.URLParameters(url))  # open before the count starts
        counted.start_sampling()
        spike = [pika.BlockingConnection(pika.URLParameters(url)) for _ in range(3)]
        for connection in spike:  # all four were open together for a moment only
            connection.close()
        other = pika.BlockingConnection(pika.URLParameters(broker.url))  # another user's
        assert counted.peak() == 4
        kept.close()
        other.close()
        counted.start_sampling()  # again, from nothing open
        pika.BlockingConnection(pika.URLParameters(url)).close()
        assert counted.peak() == 1
    finally:
        broker.ctl("delete_user", burst.USER)


def figure_run(ids_per_s: float, limit: float, single: float) -> dict[str, object]:
    at = {
        "concurrency": 2, "ids_per_s": ids_per_s, "limit_ids_per_s": limit, "seconds": 10.0,
        "cores_busy": 1.0, "cpu_ms_per_id": {"function runtimes": 1.0},
        "cpu_s": {"function runtimes": 5.0, "serve process (Invoke and Runtime APIs)": 1.0},
    }  # fmt: skip
    one = {**at, "concurrency": 1, "ids_per_s": ids_per_s / 2}
    return {
        "by_concurrency": {"1": one, "2": at},
        "machine_cores": 2,
        "single_environment_ids_per_s": single,
    }


def test_the_burst_conclusions_follow_the_measured_ratios():
    far = burst.flattening(figure_run(100.0, 1000.0, 50.0))
    assert "2.00x" in far  # against the baseline: 100 / 50
    assert "0.10x" in far  # against the limit: 100 / 1000
    assert "the broker is not the limit" in far
    near = burst.flattening(figure_run(900.0, 1000.0, 1200.0))
    assert "so the broker is the limit" in near
    assert "fewer ids/s than one environment" in near
    assert "the broker is not the limit" not in near
