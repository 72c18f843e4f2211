"""The README's main-job command, end to end: `make run` (here its script, after the build
the session already made): a broker, a generated event, one invoke, the message on the queue."""

from __future__ import annotations

import contextlib
import re
import socket
import threading

from pigeon_tools.net import listening
from support import commands


def test_make_run_publishes_a_new_accepted_crash_and_shows_it():
    had_broker = listening(5672)
    try:
        # As a developer runs it: pigeon.env only, none of the session's PIGEON_* settings.
        done = commands.run("run_local.sh", env=commands.developer_environment(), timeout=600)
    finally:
        if not had_broker:
            commands.run("rabbitmq.py", "stop")
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
        env = commands.developer_environment(PIGEONTOOLS_RABBITMQ_PORT=str(port))
        done = commands.run("run_local.sh", env=env)
    finally:
        server.close()
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken by something that is not a RabbitMQ" in done.stderr
    assert f"PIGEONTOOLS_RABBITMQ_PORT={port + 1} make run" in done.stderr
    assert "IncompatibleProtocolError" not in done.stdout + done.stderr
