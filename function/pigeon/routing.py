"""Which queues an accepted crash id goes to: each with probability PERCENT/100."""

from __future__ import annotations

import random
from collections.abc import Sequence

from pigeon.parsers import QueueRoute


def pick_queues(routes: Sequence[QueueRoute], rng: random.Random) -> tuple[list[str], list[str]]:
    """Return (queues to publish to, queues throttled away) for one accepted crash id."""
    chosen: list[str] = []
    throttled: list[str] = []
    for route in routes:
        # randrange(100) is uniform over 0..99, so the chance is exactly percent/100.
        if route.percent >= 100 or rng.randrange(100) < route.percent:
            chosen.append(route.name)
        else:
            throttled.append(route.name)
    return chosen, throttled
