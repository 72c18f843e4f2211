"""Lambda's asynchronous invocation (InvocationType=Event): the event goes into a queue and the
caller gets 202 at once; the queue hands events to the fleet's environments. After a function
error (the handler's, the runtime's, a timeout) Lambda tries twice more, one minute after the
first attempt and two minutes after the second; an event older than the maximum event age is
not tried again. An event given up on goes to the on-failure destination, with Lambda's record
(destinations.py), or is dropped when there is none.

Documented: docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
(MaximumRetryAttempts 0-2, default 2; MaximumEventAgeInSeconds 60-21600, default 21600).

`time_scale` multiplies the retry delays and the maximum event age, so that tests can run
Lambda's rules in milliseconds (0.001: 60 ms and 120 ms); 1.0 is Lambda's clock.

Stopping loses no event: `close` stops taking events, `drain` lets the attempts in flight
finish, and `unfinished` names every event not done: queued, awaiting a retry, or in flight
when the fleet closed. An attempt that fails once the queue is closed (the fleet's close kills
the environment under it) is not counted as an attempt, is never given up on, and is reported.
"""

from __future__ import annotations

import heapq
import itertools
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pigeon_tools.lambda_local.destinations import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    invocation_record,
)
from pigeon_tools.lambda_local.fleet import Fleet
from pigeon_tools.lambda_local.sandbox import Outcome

RETRY_DELAYS_S = (60.0, 120.0)  # before the second attempt, before the third
MAXIMUM_RETRY_ATTEMPTS = (0, 2)
MAXIMUM_EVENT_AGE_S = (60, 21600)


class Destination(Protocol):
    def send(self, record: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class AsyncConfig:
    """The function's asynchronous invocation settings (PutFunctionEventInvokeConfig)."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    time_scale: float = 1.0

    def problems(self) -> list[str]:
        found = []
        low, high = MAXIMUM_RETRY_ATTEMPTS
        if not low <= self.maximum_retry_attempts <= high:
            found.append(f"the maximum retry attempts must be from {low} to {high}")
        low, high = MAXIMUM_EVENT_AGE_S
        if not low <= self.maximum_event_age_s <= high:
            found.append(f"the maximum event age must be from {low} to {high} seconds")
        if not self.time_scale > 0:
            found.append("the time scale must be positive")
        return found

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1] * self.time_scale

    @property
    def maximum_age(self) -> float:
        return self.maximum_event_age_s * self.time_scale


@dataclass
class Queued:
    request_id: str
    payload: bytes
    received: float = field(default_factory=time.monotonic)
    attempts: int = 0
    last: Outcome | None = None


@dataclass
class AsyncCounts:
    received: int = 0
    succeeded: int = 0
    retries: int = 0  # attempts after the first
    given_up: int = 0
    sent_to_destination: int = 0
    destination_failures: int = 0
    dropped: int = 0  # given up, and no destination to send it to


def _stderr(line: str) -> None:
    print(f"async: {line}", file=sys.stderr, flush=True)


class EventQueue:
    def __init__(
        self,
        fleet: Fleet,
        config: AsyncConfig | None = None,
        on_failure: Destination | None = None,
        note: Callable[[str], None] = _stderr,
    ) -> None:
        self.fleet, self.config = fleet, config or AsyncConfig()
        if problems := self.config.problems():
            raise ValueError("; ".join(problems))
        self.on_failure, self.note = on_failure, note
        self.counts = AsyncCounts()
        self._due: list[tuple[float, int, Queued]] = []  # a heap by due time, then arrival
        self._order = itertools.count()
        self._running = 0
        self._in_flight: dict[int, Queued] = {}  # by id(): what the workers are attempting
        self._changed = threading.Condition()
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, daemon=True, name=f"async-{n}")
            for n in range(fleet.limit)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, payload: bytes) -> str:
        """Queue one event; its request id (the same for every attempt, as in Lambda)."""
        event = Queued(str(uuid.uuid4()), payload)
        with self._changed:
            self.counts.received += 1
            self._push(event, event.received)
        return event.request_id

    def _push(self, event: Queued, due: float) -> None:
        heapq.heappush(self._due, (due, next(self._order), event))
        self._changed.notify()

    def _take(self) -> Queued | None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    self._running += 1
                    event = heapq.heappop(self._due)[2]
                    self._in_flight[id(event)] = event
                    return event
                self._changed.wait(self._due[0][0] - now if self._due else None)
            return None

    def _work(self) -> None:
        while (event := self._take()) is not None:
            try:
                self._attempt(event)
            except Exception as error:  # the local runtime's own failure, not the function's
                # As Lambda does with a system error: the event goes back to the queue, not
                # counted as an attempt, until its maximum age.
                delay = self.config.retry_delay(1)
                self.note(f"{event.request_id}: not run ({error!r}); again in {delay:g} s")
                with self._changed:
                    self._push(event, time.monotonic() + delay)
            finally:
                with self._changed:
                    self._running -= 1
                    self._in_flight.pop(id(event), None)
                    self._changed.notify_all()

    def _attempt(self, event: Queued) -> None:
        sandbox = self.fleet.acquire(wait=True)
        if sandbox is None:  # the fleet closed: the event stays queued, and is reported
            with self._changed:
                self._push(event, time.monotonic())
            return
        if time.monotonic() - event.received >= self.config.maximum_age:
            self.fleet.release(sandbox)
            self._give_up(event, EVENT_AGE_EXCEEDED)
            return
        outcome = self.fleet.invoke(sandbox, event.payload, event.request_id)
        if outcome.ok:
            event.attempts, event.last = event.attempts + 1, outcome
            with self._changed:
                self.counts.succeeded += 1
            return
        with self._changed:
            if self._closed:  # cut short by the shutdown, or failed during it: not done
                self._push(event, time.monotonic())
                return
        event.attempts, event.last = event.attempts + 1, outcome
        error = _error_text(outcome)
        if event.attempts > self.config.maximum_retry_attempts:
            self.note(f"{event.request_id}: attempt {event.attempts} failed ({error})")
            self._give_up(event, RETRIES_EXHAUSTED)
            return
        delay = self.config.retry_delay(event.attempts)
        self.note(
            f"{event.request_id}: attempt {event.attempts} failed ({error}); retry in {delay:g} s"
        )
        with self._changed:
            self.counts.retries += 1
            self._push(event, time.monotonic() + delay)

    def _give_up(self, event: Queued, condition: str) -> None:
        with self._changed:
            self.counts.given_up += 1
        if self.on_failure is None:
            with self._changed:
                self.counts.dropped += 1
            self.note(
                f"{event.request_id}: {condition}, dropped (no on-failure destination); the "
                f"event: {event.payload.decode('utf-8', 'replace')}"
            )
            return
        record = invocation_record(
            event.request_id,
            self.fleet.spec.arn,
            condition,
            event.attempts,
            event.payload,
            event.last,
        )
        try:
            self.on_failure.send(record)
        except Exception as error:  # Lambda counts DestinationDeliveryFailures; keep the record
            with self._changed:
                self.counts.destination_failures += 1
            self.note(
                f"{event.request_id}: could not send to the on-failure destination ({error}); "
                f"the record: {json.dumps(record)}"
            )
            return
        with self._changed:
            self.counts.sent_to_destination += 1
        self.note(f"{event.request_id}: {condition}, sent to the on-failure destination")

    def stats(self) -> dict[str, Any]:
        with self._changed:
            waiting = [e for _, _, e in self._due]
            return {
                **vars(self.counts),
                "queued": sum(1 for e in waiting if e.attempts == 0),
                "awaiting_retry": sum(1 for e in waiting if e.attempts > 0),
                "running": self._running,
                "pending": len(waiting) + self._running,
            }

    def close(self) -> None:
        """Stop taking events (attempts already running go on: `drain` waits for them; those
        the fleet's close cuts short are put back, not done)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def drain(self, timeout: float) -> bool:
        """After close: wait up to `timeout` seconds for the attempts in flight to end; True
        when none is left."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return not self._running

    def unfinished(self, timeout: float = 10.0) -> list[tuple[str, bytes]]:
        """After close (and the fleet's close): the events not done, (request id, payload),
        the queued and those awaiting a retry, then any attempt still in flight after
        `timeout`: they would be lost with this process (Lambda's queue is durable, this one
        is in memory)."""
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._changed:
            waiting = [e for _, _, e in sorted(self._due)]
            queued = {id(e) for e in waiting}
            running = [e for key, e in self._in_flight.items() if key not in queued]
            return [(e.request_id, e.payload) for e in waiting + running]


def _error_text(outcome: Outcome) -> str:
    try:
        error = outcome.json()
    except ValueError:
        return outcome.payload.decode("utf-8", "replace")[:200]
    if isinstance(error, dict):
        return f"{error.get('errorType')}: {str(error.get('errorMessage'))[:200]}"
    return str(error)[:200]
