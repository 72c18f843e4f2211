"""The Lambda entry point: S3 notifications in (directly, or through SQS, SNS or EventBridge),
confirmed RabbitMQ messages out.

Configured from the environment at init (cold start): a bad value fails init and names
the variable. ``handler`` is what Lambda calls: ``pigeon.handler.handler``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pigeon import config as configuration
from pigeon import logs, metrics, settings
from pigeon import snapstart as _snapstart  # noqa: F401  (registers SnapStart's hooks)
from pigeon.confirms import Failure, Unconfirmed, describe
from pigeon.credentials import BrokerSource, SecretsManagerSource, UrlSource
from pigeon.decisions import Decider, Plan, Summary
from pigeon.delivery import Delivery, unwrap
from pigeon.events import NotAnS3Notification
from pigeon.lambda_context import deadline_for, request_id
from pigeon.publisher import Publisher, PublishError


class UnnamedSqsMessage(Exception):
    """An SQS record without a messageId: batchItemFailures cannot name it (Lambda would take
    an empty itemIdentifier as a failure of the whole batch anyway), so the batch fails."""


class UnroutedRecords(Exception):
    """A direct event with a record whose accepted crash id could not be routed: there is no
    SQS message to fail for it alone, so the event fails (the others are published first)."""


class Pigeon:
    """One configured function: call it with (event, context) like Lambda does."""

    def __init__(self, config: configuration.Config, publisher: Publisher, sink: metrics.Sink):
        self.config = config
        self.publisher = publisher
        self.sink = sink
        self.log = logs.get_logger("pigeon.handler")
        self.decider = Decider(config, self.log)

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        # First: the one deadline that bounds every wait of the invocation, the secret included.
        deadline = deadline_for(context, self.config.publish_timeout)
        logs.start_invocation(request_id(context))
        counts = metrics.Metrics(self.sink, self.config.env)
        summary = Summary()
        try:
            delivery = self._delivery(event, counts, summary)
            plan = self.decider.decide(delivery.units, counts, summary)
            failed = self._publish(plan, deadline, counts, summary, delivery.batch)
            if plan.unrouted:
                raise UnroutedRecords(
                    f"{plan.unrouted} record(s) of the event had an accepted crash id that could "
                    "not be routed to its queues: the event fails so that Lambda retries it and, "
                    "failing still, keeps it on the on-failure queue (crash ids confirmed now are "
                    "published again)"
                )
            if delivery.unnamed:
                raise UnnamedSqsMessage(
                    f"{delivery.unnamed} record(s) of the SQS batch have no messageId: Pigeon "
                    "cannot name them in batchItemFailures, so the whole batch fails and SQS "
                    "keeps every message (crash ids confirmed now are published again)"
                )
            result = summary.as_dict()
            if delivery.batch:  # SQS: Lambda retries exactly these messages
                result["batchItemFailures"] = [{"itemIdentifier": item} for item in failed]
                if failed:
                    counts.incr(metrics.ITEM_FAILURE, len(failed))
            return result
        finally:
            counted = counts.summary_fields()
            counts.flush()
            # At ERROR when SQS messages failed (their ids were not confirmed): the item-failures
            # alarm reads this line, and must see it whatever PIGEON_LOG_LEVEL is.
            log = self.log.error if counted.get("item_failures") else self.log.info
            log(
                "invocation summary",
                extra={
                    **{k: v for k, v in summary.as_dict().items() if k != "published"},
                    "published": sum(len(ids) for ids in summary.published.values()),
                    **counted,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
            logs.end_invocation()

    def _delivery(self, event: Any, counts: metrics.Metrics, summary: Summary) -> Delivery:
        try:
            return unwrap(event, self.config.event_names)
        except NotAnS3Notification as error:
            message = "event is not an S3 notification (direct, SQS, SNS or EventBridge)"
            self.log.error(f"{message}; nothing to do", extra={"error": str(error)})
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return Delivery("none", [])

    def _publish(
        self, plan: Plan, deadline: float, counts: metrics.Metrics, summary: Summary, batch: bool
    ) -> list[str]:
        """Publish the plan; the SQS messages to fail (raises instead, unless SQS)."""
        messages = list(plan.messages)
        error: PublishError | None = None
        try:
            self.publisher.publish(messages, deadline)
        except PublishError as raised:
            error = raised
        except Exception as raised:  # not a broker answer: nothing is known to be confirmed
            reason = f"unexpected error: {describe(raised)}"
            unconfirmed = [Unconfirmed(m, Failure.UNEXPECTED, reason) for m in messages]
            error = PublishError(unconfirmed)
        not_confirmed = set(error.unconfirmed) if error else set()
        for message in messages:  # published means confirmed, and nothing else
            if message not in not_confirmed:
                counts.incr(metrics.PUBLISHED, tags=[f"queue:{message.queue}"])
                summary.published.setdefault(message.queue, []).append(message.crash_id)
        retried = plan.failed_items(not_confirmed)
        if error is None:
            return retried
        counts.incr(metrics.PUBLISH_ERROR)
        self.log.error(
            "publish failed; Lambda will retry "
            + (f"{len(retried)} SQS message(s)" if batch else "the event"),
            extra={
                "error": str(error),  # redacted when made; the log filter redacts again
                "crash_ids": sorted({m.crash_id for m in not_confirmed}),
                **({"retried_messages": retried} if batch else {}),
            },
        )
        if not batch:
            raise error
        return retried


def broker_source(config: configuration.Config) -> BrokerSource:
    if config.rabbitmq_nodes:
        return UrlSource(config.rabbitmq_nodes)
    assert config.rabbitmq_secret_arn
    return SecretsManagerSource(config.rabbitmq_secret_arn)


def from_environment(environ: Any = os.environ) -> Pigeon:
    config = configuration.load(environ)
    lambda_level = environ.get("AWS_LAMBDA_LOG_LEVEL")
    logs.setup(logs.level_for(config.log_level, lambda_level))
    log = logs.get_logger("pigeon.handler")
    overridden = logs.overridden(environ.get("PIGEON_LOG_LEVEL"), lambda_level)
    if overridden:
        log.warning(overridden)
    unknown = settings.unknown(environ)
    if unknown:
        # Names only: a value could be a secret. A typo such as PIGEON_QUEUE shows up here.
        log.warning(
            f"ignoring environment variables that are not Pigeon settings: {', '.join(unknown)}",
            extra={"unknown_variables": unknown},
        )
    broker = broker_source(config)
    broker.prefetch()  # the secret, read in Init when it can be; never fails Init
    if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
        # This Init runs ahead of any request: what the first publish needs is imported now
        # (on demand, pika comes with the first connection: pigeon.endpoints).
        import pika  # noqa: F401
    return Pigeon(
        config,
        Publisher(broker, config.connect_timeout),
        metrics.make_sink(config.metrics_sink, config.statsd_host, config.statsd_port),
    )


handler = from_environment()
