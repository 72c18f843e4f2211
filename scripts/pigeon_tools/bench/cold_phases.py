"""Where a cold start's own work goes, in a fresh interpreter: `pigeon.handler` imported (init),
then what the first publish needs, in the function's order: with a secret ARN the secret's read
(one signed GetSecretValue, standard library only: pigeon.secrets_api); the imports of the
publish (pika), the connection (TLS when the URL is amqps), one publish and its confirm. Run as
`python -S -B cold_phases.py QUEUE` with the task root as PYTHONPATH and the function's
environment; prints the phases in ms as JSON.

One function per phase, each timed by `Phases.timed` back to back, so that the phases are the
whole of the time from the first import to the confirm (plus the clock reads between them).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
CRASH_ID = "00007bd0-2d1c-4865-af09-80bc00180313"


class Phases:
    """Phases timed one after the other, in ms, in the order they ran."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def timed(self, name: str, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = work()
        self.ms[name] = (time.perf_counter() - started) * 1000
        return result


def init() -> None:
    import pigeon.handler  # noqa: F401  (configuration, logging, metrics)


def secret_node(arn: str) -> Any:
    from pigeon.credentials import SecretsManagerSource

    return SecretsManagerSource(arn).nodes(time.monotonic() + 5.0)[0]


def publish_imports() -> None:
    import pika  # noqa: F401

    import pigeon.confirms
    import pigeon.parsers
    import pigeon.session  # noqa: F401


def url_node() -> Any:
    from pigeon.parsers import split_broker_urls

    return split_broker_urls(os.environ["PIGEON_RABBITMQ_URL"], "PIGEON_RABBITMQ_URL")[0]


def connect(node: Any) -> Any:
    from pigeon.session import Session

    session = Session(node, 5.0)
    session.wait_open(time.monotonic() + 5.0)
    return session


def publish(session: Any, queue: str) -> Any:
    from pigeon.confirms import Message

    return session.publish([Message(queue, CRASH_ID)], time.monotonic() + 5.0)


def measure(queue: str, arn: str) -> dict[str, float]:
    phases = Phases()
    phases.timed("pigeon.handler import", init)
    if arn:
        node = phases.timed("the secret read (signed GetSecretValue)", lambda: secret_node(arn))
    phases.timed("first-publish imports (pika)", publish_imports)
    if not arn:
        node = url_node()  # parsing a URL: microseconds, in no phase
    session = phases.timed("connect", lambda: connect(node))
    failed = phases.timed("publish and confirm", lambda: publish(session, queue))
    session.close(time.monotonic() + 5.0)
    if failed:
        raise SystemExit(f"not confirmed: {failed}")
    return phases.ms


def main() -> None:
    print(json.dumps(measure(sys.argv[1], os.environ.get("PIGEON_RABBITMQ_SECRET_ARN", ""))))


if __name__ == "__main__":
    main()
