"""RabbitMQ queues from the tools' side: declare, purge, drain, count. Plain blocking pika."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import pika


@contextlib.contextmanager
def channel(url: str) -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


def declare(
    url: str, *queues: str, purge: bool = False, arguments: Mapping[str, Any] | None = None
) -> None:
    """Durable queues (created if missing); with purge, emptied too."""
    with channel(url) as ch:
        for queue in queues:
            ch.queue_declare(queue, durable=True, arguments=dict(arguments or {}))
            if purge:
                ch.queue_purge(queue)


def ensure(url: str, *queues: str, arguments: Mapping[str, Any] | None = None) -> None:
    """Declare the queues that are missing (durable, with these arguments); leave the ones that
    exist as they are, of whatever type (a cluster's quorum queues)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for queue in queues:
            ch = connection.channel()
            try:
                ch.queue_declare(queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker as error:
                if error.reply_code != 404:
                    raise
                connection.channel().queue_declare(
                    queue, durable=True, arguments=dict(arguments or {})
                )
            else:
                ch.close()
    finally:
        if connection.is_open:
            connection.close()


def purge(url: str, *queues: str) -> None:
    with channel(url) as ch:
        for queue in queues:
            ch.queue_purge(queue)


def delete(url: str, *queues: str) -> None:
    with channel(url) as ch:
        for queue in queues:
            ch.queue_delete(queue)


def drain(url: str, queue: str) -> list[tuple[str, Any]]:
    """Take every message off the queue: (body, properties) pairs, in order."""
    got: list[tuple[str, Any]] = []
    with channel(url) as ch:
        while True:
            method, properties, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return got
            got.append((body.decode("utf-8", "replace"), properties))


def bodies(url: str, queue: str) -> list[str]:
    return [body for body, _ in drain(url, queue)]


def count(url: str, queue: str) -> int:
    with channel(url) as ch:
        return int(ch.queue_declare(queue, passive=True).method.message_count)
