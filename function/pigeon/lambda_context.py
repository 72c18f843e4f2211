"""What Pigeon reads from Lambda's context object: the request id, and the time left."""

from __future__ import annotations

import time
from typing import Any

# Time kept back from the Lambda deadline for logging, metrics and the error response.
GRACE_SECONDS = 1.0


def request_id(context: Any) -> str | None:
    return getattr(context, "aws_request_id", None)


def deadline_for(context: Any, publish_timeout: float) -> float:
    """A monotonic deadline: the publish timeout, cut short to end well before Lambda's."""
    now = time.monotonic()
    deadline = now + publish_timeout
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        remaining = get_remaining() / 1000.0
        deadline = min(deadline, now + max(remaining - GRACE_SECONDS, remaining * 0.5))
    return deadline
