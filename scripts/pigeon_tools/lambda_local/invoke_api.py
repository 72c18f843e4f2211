"""Lambda's Invoke API on loopback (`POST /2015-03-31/functions/NAME/invocations`), served by a
pool of warm execution environments: boto3's Lambda client and `--endpoint-url` work against it.
RequestResponse, Event (202, runs in the background), DryRun, and `X-Amz-Log-Type: Tail`."""

from __future__ import annotations

import base64
import json
import queue
import threading
from http import HTTPStatus

from pigeon_tools.lambda_local.http import NoDelayHandler, QuietServer
from pigeon_tools.lambda_local.sandbox import Outcome, Sandbox

PREFIX = "/2015-03-31/functions/"
LOG_TAIL_BYTES = 4096


class InvokeAPI(QuietServer):
    def __init__(self, port: int, sandboxes: list[Sandbox]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        # Last in, first out: like Lambda, reuse the environment that was warm most recently.
        self.idle: queue.LifoQueue[Sandbox] = queue.LifoQueue()
        for sandbox in sandboxes:
            self.idle.put(sandbox)
        self.sandboxes = sandboxes
        self.function_name = sandboxes[0].spec.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.kill()
        self.server_close()


class _Handler(NoDelayHandler):
    server: InvokeAPI

    def _json(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def _aws_error(self, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message}).encode()
        self._json(status, body, {"x-amzn-ErrorType": error_type})

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(HTTPStatus.OK, b'{"status":"OK"}')
        else:
            self._aws_error(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", "not found")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if not (path.startswith(PREFIX) and path.endswith("/invocations")):
            self._aws_error(HTTPStatus.NOT_FOUND, "UnknownOperationException", "unknown path")
            return
        name = path[len(PREFIX) : -len("/invocations")].split(":")[-1]
        if name not in (self.server.function_name, "function"):
            message = f"Function not found: {name}"
            self._aws_error(HTTPStatus.NOT_FOUND, "ResourceNotFoundException", message)
            return
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            self._json(HTTPStatus.NO_CONTENT, b"")
            return
        try:
            sandbox = self.server.idle.get_nowait()
        except queue.Empty:
            self._aws_error(
                HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded."
            )
            return
        if kind == "Event":
            self._json(HTTPStatus.ACCEPTED, b"")
            threading.Thread(target=self._run, args=(sandbox, body), daemon=True).start()
            return
        outcome = self._run(sandbox, body)
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": outcome.request_id}
        if outcome.error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = outcome.logs.encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        self._json(HTTPStatus.OK, outcome.payload, headers)

    def _run(self, sandbox: Sandbox, body: bytes) -> Outcome:
        try:
            return sandbox.invoke(body)
        finally:
            self.server.idle.put(sandbox)
