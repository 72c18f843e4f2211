"""What backfill counts as a batch the function took (pigeon_tools.operate.backfill.taken): the
answer must account for every accepted crash id, on a queue or throttled."""

from __future__ import annotations

from pigeon_tools import events
from pigeon_tools.operate.backfill import taken

PREFIX = "v2/raw_crash/"


def answer(accepted: list[str], published: list[str], throttled: int) -> dict[str, object]:
    return {
        "records": len(accepted),
        "accepted": len(accepted),
        "deferred": 0,
        "throttled": throttled,
        "ignored": 0,
        "invalid": 0,
        "published": {"socorro.normal": published, "socorro.other": []},
    }


def test_ids_on_no_queue_are_taken_only_when_each_was_throttled():
    ids = [events.new_crash_id("accept") for _ in range(4)]
    keys = [events.raw_crash_key(i) for i in ids]
    assert taken(keys, PREFIX, answer(ids, ids, 0))[1] == ""
    # Two ids on no queue, two throttles: the function's throttle took them.
    assert taken(keys, PREFIX, answer(ids, ids[:2], 2))[1] == ""
    # Three ids on no queue and one throttle (another queue at 0%, say): not taken.
    problem = taken(keys, PREFIX, answer(ids, ids[:1], 1))[1]
    assert problem.startswith("it accepted 4 crash ids and published 3 of them to no queue")
