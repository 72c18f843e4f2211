"""The handler called in-process, without the runtime: the baseline of the runtime's overhead.

Run as `python -S direct_call.py < events.jsonl` with the task root as PYTHONPATH, like the
runtime puts it first on sys.path; prints the durations in ms as JSON."""

from __future__ import annotations

import json
import sys
import time


class Context:
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def main() -> None:
    from pigeon.handler import handler

    times = []
    for line in sys.stdin:
        event = json.loads(line)
        started = time.perf_counter()
        handler(event, Context())
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps(times[1:]))  # the first call opens the connection


if __name__ == "__main__":
    main()
