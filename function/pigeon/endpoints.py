"""A broker node from its amqp(s) URL, parsed once: its name, its URL (with the credentials)
and pika's connection parameters.

A URL that pika would refuse at the first publish is refused here instead, naming the variable
(or the secret's field): at init for PIGEON_RABBITMQ_URL, when the secret is read for
PIGEON_RABBITMQ_SECRET_ARN. Only a URL with a query needs pika for that (pika parses its
parameters), and only then is pika imported and its parameters built when the URL is read; a
URL without one is checked here alone, and pika (about 50 ms of imports) comes with the first
connection: the cold start is as long, its Init shorter, and a first invocation with nothing to
publish never imports it. Where Init runs ahead of requests (provisioned concurrency, and
SnapStart's snapshot) pika is imported in Init (pigeon.handler, pigeon.snapstart).

Pigeon sets the timeouts and retries of a connection itself (its one deadline decides), so a URL
that sets them is refused rather than silently overridden; the other query parameters pika knows are
honoured, `heartbeat` included. Nothing of the URL is ever put in a message but the names of its
query parameters.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

from pigeon import redaction
from pigeon.parsers import ConfigError

# The heartbeat Pigeon asks for unless the URL says `heartbeat=`: a frozen function misses
# heartbeats, and the broker then closes the connection, which the next publish reopens.
DEFAULT_HEARTBEAT = 60

# Query parameters whose values Pigeon decides: what decides them instead.
DECIDED_BY_PIGEON = {
    "connection_attempts": "one attempt per node; failover decides",
    "retry_delay": "one attempt per node; failover decides",
    "socket_timeout": "PIGEON_CONNECT_TIMEOUT, within the invocation's deadline",
    "stack_timeout": "PIGEON_CONNECT_TIMEOUT, within the invocation's deadline",
    "blocked_connection_timeout": "PIGEON_PUBLISH_TIMEOUT, within the invocation's deadline",
}
# Parameters whose value pika parses as a number.
NUMERIC = ("channel_max", "frame_max", "heartbeat")


@dataclass(frozen=True)
class Node:
    """One broker node: host:port (what logs and errors name), and how to reach it."""

    name: str
    url: str = field(repr=False)  # holds the password
    where: str = field(default="", repr=False, compare=False)  # the setting it came from
    _built: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def parameters(self) -> Any:
        """pika.URLParameters of the URL, timeouts unset: built once, on first use."""
        if not self._built:
            self._built.append(build_parameters(self.url, self.where))
        return self._built[0]

    def connection_parameters(self, connect_timeout: float) -> Any:
        """A copy of the parameters with the connect timeouts of this attempt."""
        params = copy.copy(self.parameters)
        params.socket_timeout = connect_timeout
        params.stack_timeout = connect_timeout
        return params

    @property
    def password(self) -> str | None:
        return urlsplit(self.url).password


def node_name(url: str) -> str:
    """host:port of a broker URL (never the credentials)."""
    parts = urlsplit(url)
    default = 5671 if parts.scheme == "amqps" else 5672
    return f"{parts.hostname}:{parts.port or default}"


def parse_node(url: str, where: str) -> Node:
    """The node of one URL, or ConfigError naming `where`; the URL is never echoed, and it and
    its password are redacted from every log line and error from now on."""
    redaction.remember(url)
    if url[:4].lower() != "amqp":
        # pika recognises the scheme by the URL's first four characters before it parses the
        # rest as urlsplit does; urlsplit also drops leading control characters and spaces
        # and tabs anywhere, so such a URL would pass here and be refused by pika.
        raise ConfigError(
            f"{where}: the URL must start with amqp:// or amqps:// (nothing before the scheme)"
        )
    try:
        parts = urlsplit(url)
        redaction.remember(parts.password)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: not a valid URL") from None
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"{where}: scheme must be amqp or amqps")
    if not parts.hostname:
        raise ConfigError(f"{where}: no host")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{where}: port out of range")
    if parts.username is not None and parts.password is None:
        raise ConfigError(f"{where}: a user name without a password")
    if parts.fragment:
        raise ConfigError(f"{where}: a URL fragment ('#…') is not part of an AMQP URL")
    query = parse_query(parts.query, where)
    for key in query:
        if key in DECIDED_BY_PIGEON:
            raise ConfigError(
                f"{where}: URL parameter {key!r} is decided by Pigeon "
                f"({DECIDED_BY_PIGEON[key]}): remove it from the URL"
            )
    node = Node(node_name(url), url, where)
    if query:
        node.parameters  # noqa: B018  (pika reads the query: refused now, naming `where`)
    return node


def build_parameters(url: str, where: str) -> Any:
    """pika's parameters of a checked URL, with what Pigeon decides: one attempt, no retry
    delay, no blocked-connection timeout (the deadline decides), its heartbeat by default."""
    query = parse_query(urlsplit(url).query, where)
    parameters = _pika_parameters(url, where, query)
    parameters.connection_attempts = 1
    parameters.retry_delay = 0
    parameters.blocked_connection_timeout = None  # the deadline decides
    if "heartbeat" not in query:
        parameters.heartbeat = DEFAULT_HEARTBEAT
    return parameters


def known_parameters() -> frozenset[str]:
    """The query parameters pika's URLParameters takes (its `_set_url_<name>` methods)."""
    import pika

    prefix = "_set_url_"
    return frozenset(n[len(prefix) :] for n in dir(pika.URLParameters) if n.startswith(prefix))


def parse_query(query: str, where: str) -> dict[str, str]:
    """The URL's query parameters as pika reads them (RabbitMQ's URI spec: `name=value` pairs
    separated by `&`; empty pairs, as a trailing `&` makes, are nothing), but refused where
    pika would refuse them only at the first publish (a name it does not know, a name given
    twice) or silently drop them (a name without a value). A name is shown only when it is one
    pika knows: anything else of the query may be a misplaced password."""
    if not any(query.split("&")):
        return {}  # nothing for pika to read: pika is not imported for it
    known = known_parameters()
    found: dict[str, str] = {}
    for position, pair in enumerate((p for p in query.split("&") if p), 1):
        raw_name, equals, raw_value = pair.partition("=")
        name, value = unquote_plus(raw_name), unquote_plus(raw_value)
        if name not in known:
            raise ConfigError(
                f"{where}: URL query parameter {position} is not one pika knows (it takes "
                f"{', '.join(sorted(known - DECIDED_BY_PIGEON.keys()))})"
            )
        if not equals or not value:
            raise ConfigError(f"{where}: URL parameter {name!r} has no value")
        if name in found:
            raise ConfigError(f"{where}: URL parameter {name!r} is given more than once")
        found[name] = value
    return found


def _pika_parameters(url: str, where: str, query: dict[str, str]) -> Any:
    import pika  # the URL is checked by the library that will use it, at init

    try:
        return pika.URLParameters(url)
    except Exception:  # noqa: S110 (its text may hold what is not to be shown: see below)
        pass
    # Find the parameter pika refused, without echoing anything else of the URL (nor the
    # value: it is the user's text, and may hold what should not be in a log).
    for key, value in query.items():
        try:
            pika.URLParameters(f"{urlsplit(url).scheme}://host/?{key}={quote(value, safe='')}")
        except Exception:
            shape = " (a whole number)" if key in NUMERIC else ""
            raise ConfigError(f"{where}: URL parameter {key!r} is not valid{shape}") from None
    raise ConfigError(f"{where}: pika cannot use this URL") from None
