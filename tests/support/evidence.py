"""What the reliability and security tests leave behind: secret hygiene and the figures.

Tests register the secrets they create (``secret``) and every text the system under test
produced that pytest does not capture itself (``seen``: runtime logs, error JSON, handler log
streams). The session plugin (support/evidence_plugin.py) adds each test's captured output and
failure text, scans it all at the end of the session (in each xdist worker, over what that
worker saw with the secrets that worker made) and fails the session on a leak. ``figures``
collects the counts that go to reports/reliability.json, summed over the workers.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Any

from pigeon_tools import docs, reliability

SECRETS: set[str] = set()
TEXTS: list[tuple[str, str]] = []
figures: Counter[str] = Counter()
notes: dict[str, Any] = {}


class Hidden(str):
    """A secret as a test holds it: the string itself, but its repr (what pytest prints for a
    failing test's arguments, a dataclass's fields) never shows it."""

    def __repr__(self) -> str:
        return "'<secret>'"


def secret(value: str) -> str:
    """Watch `value` in everything the session sees; the value, with a repr that hides it."""
    SECRETS.add(value)
    return Hidden(value)


def hidden(value: str) -> str:
    """A string that carries a watched secret (a URL with its password), repr hidden too."""
    return Hidden(value)


def seen(where: str, *texts: object) -> None:
    for text in texts:
        if text:
            TEXTS.append(
                (where, text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
            )


def leaks() -> list[tuple[str, str]]:
    """(where, secret) for every registered text that contains a registered secret."""
    found = []
    for where, text in TEXTS:
        for value in SECRETS:
            if value in text:
                found.append((where, value[:4] + "…"))
    return found


def summary() -> dict[str, Any]:
    """What this process saw, as JSON an xdist worker sends its controller: the figures, the
    notes, and the scan's result (never the secrets themselves: a leak names its first four
    characters)."""
    return {
        "figures": dict(figures),
        "notes": notes,
        "texts": len(TEXTS),
        "secrets": len(SECRETS),
        "leaks": leaks(),
    }


def _merged(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merged(into[key], value)
        else:
            into[key] = value
    return into


def combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One session's evidence from its processes' summaries: figures and counts summed, notes
    merged (a worker's rows and cluster cases join the others'), leaks listed together."""
    total: Counter[str] = Counter()
    merged: dict[str, Any] = {}
    for part in summaries:
        total.update(part["figures"])
        _merged(merged, part["notes"])
    return {
        "figures": dict(total),
        "notes": merged,
        "texts": sum(part["texts"] for part in summaries),
        "secrets": sum(part["secrets"] for part in summaries),
        "leaks": [tuple(leak) for part in summaries for leak in part["leaks"]],
    }


def full(session: dict[str, Any]) -> bool:
    """Whether a combined session ran everything the report needs (a full `make test`)."""
    return reliability.complete(_report(session))


def _report(session: dict[str, Any]) -> dict[str, Any]:
    return {
        "when": datetime.datetime.now(datetime.UTC).date().isoformat(),
        **dict(sorted(session["figures"].items())),
        **session["notes"],
        "secret_scan": {
            "texts": session["texts"],
            "secrets": session["secrets"],
            "leaks": len(session["leaks"]),
        },
        "texts_scanned": session["texts"],
        "secrets_watched": session["secrets"],
    }


def write_report(path: Path, session: dict[str, Any]) -> bool:
    """Write the figures of a combined session, and the docs table made from them, after a
    full session only (a partial run must not replace them with part of the figures)."""
    report = _report(session)
    if not reliability.complete(report):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    docs.stale(write=True)
    return True
