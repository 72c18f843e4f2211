"""Fault injection: the built zip in the local runtime, a RabbitMQ node that is stopped,
killed, blocked, partitioned; Secrets Manager (moto server) rotated. No crash id is lost."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter

import pytest

from pigeon_tools import moto_server
from pigeon_tools.events import event, new_crash_id, raw_crash_key
from support import evidence
from support.faults import accepted, survived
from support.local_pigeon import assert_lambda_error
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
    function = make_function(pigeon_url, queue)
    assert function.invoke(event([raw_crash_key(first[0])])).ok
    broker.ctl("close_all_connections", "fault test: function frozen")
    time.sleep(0.3)
    warm = function.invoke(event([raw_crash_key(second[0])]))
    assert warm.ok, warm.payload
    assert not warm.report.cold  # the same warm runtime reconnected
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
    error = assert_lambda_error(attempts[0])
    assert "block" in error["errorMessage"] or "timed out" in error["errorMessage"]
    # PIGEON_PUBLISH_TIMEOUT is 3 s; the function timeout is 30 s.
    assert attempts[0].report.duration_ms < 6000, attempts[0].report
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
    function = make_function("", queue, PIGEON_RABBITMQ_SECRET_ARN=arn, **aws)
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
        error = assert_lambda_error(first)
        assert "timed out" in error["errorMessage"] or "connect" in error["errorMessage"]
    # Connect and publish are bounded (2 s and 3 s): far below the 30 s function timeout.
    assert first.report.duration_ms < 7000, first.report
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
