"""Counters for Datadog: one catalog of names, counted per invocation, sent once at the end.

Sinks (PIGEON_METRICS):
- ``dogstatsd``: UDP to the Datadog Lambda Extension (or any DogStatsD) at PIGEON_STATSD_HOST:PORT.
- ``log``: one line per counter in the Datadog Forwarder's custom-metric format
  ``MONITORING|<epoch>|<value>|count|<name>|#<tags>``, also readable in local runs.
- ``none``: counted for the summary only.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

NAMESPACE = "socorro.pigeon"


@dataclass(frozen=True)
class Metric:
    """One counter: its short name, what it counts, the tags it may carry (besides env)."""

    short: str
    doc: str
    tags: tuple[str, ...] = ()
    # The field of the `invocation summary` log line that carries the same count (whatever the
    # sink), for CloudWatch: a metric filter on the log group turns it into a CloudWatch metric.
    summary_field: str | None = None


# The catalog, declared once. docs/metrics.md is generated from it, and the dashboards and
# monitors in terraform/ are tested against it.
ACCEPT = "accept"
DEFER = "defer"
THROTTLED = "throttled"
IGNORED = "ignored"
INVALID = "invalid"
PUBLISHED = "published"
PUBLISH_ERROR = "publish_error"
ITEM_FAILURE = "item_failure"
CATALOG: dict[str, Metric] = {
    metric.short: metric
    for metric in (
        Metric(ACCEPT, "Raw crashes whose crash id says accept (before per-queue throttling)."),
        Metric(DEFER, "Raw crashes whose crash id says defer: stored, not published."),
        Metric(THROTTLED, "Accepted crash ids not sent to a queue by its percentage.", ("queue",)),
        Metric(IGNORED, "Records that are not raw-crash keys, other event sources or names."),
        Metric(INVALID, "Malformed records, bad crash ids, events that are not S3 notifications."),
        Metric(PUBLISHED, "Messages confirmed by the broker.", ("queue",)),
        Metric(
            PUBLISH_ERROR,
            "Invocations in which messages were not confirmed: they fail (Lambda retries), or with"
            " SQS delivery they report those messages as item failures.",
        ),
        Metric(
            ITEM_FAILURE,
            "SQS messages reported in batchItemFailures (ids not confirmed, or a message that"
            " cannot be read): SQS delivers them again, then moves them to the dead-letter queue.",
            summary_field="item_failures",
        ),
    )
}


def metric_name(short: str) -> str:
    return f"{NAMESPACE}.{short}"


class Sink(Protocol):
    def send(self, name: str, value: int, tags: list[str]) -> None: ...
    def flush(self) -> None: ...


class LogSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, name: str, value: int, tags: list[str]) -> None:
        stream = self._stream or sys.stdout
        line = f"MONITORING|{int(time.time())}|{value}|count|{name}|#{','.join(tags)}\n"
        stream.write(line)

    def flush(self) -> None:
        stream = self._stream or sys.stdout
        stream.flush()


def _import_dogstatsd() -> Any:
    """Only the DogStatsD client: `import datadog` runs the package's __init__, which loads
    its HTTP API client and ThreadStats too (about 0.54 s against 0.11 s here)."""
    if "datadog" in sys.modules:
        from datadog.dogstatsd.base import DogStatsd

        return DogStatsd
    spec = importlib.util.find_spec("datadog")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("the datadog package is not installed")
    stub = types.ModuleType("datadog")
    stub.__path__ = list(spec.submodule_search_locations)
    sys.modules["datadog"] = stub
    try:
        from datadog.dogstatsd.base import DogStatsd
    finally:
        # A later `import datadog` gets the real package (its submodules stay loaded).
        del sys.modules["datadog"]
    return DogStatsd


class DogStatsdSink:
    def __init__(self, host: str, port: int) -> None:
        DogStatsd = _import_dogstatsd()

        self._client = DogStatsd(
            host=host, port=port, disable_telemetry=True, disable_buffering=True
        )

    def send(self, name: str, value: int, tags: list[str]) -> None:
        self._client.increment(name, value, tags=tags)

    def flush(self) -> None:
        self._client.flush()


class NullSink:
    def send(self, name: str, value: int, tags: list[str]) -> None:
        pass

    def flush(self) -> None:
        pass


def make_sink(kind: str, host: str = "127.0.0.1", port: int = 8125) -> Sink:
    if kind == "dogstatsd":
        return DogStatsdSink(host, port)
    if kind == "log":
        return LogSink()
    return NullSink()


class Metrics:
    """Counts for one invocation; ``flush`` sends each (name, tags) once."""

    def __init__(self, sink: Sink, env: str) -> None:
        self._sink = sink
        self._env_tag = f"env:{env}"
        self.counts: Counter[tuple[str, tuple[str, ...]]] = Counter()

    def incr(self, short: str, value: int = 1, tags: Iterable[str] = ()) -> None:
        metric = CATALOG.get(short)
        if metric is None:
            raise KeyError(f"metric {short!r} is not in the catalog")
        tags = tuple(tags)
        unknown = [t for t in tags if t.partition(":")[0] not in metric.tags]
        if unknown:
            raise KeyError(f"metric {short!r} has no tag {unknown[0].partition(':')[0]!r}")
        self.counts[(short, tags)] += value

    def summary_fields(self) -> dict[str, int]:
        """The counts the invocation summary carries (catalog metrics with a summary_field)."""
        return {
            metric.summary_field: sum(v for (s, _), v in self.counts.items() if s == metric.short)
            for metric in CATALOG.values()
            if metric.summary_field
        }

    def flush(self) -> None:
        for (short, tags), value in sorted(self.counts.items()):
            self._sink.send(metric_name(short), value, [self._env_tag, *tags])
        self._sink.flush()
        self.counts.clear()
