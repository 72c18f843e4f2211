"""Every kind of publish failure, each produced by a real RabbitMQ node (or a real network
fault in front of it), never by a mock: the kind, the ids named, and the text operators read."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from pigeon.credentials import SecretsManagerSource, UrlSource
from pigeon.publisher import Failure, Message, Publisher, PublishError
from pigeon_tools import moto_server
from support import evidence
from support.ids import new_id, queue_name, soon
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
    error = failed(Publisher(UrlSource(broker.url)), [Message(queue, i) for i in [*fit, rejected]])
    assert error.failures == {Failure.NACKED}
    assert error.unconfirmed == [Message(queue, rejected)]
    assert str(error).startswith("1 message(s) not confirmed by RabbitMQ: nacked by the broker;")
    assert broker.bodies(queue) == fit


def test_unroutable_a_missing_queue_is_named(broker):
    present = queue_name()
    broker.declare(present)
    crash_id = new_id()
    messages = [Message(present, crash_id), Message("no.such.queue", crash_id)]
    error = failed(Publisher(UrlSource(broker.url)), messages)
    assert error.failures == {Failure.UNROUTABLE}
    assert error.unconfirmed == [Message("no.such.queue", crash_id)]
    assert "unroutable: no queue 'no.such.queue'" in str(error)
    assert broker.bodies(present) == [crash_id]


def test_timed_out_no_confirm_before_the_deadline(broker):
    queue = queue_name()
    broker.declare(queue)
    proxy = TcpProxy(broker.port)
    try:
        publisher = Publisher(UrlSource(broker.url.replace(str(broker.port), str(proxy.port))))
        publisher.publish([Message(queue, new_id())], soon())  # connected
        proxy.mode = "blackhole"  # a partition that keeps TCP up
        crash_id = new_id()
        started = time.monotonic()
        error = failed(publisher, [Message(queue, crash_id)], seconds=1.0)
    finally:
        proxy.close()
    assert time.monotonic() - started < 1.0 + 1.5  # the deadline plus the bounded abort
    assert error.failures == {Failure.TIMED_OUT}
    assert "timed out waiting for the broker's confirm" in str(error)
    assert crash_id in str(error)


def test_blocked_a_memory_alarm_blocks_publishers_within_the_bound(healthy_broker):
    broker = healthy_broker
    queue = queue_name()
    broker.declare(queue)
    publisher = Publisher(UrlSource(broker.url), connect_timeout=2)
    publisher.publish([Message(queue, new_id())], soon())
    broker.ctl("set_vm_memory_high_watermark", "0.000001")
    crash_id = new_id()
    started = time.monotonic()
    error = failed(publisher, [Message(queue, crash_id)], seconds=2.0)
    assert time.monotonic() - started < 2.0 + 2.0  # the bound plus the bounded close
    assert error.failures == {Failure.BLOCKED}
    assert "broker is blocking publishers (resource alarm)" in str(error)
    assert crash_id in str(error)


def test_connection_lost_in_the_middle_of_a_publish(broker):
    queue = queue_name()
    broker.declare(queue)
    proxy = TcpProxy(broker.port)
    ids = [new_id() for _ in range(300)]
    try:
        publisher = Publisher(UrlSource(broker.url.replace(str(broker.port), str(proxy.port))))
        proxy.on_upstream_bytes = (5_000, proxy.drop)  # past the handshake, into the messages
        error = failed(publisher, [Message(queue, i) for i in ids])
    finally:
        proxy.close()
    assert error.failures == {Failure.CONNECTION_LOST}
    assert "connection lost:" in str(error)
    assert set(ids) - set(broker.bodies(queue)) <= {m.crash_id for m in error.unconfirmed}


def test_connection_lost_a_stopped_broker_cannot_be_reached(healthy_broker):
    healthy_broker.stop_app()
    crash_id = new_id()
    error = failed(Publisher(UrlSource(healthy_broker.url), 2), [Message("q", crash_id)])
    assert error.failures == {Failure.CONNECTION_LOST}
    assert "could not connect" in str(error)
    assert crash_id in str(error)


def test_login_refused_without_showing_the_password(broker):
    password = evidence.secret("wrong-" + uuid.uuid4().hex)
    crash_id = new_id()
    error = failed(
        Publisher(UrlSource(broker.url_with(password=password))), [Message("q", crash_id)]
    )
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
    assert "could not read the broker secret: ResourceNotFoundException" in str(error)
    assert crash_id in json.dumps(str(error))
