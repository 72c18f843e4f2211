"""The AMQP handshake, made to fail as production nodes fail it: a node shutting down closes it
with 320 CONNECTION_FORCED, a node dies mid-handshake, a broker refuses the login with 403.
Only a 403 is a refused login; anything else means the node failed: Pigeon goes on to the next
node, puts this one last, and does not read the secret again. The failing nodes are
support.amqp_peer (it speaks just the handshake); the node that works is a real RabbitMQ."""

from __future__ import annotations

import json
import time

import pytest

from pigeon.confirms import Failure, Message
from pigeon.nodes import NodeOrder
from pigeon.publisher import Publisher, PublishError
from pigeon_tools import events
from support import evidence
from support.amqp_peer import ACCESS_REFUSED, CONNECTION_FORCED, AmqpPeer
from support.ids import new_id, queue_name, soon
from support.in_process import make_pigeon
from support.publishing import CountingSource, InOrder
from support.records import recording
from support.tcp_proxy import TcpProxy


@pytest.fixture
def proxy(broker):
    made = TcpProxy(broker.port)
    yield made
    made.close()


def peer(mode: str, reply: tuple[int, str] = CONNECTION_FORCED) -> AmqpPeer:
    return AmqpPeer(mode, reply)


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (("close", CONNECTION_FORCED), "the node closed the handshake: (320) CONNECTION_FORCED"),
        (("close", (541, "INTERNAL_ERROR")), "the node closed the handshake: (541) INTERNAL_ERROR"),
        (("drop",), "lost during the handshake: StreamLostError"),
        (("drop-before-start",), "could not connect: IncompatibleProtocolError"),
    ],
    ids=["320 node shutting down", "541 internal error", "dropped after start-ok", "dropped"],
)
def test_a_node_that_fails_the_handshake_is_passed_over_put_last_and_the_secret_kept(
    broker, pigeon_url, proxy, fault, said
):
    queue = queue_name()
    broker.declare(queue)
    failing = peer(*fault)
    try:
        source = CountingSource(f"{failing.url()},{proxy.url_for(pigeon_url)}", rotates=True)
        order = NodeOrder(InOrder())
        sender = Publisher(source, 2.0, order)
        crash_id = new_id()
        with recording("pigeon.publisher") as seen:
            sender.publish([Message(queue, crash_id)], soon())
        assert broker.bodies(queue) == [crash_id]
        assert len(failing.sessions) == 1  # tried once, then the next node
        assert proxy.accepted == 1
        assert source.refreshes == 0  # a node that failed is no reason to read the secret again
        assert [n.name for n in order.candidates(source.nodes(soon()))][-1] == (
            f"127.0.0.1:{failing.port}"
        )
        [warning] = seen.records
        assert warning.getMessage().startswith(f"RabbitMQ node 127.0.0.1:{failing.port} did not")
        assert said in warning.error  # type: ignore[attr-defined]
        assert "login refused" not in warning.error  # type: ignore[attr-defined]
    finally:
        failing.close()


def test_a_403_is_a_refused_login_no_other_node_is_tried_and_the_secret_is_read_again(
    broker, pigeon_url, proxy
):
    refusing = peer("close", ACCESS_REFUSED)
    try:
        source = CountingSource(f"{refusing.url()},{proxy.url_for(pigeon_url)}", rotates=True)
        sender = Publisher(source, 2.0, NodeOrder(InOrder()))
        with pytest.raises(PublishError) as raised:
            sender.publish([Message("q", new_id())], soon())
    finally:
        refusing.close()
    assert raised.value.failures == {Failure.LOGIN_REFUSED}
    assert "login refused: (403) ACCESS_REFUSED - Login was refused" in str(raised.value)
    assert source.refreshes == 1  # read again once: the password may have been rotated
    assert len(refusing.sessions) == 2  # and tried again with what it read
    assert proxy.accepted == 0  # the other nodes share the users: not tried


def test_a_real_brokers_403_for_a_wrong_password_is_a_refused_login(broker, proxy):
    """RabbitMQ itself: a wrong password. The node behind it in the list is never tried."""
    password = evidence.secret("wrong-" + new_id())
    behind = peer("close", CONNECTION_FORCED)
    try:
        url = f"{proxy.url_for(broker.url_with(password=password))},{behind.url()}"
        source = CountingSource(url)
        sender = Publisher(source, 2.0, NodeOrder(InOrder()))
        with pytest.raises(PublishError) as raised:
            sender.publish([Message("q", new_id())], soon())
    finally:
        behind.close()
    evidence.seen("PublishError", str(raised.value))
    assert raised.value.failures == {Failure.LOGIN_REFUSED}
    assert "login refused: (403) ACCESS_REFUSED" in str(raised.value)
    assert password not in str(raised.value)
    assert proxy.accepted == 1
    assert behind.sessions == []
    assert source.refreshes == 1


class SecretGoneAfterOneRead(CountingSource):
    def nodes(self, deadline: float):  # type: ignore[no-untyped-def]
        if self.reads:
            raise TimeoutError("no time left before the invocation's deadline to read the secret")
        return super().nodes(deadline)


def test_a_refused_login_stays_the_error_when_the_secret_cannot_be_read_again():
    refusing = peer("close", ACCESS_REFUSED)
    try:
        source = SecretGoneAfterOneRead(refusing.url(), rotates=True)
        with pytest.raises(PublishError) as raised:
            Publisher(source, 2.0).publish([Message("q", new_id())], soon())
    finally:
        refusing.close()
    assert raised.value.failures == {Failure.LOGIN_REFUSED}
    assert "login refused: (403) ACCESS_REFUSED" in str(raised.value)
    assert "reading the secret again failed: could not read the broker secret: TimeoutError" in (
        str(raised.value)
    )


# Past Start-Ok: what a node does after Tune, after Open, in the middle of a publish. Each is a
# failed node (never a refused login, never a reason to read the secret again): the next node,
# a real RabbitMQ, takes the message, and the failing one goes last.
@pytest.mark.parametrize(
    ("mode", "reply", "said"),
    [
        ("drop-after-tune", CONNECTION_FORCED, "lost during the handshake"),
        ("close-after-tune", (530, "NOT_ALLOWED - vhost / not found"), "(530) NOT_ALLOWED"),
        ("drop-after-open", CONNECTION_FORCED, "could not connect"),
        ("close-after-open", CONNECTION_FORCED, "(320) CONNECTION_FORCED"),
        ("stall-after-open", CONNECTION_FORCED, "timed out connecting"),
        ("stall-before-start", CONNECTION_FORCED, "timed out connecting"),
    ],
)
def test_a_node_that_fails_past_start_ok_is_passed_over(
    broker, pigeon_url, proxy, mode, reply, said
):
    queue = queue_name()
    broker.declare(queue)
    failing = peer(mode, reply)
    try:
        source = CountingSource(f"{failing.url()},{proxy.url_for(pigeon_url)}", rotates=True)
        order = NodeOrder(InOrder())
        sender = Publisher(source, 1.0, order)
        crash_id = new_id()
        with recording("pigeon.publisher") as seen:
            sender.publish([Message(queue, crash_id)], soon(10))
        assert broker.bodies(queue) == [crash_id]
        assert len(failing.sessions) == 1
        assert source.refreshes == 0
        assert order.candidates(source.nodes(soon()))[-1].name == f"127.0.0.1:{failing.port}"
        [warning] = seen.records
        assert said in warning.error  # type: ignore[attr-defined]
        assert "login refused" not in warning.error  # type: ignore[attr-defined]
    finally:
        failing.close()


@pytest.mark.parametrize(
    ("mode", "failure", "said"),
    [
        ("drop-mid-publish", Failure.CONNECTION_LOST, "connection lost"),
        ("close-mid-publish", Failure.CONNECTION_LOST, "CONNECTION_FORCED"),
        ("stall-mid-publish", Failure.TIMED_OUT, "timed out waiting for the broker's confirm"),
    ],
)
def test_a_node_that_fails_mid_publish_names_the_id_and_goes_last(
    broker, pigeon_url, proxy, mode, failure, said
):
    """The session opened (confirms selected), the publish went out, no confirm came: the id is
    unconfirmed (never counted published), the node goes last, and the next invocation's
    publish goes to the node that works."""
    queue = queue_name()
    broker.declare(queue)
    failing = peer(mode)
    try:
        source = CountingSource(f"{failing.url()},{proxy.url_for(pigeon_url)}")
        order = NodeOrder(InOrder())
        sender = Publisher(source, 2.0, order)
        first, second = new_id(), new_id()
        with pytest.raises(PublishError) as raised:
            sender.publish([Message(queue, first)], soon(1.5))
        assert raised.value.failures == {failure}
        assert said in str(raised.value)
        assert first in str(raised.value)
        assert "publish" in failing.sessions[0]
        sender.publish([Message(queue, second)], soon())
        assert broker.bodies(queue) == [second]
        assert len(failing.sessions) == 1  # not tried again first
    finally:
        failing.close()


def test_a_node_given_less_than_its_connect_timeout_is_not_blamed(broker, pigeon_url, proxy):
    """The invocation's deadline came before the node's connect timeout: a stalled node then
    times out for want of time, which says nothing about it. It stays first."""
    stalled = peer("stall-before-start")
    try:
        source = CountingSource(f"{stalled.url()},{proxy.url_for(pigeon_url)}")
        order = NodeOrder(InOrder())
        sender = Publisher(source, 30.0, order)
        with pytest.raises(PublishError) as raised:
            sender.publish([Message("q", new_id())], soon(0.5))
        assert raised.value.failures == {Failure.TIMED_OUT}
        assert order.candidates(source.nodes(soon()))[0].name == f"127.0.0.1:{stalled.port}"
        assert source.refreshes == 0  # not "no node answered": no node had its time
    finally:
        stalled.close()


def test_with_the_deadline_spent_no_node_is_tried_or_blamed(broker, pigeon_url, proxy):
    source = CountingSource(proxy.url_for(pigeon_url))
    order = NodeOrder(InOrder())
    sender = Publisher(source, 2.0, order)
    with pytest.raises(PublishError) as raised:
        sender.publish([Message("q", new_id())], time.monotonic())
    assert raised.value.failures == {Failure.TIMED_OUT}
    assert "no time left before the invocation's deadline to connect" in str(raised.value)
    assert proxy.accepted == 0
    assert source.refreshes == 0


@pytest.mark.parametrize("mode", ["close", "close-after-open", "close-mid-publish"])
def test_a_broker_that_echoes_the_password_gets_it_redacted_everywhere(mode):
    """A node whose Connection.Close text carries the password and the URL (a proxy or plugin
    that echoes what it got): the handler's every log line (pika's included, at DEBUG) and
    the raised error, its repr too, show neither."""
    password = evidence.secret("echo-" + new_id()[:8])
    echoing = AmqpPeer(mode, (320, ""))
    url = echoing.url(password=password)
    echoing.reply = (320, f"CONNECTION_FORCED - bye {url} ({password})")
    try:
        run = make_pigeon(
            f"{url},{echoing.url(password=password).replace('127.0.0.1', 'localhost')}",
            "q",
            PIGEON_CONNECT_TIMEOUT="1",
        )
        with pytest.raises(PublishError) as raised:
            run(events.for_crash_ids([new_id()]))
    finally:
        echoing.close()
    texts = [json.dumps(line) for line in run.log_lines()] + [str(raised.value), repr(raised.value)]
    evidence.seen("echoing node", *texts)
    assert any("CONNECTION_FORCED - bye ***" in text for text in texts)
    assert not [text for text in texts if password in text or url in text]
