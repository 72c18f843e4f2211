"""The order of a cluster's nodes: shuffled once per container, kept while a node answers, and a
node that failed tried last."""

import random
from collections import Counter

from pigeon.nodes import NodeOrder
from pigeon.parsers import split_broker_urls

NODES = split_broker_urls("amqp://u:p@a:5672/,amqps://u:p@b/,amqp://u:p@c:5673/", "X")


def test_a_node_is_named_by_host_and_port_never_by_its_credentials():
    assert [node.name for node in NODES] == ["a:5672", "b:5671", "c:5673"]
    assert "p@" not in repr(NODES)


def test_containers_spread_over_the_nodes():
    firsts = Counter(NodeOrder(random.Random(seed)).candidates(NODES)[0] for seed in range(300))
    assert set(firsts) == set(NODES)
    assert min(firsts.values()) > 60


def test_the_order_is_kept_while_nodes_answer():
    order = NodeOrder(random.Random(1))
    first = order.candidates(NODES)
    assert all(order.candidates(NODES) == first for _ in range(5))


def test_a_node_that_failed_goes_last_and_the_next_is_tried_first():
    order = NodeOrder(random.Random(2))
    a, b, c = order.candidates(NODES)
    order.failed(a)
    assert order.candidates(NODES) == [b, c, a]
    order.failed(b)
    assert order.candidates(NODES) == [c, a, b]


def test_new_credentials_for_the_same_nodes_keep_the_order():
    order = NodeOrder(random.Random(3))
    before = [node.name for node in order.candidates(NODES)]
    rotated = split_broker_urls(",".join(n.url.replace("u:p@", "u:rotated@") for n in NODES), "X")
    assert [node.name for node in order.candidates(rotated)] == before


def test_one_url_is_the_only_choice():
    order = NodeOrder()
    order.failed(NODES[0])
    assert order.candidates(NODES[:1]) == [NODES[0]]
