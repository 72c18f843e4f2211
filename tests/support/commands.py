"""The README's commands run as a user runs them: scripts/*.py with the dev venv's Python,
shell scripts directly; their output goes to the secret scan."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pigeon_tools.paths import ROOT, SCRIPTS
from support import evidence


def argv(command: str, *args: str) -> list[str]:
    path = SCRIPTS / command
    return [sys.executable, str(path), *args] if command.endswith(".py") else [str(path), *args]


def run(
    command: str, *args: str, input: Any = None, timeout: float = 120, **options: Any
) -> subprocess.CompletedProcess[Any]:
    text = not isinstance(input, bytes)
    done = subprocess.run(
        argv(command, *args),
        input=input,
        capture_output=True,
        text=text,
        timeout=timeout,
        cwd=options.pop("cwd", ROOT),
        **options,
    )
    evidence.seen(command, done.stdout, done.stderr)
    return done


def developer_environment(**more: str) -> dict[str, str]:
    """This process's environment without the session's PIGEON* settings, as a developer has
    it when typing a README command; `more` added."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("PIGEON")}
    return {**values, **more}


@contextmanager
def invoke_api(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`local_runtime.py serve --port 0 …` running; yields its invocations URL."""
    log_path = ROOT / ".cache" / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w+") as log:
        server = subprocess.Popen(
            argv("local_runtime.py", "serve", "--port", "0", *args), stderr=log, env=env
        )
        try:
            url = None
            for _ in range(600):
                log.seek(0)
                found = re.search(r"(http://127\.0\.0\.1:\d+\S+/invocations)", log.read())
                if found or server.poll() is not None:
                    url = found.group(1) if found else None
                    break
                time.sleep(0.1)
            assert url, "the Invoke API did not start"
            yield url
        finally:
            server.terminate()
            server.wait(30)
            log.seek(0)
            evidence.seen("invoke api log", log.read())
    log_path.unlink(missing_ok=True)


@contextmanager
def lambda_endpoint(
    broker: Any, url: str, prefix: str, *args: str, **settings: str
) -> Iterator[tuple[str, str]]:
    """The built zip served by the Invoke API, publishing to a fresh queue on the broker: what a
    boto3 Lambda client takes as --endpoint-url, and the queue."""
    from pigeon_tools.lambda_local import function
    from pigeon_tools.paths import ZIP

    queue = f"{prefix}.{os.urandom(4).hex()}"
    broker.declare(queue)
    environment = developer_environment(**function.environment(url, queue, **settings))
    with invoke_api("--task-root", str(ZIP), *args, env=environment) as invocations:
        yield invocations.split("/2015-03-31/")[0], queue
