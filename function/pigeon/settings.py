"""Every environment variable Pigeon reads, declared once: name, default, parser and doc.

``config.load`` reads them, init warns about any other ``PIGEON_*`` variable, the local runtime
forwards only these, docs/configuration.md is generated from them, and the Terraform tests check
the function module's environment against them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PREFIX = "PIGEON_"
METRICS_SINKS = ("log", "dogstatsd", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# One queue of PIGEON_QUEUES: `[PERCENT:]NAME`. The Terraform module's validation uses the same
# pattern (tests/infra check both against one table of cases).
QUEUE_ITEM = re.compile(r"[ \t]*(?:([0-9]{1,3})[ \t]*:)?[ \t]*([A-Za-z0-9_.\-]{1,255})[ \t]*")


class ConfigError(Exception):
    """A missing or bad environment variable; the message names it."""


@dataclass(frozen=True)
class QueueRoute:
    """One destination queue and the percentage of accepted crash ids it gets."""

    name: str
    percent: int = 100


def normalise_event_name(name: str) -> str:
    """S3 says 'ObjectCreated:Put' in records and 's3:ObjectCreated:Put' in bucket configs."""
    name = name.strip()
    return name[3:] if name.startswith("s3:") else name


# -- parsers: (value, variable name) -> value, or ConfigError naming the variable ---------------
def text(value: str, name: str) -> str:
    return value.strip()


def not_blank(value: str, name: str) -> str:
    if not value.strip():
        raise ConfigError(f"{name}: must not be empty")
    return value


def parse_queues(value: str, name: str = "PIGEON_QUEUES") -> tuple[QueueRoute, ...]:
    """Parse 'socorro.normal,15:socorro.submitter' into routes."""
    routes: list[QueueRoute] = []
    for item in value.split(","):
        if not item.strip():
            raise ConfigError(f"{name}: empty entry in the queue list")
        match = QUEUE_ITEM.fullmatch(item)
        if match is None:
            raise ConfigError(
                f"{name}: {item.strip()!r} is not [PERCENT:]QUEUE (a whole percent from 0 to 100,"
                " a queue name of letters, digits, '_', '.' or '-')"
            )
        percent = int(match.group(1) or 100)
        if percent > 100:
            raise ConfigError(f"{name}: percent in {item.strip()!r} must be from 0 to 100")
        queue = match.group(2)
        if any(route.name == queue for route in routes):
            raise ConfigError(f"{name}: queue {queue!r} is listed twice")
        routes.append(QueueRoute(name=queue, percent=percent))
    return tuple(routes)


def validate_broker_url(url: str, name: str) -> str:
    """Check an amqp/amqps URL without ever putting it in a message."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name}: not a valid URL") from None
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(f"{name}: scheme must be amqp or amqps")
    if not parts.hostname:
        raise ConfigError(f"{name}: no host")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{name}: port out of range")
    return url


def broker_url(value: str, name: str) -> str:
    return validate_broker_url(value.strip(), name)


def secret_arn(value: str, name: str) -> str:
    arn = value.strip()
    if not (arn.startswith("arn:") and ":secretsmanager:" in arn):
        raise ConfigError(f"{name}: not a Secrets Manager ARN")
    return arn


def event_names(value: str, name: str) -> frozenset[str]:
    names = frozenset(normalise_event_name(n) for n in value.split(",") if n.strip())
    if not names:
        raise ConfigError(f"{name}: no event names given")
    return names


def port(value: str, name: str) -> int:
    raw = value.strip()
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name}: {raw!r} is not a port number")
    return int(raw)


def seconds(value: str, name: str) -> float:
    raw = value.strip()
    try:
        number = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number of seconds") from None
    if not 0 < number <= 900:
        raise ConfigError(f"{name}: must be more than 0 and at most 900 seconds")
    return number


def choice(*choices: str, upper: bool = False) -> Callable[[str, str], str]:
    def parse(value: str, name: str) -> str:
        normalised = value.strip().upper() if upper else value.strip().lower()
        if normalised not in choices:
            raise ConfigError(f"{name}: {value.strip()!r} is not one of {', '.join(choices)}")
        return normalised

    parse.__doc__ = " | ".join(choices)
    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    field: str  # the Config attribute it fills
    doc: str
    parse: Callable[[str, str], Any] = text
    default: str | None = None  # None: no default (see required and one_of)
    required: bool = False
    one_of: str = ""  # exactly one setting of the group must be set
    blank_is_unset: bool = True  # a blank value means "use the default"
    secret: bool = False  # the value may hold a password: never echoed, never documented

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.name)
        if raw is None or (self.blank_is_unset and not raw.strip()):
            if self.required:
                raise ConfigError(f"{self.name}: required but not set")
            return None if self.default is None else self.parse(self.default, self.name)
        return self.parse(raw, self.name)


SETTINGS: tuple[Setting, ...] = (
    Setting("PIGEON_ENV", "env", "Environment tag: `env:<value>` on every metric.", required=True),
    Setting(
        "PIGEON_QUEUES",
        "queues",
        "`[PERCENT:]QUEUE,…`, e.g. `socorro.normal,15:socorro.submitter`: each accepted crash id "
        "goes to each queue with probability PERCENT/100 (default 100).",
        parse_queues,
        required=True,
    ),
    Setting(
        "PIGEON_RABBITMQ_URL",
        "rabbitmq_url",
        "`amqp://` or `amqps://` URL with credentials (development and tests).",
        broker_url,
        one_of="broker",
        secret=True,
    ),
    Setting(
        "PIGEON_RABBITMQ_SECRET_ARN",
        "rabbitmq_secret_arn",
        'Secrets Manager secret holding JSON `{"url": …}` or `{"host", "username", '
        '"password", "port", "virtual_host", "tls"}` (`tls` defaults to true). Read once per '
        "container, and again once when the broker refuses the login.",
        secret_arn,
        one_of="broker",
    ),
    Setting(
        "PIGEON_KEY_PREFIX",
        "key_prefix",
        "Prefix of raw-crash keys: `<prefix><3 chars>/<YYYYMMDD>/<crash id>`.",
        not_blank,
        default="v2/raw_crash/",
        blank_is_unset=False,
    ),
    Setting(
        "PIGEON_EVENT_NAMES",
        "event_names",
        "Comma list of the S3 event names that count (the `s3:` prefix is optional).",
        event_names,
        default="ObjectCreated:Put",
    ),
    Setting(
        "PIGEON_METRICS",
        "metrics_sink",
        "Where counters go: `dogstatsd` (the Datadog Lambda Extension), `log` (Datadog "
        "Forwarder lines) or `none`.",
        choice(*METRICS_SINKS),
        default="log",
    ),
    Setting("PIGEON_STATSD_HOST", "statsd_host", "DogStatsD host.", default="127.0.0.1"),
    Setting("PIGEON_STATSD_PORT", "statsd_port", "DogStatsD port.", port, default="8125"),
    Setting(
        "PIGEON_CONNECT_TIMEOUT",
        "connect_timeout",
        "Seconds to open the AMQP connection.",
        seconds,
        default="5",
    ),
    Setting(
        "PIGEON_PUBLISH_TIMEOUT",
        "publish_timeout",
        "Seconds for the whole publish, confirms included; cut short to end at least a second "
        "before the Lambda timeout.",
        seconds,
        default="10",
    ),
    Setting(
        "PIGEON_LOG_LEVEL",
        "log_level",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`.",
        choice(*LOG_LEVELS, upper=True),
        default="INFO",
    ),
)

NAMES: frozenset[str] = frozenset(setting.name for setting in SETTINGS)


def unknown(environ: Mapping[str, str]) -> list[str]:
    """The PIGEON_* variables that are not settings: a typo here is otherwise silent."""
    return sorted(name for name in environ if name.startswith(PREFIX) and name not in NAMES)
