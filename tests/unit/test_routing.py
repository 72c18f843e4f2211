"""PERCENT throttling is a function of the crash id and the queue: the same answer for the same
crash on every record, try and container, and PERCENT/100 of all crash ids per queue."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from pigeon.parsers import QueueRoute
from pigeon.routing import bucket, pick_queues
from pigeon_tools.events import new_crash_id
from pigeon_tools.paths import BUILD
from pigeon_tools.python import python313


def crash_ids(n: int) -> list[str]:
    return [new_crash_id("accept") for _ in range(n)]


def test_100_and_0_percent_are_exact():
    routes = (QueueRoute("all", 100), QueueRoute("none", 0))
    for crash_id in crash_ids(1000):
        assert pick_queues(routes, crash_id) == (["all"], ["none"])


def test_every_bucket_is_as_likely_over_crash_ids():
    ids = crash_ids(40_000)
    counts = [0] * 100
    for crash_id in ids:
        counts[bucket("q", crash_id)] += 1
    # 400 expected per bucket, sigma 20: 6 sigma either side.
    assert min(counts) > 280
    assert max(counts) < 520


@pytest.mark.parametrize("percent", [1, 15, 50, 99])
def test_a_percentage_holds_over_crash_ids(percent):
    n = 20_000
    taken = sum(bool(pick_queues((QueueRoute("q", percent),), i)[0]) for i in crash_ids(n))
    sigma = (percent / 100 * (1 - percent / 100) / n) ** 0.5
    assert abs(taken / n - percent / 100) < 5 * sigma


def test_the_same_crash_gets_the_same_answer_every_time():
    routes = (QueueRoute("q15", 15), QueueRoute("q50", 50))
    for crash_id in crash_ids(500):
        first = pick_queues(routes, crash_id)
        assert all(pick_queues(routes, crash_id) == first for _ in range(3))


def test_queues_choose_independently():
    ids = crash_ids(20_000)
    a, b = QueueRoute("socorro.a", 50), QueueRoute("socorro.b", 50)
    both = sum(pick_queues((a, b), i)[0] == ["socorro.a", "socorro.b"] for i in ids)
    assert abs(both / len(ids) - 0.25) < 0.02  # not 0.5, as nested choices would give


def test_another_interpreter_gives_the_same_answers():
    """A container is a new process with its own hash seed: the answers must not depend on it
    (Python's hash() would), nor on any state of this one."""
    ids = crash_ids(300)
    here = [bucket("socorro.submitter", i) for i in ids]
    code = (
        "import sys; from pigeon.routing import bucket\n"
        "print(' '.join(str(bucket('socorro.submitter', i)) for i in sys.stdin.read().split()))"
    )
    done = subprocess.run(
        [python313(), "-S", "-B", "-c", code],
        cwd=BUILD,
        input=" ".join(ids),
        env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": str(uuid.uuid4().int % 2**32)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert [int(b) for b in done.stdout.split()] == here


# Pinned answers (golden values): SHA-256 of "<queue>\n<crash id>", first 8 bytes, mod 100.
# A change of the hash, its input or the comparison changes which crashes each queue gets in
# production; these fail then, where the properties above would still hold.
ROUTES = (
    QueueRoute("socorro.normal", 100),
    QueueRoute("socorro.submitter", 15),
    QueueRoute("socorro.half", 50),
)


@pytest.mark.parametrize(
    ("crash_id", "submitter", "half", "chosen"),
    [
        ("00007bd0-2d1c-4865-af09-80bc00180313", 3, 35, ["socorro.submitter", "socorro.half"]),
        ("de1bb258-cbbf-4589-a673-34f800160918", 56, 84, []),
        ("a7e3f5c1-9f0b-4b8e-8a2c-3d4e50240101", 4, 97, ["socorro.submitter"]),
        ("0b1c2d3e-4f50-4617-8293-a4b5c0200301", 30, 19, ["socorro.half"]),
        ("ffffffff-ffff-4fff-8fff-fff000991231", 49, 50, []),  # 50 is not < 50
        ("12345678-90ab-4cde-8f01-234560240229", 5, 25, ["socorro.submitter", "socorro.half"]),
        ("5a5a5a5a-0000-4111-8222-333330260101", 82, 54, []),
    ],
)
def test_pinned_crash_ids_get_pinned_queues(crash_id, submitter, half, chosen):
    assert (bucket("socorro.submitter", crash_id), bucket("socorro.half", crash_id)) == (
        submitter,
        half,
    )
    picked, throttled = pick_queues(ROUTES, crash_id)
    assert picked == ["socorro.normal", *chosen]
    assert throttled == [r.name for r in ROUTES[1:] if r.name not in chosen]
