#!/usr/bin/env python3
"""Drain RabbitMQ queues and print each message as ``item: <body>``.

examples:
  consume_queue.py socorro.normal socorro.submitter
  consume_queue.py --declare socorro.normal      # create the queues (durable) if missing
  consume_queue.py --purge socorro.normal        # empty them without printing
  consume_queue.py --delete smoke.1234           # delete them
  consume_queue.py --names                       # the queue names of PIGEON_QUEUES

The broker (--url's default): PIGEON_RABBITMQ_URL from the environment as given (of a list of
nodes, the first); else pigeon.env's, on the port `make broker` or `make run` chose
(PIGEONTOOLS_RABBITMQ_PORT). The queues default to those of PIGEON_QUEUES (environment, else
pigeon.env). Queues that exist are kept as they are (a cluster's quorum queues, say).

exit status: 0 done, 1 the broker failed or refused, 2 usage.
"""

from __future__ import annotations

import pika

from pigeon_tools import cli, queues
from pigeon_tools.broker import local
from pigeon_tools.lambda_local import function


def refusal(error: BaseException) -> str:
    """What a broker that answers said, from pika's error (or the errors it wraps)."""
    found = [error, *getattr(error, "exceptions", [])]
    refused = (pika.exceptions.ProbableAuthenticationError, pika.exceptions.AuthenticationError)
    if any(isinstance(e, refused) for e in found):
        return "refused the login; check the user and password of the URL"
    if any(isinstance(e, pika.exceptions.ProbableAccessDeniedError) for e in found):
        return "refused the virtual host; check the URL's vhost and the user's permissions"
    return f"failed: {' '.join(type(e).__name__ for e in found)}"


def main() -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("queues", nargs="*", help="default: the queues of PIGEON_QUEUES")
    parser.add_argument("--url", help="amqp URL (default: the broker named above)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--declare", action="store_true", help="declare the queues, durable")
    action.add_argument("--purge", action="store_true", help="empty the queues, print nothing")
    action.add_argument("--delete", action="store_true", help="delete the queues")
    action.add_argument("--names", action="store_true", help="print the configured queue names")
    args = parser.parse_args()
    names = args.queues or function.queue_names()
    if not names:
        parser.error("no queues given and PIGEON_QUEUES is not set")
    if args.names:
        print(" ".join(names))
        return cli.OK
    url = args.url or local.hand_run_url()
    try:
        if args.declare:
            queues.ensure(url, *names)
        elif args.purge:
            queues.purge(url, *names)
        elif args.delete:
            queues.delete(url, *names)
        else:
            for name in names:
                for body in queues.bodies(url, name):
                    print(f"item: {body}")
    except pika.exceptions.ChannelClosedByBroker as error:
        raise cli.Failure(f"RabbitMQ refused: {error.reply_text}") from None
    except pika.exceptions.AMQPError as error:
        problem = local.unreachable(url)
        if problem is None:  # it answers, and still: the login, the vhost, …
            problem = f"the RabbitMQ at {local.where(url)} {refusal(error)}"
        raise cli.Failure(problem) from None
    return cli.OK


if __name__ == "__main__":
    cli.run(main, "consume_queue")
