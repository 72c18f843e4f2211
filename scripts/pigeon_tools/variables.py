"""Every PIGEONTOOLS_* environment variable the tools (scripts/, the Makefile, the tests) read,
declared once: its default and what it does. docs/configuration.md's second table is generated
from this (scripts/docs.py), and tests/infra/test_docs.py checks that every PIGEONTOOLS_ name
in scripts/ is declared here and every one declared is read somewhere. The function's own
PIGEON_* settings are in function/pigeon/settings.py."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "PIGEONTOOLS_"
INVOKE_MODE = "auto"  # the one default invoke mode of invoke.sh, local_runtime.py, make smoke


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as the docs show it
    doc: str
    read_by: str  # the tools that read it


VARIABLES = (
    Variable(
        "PIGEONTOOLS_RABBITMQ_PORT",
        "`5672`",
        "The local broker's AMQP port: `make broker`/`make run` start or keep one there and "
        "remember it; hand-run tools then use the remembered port, and this variable, when set "
        "for them, wins over it.",
        "rabbitmq.py, invoke.sh, consume_queue.py, run_local.sh",
    ),
    Variable(
        "PIGEONTOOLS_RABBITMQ_TLS_PORT",
        "`5671`",
        "The TLS port of the private local node.",
        "rabbitmq.py",
    ),
    Variable(
        "PIGEONTOOLS_CLUSTER_PORT",
        "`5681`",
        "The first of the local cluster's three AMQP ports (`make cluster`).",
        "rabbitmq.py",
    ),
    Variable(
        "PIGEONTOOLS_LOCAL_BROKER",
        "unset",
        "`package`: the private node of Debian's rabbitmq-server even when a Docker engine "
        "answers.",
        "rabbitmq.py",
    ),
    Variable(
        "PIGEONTOOLS_RABBITMQ_TLS_URL",
        "unset",
        "A broker URL over TLS for the bench's TLS figures (`--tls-url`).",
        "bench.py",
    ),
    Variable(
        "PIGEONTOOLS_RABBITMQ_ADMIN_USER",
        "unset",
        "With `rotate_secret.py --management-url`: an administrator of the broker (Amazon MQ).",
        "rotate_secret.py",
    ),
    Variable(
        "PIGEONTOOLS_RABBITMQ_ADMIN_PASSWORD",
        "unset",
        "That administrator's password (never printed).",
        "rotate_secret.py",
    ),
    Variable(
        "PIGEONTOOLS_INVOKE_MODE",
        f"`{INVOKE_MODE}`",
        "The runtime of a hand invoke: `local`, `docker`, or `auto` (Docker when an engine "
        "answers, else local); `--local`/`--docker` override it.",
        "invoke.sh, local_runtime.py, smoke_test.sh (make smoke)",
    ),
    Variable(
        "PIGEONTOOLS_ENV_FILE",
        "`pigeon.env`",
        "The function's environment file in Docker mode (set by the tools for docker compose).",
        "local_runtime.py (docker-compose.yml)",
    ),
    Variable(
        "PIGEONTOOLS_ARCH",
        "`x86_64`",
        "The function's architecture for `build.py` (`x86_64` or `arm64`; or `--arch`).",
        "build.py",
    ),
    Variable(
        "PIGEONTOOLS_BUILD_DOCKER",
        "`auto`",
        "Build the zip in the build image: `auto`, `always` or `never` (or `--docker`).",
        "build.py",
    ),
    Variable(
        "PIGEONTOOLS_BUILD_VERSION",
        "pyproject's version",
        "`version.json`'s version (CI sets it).",
        "build.py",
    ),
    Variable(
        "PIGEONTOOLS_BUILD_COMMIT",
        "the checkout's commit",
        "`version.json`'s commit (CI sets it).",
        "build.py",
    ),
    Variable(
        "PIGEONTOOLS_BUILD_ID",
        "`local`",
        "`version.json`'s build id (CI sets it to the run).",
        "build.py",
    ),
    Variable(
        "PIGEONTOOLS_PYTHON",
        "found",
        "The Python 3.13 to use, before python3.13 on PATH, pyenv and the usual places.",
        "find_python313.sh (bootstrap.sh, build.py)",
    ),
    Variable(
        "PIGEONTOOLS_REPOSITORY",
        "`GITHUB_REPOSITORY`",
        "`OWNER/NAME` of the repository whose CI built and attested the zip a deploy takes.",
        "deploy.sh",
    ),
    Variable(
        "PIGEONTOOLS_TERRAFORM_ROOT",
        "`terraform/environments`",
        "Another copy of the Terraform root for deploy.sh and the operator tools (tests).",
        "deploy.sh, redrive.py, backfill.py, rotate_secret.py",
    ),
    Variable(
        "PIGEONTOOLS_FUZZ_EXAMPLES",
        "the tests' own",
        "How many Hypothesis examples the fuzz tests run (fewer while you work).",
        "the tests",
    ),
    Variable(
        "PIGEONTOOLS_RESTORE_ENVIRONMENTS",
        "set by the tools",
        "Internal to the local runtime's restore mode (`--snap-start N`): the snapshot process "
        "reads from it the Runtime API and log pipe of each environment it restores. Never set "
        "it yourself.",
        "local_runtime.py (restore mode)",
    ),
)

NAMES = frozenset(variable.name for variable in VARIABLES)
