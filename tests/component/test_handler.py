"""The handler end to end in-process: real broker, real log and metric lines."""

from __future__ import annotations

import json
import uuid

import pytest

from pigeon.credentials import UrlSource
from pigeon.publisher import Publisher, PublishError
from pigeon.routing import takes
from pigeon_tools import events
from pigeon_tools.events import event, for_crash_ids, new_crash_id, record
from support import evidence
from support.in_process import ACCEPT_ID, DEFER_ID, SEED_KEYS, LambdaContext, make_pigeon
from support.tcp_proxy import TcpProxy


@pytest.fixture
def queues(broker):
    names = [f"test.{uuid.uuid4().hex[:8]}" for _ in range(2)]
    broker.declare(*names)
    return names


def test_seed_cases(broker, queues):
    run = make_pigeon(broker.url, ",".join(queues))
    result = run(event(SEED_KEYS))
    assert result == {
        "records": 5,
        "accepted": 1,
        "deferred": 1,
        "throttled": 0,
        "ignored": 3,
        "invalid": 0,
        "published": {queues[0]: [ACCEPT_ID], queues[1]: [ACCEPT_ID]},
    }
    json.dumps(result)
    for queue in queues:
        assert broker.bodies(queue) == [ACCEPT_ID]
    metrics = run.metrics()
    assert metrics["socorro.pigeon.accept|env:test"] == 1
    assert metrics["socorro.pigeon.defer|env:test"] == 1
    assert metrics["socorro.pigeon.ignored|env:test"] == 3
    assert metrics[f"socorro.pigeon.published|env:test,queue:{queues[0]}"] == 1
    assert metrics[f"socorro.pigeon.published|env:test,queue:{queues[1]}"] == 1


def test_a_deferred_crash_is_not_published(broker, queues):
    run = make_pigeon(broker.url, queues[0])
    assert run(event([f"v2/raw_crash/111/20180313/{DEFER_ID}"]))["deferred"] == 1
    assert broker.bodies(queues[0]) == []


def test_a_zero_percent_queue_is_throttled_and_tagged(broker, queues):
    run = make_pigeon(broker.url, f"{queues[0]},0:{queues[1]}")
    result = run(event([SEED_KEYS[0]]))
    assert result["throttled"] == 1
    assert broker.bodies(queues[0]) == [ACCEPT_ID]
    assert broker.bodies(queues[1]) == []
    assert run.metrics()[f"socorro.pigeon.throttled|env:test,queue:{queues[1]}"] == 1


def test_malformed_records_and_bad_ids_do_not_stop_the_good_ones(broker, queues):
    run = make_pigeon(broker.url, queues[0])
    bad = record("x")
    bad["s3"]["object"]["key"] = 42
    bad_id = "v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc09180313"
    result = run({"Records": [bad, "junk", record(bad_id), record(SEED_KEYS[0])]})
    assert (result["invalid"], result["accepted"]) == (3, 1)
    assert broker.bodies(queues[0]) == [ACCEPT_ID]
    warnings = [line for line in run.log_lines() if line["level"] == "WARN"]
    assert any(line.get("record", "").startswith("{") for line in warnings)
    assert any(line.get("crash_id", "").endswith("09180313") for line in warnings)


@pytest.mark.parametrize("not_s3", [{}, {"detail-type": "Scheduled Event"}, [], "text", None])
def test_an_event_that_is_not_an_s3_notification_is_logged_not_retried(broker, queues, not_s3):
    run = make_pigeon(broker.url, queues[0])
    assert run(not_s3)["invalid"] == 1
    assert run.metrics() == {"socorro.pigeon.invalid|env:test": 1}
    assert any(line["level"] == "ERROR" for line in run.log_lines())


def test_the_same_crash_in_two_records_is_published_once(broker, queues):
    run = make_pigeon(broker.url, queues[0])
    run(event([SEED_KEYS[0], SEED_KEYS[0]]))
    assert broker.bodies(queues[0]) == [ACCEPT_ID]


def test_a_broker_failure_raises_counts_and_names_the_ids_without_the_password(broker):
    password = evidence.secret("pw-" + uuid.uuid4().hex)
    run = make_pigeon(broker.url_with(password=password), "socorro.normal")
    with pytest.raises(PublishError) as raised:
        run(event([SEED_KEYS[0]]))
    assert ACCEPT_ID in str(raised.value)
    assert run.metrics()["socorro.pigeon.publish_error|env:test"] == 1
    everything = run.log_stream.getvalue() + run.metric_stream.getvalue() + str(raised.value)
    assert password not in everything
    errors = [line for line in run.log_lines() if line["logger"] == "pigeon.handler"]
    errors = [line for line in errors if line["level"] == "ERROR"]
    assert errors[0]["crash_ids"] == [ACCEPT_ID]


def test_log_lines_carry_the_request_and_a_summary(broker, queues):
    run = make_pigeon(broker.url, queues[0])
    context = LambdaContext()
    run(event(SEED_KEYS), context)
    lines = run.log_lines()
    assert all(line["aws_request_id"] == context.aws_request_id for line in lines)
    assert all(
        {"timestamp", "level", "logger", "message", "function_version"} <= set(line)
        for line in lines
    )
    accepted = next(line for line in lines if line["message"] == "accepted")
    assert accepted["crash_id"] == ACCEPT_ID
    assert accepted["bucket"] == "crashstats-raw"
    assert accepted["key"] == SEED_KEYS[0]
    summary = lines[-1]
    assert summary["message"] == "invocation summary"
    assert {k: summary[k] for k in ("records", "accepted", "deferred", "ignored", "published")} == {
        "records": 5,
        "accepted": 1,
        "deferred": 1,
        "ignored": 3,
        "published": 1,
    }
    assert summary["duration_ms"] > 0


def test_warm_invocations_reuse_one_connection(broker, queues):
    """The same connection, by its identity (its client port), not a count of connections: a
    close and reopen on every invocation keeps the count and changes the port."""
    proxy = TcpProxy(broker.port)
    try:
        run = make_pigeon(proxy.url_for(broker.url), queues[0])
        for _ in range(4):
            run(event([SEED_KEYS[0]]))
        ports, still_open = list(proxy.client_ports), proxy.open
    finally:
        proxy.close()
    assert len(ports) == 1
    assert still_open == 1
    assert broker.bodies(queues[0]) == [ACCEPT_ID] * 4


def test_a_nacked_publish_fails_the_invocation_naming_only_that_id(broker):
    queue = f"test.{uuid.uuid4().hex[:8]}"
    broker.declare(queue, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    ids = [new_crash_id("accept") for _ in range(3)]
    run = make_pigeon(broker.url, queue)
    with pytest.raises(PublishError) as raised:
        run(for_crash_ids(ids))
    text = str(raised.value)
    assert ids[2] in text
    assert ids[0] not in text
    assert ids[1] not in text
    assert run.metrics()[f"socorro.pigeon.published|env:test,queue:{queue}"] == 2
    assert run.metrics()["socorro.pigeon.publish_error|env:test"] == 1
    [error_line] = [line for line in run.log_lines() if line["level"] == "ERROR"]
    assert error_line["crash_ids"] == [ids[2]]
    assert broker.bodies(queue) == ids[:2]


class Broken(Publisher):
    """A publisher that fails as no broker does: what a bug, or a library's surprise, raises."""

    def publish(self, messages, deadline):  # type: ignore[no-untyped-def]
        raise RuntimeError("surprise")


@pytest.mark.parametrize("path", ["direct", "sqs"])
def test_an_unexpected_error_confirms_nothing_and_is_an_error(broker, queues, path):
    ids = [new_crash_id("accept") for _ in range(2)]
    run = make_pigeon(broker.url, queues[0], publisher=Broken(UrlSource(())))
    if path == "direct":
        with pytest.raises(PublishError) as raised:
            run(for_crash_ids(ids))
        assert "unexpected error: RuntimeError: surprise" in str(raised.value)
    else:
        batch = events.sqs_batch([for_crash_ids([i]) for i in ids])
        result = run(batch)
        assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
            r["messageId"] for r in batch["Records"]
        ]
        assert result["published"] == {}
    metrics = run.metrics()
    assert not any(name.startswith("socorro.pigeon.published") for name in metrics)
    assert metrics["socorro.pigeon.publish_error|env:test"] == 1
    errors = [line for line in run.log_lines() if line["level"] == "ERROR"]
    # The publish failure; with SQS delivery also the invocation summary, an ERROR line when
    # messages failed (the item-failures alarm's filter reads it at any log level).
    [error] = [line for line in errors if line["message"] != "invocation summary"]
    assert error["crash_ids"] == sorted(ids)
    assert "unexpected error: RuntimeError: surprise" in error["error"]
    summaries = [line for line in errors if line["message"] == "invocation summary"]
    assert [s["item_failures"] for s in summaries] == ([2] if path == "sqs" else [])


@pytest.mark.parametrize(
    ("keys", "names", "why"),
    [
        (
            [SEED_KEYS[0], SEED_KEYS[0]],
            {"PIGEON_KEY_PREFIX": "v1/raw_crash"},
            "not a raw-crash key",
        ),
        ([SEED_KEYS[0]], {"PIGEON_EVENT_NAMES": "ObjectCreated:Copy"}, "PIGEON_EVENT_NAMES"),
    ],
)
def test_an_event_whose_every_record_is_ignored_says_why_at_the_default_level(
    broker, queues, keys, names, why
):
    run = make_pigeon(broker.url, queues[0], PIGEON_LOG_LEVEL="INFO", **names)
    assert run(event(keys))["ignored"] == len(keys)
    [warning] = [line for line in run.log_lines() if line["level"] == "WARN"]
    assert warning["message"].startswith(f"every record of the event was ignored ({len(keys)})")
    assert why in warning["reason"]
    assert warning["key"] == SEED_KEYS[0]


def test_an_event_with_one_raw_crash_among_others_gives_no_warning(broker, queues):
    run = make_pigeon(broker.url, queues[0], PIGEON_LOG_LEVEL="INFO")
    run(event(SEED_KEYS))
    assert [line for line in run.log_lines() if line["level"] == "WARN"] == []


def test_s3s_test_event_alone_is_routine_not_a_warning(broker, queues):
    run = make_pigeon(broker.url, queues[0], PIGEON_LOG_LEVEL="INFO")
    assert run(events.sqs_batch([events.s3_test_event()]))["ignored"] == 1
    assert [line for line in run.log_lines() if line["level"] == "WARN"] == []


def test_a_crash_twice_in_an_event_gets_one_answer_per_queue(broker, queues):
    """The throttle is the crash id's: two records of one crash agree, on every try."""
    run = make_pigeon(broker.url, f"50:{queues[0]}")
    ids = [new_crash_id("accept") for _ in range(40)]
    for _ in range(2):  # the event, then Lambda's retry of it
        run(for_crash_ids([i for i in ids for _ in range(2)]))
    taken = [i for i in ids if takes(run.pigeon.config.queues[0], i)]
    assert 0 < len(taken) < len(ids)
    assert sorted(broker.bodies(queues[0])) == sorted(taken * 2)
