"""The publisher against a real RabbitMQ node when all goes well: confirmed, persistent messages,
one kept connection, a transparent reconnect, TLS."""

from __future__ import annotations

import time

import pytest

from pigeon.credentials import UrlSource
from pigeon.publisher import Message, Publisher, PublishError
from support.ids import ACCEPT_ID, new_id, queue_name, soon


def test_messages_are_confirmed_persistent_and_carry_the_crash_id(broker):
    q1, q2 = queue_name(), queue_name()
    broker.declare(q1, q2)
    publisher = Publisher(UrlSource(broker.url))
    ids = [new_id() for _ in range(3)]
    publisher.publish([Message(q, i) for i in ids for q in (q1, q2)], soon())
    for queue in (q1, q2):
        got = broker.drain(queue)
        assert [body for body, _ in got] == ids
        for body, properties in got:
            assert properties.delivery_mode == 2
            assert properties.message_id == body
    publisher.close()


def test_nothing_to_publish_opens_no_connection():
    publisher = Publisher(UrlSource("amqp://guest:guest@127.0.0.1:9/%2F"))
    publisher.publish([], soon())  # port 9 is closed: this would fail if it connected


def test_reconnects_once_after_the_broker_closed_the_connection_between_invocations(broker):
    queue = queue_name()
    broker.declare(queue)
    publisher = Publisher(UrlSource(broker.url))
    first, second = new_id(), new_id()
    publisher.publish([Message(queue, first)], soon())
    broker.ctl("close_all_connections", "test: function was frozen")
    time.sleep(0.5)
    publisher.publish([Message(queue, second)], soon())
    assert broker.bodies(queue) == [first, second]
    publisher.close()


def test_a_failure_that_leaves_the_connection_healthy_keeps_it(broker):
    present = queue_name()
    broker.declare(present)
    publisher = Publisher(UrlSource(broker.url))
    with pytest.raises(PublishError):
        publisher.publish([Message("no.such.queue", new_id())], soon())
    before = set(broker.ctl("list_connections", "-q", "name").split("\n"))
    publisher.publish([Message(present, ACCEPT_ID)], soon())
    assert broker.bodies(present) == [ACCEPT_ID]
    # No new connection (others of earlier tests may still be closing).
    assert set(broker.ctl("list_connections", "-q", "name").split("\n")) <= before


def test_amqps_with_tls_publishes_confirmed(broker):
    """TLS as Amazon MQ requires: the server certificate is verified against the CA."""
    queue = queue_name()
    broker.declare(queue)
    crash_id = new_id()
    publisher = Publisher(UrlSource(broker.tls_url()))
    publisher.publish([Message(queue, crash_id)], soon())
    assert broker.bodies(queue) == [crash_id]
    publisher.close()


def test_amqps_refuses_a_server_it_cannot_verify(broker, tmp_path):
    from pigeon_tools.broker import tls

    other_ca = tls.write(tmp_path).ca  # a CA that did not sign the server's cert
    publisher = Publisher(UrlSource(broker.tls_url(ca=other_ca)), connect_timeout=3)
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message("socorro.normal", new_id())], soon())
    assert "could not connect" in str(raised.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
