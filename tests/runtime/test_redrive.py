"""scripts/redrive.py drains an on-failure queue in moto's SQS, holding Lambda destination
records as Lambda writes them, through the built zip in the stay-open local runtime (serving
pigeon-prod, the function `--env prod` names), to a real broker: exactly the failed events' ids
are published, an interrupted redrive says what it did and loses nothing, and with the broker
still down the queue stays as it was."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections import Counter

import pytest

from pigeon_tools import events, moto_server
from support import commands, evidence


def destination_record(event: dict, error: str = "PublishError") -> dict:
    """What Lambda sends to an on-failure destination after the last retry."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-30T12:00:00.000Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "arn:aws:lambda:us-west-2:123456789012:function:pigeon-prod:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": "1 message(s) not confirmed by RabbitMQ: could not connect: …",
            "errorType": error,
            "requestId": "",
            "stackTrace": [],
        },
    }


@pytest.fixture
def failed_events(moto_endpoint):
    """An on-failure queue with 12 failed events (46 accepted ids) and one stray message."""
    sqs = moto_server.client("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName=f"pigeon-on-failure-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    accepted: list[str] = []
    for n in range(12):
        ids = [events.new_crash_id("accept") for _ in range(n % 4 + 2)]
        accepted += ids
        event = events.for_crash_ids([*ids, events.new_crash_id("defer")])
        if n == 5:
            event = events.sns_event(event)  # any delivery path Pigeon takes
        error = "Sandbox.Timedout" if n == 7 else "PublishError"
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(destination_record(event, error)))
    sqs.send_message(QueueUrl=url, MessageBody="not a destination record")
    return sqs, url, accepted


@pytest.fixture
def invoke_api(broker, pigeon_url):
    settings = {"PIGEON_CONNECT_TIMEOUT": "2", "PIGEON_PUBLISH_TIMEOUT": "3"}
    args = ("--timeout", "30", "--function-name", "pigeon-prod")
    with commands.lambda_endpoint(broker, pigeon_url, "redrive", *args, **settings) as found:
        yield found


def redrive(endpoint: str, url: str, *args: str) -> subprocess.Popen:
    env = commands.developer_environment(
        AWS_ENDPOINT_URL_SQS=endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS
    )
    argv = commands.argv("redrive.py", "--env", "prod", "--queue-url", url, *args)
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(process: subprocess.Popen, status: int) -> str:
    out, err = process.communicate(timeout=180)
    evidence.seen("redrive", out, err)
    assert process.returncode == status, out + err
    return out


def waiting(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(v) for v in found.values())


def visible(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages"]
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"][names[0]])


def test_a_dry_run_lists_the_ids_by_error_and_invokes_nothing(failed_events, moto_endpoint):
    sqs, url, accepted = failed_events
    out = finish(redrive(moto_endpoint, url, "--dry-run"), 0)
    listed = " ".join(line for line in out.splitlines() if "would redrive" in line)
    assert all(crash_id in listed for crash_id in accepted)
    assert "would redrive, Sandbox.Timedout:" in out
    assert "would redrive, PublishError:" in out
    assert "skipped (not a destination record): 1" in out
    assert waiting(sqs, url) == 13  # all of it still there, visible again


def test_the_redrive_publishes_exactly_the_failed_events_ids(
    failed_events, moto_endpoint, broker, invoke_api
):
    sqs, url, accepted = failed_events
    endpoint, queue = invoke_api
    out = finish(redrive(moto_endpoint, url, "--endpoint-url", endpoint, "--max", "2"), 0)
    assert "redriven: 2" in out
    assert visible(sqs, url) == 11  # what it received past --max is not hidden for 300 s
    out = finish(redrive(moto_endpoint, url, "--endpoint-url", endpoint), 0)
    assert "redriven: 10" in out
    assert "failed: 0" in out
    assert Counter(broker.bodies(queue)) == Counter(accepted)
    assert waiting(sqs, url) == 1  # the stray message stays for a person to look at
    evidence.figures["ids_checked"] += len(accepted)


def test_an_interrupted_redrive_says_what_it_did_and_started_again_loses_nothing(
    failed_events, moto_endpoint, broker, invoke_api
):
    sqs, url, accepted = failed_events
    endpoint, queue = invoke_api
    first = redrive(moto_endpoint, url, "--endpoint-url", endpoint, "--rate", "4")
    deadline = time.monotonic() + 60
    while waiting(sqs, url) > 10:  # a few events redriven and deleted
        assert first.poll() is None, "the redrive ended before it was interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = first.communicate(timeout=180)
    evidence.seen("redrive", out, err)
    assert first.returncode == 130, out + err
    assert "Traceback" not in err
    redriven = int(re.search(r"^redrive: redriven: (\d+)$", out, re.M).group(1))
    assert 2 <= redriven < 12, out  # the summary of what it did before the stop
    assert "interrupted: what was not redriven is on the queue again" in err
    # Nothing it had received stays hidden for the visibility timeout: all of it is back.
    assert visible(sqs, url) == 13 - redriven
    finish(redrive(moto_endpoint, url, "--endpoint-url", endpoint), 0)
    on_queue = broker.bodies(queue)
    assert set(on_queue) == set(accepted)  # nothing lost; an event in flight may come twice
    evidence.figures["duplicates_after_retry"] += len(on_queue) - len(set(on_queue))
    assert waiting(sqs, url) == 1


def test_with_the_broker_still_down_the_queue_stays_as_it_was(
    failed_events, moto_endpoint, healthy_broker, invoke_api
):
    sqs, url, _ = failed_events
    endpoint, _ = invoke_api
    healthy_broker.stop_app()
    out = finish(redrive(moto_endpoint, url, "--endpoint-url", endpoint), 1)
    assert "redriven: 0" in out
    assert "failed: 12" in out
    assert "PublishError" in out
    assert waiting(sqs, url) == 13
    bodies = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert all("requestPayload" in m["Body"] or m["Body"].startswith("not") for m in bodies)


FAILS_BACK = """
import json, urllib.parse, urllib.request

def handler(event, context):
    with open({log!r}, "a") as log:
        log.write(json.dumps(event) + "\\n")
    if {queue_url!r}:  # as Lambda does with an event it gave up on: to the on-failure queue
        record = {{"requestPayload": event, "responsePayload": {{"errorType": "PublishError"}}}}
        body = urllib.parse.urlencode(
            {{"Action": "SendMessage", "MessageBody": json.dumps(record), "Version": "2012-11-05"}}
        ).encode()
        scope = "Credential=testing/20261130/us-west-2/sqs/aws4_request"  # moto routes by it
        signed = f"AWS4-HMAC-SHA256 {{scope}}, SignedHeaders=host, Signature=0"
        headers = {{"Authorization": signed}}
        request = urllib.request.Request({queue_url!r}, body, headers)
        urllib.request.urlopen(request, timeout=10).read()
    raise RuntimeError("still failing")
"""


@pytest.mark.parametrize("case", ["fails-back", "held-past-visibility"])
def test_a_redrive_ends_when_the_function_keeps_failing(
    failed_events, moto_endpoint, tmp_path, case
):
    """The function fails every event again, and either fails it back to the queue as a new
    message (what an asynchronous invoke does), or the run outlasts the messages' visibility
    timeout so they come back: each event is still invoked once and the run ends, exit 1."""
    sqs, url, _ = failed_events
    root, log = tmp_path / "task", tmp_path / "invoked.jsonl"
    root.mkdir()
    send_to = url if case == "fails-back" else ""
    (root / "failing.py").write_text(FAILS_BACK.format(log=str(log), queue_url=send_to))
    args = (
        "--task-root",
        str(root),
        "--handler",
        "failing.handler",
        "--function-name",
        "pigeon-prod",
    )
    env = commands.developer_environment(
        AWS_ENDPOINT_URL=moto_endpoint, **moto_server.FAKE_CREDENTIALS
    )
    hold = ["--visibility-timeout", "1"] if case == "held-past-visibility" else []
    with commands.invoke_api(*args, env=env) as invocations:
        endpoint = invocations.split("/2015-03-31/")[0]
        out = finish(redrive(moto_endpoint, url, "--endpoint-url", endpoint, *hold), 1)
    invoked = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(invoked) == 12, out  # each failed event once
    assert len({json.dumps(e, sort_keys=True) for e in invoked}) == 12
    assert "redriven: 0" in out
    assert "failed: 12" in out
    if case == "fails-back":
        assert "not sent again (an event this run already sent): 12" in out
        assert waiting(sqs, url) == 13 + 12  # the copies are Lambda's records: left for later
    else:
        assert waiting(sqs, url) == 13


def test_a_failed_message_back_past_its_visibility_does_not_end_the_run_early(moto_endpoint):
    """One message at a time: the first fails, and by the time the run is at the others it is
    visible again (a 1 s visibility timeout, 0.6 s per invoke). Receiving it again must not end
    the run with the good ones still on the queue."""
    import time

    from pigeon_tools.operate.invoker import Answer
    from pigeon_tools.operate.redrive import Redrive

    sqs = moto_server.client("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName=f"pigeon-on-failure-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    bad = events.new_crash_id("accept")
    good = [events.new_crash_id("accept") for _ in range(5)]
    for crash_id in [bad, *good]:
        record = destination_record(events.for_crash_ids([crash_id]))
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    class Slow:
        def invoke(self, event: dict) -> Answer:
            time.sleep(0.6)
            failing = bad in json.dumps(event)
            return Answer(not failing, {"errorType": "PublishError"} if failing else {})

    done = Redrive(sqs, url, Slow(), visibility_timeout=1).run()  # type: ignore[arg-type]
    assert len(done.redriven) == 5
    assert len(done.failed) == 1
    assert waiting(sqs, url) == 1  # the failed one, released for the next run
