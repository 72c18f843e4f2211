"""Lambda's asynchronous queue in-process, on Lambda's clock scaled down (60 s -> 60 ms): the
maximum event age, no retries, an event that ages out before its first attempt, and an
on-failure destination that fails (the record is kept, not lost); the serve command refuses a
destination or a setting Lambda would refuse."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pigeon_tools import moto_server, net
from pigeon_tools.lambda_local.async_invoke import AsyncConfig, EventQueue
from pigeon_tools.lambda_local.destinations import SqsDestination
from pigeon_tools.lambda_local.fleet import Fleet
from pigeon_tools.lambda_local.spec import FunctionSpec
from support import commands

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"
SCALE = 0.001


class Collected:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def send(self, record: dict[str, Any]) -> None:
        self.records.append(record)


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    made = Fleet(FunctionSpec(FUNCTIONS, "fleet.handle", name="probe", timeout_s=10), limit=1)
    yield made
    made.close()


def failing(tmp_path: Path) -> bytes:
    return json.dumps({"action": "attempt", "log": str(tmp_path / "log"), "fail": 99}).encode()


def given_up(queue: EventQueue, sink: Collected) -> dict[str, Any]:
    assert net.wait_until(lambda: sink.records and queue.stats()["pending"] == 0, 60, 0.01)
    (record,) = sink.records
    return record


def test_an_event_too_old_for_its_retry_is_given_up_as_event_age_exceeded(fleet, tmp_path):
    sink = Collected()
    config = AsyncConfig(maximum_event_age_s=60, time_scale=SCALE)  # the retry falls due at 60
    queue = EventQueue(fleet, config, sink, note=lambda _: None)
    request_id = queue.submit(failing(tmp_path))
    record = given_up(queue, sink)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "attempt 1 failed, as asked"


def test_without_retries_the_first_failure_is_the_last(fleet, tmp_path):
    sink = Collected()
    queue = EventQueue(fleet, AsyncConfig(maximum_retry_attempts=0), sink, note=lambda _: None)
    queue.submit(failing(tmp_path))
    record = given_up(queue, sink)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert queue.stats()["retries"] == 0


def test_an_event_that_waited_out_its_age_is_never_run(fleet, tmp_path):
    sink = Collected()
    queue = EventQueue(fleet, AsyncConfig(maximum_event_age_s=60, time_scale=SCALE), sink)
    busy = fleet.acquire()  # the one environment is taken: the event waits in the queue
    assert busy is not None
    submitted = time.monotonic()
    queue.submit(failing(tmp_path))
    assert net.wait_until(lambda: time.monotonic() - submitted > 60 * SCALE, 5, 0.005)
    fleet.release(busy)
    record = given_up(queue, sink)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record  # nothing ran
    assert "responsePayload" not in record
    assert not (tmp_path / "log").exists()


def test_a_destination_that_fails_keeps_the_record_in_the_log(fleet, tmp_path, moto_endpoint):
    sqs = moto_server.client("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName=f"gone-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    destination = SqsDestination(url, "us-west-2", client=sqs)
    sqs.delete_queue(QueueUrl=url)  # the destination goes away while Lambda runs
    notes: list[str] = []
    queue = EventQueue(fleet, AsyncConfig(maximum_retry_attempts=0), destination, notes.append)
    request_id = queue.submit(failing(tmp_path))
    assert net.wait_until(lambda: queue.stats()["destination_failures"] == 1, 60, 0.01)
    (kept,) = [n for n in notes if "could not send to the on-failure destination" in n]
    record = json.loads(kept.split("the record: ", 1)[1])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestPayload"]["action"] == "attempt"


def test_events_not_done_when_it_stops_are_handed_back_whole(fleet, tmp_path):
    queue = EventQueue(fleet, note=lambda _: None)
    running = json.dumps({"action": "hold", "release": str(tmp_path / "never")}).encode()
    waiting = json.dumps({"action": "ident"}).encode()
    ids = [queue.submit(running), queue.submit(waiting)]
    assert net.wait_until(lambda: fleet.stats()["busy"] == 1, 30, 0.01)
    queue.close()
    fleet.close()  # the running invocation is killed: it did not finish either
    assert sorted(queue.unfinished()) == sorted(zip(ids, [running, waiting], strict=True))


def serve(*args: str, env: dict[str, str] | None = None) -> Any:
    task = ("serve", "--port", "0", "--task-root", str(FUNCTIONS), "--handler", "fleet.handle")
    return commands.run("local_runtime.py", *task, *args, env=env, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--maximum-retry-attempts", "3"), "maximum retry attempts must be from 0 to 2"),
        (("--maximum-event-age", "59"), "maximum event age must be from 60 to 21600"),
        (("--concurrency", "0"), "--concurrency must be at least 1"),
        (("--on-failure", "my-queue"), "neither an SQS queue URL nor arn:aws:sqs"),
    ],
)
def test_serve_refuses_what_lambda_refuses(args, message):
    done = serve(*args)
    assert done.returncode == 2
    assert message in done.stderr


def test_serve_refuses_an_on_failure_queue_that_does_not_exist(moto_endpoint):
    env = commands.developer_environment(
        AWS_ENDPOINT_URL_SQS=moto_endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS
    )
    done = serve("--on-failure", "arn:aws:sqs:us-west-2:123456789012:missing", env=env)
    assert done.returncode == 2
    assert "the on-failure destination arn:aws:sqs:us-west-2:123456789012:missing" in done.stderr


def test_stopping_with_events_in_flight_queued_and_awaiting_a_retry_loses_none(tmp_path):
    """Shut down as local_runtime.py does (close, drain, the fleet's close, unfinished): the
    event whose attempt the fleet's close kills, the one still queued behind it and the one
    waiting for its retry are all reported, none given up on or dropped."""
    fleet = Fleet(FunctionSpec(FUNCTIONS, "fleet.handle", name="probe", timeout_s=30), limit=1)
    queue = EventQueue(fleet, AsyncConfig(maximum_retry_attempts=1), note=lambda _: None)
    try:
        retrying = queue.submit(failing(tmp_path))  # fails, its retry a minute away
        assert net.wait_until(lambda: queue.stats()["awaiting_retry"] == 1, 60, 0.01)
        hold = json.dumps({"action": "hold", "release": str(tmp_path / "never")}).encode()
        in_flight = queue.submit(hold)
        assert net.wait_until(lambda: queue.stats()["running"] == 1, 60, 0.01)
        queued = queue.submit(b'{"action": "ident"}')
        queue.close()
        assert not queue.drain(0.2)  # the held one does not end by itself
    finally:
        fleet.close()  # kills the attempt in flight
    left = dict(queue.unfinished())
    assert set(left) == {retrying, in_flight, queued}
    assert left[in_flight] == hold
    stats = queue.stats()
    assert (stats["given_up"], stats["dropped"], stats["succeeded"]) == (0, 0, 0)


def test_stopping_lets_the_attempts_in_flight_finish_first(tmp_path):
    fleet = Fleet(FunctionSpec(FUNCTIONS, "fleet.handle", name="probe", timeout_s=30), limit=1)
    queue = EventQueue(fleet, note=lambda _: None)
    release = tmp_path / "release"
    try:
        queue.submit(json.dumps({"action": "hold", "release": str(release)}).encode())
        assert net.wait_until(lambda: queue.stats()["running"] == 1, 60, 0.01)
        queue.close()
        release.touch()  # it ends while the queue drains
        assert queue.drain(30)
    finally:
        fleet.close()
    assert queue.unfinished() == []
    assert queue.stats()["succeeded"] == 1
