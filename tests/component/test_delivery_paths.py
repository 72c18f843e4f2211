"""Pigeon fed through SQS, SNS and EventBridge against a real broker: the same decisions, and
with SQS, partial batch failures that retry exactly the messages whose ids were not confirmed."""

from __future__ import annotations

import json

import pytest

from pigeon.handler import UnnamedSqsMessage
from pigeon.publisher import PublishError
from pigeon_tools import events
from support.in_process import make_pigeon


def accepted(n: int) -> list[str]:
    return [events.new_crash_id("accept") for _ in range(n)]


@pytest.mark.parametrize("path", ["sqs", "sqs+sns", "sns", "eventbridge"])
def test_every_delivery_path_publishes_the_accepted_ids(broker, queue, path):
    ids, deferred = accepted(2), events.new_crash_id("defer")
    notes = [events.for_crash_ids([i]) for i in [*ids, deferred]]
    if path.startswith("sqs"):
        event = events.sqs_batch(notes, via_sns=path == "sqs+sns")
    elif path == "sns":
        event = events.sns_event(events.for_crash_ids([*ids, deferred]))
    else:
        event = events.eventbridge_event(events.raw_crash_key(ids[0]))
        ids = ids[:1]
    result = make_pigeon(broker.url, queue)(event)
    assert sorted(broker.bodies(queue)) == sorted(ids)
    assert result["published"] == {queue: ids}
    if path.startswith("sqs"):
        assert result["batchItemFailures"] == []


def test_an_sqs_batch_the_broker_takes_in_part_retries_exactly_the_unconfirmed_messages(
    healthy_broker, queue
):
    """The queue takes 3 messages (max-length, reject-publish): the broker nacks the rest."""
    broker = healthy_broker
    policy = json.dumps({"max-length": 3, "overflow": "reject-publish"})
    broker.ctl("set_policy", "--apply-to", "queues", "pigeon-test-full", f"^{queue}$", policy)
    ids = accepted(5)
    batch = events.sqs_batch([events.for_crash_ids([i]) for i in ids])
    owner = {i: r["messageId"] for i, r in zip(ids, batch["Records"], strict=True)}
    batch["Records"].insert(2, events.sqs_batch([events.s3_test_event()])["Records"][0])
    item = {r["messageId"]: r for r in batch["Records"]}
    pigeon = make_pigeon(broker.url, queue)
    result = pigeon(batch)  # no exception: the batch reports its failures
    on_queue = broker.bodies(queue)
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert len(on_queue) == 3
    assert set(failed) == {owner[i] for i in ids if i not in on_queue}
    assert sum(map(len, result["published"].values())) == 3
    assert pigeon.metrics()["socorro.pigeon.publish_error|env:test"] == 1
    # Lambda redelivers only the failed messages; the queue has room again.
    broker.ctl("clear_policy", "pigeon-test-full")
    retry = pigeon({"Records": [item[f] for f in failed]})
    assert retry["batchItemFailures"] == []
    on_queue += broker.bodies(queue)
    assert sorted(on_queue) == sorted(ids)  # every id once: the confirmed were not re-sent


@pytest.mark.parametrize("level", ["INFO", "WARNING", "ERROR"])
def test_an_sqs_batch_with_the_broker_down_fails_the_messages_with_accepted_ids(
    healthy_broker, level
):
    """Whatever PIGEON_LOG_LEVEL is, the summary that the item-failures alarm reads is logged
    (at ERROR when messages failed: an operator may set the level above INFO)."""
    healthy_broker.stop_app()
    accept, defer = events.new_crash_id("accept"), events.new_crash_id("defer")
    batch = events.sqs_batch([events.for_crash_ids([accept]), events.for_crash_ids([defer])])
    run = make_pigeon(healthy_broker.url, "q", PIGEON_CONNECT_TIMEOUT="2", PIGEON_LOG_LEVEL=level)
    result = run(batch)
    assert result["batchItemFailures"] == [{"itemIdentifier": batch["Records"][0]["messageId"]}]
    # No exception, so Lambda's Errors stays at 0: what the alarms see is the item_failure
    # metric, and its count in the invocation summary (CloudWatch's metric filter reads it).
    assert run.metrics()["socorro.pigeon.item_failure|env:test"] == 1
    [summary] = [line for line in run.log_lines() if line["message"] == "invocation summary"]
    assert summary["item_failures"] == 1
    assert summary["level"] == "ERROR"


def test_other_paths_still_raise_so_that_lambda_retries_the_event(healthy_broker):
    healthy_broker.stop_app()
    event = events.sns_event(events.for_crash_ids(accepted(1)))
    with pytest.raises(PublishError):
        make_pigeon(healthy_broker.url, "q", PIGEON_CONNECT_TIMEOUT="2")(event)


def test_sqs_messages_pigeon_cannot_read_fail_so_that_they_reach_the_dead_letter_queue(
    broker, queue
):
    """Each body is not what it claims to be; each of their messages is an item failure (the
    redrive policy moves it to the dead-letter queue after maxReceiveCount). The good ones,
    an EventBridge event through SQS among them, publish and are done."""
    good, bridged = events.new_crash_id("accept"), events.new_crash_id("accept")
    batch = events.sqs_batch([events.for_crash_ids([good])])
    bridge = events.sqs_batch([events.eventbridge_event(events.raw_crash_key(bridged))])
    batch["Records"] += bridge["Records"]
    broken = events.for_crash_ids([events.new_crash_id("accept")])
    del broken["Records"][0]["s3"]["object"]
    unknown_reason = events.eventbridge_event(events.raw_crash_key(good))
    del unknown_reason["detail"]["reason"]
    bad_bodies = ["not json", '{"Records": "x"}', json.dumps(broken), json.dumps(unknown_reason)]
    bad = [events.sqs_record(body) for body in bad_bodies]
    batch["Records"][1:1] = bad
    run = make_pigeon(broker.url, queue)
    result = run(batch)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["messageId"] for r in bad
    ]
    assert sorted(broker.bodies(queue)) == sorted([good, bridged])
    assert run.metrics()["socorro.pigeon.item_failure|env:test"] == len(bad)
    warned = [line for line in run.log_lines() if line.get("message_id")]
    assert [line["message_id"] for line in warned] == [r["messageId"] for r in bad]


def test_an_sqs_record_without_a_message_id_fails_the_whole_batch(broker, queue):
    """batchItemFailures cannot name it (an empty itemIdentifier is a failure of the whole batch
    to Lambda anyway): the invocation fails, so SQS keeps every message of the batch."""
    ids = [events.new_crash_id("accept") for _ in range(2)]
    batch = events.sqs_batch([events.for_crash_ids([i]) for i in ids])
    del batch["Records"][1]["messageId"]
    run = make_pigeon(broker.url, queue)
    with pytest.raises(
        UnnamedSqsMessage, match="1 record\\(s\\) of the SQS batch have no messageId"
    ):
        run(batch)
    assert broker.bodies(queue) == ids[:1]  # what could be read was published all the same


def test_one_pathological_sqs_message_fails_alone_and_the_rest_are_published(broker, queue):
    """A body nested past Python's recursion limit makes json.loads raise RecursionError, not
    ValueError; a key of megabytes; an SNS envelope around the nesting. Each fails (or is
    ignored) on its own: the good messages of the batch are published and done."""
    good = [events.new_crash_id("accept") for _ in range(2)]
    nested = "[" * 200_000 + "]" * 200_000
    huge_key = events.for_crash_ids([events.new_crash_id("accept")])
    huge_key["Records"][0]["s3"]["object"]["key"] = "v2/raw_crash/" + "k" * 5_000_000
    sns_nested = json.dumps({"Type": "Notification", "Message": nested})
    batch = events.sqs_batch([events.for_crash_ids([good[0]])])
    bad = [events.sqs_record(nested), events.sqs_record(sns_nested)]
    batch["Records"] += [*bad, events.sqs_record(json.dumps(huge_key))]
    batch["Records"] += events.sqs_batch([events.for_crash_ids([good[1]])])["Records"]
    run = make_pigeon(broker.url, queue)
    result = run(batch)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["messageId"] for r in bad
    ]
    assert sorted(broker.bodies(queue)) == sorted(good)
    assert (result["invalid"], result["ignored"], result["accepted"]) == (2, 1, 2)
    assert all(len(json.dumps(line)) < 20_000 for line in run.log_lines())


def test_one_pathological_record_of_a_direct_event_is_invalid_alone(broker, queue):
    good = events.new_crash_id("accept")
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    broken = events.record("x")
    broken["s3"] = {"bucket": {"name": "b"}, "object": {"key": nested}}
    run = make_pigeon(broker.url, queue)
    result = run({"Records": [broken, *events.for_crash_ids([good])["Records"]]})
    assert (result["invalid"], result["accepted"]) == (1, 1)
    assert broker.bodies(queue) == [good]


@pytest.mark.parametrize("path", ["direct", "sqs"])
def test_an_accepted_crash_id_that_cannot_be_routed_is_never_dropped(
    broker, queue, monkeypatch, path
):
    """Deciding a record raises after its crash id was accepted (a routing bug, say). It is not
    an invalid record to drop: with SQS delivery its message fails; a direct event fails after
    the other ids are published, so Lambda retries it and keeps it on the on-failure queue."""
    from pigeon import decisions
    from pigeon.handler import UnroutedRecords

    good, broken = events.new_crash_id("accept"), events.new_crash_id("accept")
    route = decisions.pick_queues

    def pick(queues, crash_id):
        if crash_id == broken:
            raise KeyError("a routing bug")
        return route(queues, crash_id)

    monkeypatch.setattr(decisions, "pick_queues", pick)
    run = make_pigeon(broker.url, queue)
    if path == "direct":
        with pytest.raises(UnroutedRecords, match="1 record"):
            run(events.for_crash_ids([good, broken]))
    else:
        batch = events.sqs_batch([events.for_crash_ids([good]), events.for_crash_ids([broken])])
        result = run(batch)
        assert result["batchItemFailures"] == [{"itemIdentifier": batch["Records"][1]["messageId"]}]
        assert result["invalid"] == 0
    assert broker.bodies(queue) == [good]
    [line] = [x for x in run.log_lines() if x["message"] == "accepted crash id could not be routed"]
    assert line["level"] == "ERROR"
