"""The SQS event source mapping stand-in (support.sqs_mapping) keeps Lambda's rules for
ReportBatchItemFailures, and Pigeon meets them: a partial batch response deletes exactly the
messages not named (here, in process); a function error fails the whole batch, whatever it
returned (tests/runtime/test_sqs_batch.py, the built zip)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from pigeon_tools import events
from support.in_process import make_pigeon
from support.sqs_mapping import EventSourceMapping, succeeded

IDS = ["m1", "m2", "m3"]


@dataclass
class Answer:
    ok: bool
    payload: bytes


def answer(value: object, ok: bool = True) -> Answer:
    return Answer(ok, value if isinstance(value, bytes) else json.dumps(value).encode())


@pytest.mark.parametrize(
    ("given", "done"),
    [
        (answer({"batchItemFailures": [{"itemIdentifier": "m2"}]}), {"m1", "m3"}),
        (answer({"batchItemFailures": []}), set(IDS)),
        (answer({"batchItemFailures": None}), set(IDS)),
        (answer({}), set(IDS)),
        (answer(None), set(IDS)),
        (answer(b""), set(IDS)),
        (answer(b"not json"), set()),
        (answer({"batchItemFailures": [{"itemIdentifier": ""}]}), set()),
        (answer({"batchItemFailures": [{"itemIdentifier": None}]}), set()),
        (answer({"batchItemFailures": [{"itemId": "m2"}]}), set()),
        (answer({"batchItemFailures": [{"itemIdentifier": "m9"}]}), set()),
        (answer({"batchItemFailures": []}, ok=False), set()),  # a function error: all fail
        (answer({"errorMessage": "x", "errorType": "PublishError"}, ok=False), set()),
    ],
    ids=lambda v: getattr(v, "payload", b"").decode()[:40] + ("" if getattr(v, "ok", 1) else "!"),
)
def test_lambdas_rules_for_a_batch_response(given, done):
    assert succeeded(IDS, given) == done


def in_process(run):  # type: ignore[no-untyped-def]
    """Pigeon in this process, answering as the runtime does: the result, or a function error."""

    def invoke(event: dict) -> Answer:
        try:
            return answer(run(event))
        except Exception as error:
            return answer({"errorMessage": str(error), "errorType": type(error).__name__}, False)

    return invoke


def test_a_partial_batch_response_deletes_exactly_the_messages_not_named(
    broker, queue, moto_endpoint
):
    mapping = EventSourceMapping.create(moto_endpoint, max_receive_count=2)
    good = [events.new_crash_id("accept") for _ in range(3)]
    for crash_id in good:
        mapping.send(json.dumps(events.for_crash_ids([crash_id])))
    unreadable = ["not json", "[" * 100_000 + "]" * 100_000]
    for body in unreadable:
        mapping.send(body)
    assert mapping.drain(in_process(make_pigeon(broker.url, queue)))
    assert sorted(mapping.dead_letters()) == sorted(unreadable)
    assert sorted(broker.bodies(queue)) == sorted(good)  # each once: deleted the first time
    first = json.loads(mapping.answers[0].payload)
    assert len(first["batchItemFailures"]) == len(unreadable)
