"""Parsers of environment values: (value, variable name) -> value, or ConfigError naming the
variable. Values that may hold a secret are never put in a message."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pigeon.endpoints import Node

# One queue of PIGEON_QUEUES: `[PERCENT:]NAME`, with blanks (spaces, tabs, newlines) around
# either part, as values written by hand or in a Terraform heredoc have them. The Terraform
# module's validation uses the same pattern (tests/infra check both against one table).
QUEUE_ITEM = re.compile(
    r"[ \t\r\n]*(?:([0-9]{1,3})[ \t\r\n]*:)?[ \t\r\n]*([A-Za-z0-9_.\-]{1,255})[ \t\r\n]*"
)

# The S3 event types of new objects (S3 also accepts `ObjectCreated:*` in a notification).
OBJECT_CREATED = "ObjectCreated:"
EVENT_TYPES = frozenset(
    OBJECT_CREATED + kind for kind in ("*", "Put", "Post", "Copy", "CompleteMultipartUpload")
)
ANY_OBJECT_CREATED = OBJECT_CREATED + "*"

# PIGEON_ENV goes into the `env:` tag of every metric and the Datadog Forwarder line, where
# `,`, `|`, `#` and blanks are separators: a Datadog tag value's characters only.
ENV_VALUE = re.compile(r"[A-Za-z0-9_.:/\-]{1,196}")


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


def event_counts(name: str, names: frozenset[str]) -> bool:
    """Whether a record's event name is one of PIGEON_EVENT_NAMES (`ObjectCreated:*` is every
    ObjectCreated event, as in an S3 notification)."""
    name = normalise_event_name(name)
    return name in names or (ANY_OBJECT_CREATED in names and name.startswith(OBJECT_CREATED))


# -- parsers: (value, variable name) -> value, or ConfigError naming the variable ---------------
def text(value: str, name: str) -> str:
    return value.strip()


def env_tag(value: str, name: str) -> str:
    raw = value.strip()
    if not ENV_VALUE.fullmatch(raw):
        raise ConfigError(
            f"{name}: {raw[:40]!r} is not a metric tag value (letters, digits, '_', '.', ':', "
            "'/' or '-'; no ',', '|', '#' or blanks, which would split the tags)"
        )
    return raw


def key_prefix(value: str, name: str) -> str:
    """A folder of the bucket: `v2/raw_crash/`; the trailing slash is implied, as S3's filter
    prefix `v2/raw_crash` selects the same raw-crash keys."""
    if not value.strip():
        raise ConfigError(f"{name}: must not be empty")
    if value != value.strip():
        raise ConfigError(f"{name}: has blanks at its start or end; S3 keys would need them too")
    if value.startswith("/"):
        raise ConfigError(f"{name}: S3 keys do not start with '/' (e.g. 'v2/raw_crash/')")
    return value if value.endswith("/") else value + "/"


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


# Several nodes: URLs separated by commas. A comma splits only where a URL follows
# (`scheme://`), so a password with a comma in it (allowed unescaped in a URL) stays whole.
_NEXT_URL = re.compile(r"\s*,\s*(?=[A-Za-z][A-Za-z0-9+.\-]*://)")


def split_broker_urls(value: str, name: str) -> tuple[Node, ...]:
    """'amqps://…@a:5671/,amqps://…@b:5671/' -> each node, parsed once; never echoed back."""
    from pigeon.endpoints import parse_node

    urls = [url.strip() for url in _NEXT_URL.split(value.strip())]
    nodes = tuple(
        parse_node(url, name if len(urls) == 1 else f"{name} (URL {position})")
        for position, url in enumerate(urls, 1)
    )
    if len({node.name for node in nodes}) != len(nodes):
        raise ConfigError(f"{name}: a host is listed twice")
    return nodes


def secret_arn(value: str, name: str) -> str:
    arn = value.strip()
    if not (arn.startswith("arn:") and ":secretsmanager:" in arn):
        raise ConfigError(f"{name}: not a Secrets Manager ARN")
    return arn


def event_names(value: str, name: str) -> frozenset[str]:
    names = frozenset(normalise_event_name(n) for n in value.split(",") if n.strip())
    if not names:
        raise ConfigError(f"{name}: no event names given")
    unknown = sorted(names - EVENT_TYPES)
    if unknown:
        raise ConfigError(
            f"{name}: {', '.join(repr(n) for n in unknown)}: not an S3 event type of new objects"
            f" ({', '.join(sorted(EVENT_TYPES))}, with or without 's3:')"
        )
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
