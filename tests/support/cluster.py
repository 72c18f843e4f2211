"""The tests' three-node cluster (pigeon_tools.broker.cluster) with Pigeon's user, and a TCP
proxy in front of each node: a test sees which node Pigeon talks to, and acts on that node when
Pigeon has sent so many bytes through it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from pigeon_tools.broker.cluster import Cluster
from pigeon_tools.broker.node import Node
from support.tcp_proxy import TcpProxy


@dataclass
class TestCluster:
    __test__ = False  # not a test class, for pytest

    cluster: Cluster
    password: str

    @property
    def nodes(self) -> list[Node]:
        return self.cluster.nodes

    def url(self, nodes: Sequence[Node] | None = None) -> str:
        """PIGEON_RABBITMQ_URL: Pigeon's user on each node, by commas."""
        return ",".join(node.url("pigeon", self.password) for node in nodes or self.nodes)

    @contextmanager
    def front(self, nodes: Sequence[Node] | None = None) -> Iterator[Front]:
        front = Front(self, list(nodes or self.nodes))
        try:
            yield front
        finally:
            front.close()


class Front:
    def __init__(self, cluster: TestCluster, nodes: list[Node]) -> None:
        self.cluster = cluster
        self.proxies = {node.node_name: (node, TcpProxy(node.port)) for node in nodes}
        self._fired = threading.Lock()

    def url(self) -> str:
        """PIGEON_RABBITMQ_URL through the proxies."""
        urls = []
        for node, proxy in self.proxies.values():
            url = node.url("pigeon", self.cluster.password)
            urls.append(url.replace(f":{node.port}/", f":{proxy.port}/"))
        return ",".join(urls)

    def reset(self) -> None:
        for _, proxy in self.proxies.values():
            proxy.upstream_bytes = 0

    def holding(self) -> Node:
        """The one node Pigeon sent bytes to since the last reset."""
        used = [node for node, proxy in self.proxies.values() if proxy.upstream_bytes]
        assert len(used) == 1, f"Pigeon talked to {[n.node_name for n in used]}"
        return used[0]

    def when_sent(self, count: int, action: Callable[[Node, TcpProxy], None]) -> None:
        """Once Pigeon has sent `count` bytes to a node: action(that node, its proxy), once."""
        for node, proxy in self.proxies.values():

            def fire(node: Node = node, proxy: TcpProxy = proxy) -> None:
                if self._fired.acquire(blocking=False):
                    action(node, proxy)

            proxy.on_upstream_bytes = (proxy.upstream_bytes + count, fire)

    def close(self) -> None:
        for _, proxy in self.proxies.values():
            proxy.close()
