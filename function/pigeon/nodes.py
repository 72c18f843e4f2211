"""Which broker node to try first, when the broker is a cluster of several.

The order is shuffled once per container, so that containers spread over the nodes, and kept
while a node answers. A node whose connection failed, or broke, goes to the back of the line:
the next connect tries the others first rather than waiting out a connect timeout on a node
that is known to be down. With one URL there is nothing to choose.
"""

from __future__ import annotations

import random

from pigeon.endpoints import Node


class NodeOrder:
    def __init__(self, rng: random.Random | None = None) -> None:
        # SystemRandom by default: nothing to share between environments restored from one
        # SnapStart snapshot, and the shuffle happens at the first connect, after a restore.
        self._rng = rng or random.SystemRandom()
        self._order: list[str] = []  # node names, the next to try first

    def candidates(self, nodes: tuple[Node, ...]) -> list[Node]:
        """The nodes in the order to try them."""
        by_name = {node.name: node for node in nodes}
        if set(by_name) != set(self._order):  # first use, or the secret now lists other nodes
            self._order = list(by_name)
            self._rng.shuffle(self._order)
        return [by_name[name] for name in self._order]

    def forget(self) -> None:
        """Before a SnapStart snapshot: the next connect shuffles again, in each restored
        environment on its own."""
        self._order = []

    def failed(self, node: Node) -> None:
        """The node did not answer, or its connection broke: try it last from now on."""
        if node.name in self._order:
            self._order.remove(node.name)
            self._order.append(node.name)
