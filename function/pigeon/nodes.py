"""Which broker node to try first, when the broker is a cluster of several.

The order is shuffled once per container, so that containers spread over the nodes, and kept
while a node answers. A node whose connection failed, or broke, goes to the back of the line:
the next connect tries the others first rather than waiting out a connect timeout on a node
that is known to be down. With one URL there is nothing to choose.
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit


def node_name(url: str) -> str:
    """host:port of a broker URL: what logs and errors name (never the credentials)."""
    parts = urlsplit(url)
    default = 5671 if parts.scheme == "amqps" else 5672
    return f"{parts.hostname}:{parts.port or default}"


class NodeOrder:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.SystemRandom()
        self._order: list[str] = []  # node names, the next to try first

    def candidates(self, urls: tuple[str, ...]) -> list[str]:
        """The URLs in the order to try them."""
        by_name = {node_name(url): url for url in urls}
        if set(by_name) != set(self._order):  # first use, or the secret now lists other nodes
            self._order = list(by_name)
            self._rng.shuffle(self._order)
        return [by_name[name] for name in self._order]

    def failed(self, url: str) -> None:
        """The node did not answer, or its connection broke: try it last from now on."""
        name = node_name(url)
        if name in self._order:
            self._order.remove(name)
            self._order.append(name)
