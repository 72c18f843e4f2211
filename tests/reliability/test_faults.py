"""Fault injection: the built zip in the local runtime, a RabbitMQ node that is stopped,
killed, blocked, partitioned; Secrets Manager (moto server) rotated or hung; SQS (moto server)
redelivering what the function failed. No crash id is lost, and no wait outlives the
invocation: a failure is Pigeon's PublishError, never Lambda's timeout."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter

import pytest

from pigeon.parsers import parse_queues
from pigeon.routing import takes
from pigeon_tools import moto_server, net
from pigeon_tools.events import event, new_crash_id, raw_crash_key
from support import evidence
from support.broker import CLOSED_WITHIN
from support.faults import accepted, survived
from support.local_pigeon import assert_lambda_error
from support.sqs_mapping import EventSourceMapping
from support.tcp_proxy import TcpProxy


def test_broker_down_at_cold_start_then_back(healthy_broker, pigeon_url, queue, make_function):
    broker = healthy_broker
    ids = accepted(3)
    function = make_function(pigeon_url, queue)
    broker.stop_app()
    attempts = function.invoke_with_retries(
        event([raw_crash_key(i) for i in ids]), between=lambda n: broker.start_app()
    )
    error = assert_lambda_error(attempts[0])
    assert "could not connect" in error["errorMessage"]
    assert all(i in error["errorMessage"] for i in ids)
    assert attempts[-1].ok
    on_queue = broker.bodies(queue)
    assert sorted(on_queue) == sorted(ids)
    survived("broker down at cold start", ids, on_queue)


def test_broker_killed_in_the_middle_of_a_large_event(
    healthy_broker, pigeon_url, queue, make_function
):
    broker = healthy_broker
    ids = accepted(2000)
    proxy = TcpProxy(broker.port)
    # Kill the node once the function has sent about a third of the messages.
    killed = threading.Event()

    def kill() -> None:
        broker.kill()
        proxy.mode = "forward"  # the dead node's closed socket reaches the function
        killed.set()

    def freeze_then_kill() -> None:
        proxy.mode = "blackhole"  # no confirm gets through once the threshold is passed
        threading.Thread(target=kill).start()

    proxy.on_upstream_bytes = (60_000, freeze_then_kill)
    url = pigeon_url.replace(f":{broker.port}/", f":{proxy.port}/")
    function = make_function(url, queue)
    try:
        first = function.invoke(event([raw_crash_key(i) for i in ids]))
        assert killed.wait(10)
        broker.restart()
        attempts = [first]
        if not first.ok:
            attempts += function.invoke_with_retries(event([raw_crash_key(i) for i in ids]))
    finally:
        proxy.close()
    assert not first.ok, "the kill came too late to test anything"
    assert_lambda_error(first)
    assert attempts[-1].ok
    on_queue = broker.bodies(queue)
    evidence.figures["duplicates_after_retry"] += len(on_queue) - len(set(on_queue))
    survived("broker killed mid-event", ids, on_queue)


def test_broker_closes_connections_between_warm_invocations(
    broker, pigeon_url, queue, make_function
):
    first, second = accepted(1), accepted(1)
    proxy = TcpProxy(broker.port)
    try:
        function = make_function(proxy.url_for(pigeon_url), queue)
        assert function.invoke(event([raw_crash_key(first[0])])).ok
        broker.ctl("close_all_connections", "fault test: function frozen")
        assert net.wait_until(lambda: proxy.open == 0, CLOSED_WITHIN, 0.01)  # the broker closed it
        warm = function.invoke(event([raw_crash_key(second[0])]))
        connections = len(proxy.client_ports)
    finally:
        proxy.close()
    assert warm.ok, warm.payload
    assert not warm.report.cold  # the same warm runtime reconnected
    assert "reconnecting once to re-send 1 unconfirmed message(s)" in warm.logs
    assert connections == 2
    on_queue = broker.bodies(queue)
    assert on_queue == first + second
    survived("connections closed between invocations", first + second, on_queue)


def test_memory_alarm_fails_within_the_bound(healthy_broker, pigeon_url, queue, make_function):
    broker = healthy_broker
    ids = accepted(5)
    function = make_function(pigeon_url, queue, timeout=30)
    broker.ctl("set_vm_memory_high_watermark", "0.000001")

    def clear_alarm(_: int) -> None:
        broker.ctl("set_vm_memory_high_watermark", "0.4")

    attempts = function.invoke_with_retries(event([raw_crash_key(i) for i in ids]), clear_alarm)
    # PIGEON_PUBLISH_TIMEOUT (3 s) ended it, as Pigeon's PublishError, not Lambda's timeout (30 s).
    error = assert_lambda_error(attempts[0])
    assert "block" in error["errorMessage"] or "timed out" in error["errorMessage"]
    assert attempts[-1].ok
    on_queue = broker.bodies(queue)
    survived("memory alarm", ids, on_queue)


def test_deleted_queue_is_unroutable_not_lost(broker, pigeon_url, queue, make_function):
    ids = accepted(2)
    function = make_function(pigeon_url, queue)
    broker.delete(queue)
    attempts = function.invoke_with_retries(
        event([raw_crash_key(i) for i in ids]), between=lambda n: broker.declare(queue)
    )
    error = assert_lambda_error(attempts[0])
    assert "unroutable" in error["errorMessage"]
    assert attempts[-1].ok
    on_queue = broker.bodies(queue)
    assert sorted(on_queue) == sorted(ids)
    survived("queue deleted", ids, on_queue)


def test_wrong_credentials_then_rotation_without_restart(
    broker, pigeon_url, queue, make_function, moto_endpoint
):
    user, good = "rotated-" + uuid.uuid4().hex[:6], evidence.secret("pw-" + uuid.uuid4().hex)
    wrong = evidence.secret("pw-" + uuid.uuid4().hex)
    broker.ctl("add_user", user, good)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    aws = moto_server.function_environment(moto_endpoint)
    client = moto_server.client("secretsmanager", moto_endpoint)

    def value(password: str) -> str:
        return evidence.secret(
            json.dumps(
                {
                    "host": broker.host,
                    "port": broker.port,
                    "tls": False,
                    "username": user,
                    "password": password,
                }
            )
        )

    arn = client.create_secret(Name=f"pigeon/{user}", SecretString=value(wrong))["ARN"]
    # An empty value drops the variable: the secret ARN instead of a URL.
    function = make_function(
        "", queue, PIGEON_RABBITMQ_SECRET_ARN=arn, PIGEON_PUBLISH_TIMEOUT="8", **aws
    )
    ids = accepted(2)

    def rotate(_: int) -> None:
        client.put_secret_value(SecretId=arn, SecretString=value(good))

    attempts = function.invoke_with_retries(event([raw_crash_key(i) for i in ids]), rotate)
    error = assert_lambda_error(attempts[0])
    assert "login refused" in error["errorMessage"]
    assert attempts[-1].ok
    assert not attempts[-1].report.cold  # no restart
    on_queue = broker.bodies(queue)
    assert sorted(on_queue) == sorted(ids)
    survived("wrong credentials, then rotation", ids, on_queue)


@pytest.mark.parametrize("fault", ["partition at connect", "partition after connect", "slow"])
def test_slow_or_partitioned_network(broker, pigeon_url, queue, make_function, fault):
    proxy = TcpProxy(broker.port)
    url = pigeon_url.replace(f":{broker.port}/", f":{proxy.port}/")
    function = make_function(url, queue, timeout=30)
    ids = accepted(20)
    try:
        if fault == "partition after connect":
            assert function.invoke(event([raw_crash_key(new_crash_id())])).ok  # connected
            broker.drain(queue)
        proxy.mode = {"slow": "delay"}.get(fault, "blackhole")
        proxy.delay = 0.05
        first = function.invoke(event([raw_crash_key(i) for i in ids]))
        proxy.mode = "forward"
        attempts = [first] + (
            [] if first.ok else function.invoke_with_retries(event([raw_crash_key(i) for i in ids]))
        )
    finally:
        proxy.close()
    if fault == "slow":
        assert first.ok, first.payload  # slow but within the bound: no error
    else:
        # Connect and publish are bounded (2 s and 3 s): Pigeon's error, not Lambda's timeout.
        error = assert_lambda_error(first)
        assert "timed out" in error["errorMessage"] or "connect" in error["errorMessage"]
    assert attempts[-1].ok
    on_queue = broker.bodies(queue)
    survived(f"network: {fault}", ids, on_queue)


def test_a_function_timeout_kills_the_runtime_and_the_retry_publishes(
    broker, pigeon_url, queue, make_function
):
    """Pigeon ends its own waits before the timeout, so the stall is the host's: the runtime
    process is frozen (SIGSTOP) mid-invocation until Lambda's timeout kills it."""
    ids = accepted(3)
    function = make_function(pigeon_url, queue, timeout=3)
    box = function.sandbox

    def freeze_when_running() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            api = box.api
            if api is not None and api.current is not None:
                os.kill(box.process.pid, signal.SIGSTOP)
                return
            time.sleep(0.001)

    threading.Thread(target=freeze_when_running, daemon=True).start()
    first = function.invoke(event([raw_crash_key(i) for i in ids]))
    error = assert_lambda_error(first, "Sandbox.Timedout")
    assert "Task timed out after 3.00 seconds" in error["errorMessage"]
    assert not box.warm
    retry = function.invoke(event([raw_crash_key(i) for i in ids]))
    assert retry.ok
    assert retry.report.cold  # a cold start after the timeout
    on_queue = broker.bodies(queue)
    assert Counter(on_queue).keys() == set(ids)
    survived("function timeout", ids, on_queue)


def test_a_hung_secrets_manager_is_bounded_by_the_invocations_deadline(
    broker, pigeon_url, queue, make_function
):
    """Secrets Manager accepts the connection and never answers (a VPC endpoint gone wrong).
    Reading the secret is bounded by the one deadline (4 s timeout: 1 s before it), so the
    invocation fails with Pigeon's error naming the secret, not Lambda's timeout."""
    hung = TcpProxy(broker.port)  # accepts, and passes nothing either way
    hung.mode = "blackhole"
    try:
        endpoint = f"http://127.0.0.1:{hung.port}"
        arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon/hung-AbCdEf"
        function = make_function(
            "",
            queue,
            timeout=4,
            PIGEON_RABBITMQ_SECRET_ARN=arn,
            PIGEON_PUBLISH_TIMEOUT="10",
            **moto_server.function_environment(endpoint),
        )
        ids = accepted(2)
        outcome = function.invoke(event([raw_crash_key(i) for i in ids]))
    finally:
        hung.close()
    error = assert_lambda_error(outcome)  # PublishError: Sandbox.Timedout would fail here
    said = "could not read the broker secret: PIGEON_RABBITMQ_SECRET_ARN: no answer (timed out)"
    assert said in error["errorMessage"]
    assert all(i in error["errorMessage"] for i in ids)
    assert function.sandbox.warm  # Pigeon ended it: the environment lives on


def test_throttling_gives_a_crash_the_same_answer_on_every_try_and_in_every_container(
    broker, pigeon_url, make_function
):
    """30% of the crash ids to one queue: the same 30% from a retry, and from another
    execution environment (a new process, no state shared), as computed here."""
    taken_queue, everything = f"q30.{uuid.uuid4().hex[:6]}", f"all.{uuid.uuid4().hex[:6]}"
    broker.declare(taken_queue, everything)
    queues = f"{everything},30:{taken_queue}"
    ids = accepted(200)
    notification = event([raw_crash_key(i) for i in ids + ids[:20]])  # 20 crashes twice
    one, other = make_function(pigeon_url, queues), make_function(pigeon_url, queues)
    answers = []
    for function in (one, one, other):  # the event, Lambda's retry, another container
        outcome = function.invoke(notification)
        assert outcome.ok, outcome.payload
        answers.append(sorted(outcome.json()["published"].get(taken_queue, [])))
    route = parse_queues(queues)[1]
    expected = sorted(i for i in ids if takes(route, i))
    assert answers == [expected] * 3
    assert 30 <= len(expected) <= 90  # 60 expected; a wrong throttle would not land here
    assert sorted(broker.bodies(taken_queue)) == sorted(expected * 3)
    assert sorted(broker.bodies(everything)) == sorted(ids * 3)


def test_sqs_messages_pigeon_cannot_read_reach_the_dead_letter_queue(
    broker, pigeon_url, queue, make_function, moto_endpoint
):
    """SQS (moto's server) with a redrive policy, read as Lambda's event source mapping does
    with ReportBatchItemFailures: what the function reports as failed stays and is received
    again, and after maxReceiveCount receives SQS moves it to the dead-letter queue. Readable
    messages publish and are deleted."""
    mapping = EventSourceMapping.create(moto_endpoint, max_receive_count=2)
    function = make_function(pigeon_url, queue, **moto_server.function_environment(moto_endpoint))
    good = accepted(3)
    for crash_id in good:
        mapping.send(json.dumps(event([raw_crash_key(crash_id)])))
    unreadable = ["not json", json.dumps({"Records": "x"}), json.dumps({"detail": {}})]
    for body in unreadable:
        mapping.send(body)
    assert mapping.drain(function.invoke)  # the delivery queue emptied
    assert sorted(mapping.dead_letters()) == sorted(unreadable)
    on_queue = broker.bodies(queue)
    survived("unreadable SQS messages to the dead-letter queue", good, on_queue)
