"""10,000 crash ids through the stay-open local runtime, 4 invokers at once: none lost, none
doubled, every queue holding exactly what the invocations say they published."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter

import pytest

from pigeon_tools.lambda_local import function
from pigeon_tools.paths import ZIP
from support import commands, evidence, load

INVOKERS = 4


@pytest.fixture
def invoke_api(broker, pigeon_url):
    queues = [f"load.{uuid.uuid4().hex[:8]}", f"load.{uuid.uuid4().hex[:8]}"]
    broker.declare(*queues)
    settings = function.environment(
        pigeon_url, f"{queues[0]},30:{queues[1]}", PIGEON_ENV="load", PIGEON_LOG_LEVEL="WARNING"
    )
    env = commands.developer_environment(**settings)
    args = ("--task-root", str(ZIP), "--concurrency", str(INVOKERS), "--timeout", "30")
    with commands.invoke_api(*args, env=env) as url:
        yield url, queues


def test_ten_thousand_ids_none_lost_none_doubled(broker, invoke_api):
    url, queues = invoke_api
    events = load.workload(random.Random(20181113))
    total_ids = sum(len(e) for e in events)
    assert total_ids == 10_000
    results: list[dict] = []
    failures: list[bytes] = []
    lock = threading.Lock()

    def send(ids: list[str]) -> None:
        payload, failed = load.invoke(url, ids)
        with lock:
            (failures.append(payload) if failed else results.append(json.loads(payload)))

    started = time.perf_counter()
    load.run(events, INVOKERS, send)
    elapsed = time.perf_counter() - started

    assert failures == []
    accepted = load.accepted(events)
    published = {q: [i for r in results for i in r["published"].get(q, [])] for q in queues}
    on_queue = {q: broker.bodies(q) for q in queues}
    # Nothing failed, so: every accepted id exactly once on the 100% queue, and the 30% queue
    # holds exactly what the invocations reported, each once.
    assert Counter(on_queue[queues[0]]) == Counter(accepted)
    assert Counter(on_queue[queues[1]]) == Counter(published[queues[1]])
    assert 0.2 < len(on_queue[queues[1]]) / len(accepted) < 0.4
    assert sum(r["deferred"] for r in results) == total_ids - len(accepted)

    rate = total_ids / elapsed
    print(
        f"load: {total_ids} ids in {len(events)} events, {INVOKERS} invokers: "
        f"{elapsed:.1f} s, {rate:.0f} ids/s, {len(events) / elapsed:.0f} invocations/s, "
        f"0 lost, 0 duplicated"
    )
    evidence.notes["load"] = {
        "ids": total_ids,
        "events": len(events),
        "invokers": INVOKERS,
        "seconds": round(elapsed, 1),
        "ids_per_second": round(rate),
        "lost": 0,
        "duplicated": 0,
        "accepted": len(accepted),
    }
    evidence.figures["ids_checked"] += total_ids
