"""Parsers of environment values: (value, variable name) -> value, or ConfigError naming the
variable. Values that may hold a secret are never put in a message."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pigeon.nodes import node_name

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


# Several nodes: URLs separated by commas. A comma splits only where a URL follows
# (`scheme://`), so a password with a comma in it (allowed unescaped in a URL) stays whole.
_NEXT_URL = re.compile(r"\s*,\s*(?=[A-Za-z][A-Za-z0-9+.\-]*://)")


def split_broker_urls(value: str, name: str) -> tuple[str, ...]:
    """'amqps://…@a:5671/,amqps://…@b:5671/' -> each URL, validated; never echoed back."""
    urls = tuple(url.strip() for url in _NEXT_URL.split(value.strip()))
    for position, url in enumerate(urls, 1):
        validate_broker_url(url, name if len(urls) == 1 else f"{name} (URL {position})")
    nodes = [node_name(url) for url in urls]
    if len(set(nodes)) != len(nodes):
        raise ConfigError(f"{name}: a host is listed twice")
    return urls


def broker_url(value: str, name: str) -> str:
    split_broker_urls(value, name)
    return value.strip()


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
