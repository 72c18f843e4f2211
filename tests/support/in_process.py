"""Pigeon called in this process, as Lambda calls the handler, with its log and metric lines
captured: for component tests against a real broker."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pigeon import config as configuration
from pigeon import logs
from pigeon.credentials import UrlSource
from pigeon.handler import Pigeon
from pigeon.metrics import LogSink
from pigeon.publisher import Publisher
from support import evidence

ACCEPT_ID = "00007bd0-2d1c-4865-af09-80bc00180313"
DEFER_ID = "11107bd0-2d1c-4865-af09-80bc01180313"
SEED_KEYS = [
    f"v2/raw_crash/000/20180313/{ACCEPT_ID}",
    f"v2/raw_crash/111/20180313/{DEFER_ID}",
    f"v1/dump_names/{ACCEPT_ID}",
    f"v1/dump/{ACCEPT_ID}",
    "junk",
]


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Pigeon reads."""

    remaining_ms: int = 30_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class InProcessPigeon:
    pigeon: Pigeon
    log_stream: io.StringIO
    metric_stream: io.StringIO
    scanned: int = 0

    def __call__(self, event: Any, context: Any = None) -> Any:
        try:
            return self.pigeon(event, context or LambdaContext())
        except Exception as error:
            evidence.seen("handler exception", str(error), repr(error))
            raise
        finally:
            text = self.log_stream.getvalue()
            evidence.seen("handler logs", text[self.scanned :], self.metric_stream.getvalue())
            self.scanned = len(text)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_stream.getvalue().splitlines()]

    def metrics(self) -> dict[str, int]:
        """'name|tag,tag' -> value, from the Datadog Forwarder format lines."""
        found: dict[str, int] = {}
        for line in self.metric_stream.getvalue().splitlines():
            _, _, value, kind, name, tags = line.split("|")
            assert kind == "count"
            key = f"{name}|{tags.removeprefix('#')}"
            found[key] = found.get(key, 0) + int(value)
        return found


def make_pigeon(
    url: str, queues: str, publisher: Publisher | None = None, **env: str
) -> InProcessPigeon:
    config = configuration.load(
        {"PIGEON_ENV": "test", "PIGEON_QUEUES": queues, "PIGEON_RABBITMQ_URL": url, **env}
    )
    log_stream, metric_stream = io.StringIO(), io.StringIO()
    logs.setup(config.log_level if "PIGEON_LOG_LEVEL" in env else "DEBUG", stream=log_stream)
    nodes = config.rabbitmq_nodes or ()
    pigeon = Pigeon(
        config,
        publisher or Publisher(UrlSource(nodes), config.connect_timeout),
        LogSink(metric_stream),
    )
    return InProcessPigeon(pigeon, log_stream, metric_stream)
