"""Accept, defer, ignore or reject each record; which messages to publish, for which units."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pigeon import metrics
from pigeon.config import Config
from pigeon.confirms import Message
from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.delivery import Unit
from pigeon.events import SNIPPET_LIMIT, Malformed, Skipped, snippet
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


class Unrouted(Exception):
    """A record whose crash id was accepted and then could not be routed to its queues."""


@dataclass
class Plan:
    """The messages to publish (each once), and the units (SQS messages) that need each."""

    messages: dict[Message, set[str]] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)  # every SQS message id, in order
    unreadable: set[str] = field(default_factory=set)  # SQS messages Pigeon cannot read
    # Records of a direct event (no SQS message to fail) whose crash id was accepted and then
    # could not be routed: the event fails, so that Lambda retries it and keeps it at the end.
    unrouted: int = 0

    def failed_items(self, unconfirmed: set[Message]) -> list[str]:
        """The SQS messages to fail: those holding an unconfirmed message (Lambda retries
        them), and those Pigeon cannot read (their redrive policy moves them to the dead-letter
        queue once they have failed its maxReceiveCount times)."""
        failed = {item for message in unconfirmed for item in self.messages.get(message, ())}
        return [item for item in self.items if item in failed or item in self.unreadable]


@dataclass
class Ignored:
    """Why the first record of an invocation that was not routine was ignored."""

    reason: str
    key: str | None


def clip(text: str | None) -> str | None:
    """A key or bucket name for a log line: an event can carry a key of megabytes."""
    return text if text is None or len(text) <= SNIPPET_LIMIT else text[:SNIPPET_LIMIT] + "…"


class Decider:
    def __init__(self, config: Config, log: logging.Logger) -> None:
        self.config = config
        self.log = log
        self._ignored: Ignored | None = None

    def decide(self, units: list[Unit], counts: metrics.Metrics, summary: Summary) -> Plan:
        plan = Plan()
        self._ignored = None
        for unit in units:
            if unit.item_id is not None:
                plan.items.append(unit.item_id)
                if unit.unreadable:
                    plan.unreadable.add(unit.item_id)
                    self.log.warning(
                        "SQS message cannot be read: it fails, so that the queue's redrive "
                        "policy moves it to the dead-letter queue",
                        extra={"message_id": unit.item_id},
                    )
            for result in unit.results:
                summary.records += 1
                try:
                    messages = self.alone(result, counts, summary)
                except Unrouted:  # an accepted crash id is never dropped
                    messages = None
                    if unit.item_id is None:
                        plan.unrouted += 1
                if messages is None:  # this record failed on its own: its SQS message fails
                    if unit.item_id is not None:
                        plan.unreadable.add(unit.item_id)
                    continue
                for message in messages:
                    owners = plan.messages.setdefault(message, set())
                    if unit.item_id is not None:
                        owners.add(unit.item_id)
        if summary.records and summary.ignored == summary.records and self._ignored is not None:
            # Often a setting that matches nothing (PIGEON_EVENT_NAMES, PIGEON_KEY_PREFIX):
            # said at the default level, once per invocation, with the first record's key.
            self.log.warning(
                f"every record of the event was ignored ({summary.records}); the first: "
                f"{self._ignored.reason}",
                extra={"reason": self._ignored.reason, "key": self._ignored.key},
            )
        return plan

    def alone(self, result: Any, counts: metrics.Metrics, summary: Summary) -> list[Message] | None:
        """One record decided on its own; None when deciding it raised (a key that breaks a
        parser, a value no one expected): it counts as invalid, and the others go on."""
        accepted = summary.accepted
        try:
            return self.record(result, counts, summary)
        except Exception as error:  # one record's failure is not the event's
            if summary.accepted > accepted:
                # Its crash id was accepted: not an invalid record, a crash id to keep.
                self.log.error(
                    "accepted crash id could not be routed",
                    extra={"reason": type(error).__name__, "record": snippet(result)},
                )
                raise Unrouted from error
            self.log.warning(
                "record could not be decided",
                extra={"reason": type(error).__name__, "record": snippet(result)},
            )
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return None

    def ignored(self, reason: str, key: str | None, routine: bool = False) -> None:
        if self._ignored is None and not routine:
            self._ignored = Ignored(reason, clip(key))

    def record(self, result: Any, counts: metrics.Metrics, summary: Summary) -> list[Message]:
        if isinstance(result, Malformed):
            extra = {"reason": result.reason, "record": result.snippet}
            self.log.warning("malformed record", extra=extra)
            counts.incr(metrics.INVALID)
            summary.invalid += 1
            return []
        if isinstance(result, Skipped):
            skipped = {"reason": result.reason, "key": clip(result.key)}
            self.log.debug("record ignored", extra=skipped)
            self.ignored(result.reason, result.key, result.routine)
            counts.incr(metrics.IGNORED)
            summary.ignored += 1
            return []
        where = {"bucket": clip(result.bucket), "key": clip(result.key)}
        crash_id = crash_id_from_key(result.key, self.config.key_prefix)
        if crash_id is None:
            self.log.debug("not a raw-crash key", extra=where)
            reason = (
                "not a raw-crash key: <PIGEON_KEY_PREFIX><3 chars>/<YYYYMMDD>/<crash id> with "
                f"PIGEON_KEY_PREFIX {self.config.key_prefix!r}"
            )
            self.ignored(reason, result.key)
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
        queues, throttled = pick_queues(self.config.queues, crash_id)
        self.log.info("accepted", extra={**where, "crash_id": crash_id, "queues": queues})
        for queue in throttled:
            counts.incr(metrics.THROTTLED, tags=[f"queue:{queue}"])
            summary.throttled += 1
        return [Message(queue, crash_id) for queue in queues]
