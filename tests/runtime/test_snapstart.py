"""Restore mode (SnapStart): the built zip's Init runs once, primed with a real publish so a
broker connection is open and a node order chosen when the snapshot is taken; Pigeon's
before-snapshot hook runs; then several environments are restored from that one process state
(forked after the hooks), each running Pigeon's after-restore hook, then its invocations.

A real broker, behind one loopback proxy per "node" (8 of them) so node orders can differ and
every client connection is seen with its client port."""

from __future__ import annotations

import itertools
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pigeon_tools import events, moto_server, net
from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.report import Report
from pigeon_tools.lambda_local.snapstart import SNAPSTART_EXCEPTION, SNAPSTART_MESSAGE, Snapshot
from support import commands, evidence
from support.fixtures import make_secret
from support.tcp_proxy import TcpProxy

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"
NODES = 8
RESTORED = 3


@pytest.fixture(scope="module")
def snap_root(task_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built zip, extracted, plus the test function beside the pigeon package."""
    root = tmp_path_factory.mktemp("snap-task")
    shutil.copytree(task_root, root, dirs_exist_ok=True)
    shutil.copy(FUNCTIONS / "snapstart.py", root / "snapstart.py")
    return root


@dataclass
class Restore:
    snapshot: Snapshot
    proxies: list[TcpProxy]
    user: str
    queue: str
    prime_id: str
    published: list[tuple[str, Any]]  # each environment's first invoke: crash id, result
    probes: list[dict[str, Any]]


def make_snapshot(root: Path, url: str, queue: str, count: int, **env: str) -> Snapshot:
    settings = function.environment(url, queue, PIGEON_ENV="snap", PIGEON_METRICS="none", **env)
    spec = function.spec(root, environment=settings, handler="snapstart.handle", timeout_s=10)
    return Snapshot(spec, count)


@pytest.fixture(scope="module")
def restore(snap_root: Path, broker: Any) -> Iterator[Restore]:
    user, password = f"snap-{uuid.uuid4().hex[:6]}", evidence.secret(uuid.uuid4().hex)
    broker.ctl("add_user", user, password)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    queue = f"snap.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    proxies = [TcpProxy(broker.port) for _ in range(NODES)]
    url = ",".join(p.url_for(broker.url_with(user, password)) for p in proxies)
    prime_id = events.new_crash_id("accept")
    snapshot = make_snapshot(snap_root, url, queue, RESTORED, PRIME_CRASH_ID=prime_id)
    try:
        assert snapshot.take() is None, snapshot.logs
        published, probes = [], []
        for environment in snapshot:
            crash_id = events.new_crash_id("accept")
            outcome = environment.invoke(json_bytes(events.for_crash_ids([crash_id])))
            evidence.seen("lambda logs", outcome.logs)
            assert outcome.ok, outcome.logs
            assert outcome.report.restore_ms is not None  # a restore, not an Init
            assert outcome.report.init_ms is None
            published.append((crash_id, outcome.json()))
            probe = environment.invoke(json_bytes({"probe": True}))
            assert probe.ok, probe.logs
            assert not probe.report.cold
            probes.append(probe.json())
        yield Restore(snapshot, proxies, user, queue, prime_id, published, probes)
    finally:
        snapshot.close()
        for proxy in proxies:
            proxy.close()
        broker.ctl("delete_user", user)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_init_ran_once_and_every_environment_is_restored_from_it(restore: Restore):
    logs = restore.snapshot.logs
    assert logs.count("snapstart probe: primed {") == 1
    assert "before snapshot: broker connection closed" in logs
    pids = {probe["pid"] for probe in restore.probes}
    assert len(pids) == RESTORED
    assert restore.snapshot.process is not None
    assert restore.snapshot.process.pid not in pids  # the snapshot itself is never resumed


def test_no_two_restored_environments_share_a_broker_connection(restore: Restore, broker: Any):
    # The broker: one connection per restored environment; the snapshot's was closed.
    connections = broker.ctl("list_connections", "-q", "user", "peer_port").split("\n")
    ports = [line.split()[1] for line in connections if line.split()[:1] == [restore.user]]
    assert len(ports) == RESTORED, connections
    assert len(set(ports)) == RESTORED
    # The clients: the snapshot's connection, then one new connection per environment, each
    # from its own client port (none reused a socket copied from the snapshot).
    client_ports = list(itertools.chain.from_iterable(p.client_ports for p in restore.proxies))
    assert len(client_ports) == 1 + RESTORED
    assert len(set(client_ports)) == 1 + RESTORED


def test_their_node_orders_and_random_draws_differ(restore: Restore):
    [primed] = [
        line.rpartition(" ")[2].split(",")
        for line in restore.snapshot.logs.splitlines()
        if line.startswith("snapstart probe: primed order")
    ]
    assert len(primed) == NODES
    orders = [tuple(probe["order"]) for probe in restore.probes]
    assert all(sorted(order) == sorted(primed) for order in orders)
    # 8 nodes: 40320 orders. None kept the snapshot's, no two chose the same one.
    assert tuple(primed) not in orders
    assert len(set(orders)) == RESTORED
    draws = [probe["random"] for probe in restore.probes]
    assert len(set(draws)) == RESTORED  # random was reseeded after each restore


def test_a_crash_id_published_after_a_restore_is_confirmed_on_its_queues(
    restore: Restore, broker: Any
):
    on_queue = broker.bodies(restore.queue)
    assert on_queue.count(restore.prime_id) == 1
    for crash_id, result in restore.published:
        assert result["published"] == {restore.queue: [crash_id]}
        assert on_queue.count(crash_id) == 1
    assert len(on_queue) == 1 + RESTORED


def test_a_failing_after_restore_hook_fails_the_restore_as_lambda_reports_it(
    snap_root: Path, broker: Any
):
    queue = f"snap.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    with make_snapshot(snap_root, broker.url, queue, 2, SNAPSTART_FAIL_RESTORE="1") as snapshot:
        assert snapshot.take() is None  # Init and the snapshot are fine
        for environment in snapshot:
            outcome = environment.invoke(json_bytes(events.for_crash_ids([events.new_crash_id()])))
            assert not outcome.ok
            assert outcome.json()["errorType"] == SNAPSTART_EXCEPTION
            assert outcome.json()["errorMessage"] == SNAPSTART_MESSAGE
            # What the runtime posted to /runtime/restore/error, and logged for CloudWatch.
            assert environment.restore_error_type == "Runtime.AfterRestoreError"
            assert "the after-restore hook failed on purpose" in outcome.logs
            assert "RESTORE_REPORT Restore Duration" in outcome.logs
            assert outcome.report.restore_ms is not None
            # The environment is gone: it is not restored twice.
            again = environment.invoke(b"{}")
            assert again.json()["errorType"] == "Runtime.ExitError"
    assert broker.bodies(queue) == []


def test_closing_ends_every_restored_environment_invoked_or_not(snap_root: Path, broker: Any):
    with make_snapshot(snap_root, broker.url, "snap.none", 3) as snapshot:
        assert snapshot.take() is None
        [first, *_] = snapshot.environments
        assert first.invoke(json_bytes({"probe": True})).ok
        assert net.wait_until(lambda: len(snapshot.restored_pids) == 3, 10, 0.01)
        pids = snapshot.restored_pids
        assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    assert snapshot.process is not None
    assert snapshot.process.poll() is not None
    assert net.wait_until(lambda: not any(alive(pid) for pid in pids), 10, 0.01)


def alive(pid: int) -> bool:
    """Running and one of ours (a pid can be reused once reaped)."""
    try:
        return "restore_fork" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def test_a_failing_before_snapshot_hook_fails_init(snap_root: Path, broker: Any):
    with make_snapshot(
        snap_root, broker.url, "snap.none", 1, SNAPSTART_FAIL_SNAPSHOT="1"
    ) as snapshot:
        error = snapshot.take()
        assert error is not None
        assert snapshot.init_error_type == "Runtime.BeforeSnapshotError"
        assert "the before-snapshot hook failed on purpose" in snapshot.logs


def test_the_command_line_restores_n_environments_from_one_init():
    task = ("invoke", "--task-root", str(FUNCTIONS), "--handler", "probe.echo")
    done = commands.run("local_runtime.py", *task, "--snap-start", "2", input=b'{"a": 1}')
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == 2
    assert {r["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] for r in results} == {"snap-start"}
    assert len({r["env"]["AWS_LAMBDA_RUNTIME_API"] for r in results}) == 2  # its own API each
    assert len({r["pid"] for r in results}) == 1  # what Init saw: Init ran once
    logs = done.stderr.decode()
    assert logs.count("RESTORE_REPORT Restore Duration") == 2
    reports = [Report.parse(line) for line in logs.splitlines() if line.startswith("REPORT")]
    assert [r.restore_ms is not None and r.init_ms is None for r in reports] == [True, True]
    bad = commands.run("local_runtime.py", *task, "--snap-start", "0", input=b"{}")
    assert bad.returncode == 2


def test_a_secret_read_before_the_snapshot_is_read_again_after_each_restore(
    snap_root: Path, broker: Any, moto_endpoint: str
):
    """Credentials must not outlive the snapshot: the secret changes between the snapshot and
    the restores (a rotation), and every restored environment connects as the new user."""
    users = {}
    for role in ("before", "after"):
        name, password = f"snap-{role}-{uuid.uuid4().hex[:6]}", evidence.secret(uuid.uuid4().hex)
        broker.ctl("add_user", name, password)
        broker.ctl("set_permissions", "-p", "/", name, ".*", ".*", ".*")
        users[role] = (name, password)
    queue = f"snap.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    secrets = moto_server.client("secretsmanager", moto_endpoint)
    arn = make_secret(secrets, {"url": broker.url_with(*users["before"])})
    env = {"PIGEON_RABBITMQ_SECRET_ARN": arn, **moto_server.function_environment(moto_endpoint)}
    prime_id = events.new_crash_id("accept")
    try:
        with make_snapshot(snap_root, "", queue, 2, PRIME_CRASH_ID=prime_id, **env) as snapshot:
            assert snapshot.take() is None, snapshot.logs  # primed as "before"
            secrets.put_secret_value(
                SecretId=arn, SecretString=json.dumps({"url": broker.url_with(*users["after"])})
            )
            for environment in snapshot:
                crash_id = events.new_crash_id("accept")
                outcome = environment.invoke(json_bytes(events.for_crash_ids([crash_id])))
                assert outcome.ok, outcome.logs
            connected = broker.ctl("list_connections", "-q", "user").split()
            assert connected.count(users["after"][0]) == 2
            assert users["before"][0] not in connected
        assert len(broker.bodies(queue)) == 3
    finally:
        for name, _ in users.values():
            broker.ctl("delete_user", name)
