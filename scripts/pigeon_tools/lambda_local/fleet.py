"""The execution environments of one function, as Lambda scales them: started on demand up to
the concurrency limit (each start is a cold start), reused most-recent-first, frozen while
idle, and retired when idle for longer than the idle timeout.

    fleet = Fleet(spec, limit=4, idle_timeout=600)
    box = fleet.acquire()          # None: all `limit` environments are busy (Lambda's 429)
    if box is not None:
        outcome = fleet.invoke(box, b"{}")   # releases it again
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pigeon_tools.lambda_local.runtime_package import Runtime
from pigeon_tools.lambda_local.sandbox import Outcome, Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec

# Lambda does not publish when it reclaims an idle environment (it is minutes, varying).
IDLE_TIMEOUT_S = 600.0


@dataclass
class Counts:
    cold_starts: int = 0
    invocations: int = 0
    throttles: int = 0
    retired: int = 0


@dataclass
class _Slot:
    sandbox: Sandbox
    idle_since: float = field(default_factory=time.monotonic)


class Fleet:
    def __init__(
        self,
        spec: FunctionSpec,
        limit: int,
        idle_timeout: float = IDLE_TIMEOUT_S,
        runtime: Runtime | None = None,
        freeze: bool = True,
    ) -> None:
        if limit < 1:
            raise ValueError("the concurrency limit must be at least 1")
        if idle_timeout <= 0:
            raise ValueError("the idle timeout must be positive")
        self.spec, self.limit, self.idle_timeout = spec, limit, idle_timeout
        self.runtime = runtime or Runtime.local()
        self.freeze = freeze
        self.counts = Counts()
        self._all: list[Sandbox] = []
        self._idle: list[_Slot] = []  # a stack: the most recently used last
        self._changed = threading.Condition()
        self._closed = False
        threading.Thread(target=self._retire_idle, daemon=True, name="fleet-reaper").start()

    # -- taking and giving back an environment ---------------------------------------------------
    def acquire(self, wait: bool = False) -> Sandbox | None:
        """The most recently used idle environment, else a new one while under the limit (its
        first invoke is a cold start). At the limit: None (throttled), or with `wait`, the next
        one released (None only when the fleet closes)."""
        with self._changed:
            while not self._closed:
                if self._idle:
                    return self._idle.pop().sandbox
                if len(self._all) < self.limit:
                    sandbox = Sandbox(self.spec, self.runtime, freeze=self.freeze)
                    self._all.append(sandbox)
                    return sandbox
                if not wait:
                    self.counts.throttles += 1
                    return None
                self._changed.wait()
            return None

    def release(self, sandbox: Sandbox) -> None:
        with self._changed:
            if self._closed:
                sandbox.retire()
                return
            self._idle.append(_Slot(sandbox))
            self._changed.notify_all()

    def invoke(self, sandbox: Sandbox, event: bytes, request_id: str | None = None) -> Outcome:
        """Run one invocation in an acquired environment, then release it."""
        try:
            outcome = sandbox.invoke(event, request_id)
        except BaseException:
            self._forget(sandbox)
            raise
        with self._changed:
            self.counts.invocations += 1
            self.counts.cold_starts += outcome.report.cold
        self.release(sandbox)
        return outcome

    def _forget(self, sandbox: Sandbox) -> None:
        sandbox.retire()
        with self._changed:
            if sandbox in self._all:
                self._all.remove(sandbox)
            self._changed.notify_all()

    # -- retirement ----------------------------------------------------------------------------
    def _retire_idle(self) -> None:
        """Retire environments idle for longer than the idle timeout, the least recent first
        (most-recent-first reuse leaves those at the bottom of the stack)."""
        with self._changed:
            while not self._closed:
                now, expired = time.monotonic(), []
                while self._idle and now - self._idle[0].idle_since >= self.idle_timeout:
                    slot = self._idle.pop(0)
                    self._all.remove(slot.sandbox)
                    expired.append(slot.sandbox)
                    self.counts.retired += 1
                if expired:
                    self._changed.notify_all()
                    self._changed.release()
                    try:
                        for sandbox in expired:
                            sandbox.retire()
                    finally:
                        self._changed.acquire()
                    continue
                oldest = self._idle[0].idle_since if self._idle else now
                self._changed.wait(max(0.01, oldest + self.idle_timeout - now))

    # -- what it holds -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        with self._changed:
            idle = {id(slot.sandbox) for slot in self._idle}
            environments = [
                {
                    "pid": box.process.pid if box.warm and box.process else None,
                    "state": "idle" if id(box) in idle else "busy",
                    "frozen": box.frozen,
                }
                for box in self._all
            ]
            return {
                "concurrency": self.limit,
                "idle_timeout_s": self.idle_timeout,
                "environments": environments,
                "busy": sum(1 for e in environments if e["state"] == "busy"),
                "cold_starts": self.counts.cold_starts,
                "invocations": self.counts.invocations,
                "throttles": self.counts.throttles,
                "retired": self.counts.retired,
            }

    def close(self) -> None:
        with self._changed:
            self._closed = True
            boxes, self._all, self._idle = list(self._all), [], []
            self._changed.notify_all()
        for sandbox in boxes:
            sandbox.retire()
