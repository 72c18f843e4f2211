"""The publisher against a real RabbitMQ node: confirms, routing, reconnects, alarms, auth."""

from __future__ import annotations

import time
import uuid

import pytest

import evidence
from pigeon.broker import UrlSource
from pigeon.publisher import Message, Publisher, PublishError, deadline_for

pytestmark = pytest.mark.broker

ACCEPT_ID = "00007bd0-2d1c-4865-af09-80bc00180313"


def new_id() -> str:
    raw = uuid.uuid4().hex
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:25]}0" + "261130"


def queue_name() -> str:
    return f"test.{uuid.uuid4().hex[:10]}"


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


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


def test_a_missing_queue_raises_and_names_the_crash_id(broker):
    present = queue_name()
    broker.declare(present)
    publisher = Publisher(UrlSource(broker.url))
    crash_id = new_id()
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message(present, crash_id), Message("no.such.queue", crash_id)], soon())
    assert "unroutable" in str(raised.value)
    assert crash_id in str(raised.value)
    assert raised.value.unconfirmed == [Message("no.such.queue", crash_id)]
    assert broker.bodies(present) == [crash_id]
    # The connection is still good for the next invocation.
    publisher.publish([Message(present, ACCEPT_ID)], soon())
    assert broker.bodies(present) == [ACCEPT_ID]


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


def test_a_memory_alarm_that_blocks_publishers_raises_within_the_bound(healthy_broker):
    broker = healthy_broker
    queue = queue_name()
    broker.declare(queue)
    publisher = Publisher(UrlSource(broker.url), connect_timeout=2)
    publisher.publish([Message(queue, new_id())], soon())
    broker.ctl("set_vm_memory_high_watermark", "0.000001")
    crash_id = new_id()
    started = time.monotonic()
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message(queue, crash_id)], soon(2.0))
    elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 2.0, elapsed  # the bound plus the bounded close
    assert crash_id in str(raised.value)
    assert "block" in str(raised.value) or "timed out" in str(raised.value)


def test_a_stopped_broker_raises(healthy_broker):
    broker = healthy_broker
    broker.stop_app()
    crash_id = new_id()
    with pytest.raises(PublishError) as raised:
        Publisher(UrlSource(broker.url), connect_timeout=2).publish(
            [Message("socorro.normal", crash_id)], soon()
        )
    assert "could not connect" in str(raised.value)
    assert crash_id in str(raised.value)


def test_a_wrong_password_raises_without_showing_it(broker):
    password = evidence.secret("wrong-" + uuid.uuid4().hex)
    crash_id = new_id()
    publisher = Publisher(UrlSource(broker.url_with(password=password)))
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message("socorro.normal", crash_id)], soon())
    message = str(raised.value)
    evidence.seen("PublishError", message, repr(raised.value))
    assert "login refused" in message
    assert crash_id in message
    assert password not in message
    assert password not in repr(raised.value)


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_deadline_ends_well_before_the_lambda_timeout():
    now = time.monotonic()
    assert deadline_for(FakeContext(3000), publish_timeout=10) - now == pytest.approx(2.0, abs=0.1)
    assert deadline_for(FakeContext(600_000), publish_timeout=10) - now == pytest.approx(
        10, abs=0.1
    )
    assert deadline_for(FakeContext(1000), publish_timeout=10) - now == pytest.approx(0.5, abs=0.1)
    assert deadline_for(None, publish_timeout=7) - now == pytest.approx(7, abs=0.1)


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
    import tls_certificates

    other_ca = tls_certificates.write(tmp_path).ca  # a CA that did not sign the server's cert
    publisher = Publisher(UrlSource(broker.tls_url(ca=other_ca)), connect_timeout=3)
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message("socorro.normal", new_id())], soon())
    assert "could not connect" in str(raised.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
