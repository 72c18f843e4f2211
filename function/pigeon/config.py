"""Configuration from environment variables, validated once at init.

Every problem raises ConfigError naming the variable. Values that may hold a secret
(the broker URL) are never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_KEY_PREFIX = "v2/raw_crash/"
DEFAULT_EVENT_NAMES = "ObjectCreated:Put"
METRICS_SINKS = ("log", "dogstatsd", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,255}$")


class ConfigError(Exception):
    """A missing or bad environment variable; the message names it."""


@dataclass(frozen=True)
class QueueRoute:
    """One destination queue and the percentage of accepted crash ids it gets."""

    name: str
    percent: int = 100


@dataclass(frozen=True)
class Config:
    env: str
    queues: tuple[QueueRoute, ...]
    key_prefix: str = DEFAULT_KEY_PREFIX
    event_names: frozenset[str] = frozenset({DEFAULT_EVENT_NAMES})
    # Exactly one of these two is set. The URL may carry a password: keep it out of repr.
    rabbitmq_url: str | None = field(default=None, repr=False)
    rabbitmq_secret_arn: str | None = None
    metrics_sink: str = "log"
    statsd_host: str = "127.0.0.1"
    statsd_port: int = 8125
    connect_timeout: float = 5.0
    publish_timeout: float = 10.0
    log_level: str = "INFO"


def normalise_event_name(name: str) -> str:
    """S3 says 'ObjectCreated:Put' in records and 's3:ObjectCreated:Put' in bucket configs."""
    name = name.strip()
    return name[3:] if name.startswith("s3:") else name


def parse_queues(value: str, variable: str = "PIGEON_QUEUES") -> tuple[QueueRoute, ...]:
    """Parse 'socorro.normal,15:socorro.submitter' into routes."""
    routes: list[QueueRoute] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            raise ConfigError(f"{variable}: empty entry in the queue list")
        percent_text, _, name = item.rpartition(":")
        name = name.strip()
        percent = 100
        if ":" in item:
            if not percent_text.strip().isdigit():
                raise ConfigError(
                    f"{variable}: percent in {item!r} must be a whole number from 0 to 100"
                )
            percent = int(percent_text)
        if not 0 <= percent <= 100:
            raise ConfigError(f"{variable}: percent in {item!r} must be from 0 to 100")
        if not _QUEUE_NAME.match(name):
            raise ConfigError(f"{variable}: bad queue name in {item!r}")
        if any(route.name == name for route in routes):
            raise ConfigError(f"{variable}: queue {name!r} is listed twice")
        routes.append(QueueRoute(name=name, percent=percent))
    return tuple(routes)


def validate_broker_url(url: str, variable: str) -> None:
    """Check an amqp/amqps URL without ever putting it in a message."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{variable}: not a valid URL") from None
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"{variable}: scheme must be amqp or amqps")
    if not parts.hostname:
        raise ConfigError(f"{variable}: no host")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{variable}: port out of range")


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number of seconds") from None
    if not 0 < value <= 900:
        raise ConfigError(f"{name}: must be more than 0 and at most 900 seconds")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip() or default
    normalised = value.upper() if name == "PIGEON_LOG_LEVEL" else value.lower()
    if normalised not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return normalised


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name}: required but not set")
    return value


def load(environ: Mapping[str, str]) -> Config:
    """Build the Config from environment variables, or raise ConfigError."""
    env = _required(environ, "PIGEON_ENV")
    queues = parse_queues(_required(environ, "PIGEON_QUEUES"))

    url = environ.get("PIGEON_RABBITMQ_URL", "").strip() or None
    arn = environ.get("PIGEON_RABBITMQ_SECRET_ARN", "").strip() or None
    if url and arn:
        raise ConfigError("PIGEON_RABBITMQ_URL and PIGEON_RABBITMQ_SECRET_ARN: set only one")
    if not url and not arn:
        raise ConfigError(
            "PIGEON_RABBITMQ_URL or PIGEON_RABBITMQ_SECRET_ARN: one is required but neither is set"
        )
    if url:
        validate_broker_url(url, "PIGEON_RABBITMQ_URL")
    if arn and not (arn.startswith("arn:") and ":secretsmanager:" in arn):
        raise ConfigError("PIGEON_RABBITMQ_SECRET_ARN: not a Secrets Manager ARN")

    prefix = environ.get("PIGEON_KEY_PREFIX", DEFAULT_KEY_PREFIX)
    if not prefix.strip():
        raise ConfigError("PIGEON_KEY_PREFIX: must not be empty")

    names = environ.get("PIGEON_EVENT_NAMES", "").strip() or DEFAULT_EVENT_NAMES
    event_names = frozenset(normalise_event_name(n) for n in names.split(",") if n.strip())
    if not event_names:
        raise ConfigError("PIGEON_EVENT_NAMES: no event names given")

    statsd_port_raw = environ.get("PIGEON_STATSD_PORT", "").strip() or "8125"
    if not statsd_port_raw.isdigit() or not 0 < int(statsd_port_raw) < 65536:
        raise ConfigError(f"PIGEON_STATSD_PORT: {statsd_port_raw!r} is not a port number")

    return Config(
        env=env,
        queues=queues,
        key_prefix=prefix,
        event_names=event_names,
        rabbitmq_url=url,
        rabbitmq_secret_arn=arn,
        metrics_sink=_choice(environ, "PIGEON_METRICS", METRICS_SINKS, "log"),
        statsd_host=environ.get("PIGEON_STATSD_HOST", "").strip() or "127.0.0.1",
        statsd_port=int(statsd_port_raw),
        connect_timeout=_positive_float(environ, "PIGEON_CONNECT_TIMEOUT", 5.0),
        publish_timeout=_positive_float(environ, "PIGEON_PUBLISH_TIMEOUT", 10.0),
        log_level=_choice(environ, "PIGEON_LOG_LEVEL", LOG_LEVELS, "INFO"),
    )
