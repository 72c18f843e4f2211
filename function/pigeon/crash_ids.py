"""Crash ids and raw-crash keys.

A raw-crash key is ``<prefix><3 chars>/<YYYYMMDD>/<crash id>``. The collector writes its
throttle result into the crash id: the 7th character from the end is 0 for accept
(process this crash) and 1 for defer (keep it, but don't process it now).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

CRASH_ID = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{6}[0-9]{6}")
THROTTLE_POSITION = -7
ACCEPT = "0"
DEFER = "1"


class Decision(StrEnum):
    ACCEPT = "accept"
    DEFER = "defer"
    INVALID = "invalid"


class RawCrashKey(NamedTuple):
    """The parts of a raw-crash key."""

    entropy: str  # 3 characters (the collector writes the crash id's first 3)
    date: str  # YYYYMMDD
    crash_id: str  # the last path part, not yet checked (``classify`` does)


def parse_key(key: str, prefix: str) -> RawCrashKey | None:
    """A raw-crash key's parts, or None when the key is not a raw-crash key."""
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("/")
    if len(parts) != 3:
        return None
    entropy, date, crash_id = parts
    if len(entropy) != 3 or len(date) != 8 or not date.isascii() or not date.isdigit():
        return None
    return RawCrashKey(entropy, date, crash_id)


def crash_id_from_key(key: str, prefix: str) -> str | None:
    """The last path part of a raw-crash key, or None when the key is not a raw-crash key."""
    parsed = parse_key(key, prefix)
    return parsed.crash_id if parsed else None


def classify(crash_id: str) -> Decision:
    """Accept or defer by the collector's throttle character; anything else is invalid."""
    if not CRASH_ID.fullmatch(crash_id):
        return Decision.INVALID
    throttle = crash_id[THROTTLE_POSITION]
    if throttle == ACCEPT:
        return Decision.ACCEPT
    if throttle == DEFER:
        return Decision.DEFER
    return Decision.INVALID
