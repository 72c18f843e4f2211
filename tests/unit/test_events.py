import pytest

from pigeon.events import Malformed, S3Object, Skipped, parse_record, snippet
from pigeon_tools.events import event, record

PUT = frozenset({"ObjectCreated:Put"})


def records(value, names):
    return [parse_record(r, names) for r in value["Records"]]


def test_keys_are_decoded_as_s3_encodes_them():
    [result] = records(event(["a b/ü=1+2"]), PUT)
    assert result == S3Object(bucket="crashstats-raw", key="a b/ü=1+2")


def test_other_sources_and_event_names_are_skipped_and_keep_their_key_for_the_log():
    copy = record("a b", event_name="ObjectCreated:Copy")
    sqs = {**record("k"), "eventSource": "aws:sqs"}
    skipped = records({"Records": [copy, sqs]}, PUT)
    assert [type(r) for r in skipped] == [Skipped, Skipped]
    assert [r.key for r in skipped] == ["a b", "k"]
    assert "PIGEON_EVENT_NAMES" in skipped[0].reason


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
    results = records({"Records": [bad, "text", good]}, PUT)
    assert isinstance(results[0], Malformed)
    assert isinstance(results[1], Malformed)
    assert results[2] == S3Object("crashstats-raw", "fine")


def test_snippets_are_truncated():
    text = snippet({"key": "x" * 1000})
    assert len(text) <= 301
    assert text.endswith("…")
