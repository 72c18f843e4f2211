"""The handler called in-process, without the runtime: the baseline of the runtime's overhead,
and, with --profile, where the handler's own time goes (cProfile, by area).

Run as `python -S direct_call.py [--profile] < events.jsonl` with the task root as PYTHONPATH,
like the runtime puts it first on sys.path; prints the durations in ms as JSON, or the areas."""

from __future__ import annotations

import json
import sys
import time

# Where a function's time counts, by the file it is in (first match wins).
AREAS = (
    ("/pika/", "pika (frames, callbacks)"),
    ("pythonjsonlogger", "logging"),
    ("/logging/", "logging"),
    ("/json/", "json"),
    ("/pigeon/", "pigeon (parse, decide, summary, metrics)"),
)
WAITING = "waiting for the broker (poll)"
SOCKET = "socket writes and reads"


class Context:
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def area(filename: str, function: str) -> str:
    if "poll" in function and "epoll" in function:
        return WAITING
    if "_socket.socket" in function or "ssl" in filename or "SSL" in function:
        return SOCKET
    for marker, name in AREAS:
        if marker in filename:
            return name
    return "Python built-ins and stdlib (struct, select, isinstance, …)"


def profile(handler: object, events: list[object]) -> dict[str, float]:
    """Milliseconds per call by area, from cProfile's own time of each function."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for event in events:
        handler(event, Context())  # type: ignore[operator]
    profiler.disable()
    areas: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.items():
        key = area(filename, function)
        areas[key] = areas.get(key, 0.0) + own * 1000 / len(events)
    return dict(sorted(areas.items(), key=lambda item: -item[1]))


def main() -> None:
    from pigeon.handler import handler

    events = [json.loads(line) for line in sys.stdin]
    handler(events[0], Context())  # the first call opens the connection
    if "--profile" in sys.argv:
        print(json.dumps(profile(handler, events[1:])))
        return
    times = []
    for event in events[1:]:
        started = time.perf_counter()
        handler(event, Context())
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
