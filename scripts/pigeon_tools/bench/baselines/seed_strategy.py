"""Baseline for the bench: the seed's strategy, a new connection for every invocation.

Open a BlockingConnection, publish each accepted crash id with confirms, close. Parsing and
decisions are Pigeon's own, so only the connection strategy differs. Copied beside a copy of
the built zip and run by the local runtime as `seed_strategy.handler`.
"""

from __future__ import annotations

import os
from typing import Any

import pika

from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.events import S3Object, parse_record
from pigeon.parsers import parse_queues

URL = os.environ["PIGEON_RABBITMQ_URL"]
QUEUES = [route.name for route in parse_queues(os.environ["PIGEON_QUEUES"])]
NAMES = frozenset({"ObjectCreated:Put"})


def handler(event: Any, context: Any) -> dict[str, int]:
    ids = []
    for result in (parse_record(record, NAMES) for record in event["Records"]):
        if isinstance(result, S3Object):
            crash_id = crash_id_from_key(result.key, "v2/raw_crash/")
            if crash_id and classify(crash_id) is Decision.ACCEPT:
                ids.append(crash_id)
    if not ids:
        return {"published": 0}
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for crash_id in ids:
            for queue in QUEUES:
                channel.basic_publish(
                    "",
                    queue,
                    crash_id.encode(),
                    pika.BasicProperties(delivery_mode=2, message_id=crash_id),
                    mandatory=True,
                )
    finally:
        connection.close()
    return {"published": len(ids)}
