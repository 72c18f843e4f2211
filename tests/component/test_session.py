"""The one private pika call Pigeon makes, pinned to the pika version in poetry.lock: dropping a
connection whose broker no longer answers the closing handshake (see pigeon.session)."""

from __future__ import annotations

import time
import tomllib

import pika

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
        session = Session(broker.url.replace(str(broker.port), str(proxy.port)), 2.0)
        session.wait_open(soon())
        assert session.usable
        proxy.mode = "blackhole"  # the closing handshake will never be answered
        started = time.monotonic()
        session.close()
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert session.connection.is_closed
    assert isinstance(session.lost, pika.exceptions.ConnectionClosedByClient)
    assert session.lost.reply_code == 320
    assert elapsed < 2.0  # the graceful attempt (0.5 s), then the drop
