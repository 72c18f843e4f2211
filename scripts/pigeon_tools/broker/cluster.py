"""A real three-node RabbitMQ cluster from Debian's rabbitmq-server, with quorum queues.

Each node has its own name, AMQP port and data folder; they share one Erlang cookie (written
before any node starts) and one epmd of ours. The nodes start in parallel, then the others
join the first. Everything is stopped by PID. Used by the tests (tests/support/fixtures.py) and
by `make cluster` (pigeon_tools.broker.local keeps its state)."""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pigeon_tools import net, queues
from pigeon_tools.broker.node import PASSWORD, USER, Epmd, Node, NodeError

QUORUM = {"x-queue-type": "quorum"}
SIZE = 3


def progress(message: str) -> None:
    """Where a long step says what it does; the caller may point it elsewhere."""


@dataclass
class Cluster:
    nodes: list[Node]
    epmd: Epmd
    say: Callable[[str], None] = field(default=progress, repr=False)

    @classmethod
    def plan(
        cls,
        base: Path,
        ports: Sequence[int] | None = None,
        name: str = "pigeon-cluster",
        epmd_port: int | None = None,
    ) -> Cluster:
        """Three nodes under base/<node>, sharing base as the Erlang cookie's home."""
        ports = list(ports or [net.free_port() for _ in range(SIZE)])
        epmd = Epmd(epmd_port or net.free_port())
        nodes = [
            Node(f"{name}-{i + 1}", port, base / f"node{i + 1}", epmd.port, home=base)
            for i, port in enumerate(ports)
        ]
        return cls(nodes, epmd)

    @property
    def home(self) -> Path:
        return self.nodes[0].home

    def urls(self, user: str = USER, password: str = PASSWORD) -> list[str]:
        return [node.url(user, password) for node in self.nodes]

    def url(self, user: str = USER, password: str = PASSWORD) -> str:
        """PIGEON_RABBITMQ_URL for the whole cluster: one URL per node, by commas."""
        return ",".join(self.urls(user, password))

    def _write_cookie(self) -> None:
        cookie = self.home / ".erlang.cookie"
        if cookie.exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(20)))
        cookie.chmod(0o400)

    def start(self, timeout: float = 120.0) -> Cluster:
        """Start every node at once, join them into one cluster, and wait until all answer."""
        started = time.monotonic()
        self._write_cookie()
        if self.epmd.process is None:
            self.epmd.start()
        self.say(f"starting {len(self.nodes)} nodes in parallel: {self.describe()}")
        for node in self.nodes:
            node.start()
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.wait_ready(timeout), self.nodes))
        seed = self.nodes[0]
        for node in self.nodes[1:]:
            if seed.node_name in self.members(node):
                continue
            self.say(f"joining {node.node_name} to {seed.node_name}")
            node.ctl("stop_app")
            node.ctl("join_cluster", seed.node_name)
            node.ctl("start_app")
            node.wait_ready(timeout)
        missing = {n.node_name for n in self.nodes} - set(self.running(seed))
        if missing:
            raise NodeError(f"nodes not in the cluster: {', '.join(sorted(missing))}")
        self.say(f"cluster of {len(self.nodes)} ready in {time.monotonic() - started:.1f} s")
        return self

    def describe(self) -> str:
        return ", ".join(f"{n.node_name} on 127.0.0.1:{n.port}" for n in self.nodes)

    def members(self, node: Node) -> list[str]:
        return _status_list(node, "disk_nodes")

    def running(self, node: Node) -> list[str]:
        return _status_list(node, "running_nodes")

    def live(self) -> list[Node]:
        return [node for node in self.nodes if node.running()]

    def declare(self, *names: str, via: Node | None = None, **arguments: Any) -> None:
        """Durable quorum queues, created and emptied. The node a queue is declared through
        holds its leader (RabbitMQ's client-local leader locator)."""
        url = (via or self.live()[0]).url()
        queues.declare(url, *names, purge=True, arguments={**QUORUM, **arguments})

    def leader(self, queue: str) -> str:
        """The node name of a quorum queue's leader, as a live node sees it."""
        out = self.live()[0].ctl("list_queues", "-q", "--no-table-headers", "name", "leader")
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return parts[1]
        raise NodeError(f"no quorum queue {queue!r}")

    def wait_for_leader(self, queue: str, timeout: float = 60.0) -> str:
        """A quorum queue's leader on a running node (after an election); its node name."""
        found: list[str] = []

        def elected() -> bool:
            try:
                leader = self.leader(queue)
            except (NodeError, subprocess.CalledProcessError):
                return False
            found[:] = [leader]
            return leader in {node.node_name for node in self.live()}

        if not net.wait_until(elected, timeout, 0.3):
            raise NodeError(f"{queue}: no leader on a running node after {timeout:.0f} s")
        return found[0]

    def bodies(self, queue: str) -> list[str]:
        return queues.bodies(self.live()[0].url(), queue)

    def restart(self, node: Node, timeout: float = 120.0) -> None:
        """Start a node that was stopped or killed; it rejoins the cluster by itself."""
        if not node.running():
            node.start().wait_ready(timeout)
        assert net.wait_until(lambda: node.node_name in self.running(node), timeout, 0.5)

    def heal(self) -> None:
        """Every node running and in the cluster again, after a test stopped or killed some."""
        stopped = [node for node in self.nodes if not node.running()]
        for node in stopped:
            node.start()
        for node in stopped:
            self.restart(node)

    def stop(self) -> None:
        """Each node by its PID (gracefully, then SIGKILL), then our epmd."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))
        self.epmd.stop()


def _status_list(node: Node, key: str) -> list[str]:
    """Node names from `rabbitmqctl cluster_status --formatter json`."""

    try:
        status = json.loads(node.ctl("cluster_status", "--formatter", "json"))
    except (subprocess.CalledProcessError, ValueError):
        return []
    found = status.get(key, [])
    return [str(name) for name in found] if isinstance(found, list) else []
