"""Between invocations an execution environment is frozen, as Lambda freezes it: the runtime's
process is stopped (SIGSTOP) once it asks for its next event, its background threads do not
run, and it is thawed for the next invoke, warm. A frozen environment can still be killed."""

from __future__ import annotations

import time
from pathlib import Path

from pigeon_tools import net
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"


def sandbox(**options: bool) -> Sandbox:
    return Sandbox(FunctionSpec(FUNCTIONS, "fleet.handle", timeout_s=10), **options)


def state(pid: int) -> str:
    """The process's state letter (R, S, T for stopped, …); '' once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def test_an_idle_environment_is_frozen_and_its_threads_do_not_run_until_thawed():
    with sandbox() as box:
        first = box.invoke(b'{"action": "gaps"}')
        pid = first.json()["pid"]
        assert net.wait_until(lambda: state(pid) == "T", 10, 0.005), state(pid)
        assert box.frozen
        frozen_at = time.monotonic()
        with sandbox() as other:  # real work elsewhere while this one is frozen: a cold start
            assert other.invoke(b'{"action": "ident"}').ok
        assert state(pid) == "T"  # still frozen
        frozen_for = time.monotonic() - frozen_at
        second = box.invoke(b'{"action": "gaps"}')
        assert second.ok
        assert not second.report.cold  # thawed, not started again
        assert second.json()["pid"] == pid
        # The ticking thread stopped with the process: its longest pause spans the freeze.
        assert second.json()["largest_gap_s"] >= frozen_for
        assert net.wait_until(lambda: state(pid) == "T", 10, 0.005)
        process = box.process
    assert process is not None
    assert process.poll() is not None  # killed while frozen
    assert state(pid) == ""


def test_without_freezing_the_threads_run_between_invocations():
    with sandbox(freeze=False) as box:
        pid = box.invoke(b'{"action": "gaps"}').json()["pid"]
        with sandbox() as other:
            assert other.invoke(b'{"action": "ident"}').ok
        assert state(pid) in ("S", "R")
        assert box.invoke(b'{"action": "gaps"}').json()["largest_gap_s"] < 1.0
