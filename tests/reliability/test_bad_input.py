"""Hypothesis-generated bad input on every delivery path (direct S3 records, SQS bodies, SNS
messages, EventBridge details, each not what it claims to be): with a healthy broker the
handler raises nothing at all, fails only SQS messages of its batch, and publishes nothing but
valid accepted crash ids. PIGEONTOOLS_FUZZ_EXAMPLES (default 10,000) examples, derandomized so
every run tries the same inputs."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pigeon.crash_ids import Decision, classify
from pigeon_tools.events import eventbridge_event, new_crash_id, raw_crash_key, record, sqs_record
from support import evidence
from support.in_process import LambdaContext, make_pigeon

EXAMPLES = int(os.environ.get("PIGEONTOOLS_FUZZ_EXAMPLES", "10000"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

HEX = "0123456789abcdef"


@st.composite
def near_miss_ids(draw: st.DrawFn) -> str:
    """A valid id, then perhaps one change: a case flip, a changed or dropped or added char."""
    crash_id = new_crash_id(draw(st.sampled_from(["accept", "defer"])))
    change = draw(st.sampled_from(["none", "none", "upper", "replace", "drop", "add", "throttle"]))
    at = draw(st.integers(0, len(crash_id) - 1))
    if change == "upper":
        return crash_id.upper()
    if change == "replace":
        return crash_id[:at] + draw(st.characters()) + crash_id[at + 1 :]
    if change == "drop":
        return crash_id[:at] + crash_id[at + 1 :]
    if change == "add":
        return crash_id[:at] + draw(st.sampled_from(HEX + "-Z/")) + crash_id[at:]
    if change == "throttle":
        return crash_id[:-7] + draw(st.sampled_from("23456789")) + crash_id[-6:]
    return crash_id


keys = st.one_of(
    near_miss_ids().map(raw_crash_key),
    near_miss_ids().map(raw_crash_key),
    st.text(max_size=300),
    st.text(min_size=1000, max_size=10_000, alphabet=st.characters(codec="utf-8")),
    st.text(alphabet="%+/ab0 ü", max_size=60).map(lambda k: "v2/raw_crash/000/20180313/" + k),
    near_miss_ids().map(lambda i: quote_plus(raw_crash_key(i), safe="")),
)

event_names = st.one_of(
    st.just("ObjectCreated:Put"),
    st.just("ObjectCreated:Put"),
    st.sampled_from(
        [
            "ObjectCreated:Copy",
            "ObjectCreated:Post",
            "ObjectRemoved:Delete",
            "ObjectCreated:CompleteMultipartUpload",
            "s3:ObjectCreated:Put",
            "",
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def s3_records(draw: st.DrawFn) -> Any:
    rec = record(draw(keys), event_name=draw(event_names))
    if draw(st.booleans()):
        rec["s3"]["object"]["key"] = quote_plus(unquote_plus(rec["s3"]["object"]["key"]), "/")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        path = draw(
            st.sampled_from(
                [
                    ("eventSource",),
                    ("eventName",),
                    ("s3",),
                    ("s3", "bucket"),
                    ("s3", "object"),
                    ("s3", "object", "key"),
                    ("s3", "bucket", "name"),
                ]
            )
        )
        target = rec
        for part in path[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            if draw(st.booleans()):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = draw(json_values)
    return rec


notifications = st.fixed_dictionaries({"Records": st.lists(s3_records(), max_size=4)})


@st.composite
def eventbridge_events(draw: st.DrawFn) -> Any:
    event = eventbridge_event(draw(keys))
    event["detail-type"] = draw(st.sampled_from(["Object Created"] * 3 + ["Object Deleted"]))
    event["detail"]["reason"] = draw(
        st.sampled_from(["PutObject", "CopyObject", "RestoreObject"]) | json_values
    )
    if draw(st.booleans()):
        event["detail"][draw(st.sampled_from(["bucket", "object", "reason"]))] = draw(json_values)
    return event


# What an SQS body or an SNS message may hold: text that claims to be a notification.
bodies = st.one_of(
    notifications.map(json.dumps),
    eventbridge_events().map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=40),
    notifications.map(lambda n: json.dumps({"Type": "Notification", "Message": json.dumps(n)})),
    json_values.map(lambda v: json.dumps({"Type": "Notification", "Message": v})),
)

sqs_events = st.lists(bodies.map(sqs_record), min_size=1, max_size=5).map(
    lambda records: {"Records": records}
)
sns_events = st.lists(bodies, min_size=1, max_size=3).map(
    lambda messages: {
        "Records": [{"EventSource": "aws:sns", "Sns": {"Message": m}} for m in messages]
    }
)

events = st.one_of(
    json_values,
    notifications,
    st.fixed_dictionaries({"Records": json_values}),
    st.fixed_dictionaries({"Records": st.lists(json_values, max_size=4)}),
    sqs_events,
    sns_events,
    eventbridge_events(),
)


@pytest.fixture(scope="module")
def pigeon(broker, pigeon_url):
    queue = f"fuzz.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    harness = make_pigeon(pigeon_url, queue, PIGEON_LOG_LEVEL="WARNING")
    yield harness, queue
    evidence.seen("fuzz handler logs", harness.log_stream.getvalue())


def test_bad_input_never_raises_or_publishes_garbage(broker, pigeon):
    harness, queue = pigeon
    published: list[str] = []
    tried = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(events)
    def check(value: Any) -> None:
        nonlocal tried
        tried += 1
        result = harness(value, LambdaContext())  # with a healthy broker, nothing is raised
        assert isinstance(result, dict)
        if "batchItemFailures" in result:
            ids = {r["messageId"] for r in value["Records"]}
            assert {f["itemIdentifier"] for f in result["batchItemFailures"]} <= ids
        for ids in result["published"].values():
            for crash_id in ids:
                assert classify(crash_id) is Decision.ACCEPT, crash_id
            published.extend(ids)

    check()
    on_queue = broker.bodies(queue)
    assert sorted(on_queue) == sorted(published)
    assert all(classify(i) is Decision.ACCEPT for i in on_queue)
    evidence.figures["bad_inputs_tried"] += tried
    print(
        f"fuzz: {tried} generated events, {len(published)} valid ids published, "
        "no exception, nothing invalid published"
    )
