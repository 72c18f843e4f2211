"""Every environment variable Pigeon reads, declared once: name, default, parser and doc.

``config.load`` reads them, init warns about any other ``PIGEON_*`` variable, the local runtime
forwards only these, docs/configuration.md is generated from them, and the Terraform tests check
the function module's environment against them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pigeon.parsers import (
    QUEUE_ITEM,
    ConfigError,
    QueueRoute,
    broker_url,
    choice,
    event_names,
    normalise_event_name,
    not_blank,
    parse_queues,
    port,
    seconds,
    secret_arn,
    text,
    validate_broker_url,
)

__all__ = [
    "NAMES",
    "PREFIX",
    "QUEUE_ITEM",
    "SETTINGS",
    "ConfigError",
    "QueueRoute",
    "Setting",
    "normalise_event_name",
    "parse_queues",
    "unknown",
    "validate_broker_url",
]

# How the broker settings meet the brokers people run; docs/configuration.md shows it under the
# table (scripts/docs.py).
BROKER_GUIDE = """\
## One node, a cluster, Amazon MQ

- **One node**: one URL. Nothing else changes.
- **Amazon MQ for RabbitMQ, cluster deployment**: three nodes behind one Network Load Balancer,
  so one endpoint. Give that one URL: the load balancer picks a node for each connection, and
  after a node is lost Lambda's retry connects again through it. Amazon MQ mirrors classic
  queues on its 3.x clusters by policy; on RabbitMQ 4 declare quorum queues.
- **A self-managed cluster**: list every node, in `PIGEON_RABBITMQ_URL` (`amqps://…@node1:5671/,
  amqps://…@node2:5671/,…`) or in the secret (`"urls": […]`, or `"host": ["node1", "node2",
  …]` with the other fields shared). Each container shuffles the nodes once, so that containers
  spread over them, and keeps the first that answers. A node whose connect fails or whose
  connection breaks is tried last from then on: the next invocation goes to another node at
  once instead of waiting out `PIGEON_CONNECT_TIMEOUT` on the dead one. When no node answers,
  the error names each node tried and why (`no RabbitMQ node answered (3 of 3 tried): …`).
  Declare the queues as durable quorum queues (`x-queue-type: quorum`): a quorum queue
  confirms a message once a majority of its nodes has written it, so a confirmed crash id
  survives the loss of any one node; classic mirrored queues are gone in RabbitMQ 4.
- A publish that was in flight when its node died still fails and names its crash ids; Lambda's
  retry publishes them through another node. Without a majority (two of three nodes down) a
  quorum queue cannot confirm: the publish fails at `PIGEON_PUBLISH_TIMEOUT`, and the retry
  after the nodes return publishes everything.
"""

PREFIX = "PIGEON_"
METRICS_SINKS = ("log", "dogstatsd", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
        "`amqp://` or `amqps://` URL with credentials (development and tests); for a "
        "self-managed cluster, one URL per node separated by commas (order shuffled once per "
        "container; a node that failed is tried last).",
        broker_url,
        one_of="broker",
        secret=True,
    ),
    Setting(
        "PIGEON_RABBITMQ_SECRET_ARN",
        "rabbitmq_secret_arn",
        'Secrets Manager secret holding JSON `{"url": …}`, `{"urls": [...]}` (one per node) '
        'or `{"host", "username", "password", "port", "virtual_host", "tls"}` (`host` may be '
        "a list of nodes; `tls` defaults to true). Read once per container, and again once "
        "when the broker refuses the login.",
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
        "Seconds to open the AMQP connection (to each node tried).",
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
