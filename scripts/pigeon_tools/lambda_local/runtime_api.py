"""The Lambda Runtime API on loopback, one server per execution environment:
`GET /2018-06-01/runtime/invocation/next`, `POST …/{id}/response`, `…/{id}/error` and
`/runtime/init/error`, with Lambda's request-id, deadline, function-ARN and trace headers.

SnapStart's restore half, as awslambdaric speaks it (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start):
after Init and the before-snapshot hooks the runtime calls `GET /runtime/restore/next`, which
returns once the environment is restored; a failing after-restore hook is posted to
`POST /runtime/restore/error` (a failing before-snapshot hook to /runtime/init/error)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from pigeon_tools.lambda_local.http import NoDelayHandler, QuietServer

PREFIX = "/2018-06-01/runtime"


@dataclass
class PendingInvoke:
    """One event handed to the runtime, and what it answered."""

    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    handed_out: float = 0.0
    finished: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    result: bytes | None = None
    error: bytes | None = None
    error_type: str | None = None


class RuntimeAPI(QuietServer):
    def __init__(self, on_wait: Callable[[], None] | None = None) -> None:
        """`on_wait` is called each time the runtime asks for its next event (it is then
        between invocations: the moment Lambda freezes an environment)."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pending: queue.Queue[PendingInvoke | None] = queue.Queue()
        self.current: PendingInvoke | None = None
        self.first_next = threading.Event()
        self.waiting = False  # the runtime is blocked in /invocation/next
        self.on_wait = on_wait
        self.init_error: bytes | None = None
        self.init_error_type: str | None = None
        self.init_error_event = threading.Event()
        self.restore_next = threading.Event()  # the runtime waits to be snapshotted or restored
        self.restore_gate = threading.Event()  # restore/next is answered once this is set
        self.restore_gate.set()
        self.restore_error: bytes | None = None
        self.restore_error_type: str | None = None
        self.restore_error_event = threading.Event()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.pending.put(None)
        self.shutdown()
        self.server_close()


class _Handler(NoDelayHandler):
    server: RuntimeAPI

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _accepted(self) -> None:
        self.send(HTTPStatus.ACCEPTED, b'{"status":"OK"}', {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        if self.path == f"{PREFIX}/restore/next":
            # Answered at once: the environment is snapshotted (the snapshot's API) or restored
            # (a restored environment's own API) by the time the runtime asks.
            self.server.restore_next.set()
            self.server.restore_gate.wait()
            self.send(HTTPStatus.OK)
            return
        if self.path != f"{PREFIX}/invocation/next":
            self.send(HTTPStatus.NOT_FOUND)
            return
        self.server.first_next.set()
        self.server.waiting = True
        if self.server.on_wait is not None:
            self.server.on_wait()
        invocation = self.server.pending.get()
        self.server.waiting = False
        if invocation is None:  # shutting down: leave the client waiting, as Lambda freezes it
            return
        invocation.handed_out = time.perf_counter()
        self.server.current = invocation
        self.send(
            HTTPStatus.OK,
            invocation.event,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
            },
        )

    def do_POST(self) -> None:
        body = self._body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.path == f"{PREFIX}/init/error":
            self.server.init_error = body
            self.server.init_error_type = error_type
            self.server.init_error_event.set()
            self._accepted()
            return
        if self.path == f"{PREFIX}/restore/error":
            self.server.restore_error = body
            self.server.restore_error_type = error_type
            self.server.restore_error_event.set()
            self._accepted()
            return
        prefix = f"{PREFIX}/invocation/"
        current = self.server.current
        if not self.path.startswith(prefix) or self.path.count("/") != 5:
            self.send(HTTPStatus.NOT_FOUND)
            return
        request_id, _, kind = self.path[len(prefix) :].partition("/")
        if current is None or request_id != current.request_id or current.done.is_set():
            message = {
                "errorMessage": f"Invalid request ID: {request_id}",
                "errorType": "InvalidRequestID",
            }
            self.send(HTTPStatus.BAD_REQUEST, json.dumps(message).encode())
            return
        if kind == "response":
            current.result = body
        elif kind == "error":
            current.error = body
            current.error_type = error_type
        else:
            self.send(HTTPStatus.NOT_FOUND)
            return
        current.finished = time.perf_counter()
        self.server.current = None
        current.done.set()
        self._accepted()
