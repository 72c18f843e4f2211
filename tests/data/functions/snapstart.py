"""A function for testing restore mode (SnapStart): Pigeon's own handler, primed in Init the
way a function that warms up in Init would be, and a probe of what each environment sees.

Init imports pigeon.handler (which registers Pigeon's runtime hooks), then, with PRIME_CRASH_ID
set, publishes that crash id through the real handler: a broker connection is open and the
node order chosen when the snapshot is taken (printed, for the test to compare). With
SNAPSTART_FAIL_RESTORE (or SNAPSTART_FAIL_SNAPSHOT) set, one more after-restore (or
before-snapshot) hook raises.

`handle`: {"probe": true} gives this environment's pid, a draw of `random`, and the order in
which its publisher tries the broker nodes (introspection: no event shows an order); any other
event goes to Pigeon's handler.
"""

import os
import random

from snapshot_restore_py import register_after_restore, register_before_snapshot

from pigeon import handler as entry

pigeon = entry.handler


def order():
    return list(pigeon.publisher._order._order)


class _Context:
    aws_request_id = "prime"

    def get_remaining_time_in_millis(self):
        return 10_000


if os.environ.get("PRIME_CRASH_ID"):
    crash_id = os.environ["PRIME_CRASH_ID"]
    key = f"v2/raw_crash/{crash_id[:3]}/20{crash_id[-6:]}/{crash_id}"
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}
    record["s3"] = {"bucket": {"name": "prime"}, "object": {"key": key}}
    print("snapstart probe: primed", pigeon({"Records": [record]}, _Context()))
    print("snapstart probe: primed order", ",".join(order()))


def _fail(event):
    raise RuntimeError(f"snapstart probe: the {event} hook failed on purpose")


if os.environ.get("SNAPSTART_FAIL_RESTORE"):
    register_after_restore(_fail, "after-restore")
if os.environ.get("SNAPSTART_FAIL_SNAPSHOT"):
    register_before_snapshot(_fail, "before-snapshot")


def handle(event, context):
    if isinstance(event, dict) and event.get("probe"):
        return {"pid": os.getpid(), "random": random.random(), "order": order()}
    return pigeon(event, context)
