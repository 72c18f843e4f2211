import pytest

from pigeon.events import Malformed, NotAnS3Notification, S3Object, Skipped, records, snippet
from pigeon_tools.events import event, record

PUT = frozenset({"ObjectCreated:Put"})


def test_keys_are_decoded_as_s3_encodes_them():
    [result] = records(event(["a b/ü=1+2"]), PUT)
    assert result == S3Object(bucket="crashstats-raw", key="a b/ü=1+2")


def test_other_sources_and_event_names_are_skipped():
    copy = record("k", event_name="ObjectCreated:Copy")
    sqs = {**record("k"), "eventSource": "aws:sqs"}
    assert [type(r) for r in records({"Records": [copy, sqs]}, PUT)] == [Skipped, Skipped]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda r: r.pop("s3"),
        lambda r: r["s3"].pop("object"),
        lambda r: r["s3"]["object"].update(key=12345),
        lambda r: r["s3"]["object"].update(key=None),
        lambda r: r["s3"]["bucket"].update(name=["x"]),
        lambda r: r.update(s3="nope"),
        lambda r: r.update(eventName=7),
        lambda r: r.pop("eventSource"),
    ],
)
def test_malformed_records_are_reported_not_raised(mangle):
    bad = record("v2/raw_crash/000/20180313/x")
    mangle(bad)
    good = record("fine")
    results = list(records({"Records": [bad, "text", good]}, PUT))
    assert isinstance(results[0], Malformed)
    assert isinstance(results[1], Malformed)
    assert results[2] == S3Object("crashstats-raw", "fine")


@pytest.mark.parametrize("value", [None, [], "x", {"Records": "x"}, {"detail": {}}, 3])
def test_non_s3_events_raise_their_own_error(value):
    with pytest.raises(NotAnS3Notification):
        list(records(value, PUT))


def test_snippets_are_truncated():
    text = snippet({"key": "x" * 1000})
    assert len(text) <= 301
    assert text.endswith("…")
