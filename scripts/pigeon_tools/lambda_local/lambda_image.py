"""The Lambda runtime image instead of the local runtime: `public.ecr.aws/lambda/python:3.13`
with its Runtime Interface Emulator (docker-compose.yml, service lambda-run), build/ mounted at
/var/task. For machines with a Docker engine (GitHub Actions); the local runtime is the default
elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pigeon_tools import docker
from pigeon_tools.paths import ROOT

EMULATOR = "http://127.0.0.1:8080/2015-03-31/functions/function/invocations"


class NoDockerEngine(RuntimeError):
    pass


def invoke(
    event: bytes, env_file: Path, settings: dict[str, str], timeout: float, memory: int
) -> tuple[bytes, bool]:
    """Run one event; (payload, failed). The emulator answers 200 with Lambda's error JSON."""
    if not docker.engine_answers():
        raise NoDockerEngine("--docker, but no Docker engine answers")
    name = f"pigeon-lambda-run-{os.getpid()}"
    env = {
        **os.environ,
        "PIGEONTOOLS_ENV_FILE": str(env_file),
        "LAMBDA_TIMEOUT": str(int(timeout)),
        "LAMBDA_MEMORY": str(memory),
    }
    overrides = [arg for key in sorted(settings) for arg in ("-e", f"{key}={settings[key]}")]
    compose = ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "--profile", "lambda"]
    subprocess.run(
        [*compose, "run", "-d", "--name", name, *overrides, "lambda-run"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        payload = _post(event, timeout + 30)
        time.sleep(0.2)
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
        sys.stderr.write(logs.stdout + logs.stderr)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload, False
    failed = isinstance(answer, dict) and {"errorType", "errorMessage"} <= set(answer)
    return payload, failed


def _post(event: bytes, timeout: float) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            request = urllib.request.Request(EMULATOR, data=event, method="POST")
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
                return bytes(response.read())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
