"""Between invocations an execution environment is frozen, as Lambda freezes it: the runtime's
process is stopped (SIGSTOP) once it asks for its next event, its background threads do not
run, and it is thawed for the next invoke, warm. A frozen environment can still be killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def group(pgid: int) -> list[tuple[int, str]]:
    """The live processes of process group `pgid` (pid, state); zombies are gone for good."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append((int(stat.parent.name), fields[0]))
    return found


def test_a_frozen_environment_whose_runtime_is_killed_leaves_nothing_stopped_behind():
    with sandbox() as box:
        first = box.invoke(b'{"action": "spawn"}').json()
        pid, child = first["pid"], first["child"]
        assert net.wait_until(lambda: state(child) == "T" and state(pid) == "T", 10, 0.005)
        os.kill(pid, signal.SIGKILL)  # the OOM killer, say: the runtime dies, frozen
        # Gone once all its threads are: the leader shows Z before the process can be reaped.
        assert net.wait_until(lambda: not box.warm, 10, 0.005)
        assert state(child) == "T"  # its child is still in the group, stopped
        again = box.invoke(b'{"action": "ident"}')
        assert again.ok, again.payload
        assert again.report.cold  # a new runtime, and the old group is gone
        assert group(pid) == []
        assert again.json()["pid"] != pid
    assert group(again.json()["pid"]) == []


RUNNER = """
import json, sys, time
from pathlib import Path
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec
box = Sandbox(FunctionSpec(Path(sys.argv[1]), "fleet.handle", timeout_s=10))
print(json.dumps(box.invoke(b'{"action": "spawn"}').json()), flush=True)
time.sleep(600)
"""


def test_a_frozen_environment_does_not_outlive_the_process_that_ran_it():
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(FUNCTIONS)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "scripts")},
    )
    try:
        assert runner.stdout is not None
        found = json.loads(runner.stdout.readline())
        pid, child = found["pid"], found["child"]
        assert net.wait_until(lambda: state(pid) == "T" and state(child) == "T", 10, 0.005)
    finally:
        runner.kill()  # no close, no retire: the runner is simply gone
        runner.wait()
    assert net.wait_until(lambda: group(pid) == [], 10, 0.01), group(pid)
