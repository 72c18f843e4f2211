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
    [
        ("PutObject", True),
        ("CopyObject", False),
        ("CompleteMultipartUpload", False),
        ("RestoreObject", False),  # a reason Pigeon does not know is not taken for a Put
        ("", False),
    ],
)
def test_eventbridge_reasons_are_filtered_like_notification_event_names(reason, counts):
    [result] = unwrap(events.eventbridge_event(ACCEPT_KEY, reason=reason), PUT).units[0].results
    assert isinstance(result, S3Object) is counts
    if not counts:
        assert isinstance(result, Skipped)
        assert result.key == ACCEPT_KEY
    everything = frozenset({"ObjectCreated:Put", "ObjectCreated:Copy"})
    copied = unwrap(events.eventbridge_event(ACCEPT_KEY, reason="CopyObject"), everything)
    assert isinstance(copied.units[0].results[0], S3Object)


def test_the_wildcard_counts_every_eventbridge_reason_even_an_unknown_one():
    star = frozenset({"ObjectCreated:*"})
    for reason in ("PutObject", "CopyObject", "RestoreObject"):
        [result] = (
            unwrap(events.eventbridge_event(ACCEPT_KEY, reason=reason), star).units[0].results
        )
        assert isinstance(result, S3Object), reason


@pytest.mark.parametrize("reason", [None, 7])
def test_an_eventbridge_event_without_a_reason_is_malformed_not_a_put(reason):
    event = events.eventbridge_event(ACCEPT_KEY)
    if reason is None:
        del event["detail"]["reason"]
    else:
        event["detail"]["reason"] = reason
    [result] = unwrap(event, frozenset({"ObjectCreated:*"})).units[0].results
    assert isinstance(result, Malformed)


def test_the_s3_test_event_is_ignored_not_invalid():
    delivery = unwrap(sample("sqs_s3_test_event.json"), PUT)
    [[result]] = [unit.results for unit in delivery.units]
    assert isinstance(result, Skipped)
    assert "s3:TestEvent" in result.reason


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"hello": "world"}',
        None,
        '{"Records": []}',
        '{"Records": "x"}',
        '{"Type": "Notification", "Message": "not json"}',
        json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}),
        json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": "x"}),
    ],
)
def test_an_sqs_message_pigeon_cannot_read_is_unreadable_and_named(body):
    event = events.sqs_batch([events.event([ACCEPT_KEY])])
    event["Records"].append({**event["Records"][0], "messageId": "bad-one", "body": body})
    delivery = unwrap(event, PUT)
    bad = next(u for u in delivery.units if u.item_id == "bad-one")
    assert bad.unreadable
    assert not delivery.units[0].unreadable
    assert keys(delivery)[0] == [ACCEPT_KEY]


def test_an_eventbridge_event_delivered_through_sqs_is_read_like_a_direct_one():
    event = events.sqs_batch([events.eventbridge_event(ACCEPT_KEY)])
    delivery = unwrap(event, PUT)
    assert delivery.source == "sqs"
    assert keys(delivery) == [[ACCEPT_KEY]]
    assert not delivery.units[0].unreadable


@pytest.mark.parametrize(
    "mangle",
    [
        lambda r: r.pop("messageId"),
        lambda r: r.update(messageId=""),
        lambda r: r.update(messageId=None),
        lambda r: r.update(messageId=["m"]),
    ],
)
def test_an_sqs_record_without_a_message_id_is_counted_unnamed(mangle):
    event = events.sqs_batch([events.event([ACCEPT_KEY]), events.event([DEFER_KEY])])
    mangle(event["Records"][1])
    delivery = unwrap(event, PUT)
    assert delivery.unnamed == 1
    assert keys(delivery) == [[ACCEPT_KEY]]


def test_a_record_that_is_not_an_object_in_an_sqs_batch_is_unnamed_too():
    event = events.sqs_batch([events.event([ACCEPT_KEY])])
    event["Records"].insert(0, "junk")
    delivery = unwrap(event, PUT)
    assert (delivery.source, delivery.unnamed) == ("sqs", 1)


@pytest.mark.parametrize(
    ("event", "source"),
    [
        (events.eventbridge_event(ACCEPT_KEY), "eventbridge"),
        (events.sqs_batch([events.event([ACCEPT_KEY])]), "sqs"),
        (events.sns_event(events.event([ACCEPT_KEY])), "sns"),
        (events.event([ACCEPT_KEY]), "s3"),
        ({"Records": []}, "s3"),
        # The path is what the records are, wherever they stand: a junk first record does
        # not make an SQS batch a direct notification whose records are then skipped.
        ({"Records": [7, *events.sqs_batch([events.event([ACCEPT_KEY])])["Records"]]}, "sqs"),
        ({"Records": [{}, *events.sns_event(events.event([ACCEPT_KEY]))["Records"]]}, "sns"),
    ],
)
def test_the_delivery_path_is_chosen_by_what_the_event_holds(event, source):
    assert unwrap(event, PUT).source == source


def test_a_record_of_an_sns_event_that_is_not_from_sns_is_malformed():
    event = events.sns_event(events.event([ACCEPT_KEY]))
    event["Records"].append(events.record(ACCEPT_KEY))
    [unit] = unwrap(event, PUT).units
    assert [type(r) for r in unit.results] == [S3Object, Malformed]


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
