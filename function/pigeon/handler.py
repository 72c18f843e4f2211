"""The Lambda entry point: one S3 notification in, confirmed RabbitMQ messages out.

Configured from the environment at init (cold start): a bad value fails init and names
the variable. ``handler`` is what Lambda calls: ``pigeon.handler.handler``.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pigeon import config as configuration
from pigeon import logs, metrics, settings
from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.credentials import BrokerSource, SecretsManagerSource, UrlSource, redact
from pigeon.events import Malformed, NotAnS3Notification, Skipped, records
from pigeon.lambda_context import deadline_for, request_id
from pigeon.publisher import Message, Publisher, PublishError
from pigeon.routing import pick_queues


@dataclass
class Summary:
    records: int = 0
    accepted: int = 0
    deferred: int = 0
    throttled: int = 0
    ignored: int = 0
    invalid: int = 0
    published: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "accepted": self.accepted,
            "deferred": self.deferred,
            "throttled": self.throttled,
            "ignored": self.ignored,
            "invalid": self.invalid,
            "published": self.published,
        }


class Pigeon:
    """One configured function: call it with (event, context) like Lambda does."""

    def __init__(
        self,
        config: configuration.Config,
        publisher: Publisher,
        sink: metrics.Sink,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.publisher = publisher
        self.sink = sink
        self.rng = rng or random.Random()
        self.log = logs.get_logger("pigeon.handler")

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        logs.start_invocation(request_id(context))
        counts = metrics.Metrics(self.sink, self.config.env)
        summary = Summary()
        try:
            messages = self.decide(event, counts, summary)
            self.publish(messages, context, counts, summary)
            return summary.as_dict()
        finally:
            counts.flush()
            self.log.info(
                "invocation summary",
                extra={
                    **{k: v for k, v in summary.as_dict().items() if k != "published"},
                    "published": sum(len(ids) for ids in summary.published.values()),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
            logs.end_invocation()

    def decide(self, event: Any, counts: metrics.Metrics, summary: Summary) -> list[Message]:
        """Accept, defer, ignore or reject each record; return the messages to publish."""
        messages: dict[tuple[str, str], Message] = {}
        try:
            results = list(records(event, self.config.event_names))
        except NotAnS3Notification as error:
            self.log.error(
                "event is not an S3 notification; nothing to do", extra={"error": str(error)}
            )
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return []
        summary.records = len(results)
        for result in results:
            if isinstance(result, Malformed):
                self.log.warning(
                    "malformed record", extra={"reason": result.reason, "record": result.snippet}
                )
                counts.incr(metrics.INVALID)
                summary.invalid += 1
                continue
            if isinstance(result, Skipped):
                self.log.debug("record ignored", extra={"reason": result.reason})
                counts.incr(metrics.IGNORED)
                summary.ignored += 1
                continue
            where = {"bucket": result.bucket, "key": result.key}
            crash_id = crash_id_from_key(result.key, self.config.key_prefix)
            if crash_id is None:
                self.log.debug("not a raw-crash key", extra=where)
                counts.incr(metrics.IGNORED)
                summary.ignored += 1
                continue
            decision = classify(crash_id)
            if decision is Decision.INVALID:
                self.log.warning("invalid crash id", extra={**where, "crash_id": crash_id})
                counts.incr(metrics.INVALID)
                summary.invalid += 1
            elif decision is Decision.DEFER:
                self.log.info("deferred", extra={**where, "crash_id": crash_id})
                counts.incr(metrics.DEFER)
                summary.deferred += 1
            else:
                counts.incr(metrics.ACCEPT)
                summary.accepted += 1
                queues, throttled = pick_queues(self.config.queues, self.rng)
                self.log.info("accepted", extra={**where, "crash_id": crash_id, "queues": queues})
                for queue in throttled:
                    counts.incr(metrics.THROTTLED, tags=[f"queue:{queue}"])
                    summary.throttled += 1
                for queue in queues:
                    messages.setdefault((queue, crash_id), Message(queue, crash_id))
        return list(messages.values())

    def publish(
        self, messages: list[Message], context: Any, counts: metrics.Metrics, summary: Summary
    ) -> None:
        unconfirmed: set[Message] = set()
        try:
            self.publisher.publish(messages, deadline_for(context, self.config.publish_timeout))
        except PublishError as error:
            unconfirmed = set(error.unconfirmed)
            counts.incr(metrics.PUBLISH_ERROR)
            self.log.error(
                "publish failed; Lambda will retry the event",
                extra={
                    "error": redact(str(error), self.publisher.secrets()),
                    "crash_ids": sorted({m.crash_id for m in unconfirmed}),
                },
            )
            raise
        finally:
            for message in messages:
                if message in unconfirmed:
                    continue
                counts.incr(metrics.PUBLISHED, tags=[f"queue:{message.queue}"])
                summary.published.setdefault(message.queue, []).append(message.crash_id)


def broker_source(config: configuration.Config) -> BrokerSource:
    if config.rabbitmq_url:
        return UrlSource(config.rabbitmq_url)
    assert config.rabbitmq_secret_arn
    return SecretsManagerSource(config.rabbitmq_secret_arn)


def from_environment(environ: Any = os.environ) -> Pigeon:
    config = configuration.load(environ)
    logs.setup(config.log_level)
    unknown = settings.unknown(environ)
    if unknown:
        # Names only: a value could be a secret. A typo such as PIGEON_QUEUE shows up here.
        logs.get_logger("pigeon.handler").warning(
            f"ignoring environment variables that are not Pigeon settings: {', '.join(unknown)}",
            extra={"unknown_variables": unknown},
        )
    return Pigeon(
        config,
        Publisher(broker_source(config), config.connect_timeout),
        metrics.make_sink(config.metrics_sink, config.statsd_host, config.statsd_port),
    )


handler = from_environment()
