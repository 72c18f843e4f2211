"""What Pigeon reads from Lambda's context object: the request id, and the time left."""

from __future__ import annotations

import time
from typing import Any

# Time kept back from the Lambda timeout for logging, metrics and the error response: 1 s, or
# half the time left when less than 2 s are left (so that a short timeout still publishes).
GRACE_SECONDS = 1.0


def request_id(context: Any) -> str | None:
    return getattr(context, "aws_request_id", None)


def deadline_for(context: Any, publish_timeout: float) -> float:
    """The invocation's one monotonic deadline: now + PIGEON_PUBLISH_TIMEOUT, but no later than
    1 s before the Lambda timeout, or halfway through the time left when that is under 2 s."""
    now = time.monotonic()
    deadline = now + publish_timeout
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        remaining = get_remaining() / 1000.0
        grace = GRACE_SECONDS if remaining >= 2 * GRACE_SECONDS else remaining / 2
        deadline = min(deadline, now + remaining - grace)
    return deadline
