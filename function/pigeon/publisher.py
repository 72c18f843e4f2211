"""Publish crash ids to RabbitMQ with publisher confirms, within a deadline.

pika's SelectConnection is driven by hand so that every wait (connect, open the
channel, confirms, a broker blocking publishers) ends at one deadline, and so that
all messages of an invocation are in flight together rather than one round trip each.

The connection is kept between warm invocations. If the broker closed it while the
function was frozen, the first publish finds out, and the connection is opened again, once,
and the unconfirmed messages re-sent: delivery is at least once, never lost silently.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pigeon.broker import BrokerSource, redact

# Time kept back from the Lambda deadline for logging, metrics and the error response.
GRACE_SECONDS = 1.0
# A graceful AMQP close may not be answered (blocked or hung broker): wait this long at most.
CLOSE_WAIT_SECONDS = 0.5
ERROR_ID_LIMIT = 50


@dataclass(frozen=True)
class Message:
    queue: str
    crash_id: str


class PublishError(Exception):
    """Some messages were not confirmed by the broker. Lambda retries the whole event."""

    def __init__(self, reason: str, unconfirmed: Sequence[Message]) -> None:
        self.reason = reason
        self.unconfirmed = list(unconfirmed)
        ids = sorted({m.crash_id for m in self.unconfirmed})
        shown = ", ".join(ids[:ERROR_ID_LIMIT])
        more = f" and {len(ids) - ERROR_ID_LIMIT} more" if len(ids) > ERROR_ID_LIMIT else ""
        super().__init__(
            f"{len(self.unconfirmed)} message(s) not confirmed by RabbitMQ: {reason}; "
            f"crash ids not confirmed: {shown}{more}"
        )


class _ConnectionLost(Exception):
    pass


class _AuthFailed(Exception):
    pass


class _SecretUnavailable(Exception):
    pass


class _Session:
    """One AMQP connection with one confirm-mode channel, driven until a deadline."""

    def __init__(self, url: str, connect_timeout: float) -> None:
        import pika  # imported on first publish, not at cold start

        self._pika = pika
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        params.retry_delay = 0
        params.socket_timeout = connect_timeout
        params.stack_timeout = connect_timeout
        params.blocked_connection_timeout = None  # our deadline decides
        params.heartbeat = 60
        self.opened = False
        self.open_error: BaseException | None = None
        self.close_reason: BaseException | None = None
        self.blocked = False
        self.channel: Any = None
        self._until: Callable[[], bool] | None = None
        self._outstanding: set[int] = set()
        self._settled: dict[int, bool] = {}
        self._returned: set[tuple[str, str]] = set()
        self._next_tag = 0
        self.connection = pika.SelectConnection(
            parameters=params,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_close,
        )

    # -- callbacks (run inside the ioloop) -------------------------------------------------
    def _wake(self) -> None:
        # Stop the loop only once the waiter is satisfied: every restart costs a new poller.
        if self._until is None or self._until():
            self.connection.ioloop.stop()

    def _on_open(self, connection: Any) -> None:
        connection.add_on_connection_blocked_callback(self._on_blocked)
        connection.add_on_connection_unblocked_callback(self._on_unblocked)
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        channel.add_on_return_callback(self._on_return)
        channel.add_on_close_callback(self._on_channel_close)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_select_ok)
        self.channel = channel

    def _on_select_ok(self, _frame: Any) -> None:
        self.opened = True
        self._wake()

    def _on_open_error(self, _connection: Any, error: BaseException) -> None:
        self.open_error = error
        self._wake()

    def _on_close(self, _connection: Any, reason: BaseException) -> None:
        self.close_reason = reason
        self._wake()

    def _on_channel_close(self, _channel: Any, reason: BaseException) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        self._wake()

    def _on_blocked(self, _connection: Any, _frame: Any) -> None:
        self.blocked = True

    def _on_unblocked(self, _connection: Any, _frame: Any) -> None:
        self.blocked = False

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        self._returned.add((method.routing_key, properties.message_id))

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        ok = isinstance(method, self._pika.spec.Basic.Ack)
        tag = method.delivery_tag
        tags = [t for t in self._outstanding if t <= tag] if method.multiple else [tag]
        for settled in tags:
            self._outstanding.discard(settled)
            self._settled[settled] = ok
        self._wake()

    # -- driving ---------------------------------------------------------------------------
    @property
    def usable(self) -> bool:
        return (
            self.opened
            and self.close_reason is None
            and self.connection.is_open
            and self.channel is not None
            and self.channel.is_open
        )

    def run_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Run the ioloop until ``done()`` or the deadline; False on timeout."""
        ioloop = self.connection.ioloop
        self._until = done
        try:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                timer = ioloop.call_later(remaining, ioloop.stop)
                ioloop.start()
                ioloop.remove_timeout(timer)
            return True
        finally:
            self._until = None

    def wait_open(self, deadline: float) -> None:
        finished = self.run_until(
            lambda: self.opened or self.open_error is not None or self.close_reason is not None,
            deadline,
        )
        if self.opened:
            return
        error = self.open_error or self.close_reason
        if error is None and not finished:
            raise TimeoutError("timed out connecting to RabbitMQ")
        auth_errors = (
            self._pika.exceptions.ProbableAuthenticationError,
            self._pika.exceptions.AuthenticationError,
        )
        if isinstance(error, auth_errors):
            raise _AuthFailed(describe(error))
        raise _ConnectionLost(f"could not connect: {describe(error)}")

    def publish(self, messages: Sequence[Message], deadline: float) -> list[tuple[Message, str]]:
        """Send all, then wait for every confirm. Returns (message, reason) for each failure."""
        properties = {
            m.crash_id: self._pika.BasicProperties(
                delivery_mode=2, message_id=m.crash_id, content_type="text/plain"
            )
            for m in messages
        }
        self._outstanding.clear()
        self._settled.clear()
        self._returned.clear()
        by_tag: dict[int, Message] = {}
        for message in messages:
            self.channel.basic_publish(
                exchange="",
                routing_key=message.queue,
                body=message.crash_id.encode(),
                properties=properties[message.crash_id],
                mandatory=True,
            )
            self._next_tag += 1
            by_tag[self._next_tag] = message
            self._outstanding.add(self._next_tag)
        finished = self.run_until(
            lambda: len(self._settled) == len(by_tag) or self.close_reason is not None, deadline
        )
        failures: list[tuple[Message, str]] = []
        for tag, message in by_tag.items():
            if tag not in self._settled:
                if self.close_reason is not None:
                    failures.append((message, f"connection lost: {describe(self.close_reason)}"))
                elif self.blocked:
                    failures.append((message, "broker is blocking publishers (resource alarm)"))
                elif not finished:
                    failures.append((message, "timed out waiting for the broker's confirm"))
                else:
                    failures.append((message, "no confirm"))
            elif not self._settled[tag]:
                failures.append((message, "nacked by the broker"))
            elif (message.queue, message.crash_id) in self._returned:
                failures.append((message, f"unroutable: no queue {message.queue!r}"))
        return failures

    def close(self, abort: bool = False) -> None:
        """Close gracefully if the broker answers in time (or at once with abort), else drop
        the socket. After a failure there is no time to wait for a broker that is gone."""
        connection = self.connection
        if connection.is_closed:
            return
        if not abort:
            if not connection.is_closing:
                with contextlib.suppress(self._pika.exceptions.ConnectionWrongStateError):
                    connection.close()
            self.run_until(lambda: connection.is_closed, time.monotonic() + CLOSE_WAIT_SECONDS)
        if not connection.is_closed:
            # pika has no public abort; pika is pinned in poetry.lock and this path is tested.
            reason = self._pika.exceptions.ConnectionClosedByClient(320, "aborted by Pigeon")
            connection._terminate_stream(reason)
            self.run_until(lambda: connection.is_closed, time.monotonic() + CLOSE_WAIT_SECONDS)


class Publisher:
    """Keeps one session between warm invocations."""

    def __init__(self, broker: BrokerSource, connect_timeout: float = 5.0) -> None:
        self._broker = broker
        self._connect_timeout = connect_timeout
        self._session: _Session | None = None

    def secrets(self) -> list[str]:
        return self._broker.secrets()

    def _url(self) -> str:
        try:
            return self._broker.url()
        except Exception as error:  # Secrets Manager unreachable or refusing, or a bad secret
            raise _SecretUnavailable(
                f"could not read the broker secret: {describe(error)}"
            ) from None

    def _open(self, deadline: float) -> _Session:
        connect_by = min(deadline, time.monotonic() + self._connect_timeout)
        session = _Session(self._url(), self._connect_timeout)
        try:
            session.wait_open(connect_by)
        except BaseException:
            session.close(abort=True)
            raise
        return session

    def _open_with_refresh(self, deadline: float) -> _Session:
        try:
            return self._open(deadline)
        except _AuthFailed:
            # The password may have been rotated since we read the secret: read it again, once.
            if not self._broker.refresh():
                raise
            return self._open(deadline)

    def _reusable_session(self) -> _Session | None:
        session = self._session
        if session is None:
            return None
        if session.usable:
            return session
        session.close(abort=True)
        self._session = None
        return None

    def publish(self, messages: Sequence[Message], deadline: float) -> None:
        """Publish every message and wait for its confirm, or raise PublishError."""
        if not messages:
            return
        pending = list(messages)
        session = self._reusable_session()
        reused = session is not None
        try:
            if session is None:
                session = self._session = self._open_with_refresh(deadline)
            failures = session.publish(pending, deadline)
            if failures and reused and session.close_reason is not None:
                # Closed under us while frozen (or just after): one transparent reconnect.
                session.close(abort=True)
                session = self._session = self._open_with_refresh(deadline)
                failures = session.publish([m for m, _ in failures], deadline)
        except (_AuthFailed, _ConnectionLost, _SecretUnavailable, TimeoutError) as error:
            self._discard(abort=True)
            prefix = "login refused: " if isinstance(error, _AuthFailed) else ""
            raise PublishError(self._safe(f"{prefix}{error}"), pending) from None
        if failures:
            if session.close_reason is not None or not finished_cleanly(failures):
                self._discard(abort=True)
            reasons = sorted({reason for _, reason in failures})
            raise PublishError(self._safe("; ".join(reasons)), [m for m, _ in failures])

    def _safe(self, text: str) -> str:
        return redact(text, self._broker.secrets())

    def _discard(self, abort: bool = False) -> None:
        if self._session is not None:
            self._session.close(abort=abort)
            self._session = None

    def close(self) -> None:
        self._discard()


def describe(error: BaseException | None) -> str:
    """pika's connection errors often have an empty str(); their repr says what happened."""
    if error is None:
        return "unknown error"
    name = type(error).__name__
    text = str(error).strip() or repr(error)
    return text if text.startswith(name) else f"{name}: {text}"


def finished_cleanly(failures: Sequence[tuple[Message, str]]) -> bool:
    """Unroutable and nacked messages leave the connection healthy; anything else doesn't."""
    return all(reason.startswith(("unroutable", "nacked")) for _, reason in failures)


def deadline_for(context: Any, publish_timeout: float) -> float:
    """A monotonic deadline: the publish timeout, cut short to end well before Lambda's."""
    now = time.monotonic()
    deadline = now + publish_timeout
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        remaining = get_remaining() / 1000.0
        deadline = min(deadline, now + max(remaining - GRACE_SECONDS, remaining * 0.5))
    return deadline
