"""Lambda's Invoke API on loopback (`POST /2015-03-31/functions/NAME/invocations`), served by a
fleet of execution environments that scales as Lambda's does (fleet.py): boto3's Lambda client
and `--endpoint-url` work against it.

- RequestResponse runs in an idle environment (the most recently used) or a new one (a cold
  start) while under the concurrency limit; past it, 429 TooManyRequestsException.
- Event answers 202 and goes through the asynchronous queue (async_invoke.py): retries after a
  function error, the maximum event age, the on-failure destination.
- DryRun answers 204; `X-Amz-Log-Type: Tail` returns the last 4 KB of the logs.
- A payload that is not JSON is refused (400 InvalidRequestContentException), one over
  Lambda's size limits too (413 RequestTooLargeException: 6 MB, 1 MB for Event).

Not Lambda's: `GET /health`, and `GET /local/stats` (the environments, cold starts, throttles,
retirements and the asynchronous queue's counts, as JSON).
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus

from pigeon_tools.lambda_local.async_invoke import EventQueue
from pigeon_tools.lambda_local.fleet import Fleet
from pigeon_tools.lambda_local.http import NoDelayHandler, QuietServer

PREFIX = "/2015-03-31/functions/"
LOG_TAIL_BYTES = 4096
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
DRAIN_S = 10.0  # on stop, how long the Event invocations in flight may take to finish


class InvokeAPI(QuietServer):
    def __init__(self, port: int, fleet: Fleet, events: EventQueue | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.fleet = fleet
        self.events = events or EventQueue(fleet)
        self.function_name = fleet.spec.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stats(self) -> dict[str, object]:
        return {**self.fleet.stats(), "async": self.events.stats()}

    def close(self, drain_s: float = DRAIN_S) -> list[tuple[str, bytes]]:
        """Stop everything: no new Event invocation is started, those in flight have `drain_s`
        seconds to finish, then the environments are retired; the Event invocations that did
        not finish (request id, event), none lost."""
        self.events.close()
        self.events.drain(drain_s)
        self.fleet.close()
        left = self.events.unfinished()
        self.server_close()
        return left


class _Handler(NoDelayHandler):
    server: InvokeAPI

    def _json(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def _aws_error(self, status: int, error_type: str, message: str, **more: str) -> None:
        body = json.dumps({"Type": "User", "message": message, **more}).encode()
        self._json(status, body, {"x-amzn-ErrorType": error_type})

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(HTTPStatus.OK, b'{"status":"OK"}')
        elif self.path == "/local/stats":
            self._json(HTTPStatus.OK, json.dumps(self.server.stats()).encode())
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
        if kind not in ("RequestResponse", "Event", "DryRun"):
            message = f"Invalid invocation type: {kind}"
            self._aws_error(HTTPStatus.BAD_REQUEST, "InvalidParameterValueException", message)
            return
        if not self._acceptable(body, kind):
            return
        if kind == "DryRun":
            self._json(HTTPStatus.NO_CONTENT, b"")
        elif kind == "Event":
            request_id = self.server.events.submit(body)
            self._json(HTTPStatus.ACCEPTED, b"", {"x-amzn-RequestId": request_id})
        else:
            self._request_response(body)

    def _acceptable(self, body: bytes, kind: str) -> bool:
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            message = f"Request must be smaller than {limit} bytes for the {kind} invocation type"
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            self._aws_error(status, "RequestTooLargeException", message)
            return False
        try:
            json.loads(body or b"{}")
        except ValueError as error:
            message = f"Could not parse request body into json: {error}"
            self._aws_error(HTTPStatus.BAD_REQUEST, "InvalidRequestContentException", message)
            return False
        return True

    def _request_response(self, body: bytes) -> None:
        sandbox = self.server.fleet.acquire()
        if sandbox is None:
            self._aws_error(
                HTTPStatus.TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Rate Exceeded.",
                Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
            return
        try:
            outcome = self.server.fleet.invoke(sandbox, body)  # released before the answer
        except Exception as error:  # the local runtime's own failure: Lambda's 500
            self._aws_error(HTTPStatus.INTERNAL_SERVER_ERROR, "ServiceException", repr(error))
            return
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": outcome.request_id}
        if outcome.error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = outcome.logs.encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        self._json(HTTPStatus.OK, outcome.payload, headers)
