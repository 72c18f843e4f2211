#!/usr/bin/env python3
"""Drain RabbitMQ queues and print each message as ``item: <body>``.

    consume_queue.py socorro.normal socorro.submitter
    consume_queue.py --declare socorro.normal      # create the queues (durable) if missing
    consume_queue.py --purge socorro.normal        # empty them without printing

The broker is PIGEON_RABBITMQ_URL, else the one in pigeon.env, else localhost.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pika

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_runtime import read_env_file

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def setting(name: str) -> str:
    """A PIGEON_* setting as the function gets it: the environment over pigeon.env."""
    env_file = ROOT / "pigeon.env"
    from_file = read_env_file(env_file) if env_file.exists() else {}
    return os.environ.get(name) or from_file.get(name, "")


def broker_url() -> str:
    return setting("PIGEON_RABBITMQ_URL") or DEFAULT_URL


def configured_queues() -> list[str]:
    """The queue names of PIGEON_QUEUES, without their percentages."""
    value = setting("PIGEON_QUEUES")
    return [item.strip().rpartition(":")[2] for item in value.split(",") if item.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queues", nargs="*", help="default: the queues of PIGEON_QUEUES")
    parser.add_argument("--url", default=None, help="amqp URL (default: see above)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--declare", action="store_true", help="declare the queues, durable")
    action.add_argument("--purge", action="store_true", help="empty the queues, print nothing")
    args = parser.parse_args(argv)
    queues = args.queues or configured_queues()
    if not queues:
        parser.error("no queues given and PIGEON_QUEUES is not set")
    try:
        connection = pika.BlockingConnection(pika.URLParameters(args.url or broker_url()))
    except pika.exceptions.AMQPError as error:
        print(f"consume_queue: cannot connect to RabbitMQ: {type(error).__name__}", file=sys.stderr)
        return 1
    try:
        channel = connection.channel()
        for queue in queues:
            if args.declare:
                channel.queue_declare(queue, durable=True)
                continue
            if args.purge:
                channel.queue_purge(queue)
                continue
            while True:
                method, _properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                print(f"item: {body.decode('utf-8', 'replace')}")
    except pika.exceptions.ChannelClosedByBroker as error:
        print(f"consume_queue: {error.reply_text}", file=sys.stderr)
        return 1
    finally:
        if connection.is_open:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
