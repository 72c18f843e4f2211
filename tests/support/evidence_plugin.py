"""The session's evidence as a pytest plugin: every test's captured output and failure text
goes to the secret scan; at the end of the session the scan runs over what each process saw
(each xdist worker sends its summary to the controller through `workeroutput`), a leak fails the
session with where it was seen, and the combined figures go to reports/reliability.json.

Per process is enough: a secret is made by a fixture or a test of the process that registered
it, and everything that could print it runs in that process too (brokers, runtimes and moto
are per session, and so per worker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import evidence

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY_REPORT = ROOT / "reports" / "reliability.json"
_KEY = "pigeon_evidence"
_from_workers: list[dict[str, Any]] = []
_outcome: dict[str, Any] = {}


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.getplugin("dsession") is not None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # In the controller these are the workers' reports again: they were scanned where they ran.
    evidence.seen(
        f"{report.nodeid} ({report.when})", report.capstdout, report.capstderr, report.longreprtext
    )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    sent = getattr(node, "workeroutput", {}).get(_KEY)
    if sent:
        _from_workers.append(json.loads(sent))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    mine = evidence.summary()
    if _is_worker(config):
        config.workeroutput[_KEY] = json.dumps(mine)  # type: ignore[attr-defined]
        return
    combined = evidence.combine(_from_workers if _is_controller(config) else [mine])
    problems = [f"a secret in {where}: {start}" for where, start in combined["leaks"]]
    if evidence.full(combined) and not (combined["secrets"] and combined["texts"]):
        # The broker and fault tests ran: a scan that watched nothing proves nothing.
        problems.append("a full session registered no secret or no text for the scan")
    _outcome.update(problems=problems, combined=combined)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    _outcome["written"] = evidence.write_report(RELIABILITY_REPORT, combined)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    combined = _outcome.get("combined")
    if combined is None:
        return
    write = terminalreporter.write_line
    for problem in _outcome["problems"]:
        write(f"secret scan: FAILED: {problem}", red=True, bold=True)
    if not _outcome["problems"]:
        write(
            f"secret scan: {combined['texts']:,} texts, {combined['secrets']} secrets watched, "
            "0 leaks"
        )
    if _outcome.get("written"):
        write(
            f"reliability figures written to {RELIABILITY_REPORT.relative_to(ROOT)} and "
            "docs/reliability.md"
        )
