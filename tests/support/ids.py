"""Crash ids and queue names for tests that need many fresh ones."""

from __future__ import annotations

import time
import uuid

ACCEPT_ID = "00007bd0-2d1c-4865-af09-80bc00180313"


def new_id() -> str:
    raw = uuid.uuid4().hex
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:25]}0" + "261130"


def queue_name() -> str:
    return f"test.{uuid.uuid4().hex[:10]}"


def soon(seconds: float = 5.0) -> float:
    """A publish deadline: this many seconds from now."""
    return time.monotonic() + seconds
