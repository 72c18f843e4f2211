"""One execution environment: `python3.13 -S -m awslambdaric HANDLER` in a clean process whose
sys.path is the task root, then the runtime's packages, then the standard library.

Its lifecycle, as Lambda's:
- start: the first invoke is a cold start (Init, then the invocation);
- freeze: between invocations the runtime's process group is stopped (SIGSTOP) as soon as the
  runtime asks for its next event, so its threads, timers and heartbeats do not run;
- thaw: the next invoke continues it (SIGCONT) before the event is handed over;
- kill: the runtime is killed, frozen or not, and its Runtime API closed; after a timeout this
  happens by itself and the next invoke is cold again;
- retire: killed for good (Lambda reclaims the environment); a start under way is stopped.

Nothing of an environment outlives it, frozen or not: kill takes the whole process group (the
runtime's children too, stopped with it, even once the runtime itself is dead), a runtime that
died is reaped the same way before the next cold start, and a guard (`sh`, in a session of its
own, so neither frozen nor sent the runner's Ctrl-C) kills the group when the process running
the sandbox dies without a word: it reads a pipe only that process holds, and the kernel closes
it then.

A context manager: leaving the `with` block retires it."""

from __future__ import annotations

import datetime
import json
import math
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from pigeon_tools.lambda_local.environment import lambda_environment
from pigeon_tools.lambda_local.report import Report
from pigeon_tools.lambda_local.runtime_api import PendingInvoke, RuntimeAPI
from pigeon_tools.lambda_local.runtime_package import Runtime
from pigeon_tools.lambda_local.spec import FunctionSpec


@dataclass
class Outcome:
    """What an invoke gave: the payload (the result, or Lambda's error JSON), logs, REPORT."""

    request_id: str
    payload: bytes
    error: bool
    logs: str
    report: Report

    @property
    def ok(self) -> bool:
        return not self.error

    def json(self) -> Any:
        return json.loads(self.payload)


def error_json(message: str, error_type: str, request_id: str = "") -> bytes:
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
    return json.dumps({**body, "stackTrace": []}).encode()


def exit_error(returncode: int | Any, request_id: str = "") -> bytes:
    """Lambda's error for a runtime that exited (at init, restore or during an invoke)."""
    message = f"Runtime exited with error: exit status {returncode}"
    return error_json(message, "Runtime.ExitError", request_id)


# The guard: wait for the runner's end of the pipe to close, then kill the group ($1).
GUARD = "trap '' HUP INT TERM; read -r _; kill -s KILL -- \"-$1\" 2>/dev/null; exit 0"


def guard(pgid: int) -> subprocess.Popen[bytes]:
    """A process that kills process group `pgid` once this process is gone (or kills it now
    when this process closes the guard's stdin)."""
    return subprocess.Popen(
        ["/bin/sh", "-c", GUARD, "sandbox-guard", str(pgid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class RuntimeProcess(Protocol):
    """The runtime's process: a subprocess, or one forked from a snapshot (restore mode)."""

    @property
    def pid(self) -> int: ...
    @property
    def stdout(self) -> IO[bytes] | None: ...
    @property
    def returncode(self) -> int | Any: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...


def peak_rss_mb(pid: int) -> int:
    """VmHWM: the process's peak resident memory, as Lambda's Max Memory Used reports it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return math.ceil(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


class Sandbox:
    def __init__(
        self,
        spec: FunctionSpec,
        runtime: Runtime | None = None,
        echo: bool = False,
        freeze: bool = True,
    ):
        self.spec = spec
        self.runtime = runtime or Runtime.local()
        self.echo = echo
        self.freezes = freeze  # frozen between invocations, as Lambda does
        self.api: RuntimeAPI | None = None
        self.process: RuntimeProcess | None = None
        self._guard: subprocess.Popen[bytes] | None = None
        self.init_ms: float | None = None
        self.restore_ms: float | None = None  # restore mode: a SnapStart cold start
        self.restore_billed_ms: int | None = None
        self.frozen = False
        self.retired = False
        self._invoking = False
        self._init_memory = 0
        self._lines: list[str] = []
        self._lock = threading.Lock()  # the logs
        self._state = threading.Lock()  # frozen / invoking

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.retire()

    @property
    def warm(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- the function's output: echoed to stderr, kept for the invocation's logs -----------------
    def _log(self, line: str) -> None:
        with self._lock:
            self._emit(line)

    def _emit(self, line: str) -> None:
        self._lines.append(line)
        if self.echo:
            sys.stderr.write(line)
            sys.stderr.flush()

    def _pump(self, stream: IO[bytes]) -> None:
        fd, pending = stream.fileno(), b""
        while True:
            select.select([fd], [], [])
            with self._lock:  # read and logged under one lock: `_drain` sees when all is through
                chunk = os.read(fd, 65536)
                if not chunk:
                    if pending:
                        self._emit(pending.decode("utf-8", "replace"))
                    return
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._emit(line.decode("utf-8", "replace") + "\n")

    def _drain(self, limit: float = 0.05) -> None:
        """Wait until everything the function wrote has been logged (or `limit` passed)."""
        if self.process is None or self.process.stdout is None:
            return
        fd, ends = self.process.stdout.fileno(), time.monotonic() + limit
        while time.monotonic() < ends:
            with self._lock:
                try:
                    if not select.select([fd], [], [], 0)[0]:
                        return
                except (OSError, ValueError):
                    return
            time.sleep(0.0002)

    def _take_logs(self) -> str:
        with self._lock:
            text = "".join(self._lines)
            self._lines.clear()
        return text

    # -- lifecycle ---------------------------------------------------------------------------------
    def _start(self, deadline: float) -> bytes | None:
        """Cold start; an init error's JSON, or None when the runtime waits for events."""
        with self._state:  # not after a retire(): a retired environment stays gone
            if self.retired:
                return error_json("the execution environment was retired", "Runtime.ExitError")
            api = self.api = RuntimeAPI(on_wait=self._freeze_if_idle)
            env = lambda_environment(self.spec, api.address, self.runtime.packages)
            started = time.perf_counter()
            process = self.process = subprocess.Popen(
                # -B: no .pyc, as Lambda's read-only task root gets none.
                [self.runtime.python, "-S", "-B", "-m", "awslambdaric", self.spec.handler],
                cwd=self.spec.task_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._guard = guard(process.pid)
        assert process.stdout is not None
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()
        while not api.first_next.is_set() and not api.init_error_event.is_set():
            if process.poll() is not None or time.monotonic() > deadline:
                break
            api.first_next.wait(0.005)
        self.init_ms = (time.perf_counter() - started) * 1000
        if api.first_next.is_set():
            return None
        self._init_memory = peak_rss_mb(process.pid)
        if api.init_error_event.wait(0.5) and api.init_error:
            error = api.init_error
        elif process.poll() is not None:
            error = exit_error(process.returncode)
        else:
            error = error_json("Init timed out", "Runtime.InitTimeout")
        self.kill()
        return error

    def _cold_line(self) -> str:
        return "INIT_START Runtime Version: python:3.13.local\tRuntime Version ARN: local\n"

    def _freeze_if_idle(self) -> None:
        """Freeze: stop the runtime's process group once it waits for an event that is not
        there. Called when the runtime asks for its next event, and when an invoke ends."""
        with self._state:
            api, process = self.api, self.process
            if not self.freezes or self.frozen or self._invoking or api is None:
                return
            if process is None or process.poll() is not None:
                return
            if api.waiting and api.pending.empty():
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGSTOP)
                    self.frozen = True

    def _thaw(self) -> None:
        """Thaw: this invoke has the environment; continue the runtime if it was frozen."""
        with self._state:
            self._invoking = True
            if self.frozen and self.process is not None:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGCONT)
            self.frozen = False

    def _done(self) -> None:
        with self._state:
            self._invoking = False
        self._freeze_if_idle()

    def invoke(self, event: bytes, request_id: str | None = None) -> Outcome:
        """One invocation: a cold start first if the environment has none; thawed for it and
        frozen again after it."""
        self._thaw()
        try:
            return self._invoke(event, request_id or str(uuid.uuid4()))
        finally:
            self._done()

    def _invoke(self, event: bytes, request_id: str) -> Outcome:
        timeout, cold = self.spec.timeout_s, not self.warm
        if cold and self.process is not None:
            self.kill()  # a runtime that died (killed, crashed): what it left, its Runtime API
        if cold:
            self._log(self._cold_line())
            init_error = self._start(time.monotonic() + max(timeout, 10.0))
            self._log(f"START RequestId: {request_id} Version: $LATEST\n")
            if init_error is not None:
                return self._finish(request_id, init_error, True, 0.0, cold, self._init_memory)
        else:
            self._log(f"START RequestId: {request_id} Version: $LATEST\n")
        api, process = self.api, self.process
        assert api is not None
        assert process is not None
        pending = PendingInvoke(
            request_id=request_id,
            event=event,
            deadline_ms=int(time.time() * 1000) + int(timeout * 1000),
            function_arn=self.spec.arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0",
        )
        handed = time.perf_counter()
        api.pending.put(pending)
        while not pending.done.wait(0.005):
            if time.perf_counter() >= handed + timeout or process.poll() is not None:
                break
        if pending.done.is_set():
            duration = (pending.finished - (pending.handed_out or handed)) * 1000
            if pending.error is not None:
                return self._finish(request_id, pending.error, True, duration, cold)
            return self._finish(request_id, pending.result or b"null", False, duration, cold)
        duration = (time.perf_counter() - handed) * 1000
        if process.poll() is not None:
            payload = exit_error(process.returncode, request_id)
            return self._finish(request_id, payload, True, duration, cold)
        return self._time_out(request_id, duration, cold)

    def _time_out(self, request_id: str, duration: float, cold: bool) -> Outcome:
        assert self.process is not None
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request_id} Task timed out after {self.spec.timeout_s:.2f} seconds"
        memory = peak_rss_mb(self.process.pid)
        self.kill()  # the next invoke is a cold start
        self._log(message + "\n")
        payload = error_json(message, "Sandbox.Timedout", request_id)
        return self._finish(request_id, payload, True, duration, cold, memory)

    def _finish(
        self,
        request_id: str,
        payload: bytes,
        error: bool,
        duration_ms: float,
        cold: bool,
        memory: int | None = None,
    ) -> Outcome:
        if memory is None:
            memory = peak_rss_mb(self.process.pid) if self.process else 0
        report = Report(
            request_id=request_id,
            duration_ms=duration_ms,
            memory_size_mb=self.spec.memory_mb,
            max_memory_mb=memory,
            init_ms=self.init_ms if cold else None,
            restore_ms=self.restore_ms if cold else None,
            billed_restore_ms=self.restore_billed_ms if cold else None,
        )
        self._drain()  # the function's last log lines come before END, as in CloudWatch
        self._log(f"END RequestId: {request_id}\n")
        self._log(report.line() + "\n")
        return Outcome(request_id, payload, error, self._take_logs(), report)

    def retire(self) -> None:
        """Kill for good: the environment never starts again (a start under way is stopped)."""
        with self._state:
            self.retired = True
        self.kill()

    def kill(self) -> None:
        """SIGKILL ends the runtime's process group whether it is frozen or not, and whether
        the runtime itself is still there or not (its children are in the group, and the group
        id stays theirs while any is); the next invoke is a cold start (unless retired)."""
        with self._state:
            process, self.frozen = self.process, False
            watcher, self._guard = self._guard, None
            if process is not None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
        if process is not None:
            process.wait()
        if watcher is not None:
            watcher.kill()  # its work is done: never let it signal a group id used again
            watcher.wait()
            if watcher.stdin is not None:
                watcher.stdin.close()
        if self.api is not None:
            self.api.close()
            self.api = None
