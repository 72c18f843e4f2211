"""Publish crash ids to RabbitMQ with publisher confirms, within a deadline: the policy.

One session is kept between warm invocations. If the broker closed it while the function was
frozen, the first publish finds out, and the session is opened again, once, and the unconfirmed
messages re-sent: delivery is at least once, never lost silently. A refused login reads the
secret again, once (it may have been rotated). With several nodes (a cluster), the first that
answers in ``pigeon.nodes``' order is used; a node that failed is tried last next time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pigeon import logs
from pigeon.confirms import Failure, Message, Unconfirmed, describe
from pigeon.credentials import BrokerSource, SecretUnavailable
from pigeon.endpoints import Node
from pigeon.nodes import NodeOrder
from pigeon.parsers import ConfigError
from pigeon.redaction import redact
from pigeon.session import Session, SessionError

ERROR_ID_LIMIT = 50


class PublishError(Exception):
    """Some messages were not confirmed by the broker; ``unconfirmed`` is exactly those. The
    handler raises it, and Lambda retries the event (direct S3, SNS, EventBridge); from an SQS
    batch it reports instead the SQS messages holding them (batchItemFailures), and Lambda
    retries those messages only."""

    def __init__(self, unconfirmed: Sequence[Unconfirmed]) -> None:
        self.failures = {u.failure for u in unconfirmed}
        self.unconfirmed = [u.message for u in unconfirmed]
        reason = redact("; ".join(sorted({u.reason for u in unconfirmed})))
        ids = sorted({m.crash_id for m in self.unconfirmed})
        shown = ", ".join(ids[:ERROR_ID_LIMIT])
        more = f" and {len(ids) - ERROR_ID_LIMIT} more" if len(ids) > ERROR_ID_LIMIT else ""
        super().__init__(
            f"{len(self.unconfirmed)} message(s) not confirmed by RabbitMQ: {reason}; "
            f"crash ids not confirmed: {shown}{more}"
        )


class Publisher:
    def __init__(
        self, broker: BrokerSource, connect_timeout: float = 5.0, order: NodeOrder | None = None
    ) -> None:
        self._broker = broker
        self._connect_timeout = connect_timeout
        self._order = order or NodeOrder()
        self._session: Session | None = None
        self._log = logs.get_logger("pigeon.publisher")

    def _nodes(self, deadline: float) -> tuple[Node, ...]:
        try:
            return self._broker.nodes(deadline)
        except Exception as error:  # Secrets Manager unreachable, refusing or slow; a bad secret
            # Its own errors name the setting already; anything else is said by its type.
            known = isinstance(error, SecretUnavailable | ConfigError)
            reason = f"could not read the broker secret: {error if known else describe(error)}"
            raise SessionError(Failure.CREDENTIALS_UNAVAILABLE, reason) from None

    def _open(self, deadline: float) -> Session:
        nodes = self._nodes(deadline)
        candidates = self._order.candidates(nodes)
        failures: list[tuple[Node, SessionError]] = []
        for node in candidates:
            if time.monotonic() >= deadline:
                break  # the nodes not tried are not to blame: no time was left to try them
            try:
                return self._connect(node, deadline)
            except SessionError as error:
                if error.failure is Failure.LOGIN_REFUSED:
                    raise  # a cluster's nodes share their users: another node refuses too
                if not error.cut_short:  # a node given less than its connect timeout is not
                    self._order.failed(node)  # known to be down
                failures.append((node, error))
                if len(candidates) > 1:
                    self._log.warning(
                        f"RabbitMQ node {node.name} did not answer; trying the next",
                        extra={"node": node.name, "error": str(error)},
                    )
        raise _none_answered(failures, len(candidates))

    def _connect(self, node: Node, deadline: float) -> Session:
        session = Session(node, self._connect_timeout)
        own = time.monotonic() + self._connect_timeout
        try:
            session.wait_open(min(deadline, own))
        except SessionError as error:
            session.close(deadline, abort=True)
            # Timed out at the invocation's deadline, before its own connect timeout: the node
            # may be fine, it was given too little time to say.
            error.cut_short = error.failure is Failure.TIMED_OUT and deadline < own
            raise
        except BaseException:
            session.close(deadline, abort=True)
            raise
        return session

    def _open_with_refresh(self, deadline: float) -> Session:
        try:
            return self._open(deadline)
        except SessionError as error:
            # A refused login: the password may have been rotated. No node answered: the broker
            # may have moved (a new secret lists other nodes). Read the secret again, once.
            if not (error.failure is Failure.LOGIN_REFUSED or error.none_answered):
                raise
            before = self._broker.nodes(deadline) if error.none_answered else ()
            if not self._broker.refresh():
                raise
            try:
                if error.none_answered:
                    after = self._nodes(deadline)
                    if [n.url for n in after] == [n.url for n in before]:
                        reason = f"{error}; the secret, read again, lists the same nodes"
                        raise SessionError(error.failure, reason) from None
                return self._open(deadline)
            except SessionError as again:
                if again.failure is not Failure.CREDENTIALS_UNAVAILABLE:
                    raise
                # Not read again (Secrets Manager failing, or no time left): the first error is
                # what the operator must see.
                reason = f"{error}; reading the secret again failed: {again}"
                raise SessionError(error.failure, reason) from None

    def _reusable(self, deadline: float) -> Session | None:
        if self._session is not None and not self._session.usable:
            self._discard(deadline, node_failed=True)
        return self._session

    def publish(self, messages: Sequence[Message], deadline: float) -> None:
        """Publish every message and wait for its confirm, or raise PublishError naming exactly
        the messages that no session confirmed."""
        if not messages:
            return
        session = self._reusable(deadline)
        reused = session is not None
        pending = list(messages)
        try:
            if session is None:
                session = self._session = self._open_with_refresh(deadline)
            spent = time.monotonic() >= deadline
            failed = session.publish(pending, deadline)
            refused = any(u.failure is Failure.PERMISSION_REFUSED for u in failed)
            if failed and reused and session.lost is not None and not refused:
                # Closed under us while frozen (or just after), or the node went away: one
                # transparent reconnect, to another node first when there are several. Only
                # what the first session did not confirm is sent again.
                pending = [u.message for u in failed]
                self._log.info(
                    f"connection to RabbitMQ node {session.node.name} was lost; reconnecting "
                    f"once to re-send {len(pending)} unconfirmed message(s)",
                    extra={
                        "node": session.node.name,
                        "error": describe(session.lost),
                    },
                )
                self._discard(deadline, node_failed=True)
                session = self._session = self._open_with_refresh(deadline)
                spent = time.monotonic() >= deadline
                failed = session.publish(pending, deadline)
        except SessionError as error:
            self._discard(deadline, node_failed=True)
            raise PublishError(
                [Unconfirmed(m, error.failure, str(error)) for m in pending]
            ) from None
        except BaseException:
            self._discard(deadline)  # in a state no one knows: never reused
            raise
        if failed:
            if session.lost is not None or not all(u.failure.channel_survives for u in failed):
                # A time-out with no time left (the deadline spent before the publish) is no
                # sign that the node failed; a lost connection, a block or a real time-out are.
                blamed = any(u.failure.blames_the_node for u in failed) and not spent
                self._discard(deadline, node_failed=blamed)
            raise PublishError(failed)

    def forget(self, deadline: float) -> None:
        """Before a SnapStart snapshot: close the broker connection (a socket in a snapshot is
        dead, or shared, in every restored environment), and forget the node order and what
        the broker source read, so each restored environment chooses and reads its own."""
        self._discard(deadline)
        self._order.forget()
        self._broker.forget()

    def _discard(self, deadline: float, node_failed: bool = False) -> None:
        """Close the session; after a failure at once, and its node goes to the back."""
        session, self._session = self._session, None
        if session is None:
            return
        session.close(deadline, abort=node_failed)
        if node_failed:
            self._order.failed(session.node)


def _none_answered(failures: list[tuple[Node, SessionError]], nodes: int) -> SessionError:
    """One node: its own error, as ever. Several: each node's, in the order tried. None tried
    (the deadline was spent before the first): a time-out that blames no node."""
    if not failures:
        return SessionError(
            Failure.TIMED_OUT,
            f"no time left before the invocation's deadline to connect to RabbitMQ ({nodes} "
            "node(s) not tried)",
        )
    if nodes == 1:
        error = failures[0][1]
    else:
        timed_out = all(error.failure is Failure.TIMED_OUT for _, error in failures)
        each = "; ".join(f"{node.name}: {error}" for node, error in failures)
        untried = nodes - len(failures)
        late = f"; {untried} not tried before the deadline" if untried else ""
        error = SessionError(
            Failure.TIMED_OUT if timed_out else Failure.CONNECTION_LOST,
            f"no RabbitMQ node answered ({len(failures)} of {nodes} tried): {each}{late}",
        )
    # Every node tried failed, not for want of time: the broker may have moved.
    error.none_answered = not all(e.cut_short for _, e in failures)
    return error
