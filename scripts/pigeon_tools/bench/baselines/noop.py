"""Baseline for the bench: a handler that does nothing. Its REPORT Duration is the runtime
client's own cost per invoke; its Init Duration is Python plus the runtime client."""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> None:
    return None
