"""Every kind of publish failure, each produced by a real RabbitMQ node (or a real network
fault in front of it), never by a mock: the kind, the ids named, and the text operators read."""

from __future__ import annotations

import json
import uuid

import pytest

from pigeon.confirms import Failure, Message
from pigeon.credentials import SecretsManagerSource
from pigeon.publisher import Publisher, PublishError
from pigeon_tools import moto_server
from support import evidence
from support.ids import new_id, queue_name, soon
from support.publishing import publisher
from support.records import recording
from support.tcp_proxy import TcpProxy


def failed(publisher: Publisher, messages: list[Message], seconds: float = 5.0) -> PublishError:
    with pytest.raises(PublishError) as raised:
        publisher.publish(messages, soon(seconds))
    evidence.seen("PublishError", str(raised.value), repr(raised.value))
    return raised.value


def test_nacked_a_queue_that_rejects_what_does_not_fit_nacks_exactly_that_id(broker):
    queue = queue_name()
    broker.declare(queue, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    fit, rejected = [new_id(), new_id()], new_id()
    error = failed(publisher(broker.url), [Message(queue, i) for i in [*fit, rejected]])
    assert error.failures == {Failure.NACKED}
    assert error.unconfirmed == [Message(queue, rejected)]
    assert str(error).startswith("1 message(s) not confirmed by RabbitMQ: nacked by the broker;")
    assert broker.bodies(queue) == fit


def test_unroutable_a_missing_queue_is_named(broker):
    present = queue_name()
    broker.declare(present)
    crash_id = new_id()
    messages = [Message(present, crash_id), Message("no.such.queue", crash_id)]
    error = failed(publisher(broker.url), messages)
    assert error.failures == {Failure.UNROUTABLE}
    assert error.unconfirmed == [Message("no.such.queue", crash_id)]
    assert "unroutable: no queue 'no.such.queue'" in str(error)
    assert broker.bodies(present) == [crash_id]


def test_timed_out_no_confirm_before_the_deadline(broker):
    queue = queue_name()
    broker.declare(queue)
    proxy = TcpProxy(broker.port)
    try:
        sender = publisher(proxy.url_for(broker.url))
        sender.publish([Message(queue, new_id())], soon())  # connected
        proxy.mode = "blackhole"  # a partition that keeps TCP up
        crash_id = new_id()
        error = failed(sender, [Message(queue, crash_id)], seconds=1.0)
    finally:
        proxy.close()
    assert error.failures == {Failure.TIMED_OUT}
    assert "timed out waiting for the broker's confirm" in str(error)
    assert crash_id in str(error)


def test_blocked_a_memory_alarm_blocks_publishers_within_the_bound(healthy_broker):
    broker = healthy_broker
    queue = queue_name()
    broker.declare(queue)
    sender = publisher(broker.url, connect_timeout=2)
    sender.publish([Message(queue, new_id())], soon())
    broker.ctl("set_vm_memory_high_watermark", "0.000001")
    crash_id = new_id()
    error = failed(sender, [Message(queue, crash_id)], seconds=2.0)
    assert error.failures == {Failure.BLOCKED}
    assert "broker is blocking publishers (resource alarm)" in str(error)
    assert crash_id in str(error)


def test_connection_lost_in_the_middle_of_a_publish(broker):
    queue = queue_name()
    broker.declare(queue)
    proxy = TcpProxy(broker.port)
    ids = [new_id() for _ in range(300)]
    try:
        sender = publisher(proxy.url_for(broker.url))
        proxy.on_upstream_bytes = (5_000, proxy.drop)  # past the handshake, into the messages
        error = failed(sender, [Message(queue, i) for i in ids])
    finally:
        proxy.close()
    assert error.failures == {Failure.CONNECTION_LOST}
    assert "connection lost:" in str(error)
    assert set(ids) - set(broker.bodies(queue)) <= {m.crash_id for m in error.unconfirmed}


def test_connection_lost_a_stopped_broker_cannot_be_reached(healthy_broker):
    healthy_broker.stop_app()
    crash_id = new_id()
    error = failed(publisher(healthy_broker.url, 2), [Message("q", crash_id)])
    assert error.failures == {Failure.CONNECTION_LOST}
    assert "could not connect" in str(error)
    assert crash_id in str(error)


def test_login_refused_without_showing_the_password(broker):
    password = evidence.secret("wrong-" + uuid.uuid4().hex)
    crash_id = new_id()
    error = failed(publisher(broker.url_with(password=password)), [Message("q", crash_id)])
    assert error.failures == {Failure.LOGIN_REFUSED}
    assert "login refused" in str(error)
    assert crash_id in str(error)
    assert password not in str(error) + repr(error)


def test_credentials_unavailable_the_secret_cannot_be_read(moto_endpoint, monkeypatch):
    for name, value in moto_server.function_environment(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    missing = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon/none-AbCdEf"
    crash_id = new_id()
    error = failed(Publisher(SecretsManagerSource(missing)), [Message("q", crash_id)])
    assert error.failures == {Failure.CREDENTIALS_UNAVAILABLE}
    assert (
        "could not read the broker secret: PIGEON_RABBITMQ_SECRET_ARN: ResourceNotFoundException "
        "(HTTP 404), not tried again"  # moto says 404 where AWS says 400: both are not retried
    ) in str(error)
    assert crash_id in json.dumps(str(error))


def test_a_failed_reconnect_names_only_what_no_session_confirmed(broker):
    """The kept connection breaks while the broker is confirming (some confirms came back), and
    the one reconnect finds the node gone. The error names exactly the unconfirmed messages:
    from an SQS batch, those decide which messages Lambda retries."""
    queue = queue_name()
    broker.declare(queue)
    ids = [new_id() for _ in range(60)]
    proxy = TcpProxy(broker.port)
    try:
        sender = publisher(proxy.url_for(broker.url))
        sender.publish([Message(queue, new_id())], soon())  # the kept connection
        broker.drain(queue)
        # The messages trickle to the broker, so its first confirms come back before it has
        # them all; after the first confirm the connection breaks and the node is gone.
        proxy.chunk, proxy.mode, proxy.delay = 512, "delay", 0.02

        def node_gone() -> None:
            proxy.mode = "refuse"
            proxy.drop()

        proxy.on_downstream_bytes = (proxy.downstream_bytes + 1, node_gone)
        with recording("pigeon.publisher") as seen:
            error = failed(sender, [Message(queue, i) for i in ids])
    finally:
        proxy.close()
    assert any("reconnecting once" in m for m in seen.messages())  # the reconnect path ran
    assert proxy.accepted == 2  # ... and was refused
    unconfirmed = {m.crash_id for m in error.unconfirmed}
    on_queue = broker.bodies(queue)
    assert set(ids) - set(on_queue) <= unconfirmed  # nothing lost silently
    assert 0 < len(unconfirmed) < len(ids)  # the confirmed ones are not blamed
    assert error.failures == {Failure.CONNECTION_LOST}
