"""The built zip in the local Lambda runtime, with Lambda's async retries, for fault tests.

The invariant checked after every invocation: it succeeded and every accepted crash id it
routed is confirmed on its queues, or it failed with Lambda's error JSON. After the retries
(up to 2 more, as Lambda does) every accepted id is on its queues at least once.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import evidence
import local_runtime

ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "dist" / "pigeon.zip"
DURATION = re.compile(r"\tDuration: ([0-9.]+) ms")


def extract_zip(target: Path) -> Path:
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(target)
    return target


@dataclass
class Invocation:
    outcome: local_runtime.Outcome

    @property
    def ok(self) -> bool:
        return not self.outcome.error

    @property
    def payload(self) -> Any:
        return json.loads(self.outcome.payload)

    @property
    def duration_ms(self) -> float:
        match = DURATION.search(self.outcome.report)
        return float(match.group(1)) if match else 0.0

    def assert_lambda_error(self, error_type: str = "PublishError") -> dict[str, Any]:
        """The failure is Lambda's error JSON of the expected type, and counted as a metric."""
        error = self.payload
        assert not self.ok
        assert {"errorMessage", "errorType"} <= set(error), error
        assert error["errorType"] == error_type, error
        if error_type == "PublishError":
            assert "socorro.pigeon.publish_error" in self.outcome.logs
        return error


@dataclass
class Function:
    """One execution environment of Pigeon: warm between invokes, cold after a timeout."""

    task_root: Path
    python: str
    packages: Path
    environment: dict[str, str]
    timeout: float = 10.0
    invocations: list[Invocation] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = local_runtime.FunctionSpec(
            task_root=self.task_root,
            timeout_s=self.timeout,
            memory_mb=256,
            environment={
                "PIGEON_ENV": "fault",
                "PIGEON_METRICS": "log",
                "PIGEON_PUBLISH_TIMEOUT": "3",
                "PIGEON_CONNECT_TIMEOUT": "2",
                **self.environment,
            },
        )
        self.sandbox = local_runtime.Sandbox(spec, self.python, self.packages, echo=False)

    def invoke(self, event: dict[str, Any]) -> Invocation:
        outcome = self.sandbox.invoke(json.dumps(event).encode())
        evidence.seen("lambda logs", outcome.logs)
        evidence.seen("lambda result", outcome.payload)
        invocation = Invocation(outcome)
        if invocation.ok:
            assert outcome.report.startswith("REPORT RequestId")
        else:
            invocation.assert_lambda_error(invocation.payload["errorType"])
        self.invocations.append(invocation)
        return invocation

    def invoke_with_retries(
        self, event: dict[str, Any], between: Callable[[int], None] | None = None
    ) -> list[Invocation]:
        """Invoke, then again up to 2 times while it fails, as Lambda's async retries do."""
        attempts = [self.invoke(event)]
        while not attempts[-1].ok and len(attempts) < 3:
            if between:
                between(len(attempts))
            attempts.append(self.invoke(event))
        return attempts

    def close(self) -> None:
        self.sandbox.kill()
