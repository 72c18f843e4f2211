"""Several broker URLs against a real RabbitMQ node: each "node" is a TCP proxy in front of it,
which a test can turn into a dead node that still accepts TCP and never answers (the worst case:
only a connect timeout tells). Pigeon keeps the first node that answers, and after a node failed
it goes to another without waiting out a connect timeout on the dead one."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator

import pytest

from pigeon.credentials import UrlSource
from pigeon.nodes import NodeOrder
from pigeon.publisher import Failure, Message, Publisher, PublishError
from support.ids import new_id, queue_name, soon
from support.tcp_proxy import TcpProxy

CONNECT_TIMEOUT = 2.0


@pytest.fixture
def proxies(broker) -> Iterator[list[TcpProxy]]:
    made = [TcpProxy(broker.port) for _ in range(2)]
    yield made
    for proxy in made:
        proxy.close()


def through(url: str, proxy: TcpProxy, port: int) -> str:
    return url.replace(f":{port}/", f":{proxy.port}/")


def publisher_for(broker, pigeon_url, proxies, seed: int = 7) -> tuple[Publisher, list[TcpProxy]]:
    """A publisher over the proxies; the proxies in the order it will try them."""
    urls = [through(pigeon_url, proxy, broker.port) for proxy in proxies]
    order = NodeOrder(random.Random(seed))
    tried = order.candidates(tuple(urls))
    ordered = [proxies[urls.index(url)] for url in tried]
    return Publisher(UrlSource(",".join(urls)), CONNECT_TIMEOUT, order), ordered


def dead(proxy: TcpProxy) -> None:
    """The node stops answering: its connections drop, new ones are accepted and ignored."""
    proxy.mode = "blackhole"
    proxy.drop()


def test_the_first_node_that_answers_is_kept(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, second) = publisher_for(broker, pigeon_url, proxies)
    ids = [new_id() for _ in range(3)]
    for crash_id in ids:
        publisher.publish([Message(queue, crash_id)], soon())
    assert first.upstream_bytes > 0
    assert second.upstream_bytes == 0
    assert broker.bodies(queue) == ids
    publisher.close()


def test_a_node_that_died_between_invocations_is_not_waited_for(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, second) = publisher_for(broker, pigeon_url, proxies)
    before, after, later = new_id(), new_id(), new_id()
    publisher.publish([Message(queue, before)], soon())
    dead(first)
    started = time.monotonic()
    publisher.publish([Message(queue, after)], soon())  # one transparent reconnect
    assert time.monotonic() - started < CONNECT_TIMEOUT  # not a connect timeout on the dead one
    assert second.upstream_bytes > 0
    publisher.publish([Message(queue, later)], soon())
    assert broker.bodies(queue) == [before, after, later]
    publisher.close()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_dead_node_first_costs_one_connect_timeout_once(broker, pigeon_url, proxies):
    queue = queue_name()
    broker.declare(queue)
    publisher, (first, _) = publisher_for(broker, pigeon_url, proxies)
    dead(first)
    ids = [new_id() for _ in range(2)]
    seen = Records()
    logging.getLogger("pigeon.publisher").addHandler(seen)
    try:
        started = time.monotonic()
        publisher.publish([Message(queue, ids[0])], soon())
    finally:
        logging.getLogger("pigeon.publisher").removeHandler(seen)
    assert CONNECT_TIMEOUT <= time.monotonic() - started < 2 * CONNECT_TIMEOUT
    [warning] = seen.records
    assert warning.getMessage() == (
        f"RabbitMQ node 127.0.0.1:{first.port} did not answer; trying the next"
    )
    assert warning.error == "timed out connecting to RabbitMQ"  # type: ignore[attr-defined]
    publisher.close()  # a new connection, as after the function was frozen for long
    started = time.monotonic()
    publisher.publish([Message(queue, ids[1])], soon())
    assert time.monotonic() - started < CONNECT_TIMEOUT  # the dead node is tried last now
    assert broker.bodies(queue) == ids
    publisher.close()


def test_no_node_answers_names_each_and_never_the_password(broker, pigeon_url, proxies):
    publisher, ordered = publisher_for(broker, pigeon_url, proxies)
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
