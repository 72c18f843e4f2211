"""Drain the on-failure queue: every message is Lambda's destination record of an event it gave
up on (`requestPayload` the event, `responsePayload` the error). Each event is invoked again;
its message is deleted only after that invoke succeeded. A failed one is made visible again when
the run ends, and named in the summary; a message that is not a destination record is left
alone. A run stops at an empty queue, at --max, or at Ctrl-C; what it did not delete is made
visible again at once, for the next run.

A run handles each message once and invokes each event once: a message it already handled
that comes back (its visibility timeout passed during a long run) is not handled again, nor a
new message holding an event it already invoked (the function failed it back to this queue).
When a receive brings nothing it has not handled, the run stops, so it always ends."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.delivery import unwrap
from pigeon.events import NotAnS3Notification, S3Object
from pigeon_tools.cli import interrupts_held
from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.progress import Progress


@dataclass(frozen=True)
class Failed:
    """One destination record: the event Lambda gave up on, and why."""

    message_id: str
    receipt: str
    event: Any
    error_type: str
    crash_ids: list[str]


@dataclass
class Summary:
    redriven: list[str] = field(default_factory=list)  # message ids
    failed: dict[str, str] = field(default_factory=dict)  # message id -> error
    skipped: dict[str, str] = field(default_factory=dict)  # message id -> why
    again: dict[str, str] = field(default_factory=dict)  # message id -> the one it repeats
    planned: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def touched(self) -> bool:
        return bool(self.redriven or self.failed or self.skipped or self.again or self.planned)

    def lines(self, dry_run: bool) -> list[str]:
        if dry_run:
            found = [f"would redrive, {error}: {len(ids)} crash id(s): {' '.join(sorted(ids))}"
                     for error, ids in sorted(self.planned.items())]  # fmt: skip
        else:
            found = [f"redriven: {len(self.redriven)}", f"failed: {len(self.failed)}"]
            found += [f"  failed {m}: {error}" for m, error in sorted(self.failed.items())]
        found.append(f"skipped (not a destination record): {len(self.skipped)}")
        found += [f"  skipped {m}: {why}" for m, why in sorted(self.skipped.items())]
        if self.again:
            found.append(f"not sent again (an event this run already sent): {len(self.again)}")
            found += [f"  again {m}: the event of {was}" for m, was in sorted(self.again.items())]
        return found


def accepted_ids(event: Any, prefix: str, names: frozenset[str]) -> list[str]:
    """The crash ids the function would accept in the event, by its own rules."""
    try:
        units = unwrap(event, names).units
    except NotAnS3Notification:
        return []
    ids = []
    for result in (r for unit in units for r in unit.results):
        crash_id = crash_id_from_key(result.key, prefix) if isinstance(result, S3Object) else None
        if crash_id and classify(crash_id) is Decision.ACCEPT:
            ids.append(crash_id)
    return ids


def parse(message: dict[str, Any], prefix: str, names: frozenset[str]) -> Failed | str:
    """The record, or why the message is not one."""
    try:
        record = json.loads(message.get("Body", ""))
    except ValueError:
        return "the body is not JSON"
    if not isinstance(record, dict) or "requestPayload" not in record:
        return "no requestPayload: not a Lambda destination record"
    response = record.get("responsePayload")
    context = record.get("requestContext") or {}
    error_type = (response.get("errorType") if isinstance(response, dict) else None) or context.get(
        "condition", "unknown"
    )
    event = record["requestPayload"]
    ids = accepted_ids(event, prefix, names)
    return Failed(message["MessageId"], message["ReceiptHandle"], event, str(error_type), ids)


class Redrive:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoker: Invoker | None,
        prefix: str = "v2/raw_crash/",
        names: frozenset[str] = frozenset({"ObjectCreated:Put"}),
        visibility_timeout: int = 300,
    ) -> None:
        self.sqs, self.queue_url, self.invoker = sqs, queue_url, invoker
        self.prefix, self.names, self.visibility = prefix, names, visibility_timeout
        self.summary = Summary()
        self.sent: dict[str, str] = {}  # the events this run invoked (or listed) -> message id

    def waiting(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def receive(self, many: bool = False) -> list[dict[str, Any]]:
        """One message to invoke (its visibility timeout runs while it alone is invoked: ten
        received at once, the last ones could become visible again while the first are invoked,
        go to another reader, and be counted as redriven by a delete that deletes nothing), or
        up to ten to list (`many`, a dry run)."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10 if many else 1,
            WaitTimeSeconds=1,
            VisibilityTimeout=self.visibility,
        )
        return list(response.get("Messages", []))

    def release(self, receipt: str) -> None:
        """Visible again at once: for the next run, or another reader."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )

    def run(self, dry_run: bool = False, most: int | None = None) -> Summary:
        """Drain the queue; `self.summary` holds what was done so far, also after Ctrl-C."""
        self.summary = summary = Summary()
        self.sent = {}
        pending: dict[str, str] = {}  # message id -> receipt: received, not deleted
        handled: set[str] = set()  # message ids: each is handled once a run
        repeats = 0  # receives in a row that brought only messages handled before
        total = self.waiting()
        try:
            with Progress(min(total, most or total), "redrive", "events") as progress:
                while most is None or progress.done < most:
                    received = self.receive(many=dry_run)
                    # Every message received is released unless deleted, also those past --max
                    # and those handled before (their newest receipt is the one that counts).
                    pending.update((m["MessageId"], m["ReceiptHandle"]) for m in received)
                    fresh = [m for m in received if m["MessageId"] not in handled]
                    messages = fresh[: None if most is None else most - progress.done]
                    if not received:  # the queue has nothing visible left
                        break
                    if not messages:
                        # Only what this run handled came back (a failed message past its
                        # visibility timeout): go on for the rest, but once every message it
                        # handled has come back in a row, it would loop: stop.
                        repeats += 1
                        if repeats > len(handled):
                            break
                        continue
                    repeats = 0
                    for message in messages:
                        handled.add(message["MessageId"])
                        if self.one(message, dry_run, summary):
                            del pending[message["MessageId"]]
                        progress.advance(note=f"{len(summary.failed)} failed")
        except BaseException:
            self.release_all(pending.values(), failing=True)
            raise
        self.release_all(pending.values())
        return summary

    def release_all(self, receipts: Iterable[str], failing: bool = False) -> None:
        """Listed, failed, skipped, or not reached before a stop: visible again at once, for
        the next run (the rest of a received batch is not hidden for the timeout). While
        another error ends the run, one here is not the news: those come back by themselves."""
        for receipt in list(receipts):
            try:
                self.release(receipt)
            except Exception:
                if not failing:
                    raise

    def one(self, message: dict[str, Any], dry_run: bool, summary: Summary) -> bool:
        """Handle one message; True when it was deleted (its event invoked successfully)."""
        found = parse(message, self.prefix, self.names)
        if isinstance(found, str):
            summary.skipped[message["MessageId"]] = found
            return False
        event = json.dumps(found.event, sort_keys=True)
        if event in self.sent:  # sent (or listed) once this run: not again, so the run ends
            summary.again[found.message_id] = self.sent[event]
            return False
        self.sent[event] = found.message_id
        if dry_run or self.invoker is None:
            summary.planned[found.error_type].extend(found.crash_ids)
            return False
        answer = self.invoker.invoke(found.event)
        if not answer.ok:
            summary.failed[found.message_id] = answer.error  # released at the end, not retried
            return False
        with interrupts_held():  # deleted and counted, or neither
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=found.receipt)
            summary.redriven.append(found.message_id)
        return True
