"""Configuration from environment variables, validated once at init.

The variables are declared in ``pigeon.settings``. Every problem raises ConfigError (from
``pigeon.parsers``) naming the variable. Values that may hold a secret (the broker URL) are
never echoed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pigeon.endpoints import Node
from pigeon.parsers import ConfigError, QueueRoute
from pigeon.settings import SETTINGS, Setting


@dataclass(frozen=True)
class Config:
    env: str
    queues: tuple[QueueRoute, ...]
    key_prefix: str = "v2/raw_crash/"
    event_names: frozenset[str] = frozenset({"ObjectCreated:Put"})
    # Exactly one of these two is set. The URLs carry a password: keep them out of repr.
    rabbitmq_nodes: tuple[Node, ...] | None = field(default=None, repr=False)
    rabbitmq_secret_arn: str | None = None
    metrics_sink: str = "log"
    statsd_host: str = "127.0.0.1"
    statsd_port: int = 8125
    connect_timeout: float = 5.0
    publish_timeout: float = 10.0
    log_level: str = "INFO"


def load(environ: Mapping[str, str]) -> Config:
    """Build the Config from environment variables, or raise ConfigError."""
    values = {setting.field: setting.read(environ) for setting in SETTINGS}
    groups: dict[str, list[Setting]] = {}
    for setting in SETTINGS:
        if setting.one_of:
            groups.setdefault(setting.one_of, []).append(setting)
    for members in groups.values():
        given = [s for s in members if values[s.field] is not None]
        if len(given) > 1:
            raise ConfigError(f"{' and '.join(s.name for s in members)}: set only one")
        if not given:
            names = " or ".join(s.name for s in members)
            raise ConfigError(f"{names}: one is required but neither is set")
    return Config(**values)
