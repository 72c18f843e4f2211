"""An SQS batch through the built function in the local runtime, read by the event source
mapping stand-in (support.sqs_mapping): a function error fails the whole batch."""

from __future__ import annotations

import json

from pigeon_tools import events
from support.sqs_mapping import EventSourceMapping


def test_a_function_error_fails_the_whole_batch(broker, queue, moto_endpoint, make_function):
    """The built function in the local runtime, with a setting that fails its init (a bad
    deploy): every invocation is a function error, so no message is deleted, each is received
    again, and the redrive policy moves them all to the dead-letter queue."""
    mapping = EventSourceMapping.create(moto_endpoint, max_receive_count=2)
    bodies = [json.dumps(events.for_crash_ids([events.new_crash_id("accept")])) for _ in range(3)]
    for body in bodies:
        mapping.send(body)
    function = make_function(broker.url, "not a queue!")
    assert mapping.drain(function.invoke)
    assert mapping.answers
    assert not any(a.ok for a in mapping.answers)
    assert sorted(mapping.dead_letters()) == sorted(bodies)
    assert broker.bodies(queue) == []
