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
from support.ids import new_id, queue_name, soon
from support.publishing import CountingSource
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
