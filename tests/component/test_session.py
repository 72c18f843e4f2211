"""The one private pika call Pigeon makes, pinned to the pika version in poetry.lock: dropping a
connection whose broker no longer answers the closing handshake (see pigeon.session)."""

from __future__ import annotations

import tomllib

import pika

from pigeon.parsers import split_broker_urls
from pigeon.session import Session
from pigeon_tools.paths import ROOT
from support.ids import soon
from support.tcp_proxy import TcpProxy


def locked_version(name: str) -> str:
    lock = tomllib.loads((ROOT / "poetry.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == name)


def test_the_shipped_pika_is_the_locked_one():
    assert pika.__version__ == locked_version("pika")


def test_abort_drops_a_connection_whose_broker_went_silent(broker):
    proxy = TcpProxy(broker.port)
    try:
        [node] = split_broker_urls(proxy.url_for(broker.url), "PIGEON_RABBITMQ_URL")
        session = Session(node, 2.0)
        session.wait_open(soon())
        assert session.usable
        proxy.mode = "blackhole"  # the closing handshake will never be answered
        session.close(soon())
    finally:
        proxy.close()
    assert session.connection.is_closed
    # Dropped by Pigeon (the graceful close went unanswered), not by the broker or the proxy.
    assert isinstance(session.lost, pika.exceptions.ConnectionClosedByClient)
    assert (session.lost.reply_code, session.lost.reply_text) == (320, "aborted by Pigeon")


def test_past_the_deadline_a_close_does_not_wait_for_the_broker(broker):
    [node] = split_broker_urls(broker.url, "PIGEON_RABBITMQ_URL")
    session = Session(node, 2.0)
    session.wait_open(soon())
    session.close(soon(-1.0))  # the invocation's deadline has passed
    assert session.connection.is_closed
    # The broker answers a graceful close at once; Pigeon did not ask for one.
    assert (session.lost.reply_code, session.lost.reply_text) == (320, "aborted by Pigeon")
