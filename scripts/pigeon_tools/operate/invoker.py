"""Invoking the function through Lambda's Invoke API (boto3): the deployed function, or the
local runtime's `serve` with --endpoint-url. At most `rate` invocations a second."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    ok: bool
    payload: Any  # the function's result, or Lambda's error JSON

    @property
    def error(self) -> str:
        if self.ok:
            return ""
        if isinstance(self.payload, dict):
            return f"{self.payload.get('errorType')}: {self.payload.get('errorMessage')}"
        return str(self.payload)


class Pace:
    """No more than `per_second` calls a second (0: no limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            delay, self.next = self.next - now, max(self.next, now) + self.interval
        if delay > 0:
            time.sleep(delay)


class Invoker:
    def __init__(
        self,
        function: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        rate: float = 0.0,
        client: Any = None,
    ) -> None:
        if client is None:
            import boto3
            from botocore.config import Config

            # A synchronous invoke lasts as long as the function (15 min at most).
            config = Config(read_timeout=910, retries={"mode": "standard", "max_attempts": 3})
            client = boto3.client(
                "lambda", endpoint_url=endpoint_url, region_name=region, config=config
            )
        self.client = client
        self.function = function
        self.pace = Pace(rate)

    def check(self) -> None:
        """Lambda's DryRun: the function exists and these credentials may invoke it (else
        botocore's error), before any work that would end at the first invoke."""
        self.client.invoke(FunctionName=self.function, InvocationType="DryRun", Payload=b"{}")

    def invoke(self, event: Any) -> Answer:
        self.pace.wait()
        response = self.client.invoke(
            FunctionName=self.function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return Answer("FunctionError" not in response, payload)
