"""Restore mode: SnapStart's snapshot and restore, stood in for locally.

Lambda runs Init once when a version is published (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start),
runs the before-snapshot hooks, snapshots the microVM, and later restores each new execution
environment from that one snapshot; each runs the after-restore hooks, then its invocations.

Here `Snapshot` starts the runtime once (unchanged awslambdaric, Init as in `Sandbox`), and
after the before-snapshot hooks the runtime's process forks once per restored environment
(restore_fork.py, run inside the runtime): every restored environment starts from the same
process state, as from one snapshot. Each has its own Runtime API, log pipe and process group;
its `GET /runtime/restore/next` is answered when its first invoke arrives (a restore happens
when an invoke needs a new environment), so that invoke is a SnapStart cold start: its REPORT
line has Restore Duration (from the invoke to the runtime asking for its event: the
after-restore hooks included) instead of Init Duration. Lambda's own microVM restore is not in
it: it cannot be measured here.

A failing after-restore hook is reported to `/runtime/restore/error` (Runtime.AfterRestoreError)
and the runtime exits; the invoke fails as Lambda fails it, with SnapStartException. A failing
before-snapshot hook fails Init (Runtime.BeforeSnapshotError): in Lambda, the version's
publication. A restored environment that was killed (a timeout, a crash) is not restored again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO

from pigeon_tools.lambda_local.environment import lambda_environment
from pigeon_tools.lambda_local.runtime_api import RuntimeAPI
from pigeon_tools.lambda_local.runtime_package import Runtime
from pigeon_tools.lambda_local.sandbox import Sandbox, error_json, exit_error
from pigeon_tools.lambda_local.spec import FunctionSpec

FORK = Path(__file__).with_name("restore_fork.py")
ENVIRONMENTS = "PIGEONTOOLS_RESTORE_ENVIRONMENTS"
# What Lambda's Invoke API answers when an after-restore hook failed (botocore's service model).
SNAPSTART_EXCEPTION = "SnapStartException"
SNAPSTART_MESSAGE = (
    "The afterRestore() runtime hook encountered an error. For more information, check the "
    "Amazon CloudWatch logs."
)
FORKED = re.compile(r"^restore-fork: environment (\d+) restored for (\S+)$")
EXITED = re.compile(r"^restore-fork: environment (\d+) exited: (-?\d+)$")


class ForkedProcess:
    """A restored environment's process: a child of the snapshot's, not of the tools (so its
    exit status comes from the snapshot, which reaps it)."""

    def __init__(self, pid: int, stdout: IO[bytes], snapshot: Snapshot) -> None:
        self.pid = pid
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._snapshot = snapshot

    def _alive(self) -> bool:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z"

    def poll(self) -> int | None:
        if self.returncode is None and not self._alive():
            self.returncode = self._snapshot.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        ends = time.monotonic() + (timeout if timeout is not None else 10.0)
        while self.poll() is None and time.monotonic() < ends:
            time.sleep(0.005)
        return self.returncode if self.returncode is not None else -9


class Restored(Sandbox):
    """One execution environment restored from the snapshot: a Sandbox whose cold start is a
    restore, not an Init."""

    def __init__(self, snapshot: Snapshot, index: int, freeze: bool) -> None:
        super().__init__(snapshot.spec, snapshot.runtime, echo=snapshot.echo, freeze=freeze)
        self.snapshot = snapshot
        self.index = index
        self.api = RuntimeAPI(on_wait=self._freeze_if_idle)
        self.api.restore_gate.clear()  # restored when its first invoke arrives
        self.log_pipe = snapshot.scratch / f"environment-{index}.log"
        os.mkfifo(self.log_pipe)
        # Read end, and a write end of our own so the pipe has no end of file before the
        # environment opens it (nor after it, until the environment is retired).
        self._reader = os.open(self.log_pipe, os.O_RDONLY | os.O_NONBLOCK)
        self._keep_open: int | None = os.open(self.log_pipe, os.O_WRONLY)
        os.set_blocking(self._reader, True)
        self._stream = os.fdopen(self._reader, "rb", buffering=0)
        threading.Thread(target=self._pump, args=(self._stream,), daemon=True).start()
        self.pid: int | None = None
        self.restore_error_type: str | None = None
        self.used = False  # restored once at most: a killed environment stays gone

    @property
    def warm(self) -> bool:
        return self.used and super().warm

    def _cold_line(self) -> str:
        return "RESTORE_START Runtime Version: python:3.13.local\tRuntime Version ARN: local\n"

    def _start(self, deadline: float) -> bytes | None:
        """The restore: let the runtime's `restore_next` return, wait for its first `next`."""
        with self._state:
            if self.retired or self.used or self.api is None:
                message = "the restored execution environment is gone"
                return error_json(message, "Runtime.ExitError")
            self.used = True
            api = self.api
        started = time.perf_counter()
        while self.pid is None and time.monotonic() < deadline:
            self.pid = self.snapshot.pid_for(api.address)
            time.sleep(0.001)
        if self.pid is None:
            return error_json("the snapshot restored no environment", "Runtime.ExitError")
        process = self.process = ForkedProcess(self.pid, self._stream, self.snapshot)
        api.restore_gate.set()
        while not api.first_next.is_set() and not api.restore_error_event.is_set():
            if process.poll() is not None or time.monotonic() > deadline:
                break
            api.first_next.wait(0.005)
        self.restore_ms = (time.perf_counter() - started) * 1000
        self.init_ms = None
        # Billed Restore Duration: Lambda bills the after-restore hooks' time; here that is the
        # whole local restore, which has no microVM to resume.
        self.restore_billed_ms = int(self.restore_ms + 0.999)
        self._log(f"RESTORE_REPORT Restore Duration: {self.restore_ms:.2f} ms\n")
        if api.first_next.is_set():
            return None
        if api.restore_error_event.wait(0.5):
            self.restore_error_type = api.restore_error_type  # Runtime.AfterRestoreError
            error = error_json(SNAPSTART_MESSAGE, SNAPSTART_EXCEPTION)
        elif process.poll() is not None:
            error = exit_error(process.returncode)
        else:
            error = error_json("Restore timed out", "SnapStartTimeoutException")
        self.kill()
        return error

    def kill(self) -> None:
        super().kill()
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._keep_open is not None:
            with suppress(OSError):
                os.close(self._keep_open)
            self._keep_open = None


class Snapshot:
    """Init once, the before-snapshot hooks, then `count` environments restored from it.

    A context manager: leaving it ends every restored environment and the snapshot."""

    def __init__(
        self,
        spec: FunctionSpec,
        count: int = 2,
        runtime: Runtime | None = None,
        echo: bool = False,
        freeze: bool = True,
    ) -> None:
        if count < 1:
            raise ValueError("a snapshot restores at least one environment")
        self.spec = spec
        self.runtime = runtime or Runtime.local()
        self.echo = echo
        self._scratch = tempfile.TemporaryDirectory(prefix="lambda-snapshot-")
        self.scratch = Path(self._scratch.name)
        self.api = RuntimeAPI()
        self.environments = [Restored(self, index, freeze) for index in range(count)]
        self.process: subprocess.Popen[bytes] | None = None
        self.init_ms: float | None = None
        self.init_error_type: str | None = None
        self.lines: list[str] = []
        self._pids: dict[str, int] = {}
        self._exits: dict[int, int] = {}
        self._seen = threading.Condition()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def __iter__(self) -> Iterator[Restored]:
        return iter(self.environments)

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            with self._seen:
                self.lines.append(line)
                if forked := FORKED.match(line.rstrip("\n")):
                    self._pids[forked[2]] = int(forked[1])
                elif exited := EXITED.match(line.rstrip("\n")):
                    self._exits[int(exited[1])] = int(exited[2])
                self._seen.notify_all()
            if self.echo:
                print(line, end="", file=sys.stderr, flush=True)

    def pid_for(self, address: str) -> int | None:
        with self._seen:
            return self._pids.get(address)

    @property
    def restored_pids(self) -> list[int]:
        """Every restored environment's process, restored (invoked) or not yet."""
        with self._seen:
            return list(self._pids.values())

    def exit_status(self, pid: int, wait: float = 0.5) -> int:
        with self._seen:
            self._seen.wait_for(lambda: pid in self._exits, wait)
            return self._exits.get(pid, -9)

    @property
    def logs(self) -> str:
        with self._seen:
            return "".join(self.lines)

    def take(self) -> bytes | None:
        """Init and the before-snapshot hooks; Lambda's error JSON if either failed."""
        env = lambda_environment(self.spec, self.api.address, self.runtime.packages)
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
        env[ENVIRONMENTS] = ",".join(f"{e.api.address}={e.log_pipe}" for e in self if e.api)
        code = (
            "import os, sys; sys.path[0] = os.getcwd(); "
            f"exec(compile(open({str(FORK)!r}).read(), {str(FORK)!r}, 'exec'))"
        )
        started = time.perf_counter()
        deadline = time.monotonic() + max(self.spec.timeout_s, 10.0)
        process = self.process = subprocess.Popen(
            [self.runtime.python, "-S", "-B", "-c", code, self.spec.handler],
            cwd=self.spec.task_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()
        api = self.api
        while not api.restore_next.is_set() and not api.init_error_event.is_set():
            if process.poll() is not None or time.monotonic() > deadline:
                break
            api.restore_next.wait(0.005)
        self.init_ms = (time.perf_counter() - started) * 1000
        if api.restore_next.is_set():
            return None
        if api.init_error_event.wait(0.5) and api.init_error:
            self.init_error_type = api.init_error_type
            return api.init_error
        if process.poll() is not None:
            return exit_error(process.returncode)
        return error_json("Init timed out", "Runtime.InitTimeout")

    def close(self) -> None:
        for environment in self.environments:
            environment.retire()
            environment._close_pipe()
            if environment.api is not None:
                environment.api.close()
                environment.api = None
        process = self.process
        if process is not None and process.poll() is None:
            # The snapshot ends the restored environments it has not reaped (each is its own
            # process group, some never restored), then itself.
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.api.close()
        self._scratch.cleanup()
