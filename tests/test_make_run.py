"""The README's main-job command, end to end: `make run` (here its script, after the build
the session already made): a broker, a generated event, one invoke, the message on the queue."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest

import evidence

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def test_make_run_publishes_a_new_accepted_crash_and_shows_it():
    had_broker = listening(5672)
    try:
        # As a developer runs it: pigeon.env only, none of the session's PIGEON_* settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIGEON_")}
        done = subprocess.run(
            [str(ROOT / "scripts" / "run_local.sh")],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
            env=env,
        )
    finally:
        if not had_broker:
            subprocess.run(
                [str(ROOT / "scripts" / "rabbitmq.sh"), "stop"],
                capture_output=True,
                timeout=120,
                check=False,
            )
    evidence.seen("make run", done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    crash_id = re.search(r"event for a new accepted crash id (\S+)", done.stdout).group(1)
    assert re.search(r"run: REPORT RequestId: \S+\tDuration: [0-9.]+ ms", done.stdout)
    assert f"run: on socorro.normal: item: {crash_id}" in done.stdout


def test_make_run_names_a_port_taken_by_something_that_is_not_rabbitmq():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_like_a_web_server() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = server.accept()
                with client:
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer_like_a_web_server, daemon=True).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIGEON")}
        done = subprocess.run(
            [str(ROOT / "scripts" / "run_local.sh")],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**env, "PIGEONTOOLS_RABBITMQ_PORT": str(port)},
        )
    finally:
        server.close()
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken by something that is not a RabbitMQ" in done.stderr
    assert f"PIGEONTOOLS_RABBITMQ_PORT={port + 1} make run" in done.stderr
    assert "IncompatibleProtocolError" not in done.stdout + done.stderr
