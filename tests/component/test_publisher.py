"""The publisher against a real RabbitMQ node when all goes well: confirmed, persistent messages,
one kept connection, a transparent reconnect, TLS."""

from __future__ import annotations

import pytest

from pigeon.confirms import Message
from pigeon.publisher import PublishError
from pigeon_tools import net
from support.broker import CLOSED_WITHIN
from support.ids import ACCEPT_ID, new_id, queue_name, soon
from support.publishing import publisher
from support.records import recording
from support.tcp_proxy import TcpProxy


@pytest.fixture
def proxy(broker):
    made = TcpProxy(broker.port)
    yield made
    made.close()


def test_messages_are_confirmed_persistent_and_carry_the_crash_id(broker):
    q1, q2 = queue_name(), queue_name()
    broker.declare(q1, q2)
    ids = [new_id() for _ in range(3)]
    publisher(broker.url).publish([Message(q, i) for i in ids for q in (q1, q2)], soon())
    for queue in (q1, q2):
        got = broker.drain(queue)
        assert [body for body, _ in got] == ids
        for body, properties in got:
            assert properties.delivery_mode == 2
            assert properties.message_id == body


def test_nothing_to_publish_opens_no_connection(broker, proxy):
    publisher(proxy.url_for(broker.url)).publish([], soon())
    assert proxy.accepted == 0


def test_reconnects_once_after_the_broker_closed_the_connection_between_invocations(broker, proxy):
    queue = queue_name()
    broker.declare(queue)
    sender = publisher(proxy.url_for(broker.url))
    first, second = new_id(), new_id()
    sender.publish([Message(queue, first)], soon())
    broker.ctl("close_all_connections", "test: function was frozen")
    assert net.wait_until(lambda: proxy.open == 0, CLOSED_WITHIN, 0.01)  # the broker closed ours
    with recording("pigeon.publisher") as seen:
        sender.publish([Message(queue, second)], soon())
    assert broker.bodies(queue) == [first, second]
    assert len(proxy.client_ports) == 2  # the reconnect ran: a second connection
    [line] = [m for m in seen.messages() if "reconnecting once" in m]
    assert line == (
        f"connection to RabbitMQ node 127.0.0.1:{proxy.port} was lost; reconnecting once to "
        "re-send 1 unconfirmed message(s)"
    )


def test_a_failure_that_leaves_the_connection_healthy_keeps_it(broker, proxy):
    present = queue_name()
    broker.declare(present)
    sender = publisher(proxy.url_for(broker.url))
    with pytest.raises(PublishError):
        sender.publish([Message("no.such.queue", new_id())], soon())
    sender.publish([Message(present, ACCEPT_ID)], soon())
    assert broker.bodies(present) == [ACCEPT_ID]
    assert (len(proxy.client_ports), proxy.open) == (1, 1)  # the same connection, still open


def test_amqps_with_tls_publishes_confirmed(broker):
    """TLS as Amazon MQ requires: the server certificate is verified against the CA."""
    queue = queue_name()
    broker.declare(queue)
    crash_id = new_id()
    publisher(broker.tls_url()).publish([Message(queue, crash_id)], soon())
    assert broker.bodies(queue) == [crash_id]


def test_amqps_refuses_a_server_it_cannot_verify(broker, tmp_path):
    from pigeon_tools.broker import tls

    other_ca = tls.write(tmp_path).ca  # a CA that did not sign the server's cert
    sender = publisher(broker.tls_url(ca=other_ca), connect_timeout=3)
    with pytest.raises(PublishError) as raised:
        sender.publish([Message("socorro.normal", new_id())], soon())
    assert "could not connect" in str(raised.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
