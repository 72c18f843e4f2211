"""Publisher confirms: which messages the broker took, and why the others were not confirmed.

A message is confirmed when the broker acks it and did not return it as unroutable. Every
other ending has a kind of its own (``Failure``); the text an operator reads goes with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Failure(StrEnum):
    NACKED = "nacked"
    UNROUTABLE = "unroutable"
    TIMED_OUT = "timed out"
    BLOCKED = "blocked"
    CONNECTION_LOST = "connection lost"
    LOGIN_REFUSED = "login refused"
    # The broker closed the channel with 403 ACCESS_REFUSED: the login was accepted, but the
    # user may not do this (e.g. no write permission on the vhost). Not the node's fault.
    PERMISSION_REFUSED = "permission refused"
    CREDENTIALS_UNAVAILABLE = "credentials unavailable"
    UNEXPECTED = "unexpected error"  # not a broker answer: nothing is known to be confirmed

    @property
    def channel_survives(self) -> bool:
        """A return (no such queue) leaves the channel healthy. A nack may not: a channel whose
        quorum queue lost its leader with messages in flight nacks every later publish to that
        queue, while a new channel works (RabbitMQ 3.10, tests/reliability/test_cluster.py)."""
        return self is Failure.UNROUTABLE

    @property
    def blames_the_node(self) -> bool:
        """The node itself failed or is unreachable: try the others first next time."""
        return self in (Failure.TIMED_OUT, Failure.BLOCKED, Failure.CONNECTION_LOST)


class Message(NamedTuple):
    """One AMQP message: a crash id (its body and message_id) for one queue."""

    queue: str
    crash_id: str


@dataclass(frozen=True)
class Unconfirmed:
    """A message the broker did not confirm, the kind of failure, and its text."""

    message: Message
    failure: Failure
    reason: str  # what the operator reads, e.g. "unroutable: no queue 'socorro.normal'"


@dataclass
class ConfirmTracker:
    """The messages of one publish on a confirm-mode channel, by delivery tag."""

    next_tag: int = 0  # delivery tags go on counting across publishes on one channel
    sent: dict[int, Message] = field(default_factory=dict)
    settled: dict[int, bool] = field(default_factory=dict)  # tag -> acked
    returned: set[tuple[str, str]] = field(default_factory=set)  # (queue, crash id)

    def start(self) -> None:
        self.sent.clear()
        self.settled.clear()
        self.returned.clear()

    def published(self, message: Message) -> None:
        self.next_tag += 1
        self.sent[self.next_tag] = message

    def on_confirm(self, acked: bool, tag: int, multiple: bool) -> None:
        tags = [t for t in self.sent if t <= tag and t not in self.settled] if multiple else [tag]
        for settled in tags:
            self.settled[settled] = acked

    def on_return(self, queue: str, crash_id: str) -> None:
        self.returned.add((queue, crash_id))

    @property
    def all_settled(self) -> bool:
        return len(self.settled) == len(self.sent)

    def unconfirmed(
        self, lost: BaseException | None, blocked: bool, refused: tuple[int, str] | None = None
    ) -> list[Unconfirmed]:
        """Every message sent but not confirmed, with why; `lost` is why the connection or
        channel closed (None if it did not), `blocked` whether the broker blocks publishers,
        `refused` the broker's 403 on the channel (code, text) when that is why it closed."""
        found = []
        for tag, message in self.sent.items():
            if tag not in self.settled:
                found.append(Unconfirmed(message, *_unsettled(lost, blocked, refused)))
            elif not self.settled[tag]:
                found.append(Unconfirmed(message, Failure.NACKED, "nacked by the broker"))
            elif (message.queue, message.crash_id) in self.returned:
                reason = f"unroutable: no queue {message.queue!r}"
                found.append(Unconfirmed(message, Failure.UNROUTABLE, reason))
        return found


def _unsettled(
    lost: BaseException | None, blocked: bool, refused: tuple[int, str] | None
) -> tuple[Failure, str]:
    if refused is not None:
        code, text = refused
        return Failure.PERMISSION_REFUSED, (
            f"RabbitMQ refused the publish on the channel: ({code}) {text} (the login was "
            "accepted; the user lacks a permission, e.g. write on the vhost)"
        )
    if lost is not None:
        return Failure.CONNECTION_LOST, f"connection lost: {describe(lost)}"
    if blocked:
        return Failure.BLOCKED, "broker is blocking publishers (resource alarm)"
    return Failure.TIMED_OUT, "timed out waiting for the broker's confirm"


def describe(error: Any) -> str:
    """pika's connection errors often have an empty str(); their repr says what happened."""
    if error is None:
        return "unknown error"
    name = type(error).__name__
    text = str(error).strip() or repr(error)
    return text if text.startswith(name) else f"{name}: {text}"
