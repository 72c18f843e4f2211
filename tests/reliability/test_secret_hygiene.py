"""Secret hygiene over the whole session: no broker password and no secret value in any log
line, metric line, error JSON or exception that the tests saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import evidence


def test_the_scan_finds_a_planted_secret():
    planted = "pw-planted-" + "x" * 8
    texts = [("somewhere", f"connect failed for amqp://u:{planted}@h/")]
    saved = (set(evidence.SECRETS), list(evidence.TEXTS))
    try:
        evidence.SECRETS.add(planted)
        evidence.TEXTS[:] = texts
        assert evidence.leaks() == [("somewhere", "pw-p…")]
    finally:
        evidence.SECRETS.clear()
        evidence.SECRETS.update(saved[0])
        evidence.TEXTS[:] = saved[1]


@pytest.mark.last
def test_no_secret_appears_in_anything_captured_this_session(request):
    """Runs last. With the broker and fault tests in the session, it must have seen the secrets
    and the failures that would leak them (login refused, unroutable, connection errors)."""
    live = {"component", "runtime", "reliability"}  # the kinds that talk to a broker
    items = request.session.items
    session_ran_broker_tests = any(live & set(Path(str(i.path)).parts) for i in items)
    if session_ran_broker_tests:
        assert evidence.SECRETS, "no secret was registered"
        assert evidence.TEXTS, "nothing was registered for the scan"
    assert evidence.leaks() == []
    evidence.notes["secret_scan"] = {
        "texts": len(evidence.TEXTS),
        "secrets": len(evidence.SECRETS),
        "leaks": 0,
    }
