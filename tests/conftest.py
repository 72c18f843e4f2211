"""Tests run against the build: build/ (the Lambda task root) comes first on sys.path (pytest's
`pythonpath` setting), and a session whose build/ is not what function/pigeon holds stops."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

# The tests import build/ and must leave it as the zip has it: no __pycache__ in it.
sys.dont_write_bytecode = True

if not (BUILD / "pigeon" / "handler.py").exists():
    raise pytest.UsageError("build/ is missing: run `make test` (it builds first) or `make build`")


def _sources(package: Path) -> dict[str, bytes]:
    return {
        p.relative_to(package).as_posix(): p.read_bytes()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


if _sources(ROOT / "function" / "pigeon") != _sources(BUILD / "pigeon"):
    # The tests import build/: after an edit to the source they would test the old code.
    raise pytest.UsageError("build/ is older than function/pigeon: run make build")

# A plugin may have imported a package the build ships (pika, boto3) from the dev venv before
# build/ came first on sys.path: forget it, so that tests and code under test use the build's.
_shipped = {p.name.removesuffix(".py") for p in BUILD.iterdir() if ".dist-info" not in p.name}
for _name in list(sys.modules):
    if _name.split(".")[0] in _shipped:
        del sys.modules[_name]

# pigeon.handler configures itself from the environment when imported, as at a Lambda cold
# start; this is enough for that. Tests that need another config build their own Pigeon.
from pigeon_tools.lambda_local import function  # noqa: E402 (after the build is checked)

for name, value in function.environment(
    "amqp://guest:guest@127.0.0.1:9/%2F", PIGEON_ENV="test"
).items():
    os.environ.setdefault(name, value)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")

pytest_plugins = ["support.fixtures", "support.evidence_plugin"]


@pytest.fixture(autouse=True)
def _redaction_per_test() -> object:
    """pigeon.redaction remembers every URL and password it is shown, for the life of the
    process, as it should in a container. A test process sees many made-up ones ("p" among
    them, some parsed when the tests are collected): each test starts knowing none, so that
    one test's secrets do not redact another's log lines."""
    from pigeon import redaction

    def forget() -> None:
        redaction._secrets.clear()
        redaction._longest_first.clear()

    forget()
    yield
    forget()


def kind(item: pytest.Item) -> str:
    """The folder a test lives in: unit, component, runtime, reliability or infra."""
    return Path(str(item.path)).relative_to(ROOT / "tests").parts[0]
