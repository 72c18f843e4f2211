"""Accept, defer, ignore or reject each record; which messages to publish, for which units."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from pigeon import metrics
from pigeon.config import Config
from pigeon.confirms import Message
from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.delivery import Unit
from pigeon.events import Malformed, Skipped
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


@dataclass
class Plan:
    """The messages to publish (each once), and the units (SQS messages) that need each."""

    messages: dict[Message, set[str]] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)  # every SQS message id, in order

    def failed_items(self, unconfirmed: set[Message]) -> list[str]:
        """The SQS messages holding an unconfirmed message: Lambda retries only these."""
        failed = {item for message in unconfirmed for item in self.messages.get(message, ())}
        return [item for item in self.items if item in failed]


class Decider:
    def __init__(self, config: Config, rng: random.Random, log: logging.Logger) -> None:
        self.config = config
        self.rng = rng
        self.log = log

    def decide(self, units: list[Unit], counts: metrics.Metrics, summary: Summary) -> Plan:
        plan = Plan()
        for unit in units:
            if unit.item_id is not None:
                plan.items.append(unit.item_id)
            for result in unit.results:
                summary.records += 1
                for message in self.record(result, counts, summary):
                    owners = plan.messages.setdefault(message, set())
                    if unit.item_id is not None:
                        owners.add(unit.item_id)
        return plan

    def record(self, result: Any, counts: metrics.Metrics, summary: Summary) -> list[Message]:
        if isinstance(result, Malformed):
            extra = {"reason": result.reason, "record": result.snippet}
            self.log.warning("malformed record", extra=extra)
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return []
        if isinstance(result, Skipped):
            self.log.debug("record ignored", extra={"reason": result.reason})
            counts.incr(metrics.IGNORED)
            summary.ignored += 1
            return []
        where = {"bucket": result.bucket, "key": result.key}
        crash_id = crash_id_from_key(result.key, self.config.key_prefix)
        if crash_id is None:
            self.log.debug("not a raw-crash key", extra=where)
            counts.incr(metrics.IGNORED)
            summary.ignored += 1
            return []
        decision = classify(crash_id)
        if decision is Decision.INVALID:
            self.log.warning("invalid crash id", extra={**where, "crash_id": crash_id})
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return []
        if decision is Decision.DEFER:
            self.log.info("deferred", extra={**where, "crash_id": crash_id})
            counts.incr(metrics.DEFER)
            summary.deferred += 1
            return []
        counts.incr(metrics.ACCEPT)
        summary.accepted += 1
        queues, throttled = pick_queues(self.config.queues, self.rng)
        self.log.info("accepted", extra={**where, "crash_id": crash_id, "queues": queues})
        for queue in throttled:
            counts.incr(metrics.THROTTLED, tags=[f"queue:{queue}"])
            summary.throttled += 1
        return [Message(queue, crash_id) for queue in queues]
