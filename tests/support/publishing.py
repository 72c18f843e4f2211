"""A Publisher as the handler builds one, for component tests: from a URL (or several, by
commas), parsed as at init; and a broker source that counts how often it is read."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pigeon.credentials import UrlSource
from pigeon.endpoints import Node
from pigeon.nodes import NodeOrder
from pigeon.parsers import split_broker_urls
from pigeon.publisher import Publisher


class InOrder(random.Random):
    """A NodeOrder that tries the nodes in the order given (no shuffle)."""

    def shuffle(self, x: list[object]) -> None:  # type: ignore[override]
        return None


def publisher(url: str, connect_timeout: float = 5.0, order: NodeOrder | None = None) -> Publisher:
    return Publisher(
        UrlSource(split_broker_urls(url, "PIGEON_RABBITMQ_URL")), connect_timeout, order
    )


@dataclass
class CountingSource:
    """Pigeon's broker source for these URLs, counting reads and refreshes. `rotates`: like a
    Secrets Manager secret, a refresh may help (so Pigeon reads it again and retries);
    `moves_to`: the URLs a refresh reads (the broker moved, and the secret says so)."""

    url: str
    rotates: bool = False
    reads: int = 0
    refreshes: int = 0
    moves_to: str | None = None
    forgets: int = 0

    def nodes(self, deadline: float) -> tuple[Node, ...]:
        self.reads += 1
        return split_broker_urls(self.url, "PIGEON_RABBITMQ_URL")

    def refresh(self) -> bool:
        self.refreshes += 1
        if self.moves_to:
            self.url = self.moves_to
        return self.rotates

    def prefetch(self) -> None:
        self.nodes(0.0)

    def forget(self) -> None:
        self.forgets += 1
