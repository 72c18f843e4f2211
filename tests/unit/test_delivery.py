"""Every way an S3 notification reaches Pigeon unwraps to the same records, keys decoded as
each path encodes them. Samples in tests/data/events have the shapes AWS documents (and
Powertools' test events use): S3 -> SQS, S3 -> SNS -> SQS, S3 -> SNS, S3 -> EventBridge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pigeon.delivery import unwrap
from pigeon.events import Malformed, NotAnS3Notification, S3Object, Skipped
from pigeon_tools import events

SAMPLES = Path(__file__).parents[1] / "data" / "events"
PUT = frozenset({"ObjectCreated:Put"})
ACCEPT_KEY = "v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313"
DEFER_KEY = "v2/raw_crash/111/20180313/11107bd0-2d1c-4865-af09-80bc01180313"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def keys(delivery) -> list[list[str]]:
    return [[r.key for r in unit.results if isinstance(r, S3Object)] for unit in delivery.units]


def test_an_sqs_batch_of_s3_notifications_is_one_unit_per_message():
    event = sample("sqs_s3.json")
    delivery = unwrap(event, PUT)
    assert delivery.source == "sqs"
    assert delivery.batch
    assert [u.item_id for u in delivery.units] == [r["messageId"] for r in event["Records"]]
    assert keys(delivery) == [[ACCEPT_KEY], [DEFER_KEY]]


def test_an_sns_envelope_inside_an_sqs_message_is_unwrapped():
    delivery = unwrap(sample("sqs_sns_s3.json"), PUT)
    assert delivery.source == "sqs"
    assert keys(delivery) == [[ACCEPT_KEY]]


def test_an_sns_event_is_one_unit_and_its_keys_are_url_decoded():
    delivery = unwrap(sample("sns_s3.json"), PUT)
    assert delivery.source == "sns"
    assert not delivery.batch
    assert keys(delivery) == [[ACCEPT_KEY, "v2/raw_crash/000/20180313/with space+plus"]]


def test_an_eventbridge_object_created_event_decodes_its_key_too():
    delivery = unwrap(sample("eventbridge_s3.json"), PUT)
    assert delivery.source == "eventbridge"
    assert keys(delivery) == [[ACCEPT_KEY]]
    spaced = unwrap(events.eventbridge_event("a b/c+d"), PUT)
    assert keys(spaced) == [["a b/c+d"]]


@pytest.mark.parametrize(
    ("reason", "counts"),
    [("PutObject", True), ("CopyObject", False), ("CompleteMultipartUpload", False)],
)
def test_eventbridge_reasons_are_filtered_like_notification_event_names(reason, counts):
    [result] = unwrap(events.eventbridge_event(ACCEPT_KEY, reason=reason), PUT).units[0].results
    assert isinstance(result, S3Object) is counts
    everything = frozenset({"ObjectCreated:Put", "ObjectCreated:Copy"})
    copied = unwrap(events.eventbridge_event(ACCEPT_KEY, reason="CopyObject"), everything)
    assert isinstance(copied.units[0].results[0], S3Object)


def test_the_s3_test_event_is_ignored_not_invalid():
    delivery = unwrap(sample("sqs_s3_test_event.json"), PUT)
    [[result]] = [unit.results for unit in delivery.units]
    assert isinstance(result, Skipped)
    assert "s3:TestEvent" in result.reason


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"hello": "world"}', None])
def test_an_sqs_message_that_is_not_a_notification_is_malformed_and_named(body):
    event = events.sqs_batch([events.event([ACCEPT_KEY])])
    event["Records"].append({**event["Records"][0], "messageId": "bad-one", "body": body})
    delivery = unwrap(event, PUT)
    bad = next(u for u in delivery.units if u.item_id == "bad-one")
    assert [type(r) for r in bad.results] == [Malformed]
    assert keys(delivery)[0] == [ACCEPT_KEY]


def test_a_direct_notification_is_still_one_unit():
    delivery = unwrap(events.event([ACCEPT_KEY, "junk"]), PUT)
    assert delivery.source == "s3"
    assert keys(delivery) == [[ACCEPT_KEY, "junk"]]


@pytest.mark.parametrize(
    "event", [{}, {"source": "aws.ec2", "detail": {}}, [], "text", {"Records": "x"}]
)
def test_anything_else_is_not_an_s3_notification(event):
    with pytest.raises(NotAnS3Notification):
        unwrap(event, PUT)


def test_an_eventbridge_event_of_another_type_is_skipped():
    event = events.eventbridge_event(ACCEPT_KEY)
    event["detail-type"] = "Object Deleted"
    [[result]] = [u.results for u in unwrap(event, PUT).units]
    assert isinstance(result, Skipped)
