"""The built artifact in the local Lambda runtime against a real RabbitMQ, through invoke.sh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import evidence
import generate_event
from pigeon_helpers import ACCEPT_ID, SEED_KEYS

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def invoke(event: dict, broker_url: str, queues: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PIGEON_RABBITMQ_URL": broker_url,
        "PIGEON_QUEUES": queues,
        "PIGEON_ENV": "integration",
        "PIGEON_PUBLISH_TIMEOUT": "5",
    }
    done = subprocess.run(
        [str(ROOT / "scripts" / "invoke.sh"), "--local", *args],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    evidence.seen("invoke.sh", done.stdout, done.stderr)
    return done


@pytest.fixture
def queues(broker):
    names = [f"it.{uuid.uuid4().hex[:8]}", f"it.{uuid.uuid4().hex[:8]}"]
    broker.declare(*names)  # declares and clears them
    return names


def test_seed_keys_one_event_each_then_one_multi_record_event(broker, pigeon_url, queues):
    config = ",".join(queues)
    for key in SEED_KEYS:
        done = invoke(generate_event.event([key]), pigeon_url, config)
        assert done.returncode == 0, done.stderr
        assert "REPORT RequestId" in done.stderr
        json.loads(done.stdout)
    fresh = [generate_event.new_crash_id("accept") for _ in range(3)]
    deferred = generate_event.new_crash_id("defer")
    keys = [generate_event.raw_crash_key(i) for i in [*fresh, deferred]] + SEED_KEYS[2:]
    done = invoke(generate_event.event(keys), pigeon_url, config)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["records"], result["accepted"], result["deferred"], result["ignored"]) == (
        7,
        3,
        1,
        3,
    )
    for queue in queues:
        assert broker.bodies(queue) == [ACCEPT_ID, *fresh]


def test_broker_down_exits_1_with_lambdas_error_json(healthy_broker, pigeon_url, queues):
    broker = healthy_broker
    broker.stop_app()
    done = invoke(generate_event.event([SEED_KEYS[0]]), pigeon_url, ",".join(queues))
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "PublishError"
    assert ACCEPT_ID in error["errorMessage"]
    assert isinstance(error["stackTrace"], list)
    password = pigeon_url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr


def test_bad_configuration_fails_init_naming_the_variable(pigeon_url, queues):
    done = invoke(generate_event.event([SEED_KEYS[0]]), pigeon_url, "150:" + queues[0])
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "ConfigError"
    assert error["errorMessage"].startswith("PIGEON_QUEUES")


def test_the_zip_itself_runs(broker, pigeon_url, queues):
    """dist/pigeon.zip, extracted as Lambda does, not build/."""
    env = {
        **os.environ,
        "PIGEON_RABBITMQ_URL": pigeon_url,
        "PIGEON_QUEUES": queues[0],
        "PIGEON_ENV": "integration",
    }
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "local_runtime.py"),
            "invoke",
            "--task-root",
            str(ROOT / "dist" / "pigeon.zip"),
            "--env-file",
            str(ROOT / "pigeon.env"),
        ],
        input=json.dumps(generate_event.event([SEED_KEYS[0]])),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert broker.bodies(queues[0]) == [ACCEPT_ID]
