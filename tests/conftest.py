"""Tests run against the build: build/ (the Lambda task root) comes first on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

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
sys.path.insert(0, str(BUILD))

# Plugins (pytest-rabbitmq) import pika from the dev venv before this file runs. Forget every
# module that the build ships, so that the tests and the code under test import the build's.
_shipped = {p.name.removesuffix(".py") for p in BUILD.iterdir() if ".dist-info" not in p.name}
for _name in list(sys.modules):
    if _name.split(".")[0] in _shipped:
        del sys.modules[_name]

# pigeon.handler configures itself from the environment when imported, as at a Lambda cold
# start; this is enough for that. Tests that need another config build their own Pigeon.
for name, value in {
    "PIGEON_ENV": "test",
    "PIGEON_QUEUES": "socorro.normal",
    "PIGEON_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:9/%2F",
    "PIGEON_METRICS": "none",
    "AWS_DEFAULT_REGION": "us-west-2",
}.items():
    os.environ.setdefault(name, value)

pytest_plugins = ["broker_fixtures"]

REPORT = ROOT / "reports" / "reliability.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` (the secret scan) run after everything else."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    import evidence

    evidence.seen(
        f"{report.nodeid} ({report.when})", report.capstdout, report.capstderr, report.longreprtext
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    import evidence

    evidence.write_report(REPORT)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT.exists():
        terminalreporter.write_line(f"reliability figures: {REPORT.read_text().strip()}")
