"""The load tests' workload and how they send it: 10,000 crash ids as Lambda would get them,
through the local runtime's Invoke API, by several invokers at once."""

from __future__ import annotations

import json
import random
import threading
import urllib.request
from collections.abc import Callable

from pigeon_tools.events import event, new_crash_id, raw_crash_key

SINGLE_EVENTS = 2000
MULTI_EVENTS = 80
RECORDS_PER_MULTI = 100


def workload(rng: random.Random) -> list[list[str]]:
    """Events as lists of crash ids: 2,000 single-record and 80 of 100 records, 80% accept."""

    def one() -> str:
        return new_crash_id("accept" if rng.random() < 0.8 else "defer")

    events = [[one()] for _ in range(SINGLE_EVENTS)]
    events += [[one() for _ in range(RECORDS_PER_MULTI)] for _ in range(MULTI_EVENTS)]
    rng.shuffle(events)
    return events


def accepted(events: list[list[str]]) -> list[str]:
    return [i for ids in events for i in ids if i[-7] == "0"]


def invoke(url: str, ids: list[str]) -> tuple[bytes, bool]:
    """One invocation of an S3 event for these crash ids: (payload, whether it failed)."""
    body = json.dumps(event([raw_crash_key(i) for i in ids])).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = response.read()
        return payload, response.headers.get("X-Amz-Function-Error") is not None


def run(events: list[list[str]], invokers: int, send: Callable[[list[str]], None]) -> None:
    """send(ids) for every event, from `invokers` threads at once."""
    lock = threading.Lock()
    work = iter(events)

    def invoker() -> None:
        while True:
            with lock:
                ids = next(work, None)
            if ids is None:
                return
            send(ids)

    threads = [threading.Thread(target=invoker) for _ in range(invokers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
