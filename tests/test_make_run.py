"""The README's main-job command, end to end: `make run` (here its script, after the build
the session already made): a broker, a generated event, one invoke, the message on the queue."""

from __future__ import annotations

import os
import re
import socket
import subprocess
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
