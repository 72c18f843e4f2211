"""AWS answers moto does not give, on loopback, in the real APIs' wire formats:

- Lambda GetAccountSettings (moto has no such call): `GET /2016-08-19/account-settings`,
  answered with the real JSON shape (botocore's model: AccountLimit, AccountUsage);
- AccessDenied for one service, in that service's protocol (JSON with __type for Secrets
  Manager, rest-json with x-amzn-ErrorType for Lambda, XML for S3 and STS), for a deploy whose
  role lacks a permission.

Point boto3 at it with AWS_ENDPOINT_URL_<SERVICE>, as a deploy would be pointed at AWS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"  # moto's
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/pigeon-deploy/session"


# A new account's Lambda concurrency quota: Lambda then keeps all 10 unreserved, so no function
# can reserve any ("... decreases account's UnreservedConcurrentExecution below its minimum
# value of [10]").
FRESH_ACCOUNT_CONCURRENCY = 10


@dataclass
class Behaviour:
    concurrent_executions: int = 1000
    unreserved: int = 1000
    deny: bool = False
    requests: list[str] = field(default_factory=list)

    def fresh_account(self) -> None:
        """Answer as a new account does: a quota of 10, none of it reserved."""
        self.concurrent_executions = self.unreserved = FRESH_ACCOUNT_CONCURRENCY

    def reserve(self, executions: int) -> None:
        """Another function of the account reserves some: AWS takes it from the unreserved."""
        self.unreserved -= executions


def account_settings(behaviour: Behaviour) -> dict[str, Any]:
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": behaviour.concurrent_executions,
            "UnreservedConcurrentExecutions": behaviour.unreserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
    }


def handler_for(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def denied(self, action: str) -> None:
            message = (
                f"User: {ROLE} is not authorized to perform: {action} because no "
                f"identity-based policy allows the {action} action"
            )
            target = self.headers.get("X-Amz-Target", "")
            if target:  # awsJson: Secrets Manager
                body = {"__type": "AccessDeniedException", "Message": message}
                self.send(400, json.dumps(body).encode(), "application/x-amz-json-1.1")
            elif self.path.startswith(("/2015-03-31", "/2016-08-19")):  # Lambda, rest-json
                self.send(
                    403,
                    json.dumps({"Message": message}).encode(),
                    "application/json",
                    **{"x-amzn-ErrorType": "AccessDeniedException:"},
                )
            else:  # S3 (rest-xml) and STS (query): XML
                xml = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                    f"<Message>{message}</Message><RequestId>0</RequestId></Error>"
                )
                self.send(403, xml.encode(), "application/xml")

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            target = self.headers.get("X-Amz-Target", "")
            behaviour.requests.append(f"{self.command} {self.path} {target}".strip())
            if target:
                action = target.replace(".", ":")
            elif self.path.startswith("/2016-08-19"):
                action = "lambda:GetAccountSettings"
            elif "notification" in self.path:
                action = "s3:GetBucketNotification"
            elif "location" in self.path:
                action = "s3:GetBucketLocation"
            else:
                action = "sts:GetCallerIdentity"
            if behaviour.deny:
                self.denied(action)
                return
            if self.command == "GET" and self.path.rstrip("/") == "/2016-08-19/account-settings":
                body = json.dumps(account_settings(behaviour)).encode()
                self.send(200, body, "application/json")
                return
            self.send(404, b'{"Message": "stand-in: not served"}', "application/json")

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

    return Handler


@contextmanager
def serve(behaviour: Behaviour) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(behaviour))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def eventbridge_in_notification_answers() -> Iterator[None]:
    """moto keeps a bucket's EventBridgeConfiguration but leaves it out of its
    GetBucketNotificationConfiguration answer; S3 answers with an empty
    <EventBridgeConfiguration/> when EventBridge delivery is on. Answer as S3 does."""
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def answer(self: Any) -> Any:
        status, headers, body = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None or "EventBridge" in body:
            return status, headers, body
        element = "<EventBridgeConfiguration/>"
        if body.rstrip().endswith("/>"):
            body = body.rstrip()[:-2] + f">{element}</NotificationConfiguration>"
        else:
            body = body.replace(
                "</NotificationConfiguration>", f"{element}</NotificationConfiguration>"
            )
        return status, headers, body

    S3Response.get_bucket_notification = answer  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Response.get_bucket_notification = original  # type: ignore[method-assign]


# GetSecretValue answers as Secrets Manager gives them (awsJson1_1: HTTP status, __type).
SECRET_FAULTS = {
    "throttled": (400, "ThrottlingException", "Rate exceeded"),
    "internal": (500, "InternalServiceError", "An internal error occurred"),
    "unavailable": (503, "ServiceUnavailable", "Service Unavailable"),
    "denied": (400, "AccessDeniedException", f"User: {ROLE} is not authorized"),
    "not found": (400, "ResourceNotFoundException", "Secrets Manager can't find the secret"),
}


@dataclass
class SecretsManagerAnswers:
    """What GetSecretValue answers, in turn: a key of SECRET_FAULTS, or a SecretString (the
    last answer repeats). `asked` counts the requests."""

    answers: list[str]
    asked: int = 0

    def next(self) -> str:
        self.asked += 1
        return self.answers[min(self.asked, len(self.answers)) - 1]


@contextmanager
def secrets_manager(answers: SecretsManagerAnswers) -> Iterator[str]:
    """A Secrets Manager endpoint on loopback (AWS_ENDPOINT_URL_SECRETS_MANAGER) that fails as
    the real one does: throttling, 5xx, AccessDenied, ResourceNotFound, then maybe the secret."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            answer = answers.next()
            if answer in SECRET_FAULTS:
                status, kind, message = SECRET_FAULTS[answer]
                body = {"__type": kind, "Message": message}
            else:
                status = 200
                arn = request["SecretId"]
                body = {"ARN": arn, "Name": arn.split(":")[-1], "SecretString": answer}
                body |= {"VersionId": "00000000-0000-0000-0000-000000000001"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as endpoint:
        yield endpoint


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP endpoint on loopback answered by `handler`, in a thread, for the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
