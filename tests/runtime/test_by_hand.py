"""The developer's commands run by hand: `invoke.sh` refuses a terminal and an empty event with
a usage line, names the broker that does not answer (and `make broker`), and follows the port
`make broker` / `make run` chose; `make smoke` leaves the broker it did not start alone."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

from pigeon_tools import events, net
from pigeon_tools.paths import ROOT
from support import commands, evidence


def test_on_a_terminal_invoke_does_not_wait_for_an_event_it_says_how_to_give_one():
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            commands.argv("invoke.sh", "--local"),
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
            env=commands.developer_environment(),
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2, done.stderr
    assert "invoke.sh: error: no event on stdin (it is a terminal)" in done.stderr
    assert "usage: scripts/generate_event.py --new-crash-id accept | scripts/invoke.sh" in (
        done.stderr
    )
    assert "START RequestId" not in done.stderr  # nothing was invoked


@pytest.mark.parametrize("event", ["", " \n\t\n"])
def test_an_empty_event_is_refused_not_invoked_as_an_empty_object(event):
    done = commands.run("invoke.sh", "--local", input=event, env=commands.developer_environment())
    assert done.returncode == 2, done.stderr
    assert "invoke.sh: error: the event on stdin is empty; nothing invoked" in done.stderr
    assert "usage: " in done.stderr
    assert "START RequestId" not in done.stderr


def test_with_no_broker_the_invoke_names_where_it_looked_and_how_to_start_one(queue):
    port = net.free_port()
    env = commands.developer_environment(
        PIGEON_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{port}/%2F",
        PIGEON_QUEUES=queue,
        PIGEON_PUBLISH_TIMEOUT="3",
    )
    event = json.dumps(events.for_crash_ids([events.new_crash_id("accept")]))
    done = commands.run("invoke.sh", "--local", input=event, env=env)
    assert done.returncode == 1  # the function's own PublishError, as in Lambda
    assert json.loads(done.stdout)["errorType"] == "PublishError"
    assert (
        f"rabbitmq: warning: no RabbitMQ answers on 127.0.0.1:{port}; start one with "
        f"`PIGEONTOOLS_RABBITMQ_PORT={port} make broker`, or set PIGEON_RABBITMQ_URL"
    ) in done.stderr
    queues = commands.run("consume_queue.py", queue, env=env)
    assert queues.returncode == 1
    assert queues.stderr.strip() == (
        f"consume_queue: error: no RabbitMQ answers on 127.0.0.1:{port}; start one with "
        f"`PIGEONTOOLS_RABBITMQ_PORT={port} make broker`, or set PIGEON_RABBITMQ_URL"
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The scripts and pigeon.env of this checkout in a folder of their own, with this
    checkout's .venv, build/, runtime client and terraform/: what the tools remember goes into
    its .cache."""
    target = tmp_path / "pigeon"
    shutil.copytree(
        ROOT / "scripts", target / "scripts", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pigeon.env", "poetry.lock"):  # the lock names the runtime client's folder
        shutil.copy2(ROOT / name, target / name)
    (target / ".cache").mkdir()
    # terraform/: the function module is the one source of Lambda's logging configuration
    for name in (".venv", "build", ".cache/lambda-runtime", "terraform"):
        (target / name).symlink_to(ROOT / name)
    return target


def invoke_by_hand(
    scripts: Path, crash_id: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`invoke.sh --local` of the copied checkout, an event of one crash id on stdin."""
    done = subprocess.run(
        [str(scripts / "invoke.sh"), "--local"],
        input=json.dumps(events.for_crash_ids([crash_id])),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    evidence.seen("invoke.sh", done.stdout, done.stderr)
    return done


def assert_on_queue(scripts: Path, queue: str, crash_id: str, env: dict[str, str]) -> None:
    """The copied checkout's consume_queue.py shows exactly that crash id on the queue."""
    shown = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(scripts / "consume_queue.py"), queue],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.stdout == f"item: {crash_id}\n", shown.stderr


def test_a_hand_invoke_uses_the_port_the_tools_chose(checkout, broker, queue):
    """`PIGEONTOOLS_RABBITMQ_PORT=N make run` (or make broker) starts, or keeps, a broker on N;
    an invoke typed afterwards, without the variable, reaches that broker, not pigeon.env's 5672."""
    env = commands.developer_environment()
    scripts = checkout / "scripts"
    chose = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(scripts / "rabbitmq.py"), "start"],
        env={**env, "PIGEONTOOLS_RABBITMQ_PORT": str(broker.port)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert chose.returncode == 0, chose.stderr
    assert f"a broker is already listening on 127.0.0.1:{broker.port}; using it" in chose.stderr
    crash_id = events.new_crash_id("accept")
    by_hand = {**env, "PIGEON_QUEUES": queue}  # no PIGEON_RABBITMQ_URL, no port: as typed
    done = invoke_by_hand(scripts, crash_id, by_hand)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    assert_on_queue(scripts, queue, crash_id, by_hand)


def test_make_smoke_leaves_the_broker_it_did_not_start_alone(broker, pigeon_url):
    """A system RabbitMQ (here the test node): the smoke test passes, and after it the broker
    still runs and holds no queue of the smoke test."""
    env = commands.developer_environment(PIGEON_RABBITMQ_URL=pigeon_url)
    done = commands.run("smoke_test.sh", "--local", env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke: passed" in done.stdout
    broker.wait_ready()  # still there
    names = broker.ctl("list_queues", "--quiet", "name").split()
    assert not [name for name in names if name.startswith("smoke.")], names
    assert "stopped" not in done.stdout + done.stderr


def test_the_port_given_now_wins_over_the_port_the_tools_remembered(checkout, broker, queue):
    """The last `make broker` chose a port whose broker is gone since; an invoke typed with
    PIGEONTOOLS_RABBITMQ_PORT reaches the broker on that port, not the remembered one."""
    env = commands.developer_environment()
    scripts = checkout / "scripts"
    gone = net.free_port()
    chose = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(scripts / "rabbitmq.py"), "start"],
        env={**env, "PIGEONTOOLS_RABBITMQ_PORT": str(broker.port)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert chose.returncode == 0, chose.stderr
    remembered = checkout / ".cache" / "rabbitmq" / "port"
    assert remembered.read_text().strip() == str(broker.port)
    remembered.write_text(f"{gone}\n")  # what a start on a port whose broker stopped leaves
    crash_id = events.new_crash_id("accept")
    now = {**env, "PIGEON_QUEUES": queue, "PIGEONTOOLS_RABBITMQ_PORT": str(broker.port)}
    done = invoke_by_hand(scripts, crash_id, now)
    assert done.returncode == 0, done.stderr
    assert str(gone) not in done.stderr
    assert_on_queue(scripts, queue, crash_id, now)
    bad = subprocess.run(
        [str(ROOT / ".venv/bin/python"), str(scripts / "rabbitmq.py"), "url"],
        env={**env, "PIGEONTOOLS_RABBITMQ_PORT": "56 72"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1, bad.stderr
    assert "PIGEONTOOLS_RABBITMQ_PORT must be a TCP port (1-65535), not '56 72'" in bad.stderr
    assert "Traceback" not in bad.stderr
