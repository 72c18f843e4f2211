"""One AMQP connection with one confirm-mode channel, driven by hand until a deadline.

pika's SelectConnection runs only while we run its loop, so every wait (connect, open the
channel, confirms, a broker blocking publishers) ends at a deadline we choose, and all messages
of an invocation are in flight together rather than one round trip each.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from pigeon.confirms import ConfirmTracker, Failure, Message, Unconfirmed, describe
from pigeon.endpoints import Node

# A graceful AMQP close may not be answered (blocked or hung broker): wait this long at most,
# and never past the invocation's deadline.
CLOSE_WAIT_SECONDS = 0.5
# The only answer that means "this login is refused" (RabbitMQ sends it for a bad user or
# password). Anything else that ends the handshake means the node failed.
ACCESS_REFUSED = 403


class SessionError(Exception):
    """The session could not be opened; `failure` says how."""

    def __init__(self, failure: Failure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.cut_short = False  # timed out at the invocation's deadline, not its own timeout
        self.none_answered = False  # every node was tried, and none answered


class Session:
    def __init__(self, node: Node, connect_timeout: float) -> None:
        import pika

        self._pika = pika
        self.node = node
        self.opened = False
        self.open_error: BaseException | None = None
        # The broker's Connection.Close during the handshake, if it sent one: (code, text).
        self.handshake_close: tuple[int, str] | None = None
        self.lost: BaseException | None = None  # why the connection or channel closed
        # The broker closed the channel with 403 (a permission the user lacks): (code, text).
        self.refused: tuple[int, str] | None = None
        self.blocked = False
        self.channel: Any = None
        self.confirms = ConfirmTracker()
        self._until: Callable[[], bool] | None = None
        self.connection = pika.SelectConnection(
            parameters=node.connection_parameters(connect_timeout),
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_close,
        )
        # pika reports any close or loss during the handshake as ProbableAuthenticationError;
        # only the broker's own Connection.Close says why. Registered before any frame arrives
        # (the connection is opened by the ioloop, which has not run yet).
        self.connection.callbacks.add(0, pika.spec.Connection.Close, self._on_broker_close)

    # -- callbacks (run inside the ioloop) ---------------------------------------------------
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

    def _on_broker_close(self, frame: Any) -> None:
        if not self.opened:
            self.handshake_close = (frame.method.reply_code, frame.method.reply_text)

    def _on_open_error(self, _connection: Any, error: BaseException) -> None:
        self.open_error = error
        self._wake()

    def _on_close(self, _connection: Any, reason: BaseException) -> None:
        self.lost = reason
        self._wake()

    def _on_channel_close(self, _channel: Any, reason: BaseException) -> None:
        if isinstance(reason, self._pika.exceptions.ChannelClosedByBroker):
            code, text = getattr(reason, "reply_code", None), getattr(reason, "reply_text", "")
            if code == ACCESS_REFUSED:  # a permission the user lacks, not a failing node
                self.refused = (code, str(text))
        if self.lost is None:
            self.lost = reason
        self._wake()

    def _on_blocked(self, _connection: Any, _frame: Any) -> None:
        self.blocked = True

    def _on_unblocked(self, _connection: Any, _frame: Any) -> None:
        self.blocked = False

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        self.confirms.on_return(method.routing_key, properties.message_id)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, self._pika.spec.Basic.Ack)
        self.confirms.on_confirm(acked, method.delivery_tag, method.multiple)
        self._wake()

    # -- driving -------------------------------------------------------------------------------
    @property
    def usable(self) -> bool:
        channel_open = self.channel is not None and self.channel.is_open
        return self.opened and self.lost is None and self.connection.is_open and channel_open

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
        try:
            ended = self.run_until(
                lambda: self.opened or self.open_error is not None or self.lost is not None,
                deadline,
            )
        except self._pika.exceptions.AMQPError as raised:  # raised inside the ioloop
            reason = f"could not connect: {describe(raised)}"
            raise SessionError(Failure.CONNECTION_LOST, reason) from None
        if self.opened:
            return
        error = self.open_error or self.lost
        if error is None and not ended:
            raise SessionError(Failure.TIMED_OUT, "timed out connecting to RabbitMQ")
        if self.handshake_close is not None:
            code, text = self.handshake_close
            if code == ACCESS_REFUSED:
                raise SessionError(Failure.LOGIN_REFUSED, f"login refused: ({code}) {text}")
            # Not a refused login: a node shutting down (320 CONNECTION_FORCED), a vhost it
            # does not have (530): the node failed, another may answer.
            reason = f"could not connect: the node closed the handshake: ({code}) {text}"
            raise SessionError(Failure.CONNECTION_LOST, reason)
        handshake = (
            self._pika.exceptions.ProbableAuthenticationError,
            self._pika.exceptions.ProbableAccessDeniedError,
        )
        if isinstance(error, handshake):
            # pika calls any loss of the stream mid-handshake a probable authentication (or
            # access) error; it keeps the cause as text.
            cause = error.args[0] if error.args else describe(error)
            reason = f"could not connect: the connection was lost during the handshake: {cause}"
            raise SessionError(Failure.CONNECTION_LOST, reason)
        raise SessionError(Failure.CONNECTION_LOST, f"could not connect: {describe(error)}")

    def publish(self, messages: Sequence[Message], deadline: float) -> list[Unconfirmed]:
        """Send all, then wait for every confirm; what was not confirmed, and why."""
        self.confirms.start()
        for message in messages:
            self.channel.basic_publish(
                exchange="",
                routing_key=message.queue,
                body=message.crash_id.encode(),
                properties=self._pika.BasicProperties(
                    delivery_mode=2, message_id=message.crash_id, content_type="text/plain"
                ),
                mandatory=True,
            )
            self.confirms.published(message)
        self.run_until(lambda: self.confirms.all_settled or self.lost is not None, deadline)
        return self.confirms.unconfirmed(self.lost, self.blocked, self.refused)

    def close(self, deadline: float, abort: bool = False) -> None:
        """Close gracefully if the broker answers in time (at once with abort, or when the
        deadline has passed), else drop the socket: after a failure there is no time to wait for
        a broker that is gone."""
        connection = self.connection
        if connection.is_closed:
            return
        wait_until = min(deadline, time.monotonic() + CLOSE_WAIT_SECONDS)
        if not abort and wait_until > time.monotonic():
            if not connection.is_closing:
                with contextlib.suppress(self._pika.exceptions.ConnectionWrongStateError):
                    connection.close()
            self.run_until(lambda: connection.is_closed, wait_until)
        if not connection.is_closed:
            # pika has no public way to drop a connection without the closing handshake, which
            # a blocked or unreachable broker never answers: _terminate_stream closes the socket
            # and runs the close callbacks. tests/component/test_session.py pins it to the pika
            # version in poetry.lock. Closing our own socket is local: it takes no time worth
            # bounding, only one turn of the ioloop.
            reason = self._pika.exceptions.ConnectionClosedByClient(320, "aborted by Pigeon")
            connection._terminate_stream(reason)
            self.run_until(lambda: connection.is_closed, time.monotonic() + CLOSE_WAIT_SECONDS)
