"""The stay-open local Invoke API as Lambda scales a function: environments on demand up to
--concurrency, 429 past it, most-recent-first reuse, retirement when idle; Event invocations
through a queue with Lambda's retries and its on-failure destination (moto's SQS), end to end
with Pigeon's zip and scripts/redrive.py."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pigeon_tools import events, moto_server, net
from pigeon_tools.lambda_local import function
from pigeon_tools.paths import ZIP
from support import commands, evidence

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"
ARN = "arn:aws:lambda:us-west-2:123456789012:function:probe"

# Lambda's example invocation record (docs.aws.amazon.com/lambda/latest/dg/
# invocation-async-retain-records.html): an event that failed three processing attempts.
DOCUMENTED_RECORD = {
    "version": "1.0",
    "timestamp": "2019-11-14T18:16:05.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {"ORDER_IDS": ["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]},
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "responsePayload": {"errorMessage": "RequestId: e4b46cbf Process exited before completing"},
}


def shape(value: Any) -> Any:
    """Keys and value types, recursively; the payloads are the function's own."""
    if isinstance(value, dict):
        return {k: "payload" if k.endswith("Payload") else shape(v) for k, v in value.items()}
    return type(value).__name__


class Api:
    def __init__(self, invocations: str) -> None:
        import boto3
        from botocore.config import Config

        self.base = invocations.split("/2015-03-31/")[0]
        self.client = boto3.client(
            "lambda",
            endpoint_url=self.base,
            region_name="us-west-2",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),  # see 429s
        )

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/local/stats", timeout=10) as response:
            return dict(json.loads(response.read()))

    def invoke(self, event: dict[str, Any], name: str = "probe") -> dict[str, Any]:
        response = self.client.invoke(FunctionName=name, Payload=json.dumps(event))
        assert "FunctionError" not in response, response["Payload"].read()
        return dict(json.loads(response["Payload"].read()))

    def invoke_event(self, event: dict[str, Any], name: str = "probe") -> str:
        response = self.client.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps(event)
        )
        assert response["StatusCode"] == 202
        return str(response["ResponseMetadata"]["RequestId"])

    def wait(self, ready: Any, timeout: float = 60) -> dict[str, Any]:
        """The stats once ready(stats) holds."""
        found: dict[str, Any] = {}

        def check() -> bool:
            found.update(self.stats())
            return bool(ready(found))

        assert net.wait_until(check, timeout, 0.02), found
        return found


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[Api]:
    task = ("--task-root", str(FUNCTIONS), "--handler", "fleet.handle", "--function-name", "probe")
    with commands.invoke_api(*task, *args, env=env) as invocations:
        yield Api(invocations)


def hold(api: Api, release: Path, into: list[dict[str, Any]]) -> threading.Thread:
    """A RequestResponse call that keeps an environment busy until `release` exists."""

    def call() -> None:
        into.append(api.invoke({"action": "hold", "release": str(release)}))

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_environments_start_on_demand_up_to_the_limit_then_429(tmp_path):
    release, held = tmp_path / "release", list[dict[str, Any]]()
    with serve("--concurrency", "3") as api:
        assert api.stats()["environments"] == []  # nothing runs before the first request
        first = api.invoke({"action": "ident"})
        assert api.stats()["cold_starts"] == 1
        threads = [hold(api, release, held) for _ in range(3)]
        api.wait(lambda s: s["busy"] == 3 and all(e["pid"] for e in s["environments"]))
        with pytest.raises(api.client.exceptions.TooManyRequestsException) as throttled:
            api.invoke({"action": "ident"})
        assert throttled.value.response["Error"]["Message"] == "Rate Exceeded."
        queued = api.invoke_event({"action": "ident"})  # an Event call is queued, not refused
        with pytest.raises(api.client.exceptions.InvalidRequestContentException):
            api.client.invoke(FunctionName="probe", InvocationType="Event", Payload=b"{oops")
        too_large = json.dumps({"pad": "x" * 1024 * 1024})
        with pytest.raises(api.client.exceptions.RequestTooLargeException):
            api.client.invoke(FunctionName="probe", InvocationType="Event", Payload=too_large)
        release.touch()
        for thread in threads:
            thread.join(60)
        done = api.wait(lambda s: s["async"]["succeeded"] == 1)
    assert len({answer["pid"] for answer in held}) == 3  # one environment each
    assert first["pid"] in {answer["pid"] for answer in held}  # the first one was reused
    assert done["cold_starts"] == 3  # two more started, and no more after the limit
    assert done["throttles"] == 1
    assert len(done["environments"]) == 3
    assert re.fullmatch(r"[0-9a-f-]{36}", queued)


def test_environments_are_reused_most_recent_first(tmp_path):
    with serve("--concurrency", "3") as api:
        held: list[dict[str, Any]] = []
        releases = [tmp_path / f"release-{n}" for n in range(3)]
        threads = [hold(api, path, held) for path in releases]
        api.wait(lambda s: s["busy"] == 3)
        for path, thread in zip(releases, threads, strict=True):  # back one after the other
            path.touch()
            thread.join(60)
        order = [answer["pid"] for answer in held]
        assert len(set(order)) == 3
        assert api.invoke({"action": "ident"})["pid"] == order[-1]  # the last one back
        assert api.invoke({"action": "ident"})["pid"] == order[-1]  # and again
        busy = tmp_path / "busy"
        keeping = hold(api, busy, [])
        api.wait(lambda s: s["busy"] == 1)
        assert api.invoke({"action": "ident"})["pid"] == order[-2]  # the next most recent
        busy.touch()
        keeping.join(60)
        assert api.stats()["cold_starts"] == 3


def test_an_idle_environment_is_retired_after_the_idle_timeout(tmp_path):
    with serve("--concurrency", "2", "--idle-timeout", "2") as api:
        held: list[dict[str, Any]] = []
        releases = [tmp_path / "a", tmp_path / "b"]
        threads = [hold(api, path, held) for path in releases]
        api.wait(lambda s: s["busy"] == 2)
        for path, thread in zip(releases, threads, strict=True):
            path.touch()
            thread.join(60)
        older, recent = held[0]["pid"], held[1]["pid"]

        def older_retired() -> bool:  # the recent one is kept busy, the older one idles
            assert api.invoke({"action": "ident"})["pid"] == recent
            return api.stats()["retired"] == 1

        assert net.wait_until(older_retired, 60, 0.1)
        pids = [e["pid"] for e in api.stats()["environments"]]
        assert pids == [recent]
        with pytest.raises(ProcessLookupError):
            os.kill(older, 0)  # killed (frozen as it was) and reaped
        api.wait(lambda s: s["retired"] == 2 and s["environments"] == [])
        again = api.invoke({"action": "ident"})
        assert again["pid"] not in (older, recent)
        assert api.stats()["cold_starts"] == 3  # a new environment, a cold start


def aws_environment(endpoint: str, **more: str) -> dict[str, str]:
    return commands.developer_environment(
        AWS_ENDPOINT_URL_SQS=endpoint,
        AWS_REGION="us-west-2",
        **moto_server.FAKE_CREDENTIALS,
        **more,
    )


def on_failure_queue(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"on-failure-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def records(sqs: Any, url: str, n: int) -> list[dict[str, Any]]:
    """The queue's messages once there are n, left on the queue (visible)."""
    names = ["ApproximateNumberOfMessages"]

    def arrived() -> bool:
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return int(found["ApproximateNumberOfMessages"]) >= n

    assert net.wait_until(arrived, 60, 0.05)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(message["Body"]) for message in got["Messages"]]


def attempts(log: Path) -> list[tuple[str, float]]:
    lines = log.read_text().split("\n") if log.exists() else []
    return [(line.split()[0], float(line.split()[1])) for line in lines if line]


def test_event_retries_twice_with_back_off_then_lambdas_record_on_the_failure_queue(
    moto_endpoint, tmp_path
):
    sqs = moto_server.client("sqs", moto_endpoint)
    url = on_failure_queue(sqs)
    failing, flaky = tmp_path / "failing.log", tmp_path / "flaky.log"
    scale = 0.002  # Lambda's 60 s and 120 s back-off as 0.12 s and 0.24 s
    args = ("--on-failure", url, "--async-time-scale", str(scale), "--concurrency", "2")
    with serve(*args, env=aws_environment(moto_endpoint)) as api:
        event = {"action": "attempt", "log": str(failing), "fail": 99}
        request_id = api.invoke_event(event)
        recovered = api.invoke_event({"action": "attempt", "log": str(flaky), "fail": 1})
        (record,) = records(sqs, url, 1)
        done = api.wait(lambda s: s["async"]["pending"] == 0)
    assert shape(record) == shape(DOCUMENTED_RECORD)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"{ARN}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == event
    assert record["responseContext"] == DOCUMENTED_RECORD["responseContext"]
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "attempt 3 failed, as asked"
    tried = attempts(failing)
    assert [rid for rid, _ in tried] == [request_id] * 3  # one request id for every attempt
    first, second, third = (at for _, at in tried)
    assert second - first >= 60 * scale  # a minute after the first attempt
    assert third - second >= 120 * scale  # two minutes after the second
    assert [rid for rid, _ in attempts(flaky)] == [recovered] * 2  # failed once, then done
    assert (done["async"]["succeeded"], done["async"]["sent_to_destination"]) == (1, 1)
    assert done["async"]["retries"] == 3


def test_an_s3_event_that_fails_ends_on_the_failure_queue_and_redrive_publishes_it(
    broker, pigeon_url, moto_endpoint
):
    """S3 event -> async invoke -> function error -> retries -> on-failure queue -> redrive."""
    sqs = moto_server.client("sqs", moto_endpoint)
    url = on_failure_queue(sqs)
    queue = f"async.{uuid.uuid4().hex[:8]}"  # not declared yet: every publish is unroutable
    settings = function.environment(
        pigeon_url, queue, PIGEON_CONNECT_TIMEOUT="2", PIGEON_PUBLISH_TIMEOUT="3"
    )
    env = aws_environment(moto_endpoint, **settings)
    ids = [events.new_crash_id("accept") for _ in range(3)]
    event = events.for_crash_ids([*ids, events.new_crash_id("defer")])
    args = ("--task-root", str(ZIP), "--on-failure", url, "--async-time-scale", "0.001")
    with commands.invoke_api(*args, env=env) as invocations:
        api = Api(invocations)
        request_id = api.invoke_event(event, "pigeon")  # as S3 invokes: asynchronously
        (record,) = records(sqs, url, 1)
        assert record["requestContext"]["requestId"] == request_id
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"] == event
        assert record["responsePayload"]["errorType"] == "PublishError"
        broker.declare(queue)  # the operator fixes what failed, then redrives
        done = commands.run(
            "redrive.py",
            "--function",
            "pigeon",
            "--queue-url",
            url,
            "--endpoint-url",
            api.base,
            env=env,
            timeout=180,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "redriven: 1" in done.stdout
    assert sorted(broker.bodies(queue)) == sorted(ids)
    waiting = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert waiting["ApproximateNumberOfMessages"] == "0"
    evidence.figures["ids_checked"] += len(ids)


def test_frozen_environments_reconnect_without_leaking_connections(broker, tmp_path):
    """Pigeon's environments, frozen between invocations, find their connections closed by the
    broker and open new ones: never more connections than environments."""
    user, password = f"fleet-{uuid.uuid4().hex[:6]}", evidence.secret(uuid.uuid4().hex)
    broker.ctl("add_user", user, password)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    queue = f"fleet.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    settings = function.environment(broker.url_with(user, password), queue, PIGEON_ENV="fleet")
    env = commands.developer_environment(**settings)

    def connections() -> int:
        return broker.ctl("list_connections", "user").split().count(user)

    args = ("--task-root", str(ZIP), "--concurrency", "2")
    sent: list[str] = []
    with commands.invoke_api(*args, env=env) as invocations:
        api = Api(invocations)

        def burst() -> None:
            ids = [events.new_crash_id("accept") for _ in range(20)]
            sent.extend(ids)
            for crash_id in ids:
                api.invoke_event(events.for_crash_ids([crash_id]), "pigeon")

        burst()
        api.wait(lambda s: s["async"]["pending"] == 0)
        frozen = api.wait(lambda s: all(e["frozen"] for e in s["environments"]))
        assert 1 <= len(frozen["environments"]) <= 2
        assert connections() == len(frozen["environments"])
        broker.ctl("close_all_connections", "test: closed while the function is frozen")
        burst()
        done = api.wait(lambda s: s["async"]["pending"] == 0)
        assert net.wait_until(lambda: connections() == len(done["environments"]), 30)
    assert done["cold_starts"] == len(done["environments"])  # reconnected, not restarted
    assert done["async"]["succeeded"] == len(sent)
    assert sorted(broker.bodies(queue)) == sorted(sent)
    evidence.figures["ids_checked"] += len(sent)


def test_a_frozen_environment_misses_its_heartbeats_and_the_next_invoke_reconnects(broker):
    """As in Lambda: the connection a frozen environment holds sends no heartbeat, the broker
    closes it (missed heartbeats; nobody else closes it here), and the next invoke, thawed, not
    cold, opens another and publishes."""
    from pigeon_tools.lambda_local.sandbox import Sandbox
    from pigeon_tools.lambda_local.spec import FunctionSpec
    from pigeon_tools.paths import ROOT

    user, password = f"beat-{uuid.uuid4().hex[:6]}", evidence.secret(uuid.uuid4().hex)
    broker.ctl("add_user", user, password)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    queue = f"beat.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    url = broker.url_with(user, password)
    # 5 s: the broker gives up after two missed (~10 s); long enough for rabbitmqctl to see it.
    url += ("&" if "?" in url else "?") + "heartbeat=5"
    settings = function.environment(url, queue, PIGEON_ENV="beat")

    def connections() -> int:
        return broker.ctl("list_connections", "user").split().count(user)

    ids = [events.new_crash_id("accept") for _ in range(2)]
    spec = FunctionSpec(ROOT / "build", function.HANDLER, name="pigeon", timeout_s=30,
                        environment=settings)  # fmt: skip
    with Sandbox(spec) as box:
        first = box.invoke(json.dumps(events.for_crash_ids([ids[0]])).encode())
        assert first.ok, first.payload
        assert net.wait_until(lambda: box.frozen, 10, 0.005)
        assert connections() == 1
        assert box.process is not None
        pid = box.process.pid
        assert net.wait_until(lambda: connections() == 0, 60, 0.2)  # closed by the broker
        assert box.frozen  # frozen all along: the function closed nothing
        assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
        second = box.invoke(json.dumps(events.for_crash_ids([ids[1]])).encode())
        assert second.ok, second.payload
        assert not second.report.cold
        assert connections() == 1  # reopened by this invoke
    assert sorted(broker.bodies(queue)) == sorted(ids)
    evidence.figures["ids_checked"] += len(ids)


def test_stopping_serve_with_events_in_flight_and_queued_names_every_one(tmp_path):
    """SIGTERM to `serve` while one Event invocation runs (and never ends by itself) and
    another waits: the stop drains, then retires the environment, and names both events. With
    no retries, the attempt the stop cuts short would otherwise be its last: dropped."""
    import signal
    import subprocess

    log_path = tmp_path / "serve.log"
    task = ("--task-root", str(FUNCTIONS), "--handler", "fleet.handle", "--function-name", "probe")
    options = ("--concurrency", "1", "--maximum-retry-attempts", "0")
    with log_path.open("w+") as log:
        server = subprocess.Popen(
            commands.argv("local_runtime.py", "serve", "--port", "0", *task, *options), stderr=log
        )
        try:
            found = None
            for _ in range(600):
                found = re.search(r"(http://127\.0\.0\.1:\d+\S+/invocations)", log_path.read_text())
                if found or server.poll() is not None:
                    break
                time.sleep(0.1)
            assert found, log_path.read_text()
            api = Api(found.group(1))
            held = api.invoke_event({"action": "hold", "release": str(tmp_path / "never")})
            api.wait(lambda s: s["async"]["running"] == 1)
            waiting = api.invoke_event({"action": "ident"})
            api.wait(lambda s: s["async"]["queued"] == 1)
            server.send_signal(signal.SIGTERM)
            assert server.wait(60) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    text = log_path.read_text()
    assert "stopped with 2 Event invocation(s) not done" in text, text
    assert f"not done {held}: " in text
    assert f"not done {waiting}: " in text
    assert "dropped" not in text
