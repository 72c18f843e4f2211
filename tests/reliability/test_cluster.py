"""A real three-node RabbitMQ cluster with quorum queues, the built zip in the local runtime, and
PIGEON_RABBITMQ_URL listing every node: a node killed mid-event, a node stopped between warm
invocations, the queue's leader killed, no majority, and the 10,000-id load with a node
restarted. No crash id is lost; duplicates are counted."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pigeon_tools import net
from pigeon_tools.events import event, raw_crash_key
from pigeon_tools.lambda_local import function
from pigeon_tools.paths import ZIP
from support import commands, evidence, load
from support.faults import accepted, survived
from support.local_pigeon import assert_lambda_error

SLOW = {"PIGEON_PUBLISH_TIMEOUT": "8"}  # room for a quorum queue's leader election


def note(case: str, **figures: Any) -> None:
    """The cluster's own figures for reports/reliability.json."""
    cluster = evidence.notes.setdefault("cluster", {"cases": {}})
    assert isinstance(cluster, dict)
    cluster["cases"][case] = figures


@pytest.fixture
def quorum_queue(healthy_cluster) -> str:
    name = f"qq.{uuid.uuid4().hex[:8]}"
    healthy_cluster.cluster.declare(name)
    return name


def finish(cluster, queue: str, case: str, ids: list[str], **figures: Any) -> list[str]:
    """Every id on its quorum queue (none lost, duplicates counted) and the case's figures."""
    got = cluster.cluster.bodies(queue)
    duplicates = len(got) - len(set(got))
    evidence.figures["duplicates_after_retry"] += duplicates
    survived(f"cluster: {case}", ids, got)
    note(case, ids=len(ids), lost=0, duplicates=duplicates, **figures)
    return got


def test_the_node_holding_the_connection_is_killed_mid_event(
    healthy_cluster, quorum_queue, make_function
):
    ids = accepted(400)
    with healthy_cluster.front() as front:
        function = make_function(front.url(), quorum_queue)
        killed: dict[str, Any] = {}

        def kill(node, proxy) -> None:
            proxy.mode = "blackhole"  # no confirm gets through once the threshold is passed

            def crash() -> None:
                node.kill()
                killed.update(node=node.node_name, at=time.monotonic())
                proxy.mode = "forward"  # the dead node's closed socket reaches the function

            threading.Thread(target=crash).start()

        front.when_sent(20_000, kill)
        first = function.invoke(event([raw_crash_key(i) for i in ids]))
        assert net.wait_until(lambda: "at" in killed, 10), "the node was never killed"
        assert not first.ok, "the kill came too late to test anything"
        error = assert_lambda_error(first)
        assert "not confirmed by RabbitMQ" in error["errorMessage"]
        unconfirmed = set(re.findall(r"[0-9a-f-]{36}", first.logs)) & set(ids)
        assert unconfirmed, "the ERROR log names the unconfirmed ids"
        front.reset()
        # Lambda retries a minute later; by then the queue has a leader again, even if the
        # killed node held it (until then the queue nacks: the retry would fail again).
        elected = healthy_cluster.cluster.wait_for_leader(quorum_queue)
        retry = function.invoke(event([raw_crash_key(i) for i in ids]))
        failover = time.monotonic() - killed["at"]
        assert retry.ok, retry.payload
        assert front.holding().node_name != killed["node"]  # through another node
        assert elected != killed["node"]
    finish(
        healthy_cluster,
        quorum_queue,
        "node killed mid-event",
        ids,
        failover_seconds=round(failover, 2),
    )


def test_a_node_stopped_between_warm_invocations(healthy_cluster, quorum_queue, make_function):
    first, second = accepted(5), accepted(5)
    with healthy_cluster.front() as front:
        function = make_function(front.url(), quorum_queue)
        assert function.invoke(event([raw_crash_key(i) for i in first])).ok
        held = front.holding()
        held.stop()  # graceful: the broker closes Pigeon's connection while it is frozen
        front.reset()
        warm = function.invoke(event([raw_crash_key(i) for i in second]))
        assert warm.ok, warm.payload
        assert not warm.report.cold
        assert front.holding().node_name != held.node_name
        publish_timeout = 3.0  # LocalPigeon's PIGEON_PUBLISH_TIMEOUT
        assert warm.report.duration_ms < publish_timeout * 1000
    finish(
        healthy_cluster,
        quorum_queue,
        "node stopped between warm invocations",
        first + second,
        failover_seconds=round(warm.report.duration_ms / 1000, 3),
    )


def test_the_quorum_queues_leader_is_killed_while_pigeon_is_connected_elsewhere(
    healthy_cluster, make_function
):
    cluster = healthy_cluster.cluster
    leader, *others = cluster.nodes
    queue = f"qq.{uuid.uuid4().hex[:8]}"
    cluster.declare(queue, via=leader)
    assert cluster.leader(queue) == leader.node_name
    ids = accepted(400)
    with healthy_cluster.front(others) as front:
        function = make_function(front.url(), queue, timeout=15, **SLOW)
        killed: dict[str, float] = {}

        def kill_the_leader(_node, _proxy) -> None:
            leader.kill()
            killed["at"] = time.monotonic()

        front.when_sent(20_000, kill_the_leader)
        attempts = function.invoke_with_retries(
            event([raw_crash_key(i) for i in ids]),
            between=lambda _: cluster.wait_for_leader(queue),  # Lambda waits a minute
        )
    assert "at" in killed, "the leader was never killed"
    assert attempts[-1].ok
    elected = cluster.leader(queue)
    assert elected != leader.node_name
    if not attempts[0].ok:
        assert_lambda_error(attempts[0])
    finish(
        healthy_cluster,
        queue,
        "quorum queue's leader killed",
        ids,
        outcome="confirmed after the election"
        if attempts[0].ok
        else f"failed naming the ids, retry {len(attempts) - 1} published",
        new_leader=elected.split("@")[0],
    )


def test_no_majority_fails_within_the_deadline_and_the_retry_publishes(
    healthy_cluster, quorum_queue, make_function
):
    cluster = healthy_cluster.cluster
    warm_up, ids = accepted(1), accepted(50)
    with healthy_cluster.front() as front:
        function = make_function(front.url(), quorum_queue)
        assert function.invoke(event([raw_crash_key(i) for i in warm_up])).ok
        held = front.holding()
        others = [node for node in cluster.nodes if node is not held]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda node: node.stop(), others))
        failed = function.invoke(event([raw_crash_key(i) for i in ids]))
        error = assert_lambda_error(failed)
        assert "timed out waiting for the broker's confirm" in error["errorMessage"]
        assert all(i in error["errorMessage"] for i in ids)
        assert failed.report.duration_ms < 3000 + 1000  # the publish timeout, not a hang
        for node in others:
            node.start()
        for node in others:
            cluster.restart(node)
        retry = function.invoke(event([raw_crash_key(i) for i in ids]))
        assert retry.ok, retry.payload
    finish(
        healthy_cluster,
        quorum_queue,
        "two of three nodes down (no majority)",
        warm_up + ids,
        failed_after_seconds=round(failed.report.duration_ms / 1000, 2),
    )


def test_ten_thousand_ids_with_a_node_restarted_in_the_middle(healthy_cluster, quorum_queue):
    """The load test's workload through 4 runtimes that spread over the nodes; one node is
    stopped and started again part-way. Failed invocations are retried as Lambda does."""
    events = load.workload(random.Random(20261130))
    settings = function.environment(
        healthy_cluster.url(), quorum_queue, PIGEON_ENV="cluster", PIGEON_LOG_LEVEL="WARNING"
    )
    env = commands.developer_environment(**settings)
    args = ("--task-root", str(ZIP), "--concurrency", "4", "--timeout", "30")
    lock = threading.Lock()
    done = {"events": 0, "invocations": 0, "failed": 0, "lost_events": 0}
    went_down, restarted = threading.Event(), threading.Event()
    victim = healthy_cluster.nodes[0]

    def restart_a_node() -> None:
        victim.stop()
        went_down.set()
        healthy_cluster.cluster.restart(victim)
        restarted.set()

    with commands.invoke_api(*args, env=env) as url:

        def send(ids: list[str]) -> None:
            with lock:
                done["events"] += 1
                if done["events"] == len(events) // 3:
                    threading.Thread(target=restart_a_node).start()
            for _ in range(3):  # Lambda: the event, then 2 retries
                _, failed = load.invoke(url, ids)
                with lock:
                    done["invocations"] += 1
                    done["failed"] += failed
                if not failed:
                    return
                time.sleep(1)
            with lock:
                done["lost_events"] += 1

        started = time.perf_counter()
        load.run(events, 4, send)
        seconds = time.perf_counter() - started
        assert went_down.is_set(), "the node went down only after the load"
    assert restarted.wait(120), "the node did not come back"
    assert done["lost_events"] == 0
    got = finish(
        healthy_cluster,
        quorum_queue,
        "10,000 ids, 4 invokers, a node restarted",
        load.accepted(events),
        invocations=done["invocations"],
        failed_invocations=done["failed"],
        seconds=round(seconds, 1),
    )
    assert set(got) == set(load.accepted(events))


def test_make_cluster_and_make_run_against_it(tmp_path):
    """`make cluster` (its script) on free ports, then `make run` with the URL it prints."""
    first = next(
        p for p in range(27000, 40000, 10) if not any(net.listening(p + i) for i in range(3))
    )
    env = commands.developer_environment(PIGEONTOOLS_CLUSTER_PORT=str(first))
    try:
        started = commands.run("rabbitmq.py", "cluster-start", env=env, timeout=300)
        assert started.returncode == 0, started.stderr
        assert "quorum queues: socorro.normal, socorro.submitter" in started.stderr
        address = commands.run("rabbitmq.py", "cluster-url", env=env).stdout.strip()
        assert address.count("amqp://") == 3
        assert f"PIGEON_RABBITMQ_URL={address} make run" in started.stderr
        run = commands.run("run_local.sh", env={**env, "PIGEON_RABBITMQ_URL": address}, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "using the broker(s) of PIGEON_RABBITMQ_URL" in run.stdout
        crash_id = re.search(r"event for a new accepted crash id (\S+)", run.stdout).group(1)
        assert f"run: on socorro.normal: item: {crash_id}" in run.stdout
    finally:
        stopped = commands.run("rabbitmq.py", "cluster-stop", env=env, timeout=300)
    assert "stopped the 3 nodes" in stopped.stderr
    assert not any(net.listening(first + i) for i in range(3))
