"""Docker mode is for machines with a Docker engine (GitHub Actions); here it is checked
statically, and its absence must give a clear message or a clean fallback."""

from __future__ import annotations

import re

import pytest
import yaml

from pigeon_tools import docker
from pigeon_tools.paths import ROOT
from support import commands

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
no_engine = pytest.mark.skipif(
    docker.engine_answers(),
    reason="checks what happens without a Docker engine; one runs on this machine",
)


def image(service: str) -> str:
    """The image with its ${VAR:-default} resolved to the default."""
    text = COMPOSE["services"][service]["image"]
    return text.split(":-", 1)[1].rstrip("}") if text.startswith("${") else text


def test_compose_services_use_the_lambda_images_and_a_pinned_broker():
    services = COMPOSE["services"]
    assert set(services) == {"rabbitmq", "lambda-run", "build"}
    assert image("lambda-run") == "public.ecr.aws/lambda/python:3.13"
    assert image("build").startswith("public.ecr.aws/sam/build-python3.13")
    broker = image("rabbitmq")
    assert re.fullmatch(r"rabbitmq:\d+\.\d+\.\d+(-management)?", broker), broker  # a release
    assert services["rabbitmq"]["healthcheck"]


def test_the_runtime_image_mounts_the_build_read_only_with_the_terraform_handler():
    service = COMPOSE["services"]["lambda-run"]
    assert "./build:/var/task:ro" in service["volumes"]
    assert service["command"] == ["pigeon.handler.handler"]
    assert service["env_file"] == ["${PIGEONTOOLS_ENV_FILE:-pigeon.env}"]
    assert service["network_mode"] == "host"  # reaches a broker on the host's loopback
    assert {"AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"} <= set(
        service["environment"]
    )


@no_engine
@pytest.mark.parametrize(
    ("command", "args", "status"),
    [
        ("build.py", ("--docker", "always", "--build-dir", "/tmp/pigeon-nd/b"), 1),
        ("invoke.sh", ("--docker",), 2),
    ],
)
def test_forced_docker_without_an_engine_fails_with_a_clear_message(command, args, status):
    done = commands.run(command, *args, input="{}")
    assert done.returncode == status
    assert "no Docker engine answers" in done.stderr


@no_engine
def test_auto_mode_falls_back_to_the_local_runtime():
    env = commands.developer_environment(PIGEONTOOLS_INVOKE_MODE="auto")
    done = commands.run("invoke.sh", input='{"not": "s3"}', env=env)
    assert done.returncode == 0, done.stderr
    assert "INIT_START Runtime Version: python:3.13.local" in done.stderr


@pytest.mark.parametrize(
    ("command", "args"), [("invoke.sh", ()), ("local_runtime.py", ("invoke",))]
)
def test_without_a_mode_every_entry_point_takes_the_same_default(tmp_path, command, args):
    """No --local/--docker, no PIGEONTOOLS_INVOKE_MODE: invoke.sh and local_runtime.py take the
    one default (auto), so with an engine that answers (a stand-in `docker`: `docker info`
    succeeds, anything else is recorded and fails) both go to Docker mode."""
    calls = tmp_path / "docker.log"
    docker_cli = tmp_path / "docker"
    docker_cli.write_text(
        f'#!/bin/sh\n[ "$1" = info ] && exit 0\necho "docker $*" >> "{calls}"\nexit 1\n'
    )
    docker_cli.chmod(0o755)
    env = commands.developer_environment()
    env.pop("PIGEONTOOLS_INVOKE_MODE", None)
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    done = commands.run(command, *args, input='{"not": "s3"}', env=env)
    assert calls.exists(), done.stderr  # it asked the engine to run the function
    assert "INIT_START Runtime Version: python:3.13.local" not in done.stderr
