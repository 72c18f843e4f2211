"""The built zip in the local Lambda runtime, with Lambda's async retries, for fault tests.

The invariant checked after every invocation: it succeeded and every accepted crash id it
routed is confirmed on its queues, or it failed with Lambda's error JSON. After the retries
(up to 2 more, as Lambda does) every accepted id is on its queues at least once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.sandbox import Outcome, Sandbox
from pigeon_tools.lambda_local.spec import LoggingConfig
from support import evidence


def assert_lambda_error(outcome: Outcome, error_type: str = "PublishError") -> dict[str, Any]:
    """The failure is Lambda's error JSON of the expected type, and counted as a metric."""
    error = outcome.json()
    assert not outcome.ok
    assert {"errorMessage", "errorType"} <= set(error), error
    assert error["errorType"] == error_type, error
    if error_type == "PublishError":
        assert "socorro.pigeon.publish_error" in outcome.logs
    return dict(error)


class LocalPigeon:
    """One execution environment of Pigeon: warm between invokes, cold after a timeout."""

    def __init__(
        self,
        task_root: Path,
        url: str,
        queues: str,
        timeout: float = 10.0,
        logging: LoggingConfig | None = None,
        **env: str,
    ):
        defaults = {
            "PIGEON_ENV": "fault",
            "PIGEON_METRICS": "log",
            "PIGEON_PUBLISH_TIMEOUT": "3",
            "PIGEON_CONNECT_TIMEOUT": "2",
        }
        values = function.environment(url, queues, **{**defaults, **env})
        spec = function.spec(task_root, environment=values, timeout_s=timeout, logging=logging)
        self.sandbox = Sandbox(spec)
        self.outcomes: list[Outcome] = []

    def invoke(self, event: dict[str, Any] | bytes) -> Outcome:
        import json

        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        outcome = self.sandbox.invoke(body)
        evidence.seen("lambda logs", outcome.logs)
        evidence.seen("lambda result", outcome.payload)
        if not outcome.ok:
            assert_lambda_error(outcome, outcome.json()["errorType"])
        self.outcomes.append(outcome)
        return outcome

    def invoke_with_retries(
        self, event: dict[str, Any], between: Callable[[int], None] | None = None
    ) -> list[Outcome]:
        """Invoke, then again up to 2 times while it fails, as Lambda's async retries do."""
        attempts = [self.invoke(event)]
        while not attempts[-1].ok and len(attempts) < 3:
            if between:
                between(len(attempts))
            attempts.append(self.invoke(event))
        return attempts

    def close(self) -> None:
        self.sandbox.kill()
