"""What the reliability and security tests leave behind: secret hygiene and the figures.

Tests register the secrets they create (``secret``) and every text the system under test
produced that pytest does not capture itself (``seen``: runtime logs, error JSON, handler log
streams). conftest adds each test's captured output and failure text. The last test of the
session scans it all. ``figures`` collects the counts that go to reports/reliability.json.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path

from pigeon_tools import docs, reliability

SECRETS: set[str] = set()
TEXTS: list[tuple[str, str]] = []
figures: Counter[str] = Counter()
notes: dict[str, object] = {}
written = False


def secret(value: str) -> str:
    SECRETS.add(value)
    return value


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


def write_report(path: Path) -> bool:
    """Write the figures, and the docs table made from them, after a full session only (a
    partial run must not replace them with part of the figures)."""
    report = {
        "when": datetime.datetime.now(datetime.UTC).date().isoformat(),
        **dict(sorted(figures.items())),
        **notes,
        "texts_scanned": len(TEXTS),
        "secrets_watched": len(SECRETS),
    }
    if not reliability.complete(report):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    docs.stale(write=True)
    return True
