"""`make cluster`: a three-node RabbitMQ cluster on this machine for trying things by hand, the
same one the tests start (pigeon_tools.broker.cluster). AMQP on 127.0.0.1:5681-5683
(PIGEONTOOLS_CLUSTER_PORT is the first), data under .cache/rabbitmq-cluster (fresh on each
start), the queues of PIGEON_QUEUES declared as quorum queues. It lives on after the command and
is stopped by `make cluster-stop`, by PID."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from pigeon_tools import net
from pigeon_tools.broker import local, processes
from pigeon_tools.broker.cluster import Cluster
from pigeon_tools.broker.probe import amqp_answers
from pigeon_tools.lambda_local import function
from pigeon_tools.paths import CACHE

BASE = CACHE / "rabbitmq-cluster"
STATE = CACHE / "rabbitmq-cluster.json"
NAME = "pigeon-local-cluster"


def first_port() -> int:
    raw = os.environ.get("PIGEONTOOLS_CLUSTER_PORT", "5681")
    if not raw.isdigit() or not 0 < int(raw) < 65534:
        raise local.BrokerError(f"PIGEONTOOLS_CLUSTER_PORT: {raw!r} is not a port number")
    return int(raw)


def url() -> str | None:
    """PIGEON_RABBITMQ_URL for the running cluster, or None."""
    ports = processes.load(STATE).get("ports")
    if not isinstance(ports, list) or not all(isinstance(p, int) for p in ports):
        return None
    if not any(amqp_answers(port) for port in ports):
        return None
    return ",".join(f"amqp://guest:guest@127.0.0.1:{port}/%2F" for port in ports)


def start() -> str:
    running = url()
    if running:
        local.say("the cluster is already running")
        return running
    local.install()
    first = first_port()
    ports = [first, first + 1, first + 2]
    taken = [port for port in ports if net.listening(port)]
    if taken:
        raise local.BrokerError(
            f"port(s) {', '.join(map(str, taken))} on 127.0.0.1 are taken; pick others:\n"
            f"  PIGEONTOOLS_CLUSTER_PORT={first + 10} make cluster"
        )
    shutil.rmtree(BASE, ignore_errors=True)
    cluster = Cluster.plan(BASE, ports, name=NAME)
    cluster.say = local.say
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    assert cluster.epmd.process is not None
    processes.save(
        STATE,
        {
            "ports": ports,
            "epmd_pid": cluster.epmd.process.pid,
            "nodes": [
                {"server_pid": node.process.pid, "pid_file": str(node.pid_file)}
                for node in cluster.nodes
                if node.process is not None
            ],
        },
    )
    names = function.queue_names()
    if names:
        cluster.declare(*names)
        local.say(f"quorum queues: {', '.join(names)}")
    address = cluster.url()
    local.say("ready; stop it with: make cluster-stop")
    local.say(f"use it: PIGEON_RABBITMQ_URL={address} make run")
    return address


def stop() -> None:
    state = processes.load(STATE)
    nodes = state.get("nodes")
    if not isinstance(nodes, list):
        local.say("no cluster to stop")
        return
    for node in nodes:
        processes.send(node.get("server_pid"), signal.SIGTERM)
    for node in nodes:
        processes.stop_node(node.get("server_pid"), Path(str(node.get("pid_file"))))
    processes.send(state.get("epmd_pid"), signal.SIGTERM)
    STATE.unlink(missing_ok=True)
    local.say(f"stopped the {len(nodes)} nodes of {NAME}")
