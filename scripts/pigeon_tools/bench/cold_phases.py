"""Where a cold start's own work goes, in a fresh interpreter: `pigeon.handler` imported (init),
then what the first publish needs, in the function's order: with a secret ARN the SDK's import
(boto3, botocore), then the client and GetSecretValue; the imports of the publish (pika), the
connection (TLS when the URL is amqps), one publish and its confirm. Run as
`python -S -B cold_phases.py QUEUE` with the task root as PYTHONPATH and the function's
environment; prints the phases in ms as JSON."""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    queue = sys.argv[1]
    phases = {}
    started = time.perf_counter()
    import pigeon.handler  # noqa: F401  (init: configuration, logging, metrics)

    phases["pigeon.handler import"] = time.perf_counter() - started
    arn = os.environ.get("PIGEON_RABBITMQ_SECRET_ARN", "")
    if arn:
        started = time.perf_counter()
        import boto3  # noqa: F401
        import botocore.config  # noqa: F401

        phases["SDK import (boto3, botocore)"] = time.perf_counter() - started
        from pigeon.credentials import SecretsManagerSource

        started = time.perf_counter()
        node = SecretsManagerSource(arn).nodes(time.monotonic() + 5.0)[0]
        phases["SDK client and GetSecretValue"] = time.perf_counter() - started
    started = time.perf_counter()
    import pika  # noqa: F401

    from pigeon.confirms import Message
    from pigeon.parsers import split_broker_urls
    from pigeon.session import Session

    phases["first-publish imports (pika)"] = time.perf_counter() - started
    if not arn:
        node = split_broker_urls(os.environ["PIGEON_RABBITMQ_URL"], "PIGEON_RABBITMQ_URL")[0]
    started = time.perf_counter()
    session = Session(node, 5.0)
    session.wait_open(time.monotonic() + 5.0)
    phases["connect"] = time.perf_counter() - started
    started = time.perf_counter()
    failed = session.publish([Message(queue, "00007bd0-2d1c-4865-af09-80bc00180313")],
                             time.monotonic() + 5.0)  # fmt: skip
    phases["publish and confirm"] = time.perf_counter() - started
    session.close(time.monotonic() + 5.0)
    if failed:
        raise SystemExit(f"not confirmed: {failed}")
    print(json.dumps({name: seconds * 1000 for name, seconds in phases.items()}))


if __name__ == "__main__":
    main()
