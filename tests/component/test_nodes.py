"""Several broker URLs against a real RabbitMQ node: each "node" is a TCP proxy in front of it,
which a test can turn into a dead node that still accepts TCP and never answers (the worst case:
only a connect timeout tells). Pigeon keeps the first node that answers, and after a node failed
it goes to another without trying the dead one first. What each proxy accepted shows which
nodes were tried: no timing is asserted."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from pigeon.confirms import Failure, Message
from pigeon.nodes import NodeOrder
from pigeon.publisher import Publisher, PublishError
from support import evidence
from support.ids import new_id, queue_name, soon
from support.publishing import CountingSource, InOrder
from support.records import recording
from support.tcp_proxy import TcpProxy

CONNECT_TIMEOUT = 2.0


@pytest.fixture
def proxies(broker) -> Iterator[list[TcpProxy]]:
    made = [TcpProxy(broker.port) for _ in range(2)]
    yield made
    for proxy in made:
        proxy.close()


def publisher_for(
    pigeon_url: str, proxies: list[TcpProxy], order: NodeOrder | None = None
) -> tuple[Publisher, list[TcpProxy], NodeOrder]:
    """A publisher over the proxies; the proxies in the order it will try them."""
    source = CountingSource(",".join(proxy.url_for(pigeon_url) for proxy in proxies))
    order = order or NodeOrder(random.Random(7))
    tried = [node.name for node in order.candidates(source.nodes(soon()))]
    ordered = sorted(proxies, key=lambda p: tried.index(f"127.0.0.1:{p.port}"))
    return Publisher(source, CONNECT_TIMEOUT, order), ordered, order


def dead(proxy: TcpProxy) -> None:
    """The node stops answering: its connections drop, new ones are accepted and ignored."""
    proxy.mode = "blackhole"
    proxy.drop()


def test_the_first_node_that_answers_is_kept(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, second), _ = publisher_for(pigeon_url, proxies)
    ids = [new_id() for _ in range(3)]
    for crash_id in ids:
        publisher.publish([Message(queue, crash_id)], soon())
    assert (len(first.client_ports), second.accepted) == (1, 0)  # one connection, kept
    assert broker.bodies(queue) == ids


def test_a_node_that_died_between_invocations_is_not_tried_again_first(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, second), _ = publisher_for(pigeon_url, proxies)
    before, after, later = new_id(), new_id(), new_id()
    publisher.publish([Message(queue, before)], soon())
    dead(first)
    publisher.publish([Message(queue, after)], soon())  # one transparent reconnect
    assert first.accepted == 1  # the dead node was not connected to again
    assert second.accepted == 1
    publisher.publish([Message(queue, later)], soon())
    assert broker.bodies(queue) == [before, after, later]
    assert second.accepted == 1


def test_a_dead_node_first_costs_one_connect_timeout_once(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, second), order = publisher_for(pigeon_url, proxies)
    dead(first)
    ids = [new_id() for _ in range(2)]
    with recording("pigeon.publisher") as seen:
        publisher.publish([Message(queue, ids[0])], soon())
    [warning] = seen.records
    assert warning.getMessage() == (
        f"RabbitMQ node 127.0.0.1:{first.port} did not answer; trying the next"
    )
    assert warning.error == "timed out connecting to RabbitMQ"  # type: ignore[attr-defined]
    # A new connection with what this container learnt, as after a long freeze.
    again, _, _ = publisher_for(pigeon_url, proxies, order)
    again.publish([Message(queue, ids[1])], soon())
    assert first.accepted == 1  # the dead node is tried last now
    assert second.accepted == 2
    assert broker.bodies(queue) == ids


def test_no_node_answers_names_each_and_never_the_password(broker, pigeon_url, proxies):
    publisher, ordered, _ = publisher_for(pigeon_url, proxies)
    dead(ordered[0])
    ordered[1].close()  # refuses connections
    crash_id = new_id()
    with pytest.raises(PublishError) as raised:
        publisher.publish([Message("q", crash_id)], soon())
    text = str(raised.value)
    assert "no RabbitMQ node answered (2 of 2 tried)" in text
    assert f"127.0.0.1:{ordered[0].port}: timed out connecting to RabbitMQ" in text
    assert f"127.0.0.1:{ordered[1].port}: could not connect" in text
    assert crash_id in text
    assert raised.value.failures == {Failure.CONNECTION_LOST}
    password = pigeon_url.split(":")[2].split("@")[0]
    assert password not in text


def test_no_node_answering_reads_the_secret_again_once_and_follows_the_broker(
    broker, pigeon_url, proxies
):
    """The broker moved (a new cluster, new hosts): the nodes the secret listed are gone, and
    the secret now lists the new ones. Pigeon reads it again, once, and publishes there."""
    queue = queue_name()
    broker.declare(queue)
    gone, new = proxies
    gone.close()  # refuses connections
    source = CountingSource(
        gone.url_for(pigeon_url), rotates=True, moves_to=new.url_for(pigeon_url)
    )
    crash_id = new_id()
    Publisher(source, CONNECT_TIMEOUT).publish([Message(queue, crash_id)], soon())
    assert broker.bodies(queue) == [crash_id]
    assert source.refreshes == 1
    assert new.accepted == 1


def test_no_node_answering_and_the_same_nodes_read_again_gives_up_after_one_read(
    broker, pigeon_url, proxies
):
    gone = proxies[0]
    gone.close()
    source = CountingSource(gone.url_for(pigeon_url), rotates=True)
    with pytest.raises(PublishError) as raised:
        Publisher(source, CONNECT_TIMEOUT).publish([Message("q", new_id())], soon())
    assert raised.value.failures == {Failure.CONNECTION_LOST}
    assert "the secret, read again, lists the same nodes" in str(raised.value)
    assert source.refreshes == 1  # once: not a loop


def test_a_user_without_write_permission_is_a_refused_permission_not_a_failed_node(broker, proxies):
    """A real RabbitMQ user that may log in but not write on the vhost: the broker closes the
    channel with 403 ACCESS_REFUSED at the publish. That is not a refused login (the secret is
    not read again), not a failed node (it stays first, the other is not tried) and not worth
    a reconnect; the error says what is missing, and never the password."""
    user, password = f"pigeon-ro-{new_id()[:6]}", evidence.secret("ro-" + new_id())
    broker.ctl("add_user", user, password)
    broker.ctl("set_permissions", "-p", "/", user, ".*", "^$", ".*")
    queue = queue_name()
    broker.declare(queue)
    try:
        url = ",".join(p.url_for(broker.url_with(user, password)) for p in proxies)
        source = CountingSource(url, rotates=True)
        order = NodeOrder(InOrder())
        sender = Publisher(source, CONNECT_TIMEOUT, order)
        first = order.candidates(source.nodes(soon()))[0].name
        crash_id = new_id()
        with recording("pigeon.publisher") as seen, pytest.raises(PublishError) as raised:
            sender.publish([Message(queue, crash_id)], soon())
        text = str(raised.value)
        evidence.seen("PublishError", text + repr(raised.value))
        assert raised.value.failures == {Failure.PERMISSION_REFUSED}
        assert "RabbitMQ refused the publish on the channel: (403) ACCESS_REFUSED" in text
        assert f"access to exchange 'amq.default' in vhost '/' refused for user '{user}'" in text
        assert "the login was accepted" in text
        assert crash_id in text
        assert password not in text + repr(raised.value)
        assert source.refreshes == 0
        assert order.candidates(source.nodes(soon()))[0].name == first
        assert [p.accepted for p in proxies] == [1, 0]
        assert not any("reconnecting" in m for m in seen.messages())
        # A second invocation on the same container: a new connection, the same answer.
        with pytest.raises(PublishError) as again:
            sender.publish([Message(queue, new_id())], soon())
        assert again.value.failures == {Failure.PERMISSION_REFUSED}
        assert broker.bodies(queue) == []
    finally:
        broker.ctl("delete_user", user)
