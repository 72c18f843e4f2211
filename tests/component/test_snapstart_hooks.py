"""Pigeon's SnapStart hooks on a real broker: before the snapshot the publisher closes its
connection (the broker sees it go) and forgets the node order and what its source read; after
the restore it connects again on its own. (The whole snapshot and restore: tests/runtime.)"""

from __future__ import annotations

import random

from pigeon.confirms import Message
from pigeon.publisher import Publisher
from pigeon_tools import net
from support.ids import new_id, queue_name, soon
from support.publishing import CountingSource
from support.tcp_proxy import TcpProxy


def test_forget_closes_the_connection_and_the_next_publish_reads_and_connects_anew(broker):
    proxies = [TcpProxy(broker.port) for _ in range(2)]
    try:
        queue = queue_name()
        broker.declare(queue)
        source = CountingSource(",".join(p.url_for(broker.url) for p in proxies))
        sender = Publisher(source, 5.0)
        first, second = new_id(), new_id()
        sender.publish([Message(queue, first)], soon())
        assert sum(p.open for p in proxies) == 1
        sender.forget(soon())
        assert net.wait_until(lambda: sum(p.open for p in proxies) == 0, 10, 0.01)
        assert source.forgets == 1
        reads = source.reads
        sender.publish([Message(queue, second)], soon())
        assert source.reads == reads + 1  # the nodes (a secret's) are read again
        assert sum(p.accepted for p in proxies) == 2  # a new connection, not the old one
        assert broker.bodies(queue) == [first, second]
    finally:
        for proxy in proxies:
            proxy.close()


def test_the_hooks_are_registered_with_lambdas_library_and_after_restore_reseeds():
    import snapshot_restore_py

    from pigeon import snapstart

    assert (snapstart.before_snapshot, (), {}) in snapshot_restore_py.get_before_snapshot()
    assert (snapstart.after_restore, (), {}) in snapshot_restore_py.get_after_restore()
    random.seed(7)
    snapshot_state = random.random()
    random.seed(7)
    snapstart.after_restore()
    assert random.random() != snapshot_state  # reseeded: not the state the snapshot held
