"""The built artifact in the local Lambda runtime against a real RabbitMQ, through invoke.sh."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from pigeon_tools import events
from pigeon_tools.lambda_local import function
from pigeon_tools.paths import ZIP
from support import commands
from support.in_process import ACCEPT_ID, SEED_KEYS


def settings(broker_url: str, queues: str) -> dict[str, str]:
    settings = function.environment(
        broker_url, queues, PIGEON_ENV="integration", PIGEON_PUBLISH_TIMEOUT="5"
    )
    return commands.developer_environment(**settings)


def invoke(event: dict, broker_url: str, queues: str) -> subprocess.CompletedProcess:
    env = settings(broker_url, queues)
    return commands.run("invoke.sh", "--local", input=json.dumps(event), env=env)


@pytest.fixture
def queues(broker):
    names = [f"it.{uuid.uuid4().hex[:8]}", f"it.{uuid.uuid4().hex[:8]}"]
    broker.declare(*names)  # declares and clears them
    return names


def test_seed_keys_one_event_each_then_one_multi_record_event(broker, pigeon_url, queues):
    config = ",".join(queues)
    for key in SEED_KEYS:
        done = invoke(events.event([key]), pigeon_url, config)
        assert done.returncode == 0, done.stderr
        assert "REPORT RequestId" in done.stderr
        json.loads(done.stdout)
    fresh = [events.new_crash_id("accept") for _ in range(3)]
    deferred = events.new_crash_id("defer")
    keys = [events.raw_crash_key(i) for i in [*fresh, deferred]] + SEED_KEYS[2:]
    done = invoke(events.event(keys), pigeon_url, config)
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
    done = invoke(events.event([SEED_KEYS[0]]), pigeon_url, ",".join(queues))
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "PublishError"
    assert ACCEPT_ID in error["errorMessage"]
    assert isinstance(error["stackTrace"], list)
    password = pigeon_url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr


def test_bad_configuration_fails_init_naming_the_variable(pigeon_url, queues):
    done = invoke(events.event([SEED_KEYS[0]]), pigeon_url, "150:" + queues[0])
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "ConfigError"
    assert error["errorMessage"].startswith("PIGEON_QUEUES")


def test_the_zip_itself_runs(broker, pigeon_url, queues):
    """dist/pigeon.zip, extracted as Lambda does, not build/."""
    done = commands.run(
        "local_runtime.py",
        "invoke",
        "--task-root",
        str(ZIP),
        input=json.dumps(events.event([SEED_KEYS[0]])),
        env=settings(pigeon_url, queues[0]),
    )
    assert done.returncode == 0, done.stderr
    assert broker.bodies(queues[0]) == [ACCEPT_ID]
