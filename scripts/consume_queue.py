#!/usr/bin/env python3
"""Drain RabbitMQ queues and print each message as ``item: <body>``.

    consume_queue.py socorro.normal socorro.submitter
    consume_queue.py --declare socorro.normal      # create the queues (durable) if missing
    consume_queue.py --purge socorro.normal        # empty them without printing

The broker is PIGEON_RABBITMQ_URL, else the one in pigeon.env, else localhost (of a list of
nodes, the first). The queues default to those of PIGEON_QUEUES (the same way). Queues that
exist are kept as they are (a cluster's quorum queues, say).
"""

from __future__ import annotations

import argparse
import sys

import pika

from pigeon_tools import function, queues


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queues", nargs="*", help="default: the queues of PIGEON_QUEUES")
    parser.add_argument("--url", default=None, help="amqp URL (default: see above)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--declare", action="store_true", help="declare the queues, durable")
    action.add_argument("--purge", action="store_true", help="empty the queues, print nothing")
    action.add_argument("--names", action="store_true", help="print the configured queue names")
    args = parser.parse_args()
    names = args.queues or function.queue_names()
    if not names:
        parser.error("no queues given and PIGEON_QUEUES is not set")
    if args.names:
        print(" ".join(names))
        return 0
    url = args.url or function.broker_url()
    try:
        if args.declare:
            queues.ensure(url, *names)
        elif args.purge:
            queues.purge(url, *names)
        else:
            for name in names:
                for body in queues.bodies(url, name):
                    print(f"item: {body}")
    except pika.exceptions.ChannelClosedByBroker as error:
        print(f"consume_queue: {error.reply_text}", file=sys.stderr)
        return 1
    except pika.exceptions.AMQPError as error:
        print(f"consume_queue: cannot connect to RabbitMQ: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
