"""The burst figure's measurement, small: Event invocations of the built zip through the local
Invoke API at two concurrencies, read from the broker and the queue. The numbers are for
reading; what must hold at any size is asserted: nothing lost or doubled, one environment
(one cold start, one broker connection) per unit of concurrency, every part measured."""

from __future__ import annotations

import secrets

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
