"""Which queues an accepted crash id goes to: each queue takes PERCENT of all crash ids.

The choice is a function of the crash id and the queue name, not a random draw: the same crash
gets the same answer in every record of an event, on every retry and redelivery, and in every
execution environment (there is no random state to copy into environments restored from one
SnapStart snapshot). Queues choose independently: a crash that one 50% queue takes is taken by
another 50% queue with probability 1/2. Renaming a queue draws its crash ids anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pigeon.parsers import QueueRoute

BUCKETS = 100  # a crash id falls in one of 100 buckets per queue; PERCENT of them are taken


def bucket(queue: str, crash_id: str) -> int:
    """0..99, uniform over crash ids (SHA-256 of queue and crash id; bias under 2**-56)."""
    digest = hashlib.sha256(f"{queue}\n{crash_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def takes(route: QueueRoute, crash_id: str) -> bool:
    return route.percent >= BUCKETS or bucket(route.name, crash_id) < route.percent


def pick_queues(routes: Sequence[QueueRoute], crash_id: str) -> tuple[list[str], list[str]]:
    """Return (queues to publish to, queues throttled away) for one accepted crash id."""
    chosen = [route.name for route in routes if takes(route, crash_id)]
    return chosen, [route.name for route in routes if route.name not in chosen]
