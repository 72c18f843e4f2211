"""The Lambda entry point: S3 notifications in (directly, or through SQS, SNS or EventBridge),
confirmed RabbitMQ messages out.

Configured from the environment at init (cold start): a bad value fails init and names
the variable. ``handler`` is what Lambda calls: ``pigeon.handler.handler``.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from pigeon import config as configuration
from pigeon import logs, metrics, settings
from pigeon.credentials import BrokerSource, SecretsManagerSource, UrlSource, redact
from pigeon.decisions import Decider, Plan, Summary
from pigeon.delivery import Delivery, unwrap
from pigeon.events import NotAnS3Notification
from pigeon.lambda_context import deadline_for, request_id
from pigeon.publisher import Message, Publisher, PublishError


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
        self.log = logs.get_logger("pigeon.handler")
        self.decider = Decider(config, rng or random.Random(), self.log)

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        logs.start_invocation(request_id(context))
        counts = metrics.Metrics(self.sink, self.config.env)
        summary = Summary()
        try:
            delivery = self.unwrap(event, counts, summary)
            plan = self.decider.decide(delivery.units, counts, summary)
            failed = self.publish(plan, context, counts, summary, delivery.batch)
            result = summary.as_dict()
            if delivery.batch:  # SQS: Lambda retries exactly these messages
                result["batchItemFailures"] = [{"itemIdentifier": item} for item in failed]
            return result
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

    def unwrap(self, event: Any, counts: metrics.Metrics, summary: Summary) -> Delivery:
        try:
            return unwrap(event, self.config.event_names)
        except NotAnS3Notification as error:
            message = "event is not an S3 notification (direct, SQS, SNS or EventBridge)"
            self.log.error(f"{message}; nothing to do", extra={"error": str(error)})
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return Delivery("none", [])

    def publish(
        self, plan: Plan, context: Any, counts: metrics.Metrics, summary: Summary, batch: bool
    ) -> list[str]:
        """Publish the plan; the SQS messages to retry (raises instead, unless SQS)."""
        messages = list(plan.messages)
        unconfirmed: set[Message] = set()
        try:
            self.publisher.publish(messages, deadline_for(context, self.config.publish_timeout))
        except PublishError as error:
            unconfirmed = set(error.unconfirmed)
            counts.incr(metrics.PUBLISH_ERROR)
            retried = plan.failed_items(unconfirmed)
            self.log.error(
                "publish failed; Lambda will retry "
                + (f"{len(retried)} SQS message(s)" if batch else "the event"),
                extra={
                    "error": redact(str(error), self.publisher.secrets()),
                    "crash_ids": sorted({m.crash_id for m in unconfirmed}),
                    **({"retried_messages": retried} if batch else {}),
                },
            )
            if not batch:
                raise
            return retried
        finally:
            for message in messages:
                if message in unconfirmed:
                    continue
                counts.incr(metrics.PUBLISHED, tags=[f"queue:{message.queue}"])
                summary.published.setdefault(message.queue, []).append(message.crash_id)
        return []


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
