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
    ConfigError,
    choice,
    env_tag,
    event_names,
    key_prefix,
    parse_queues,
    port,
    seconds,
    secret_arn,
    split_broker_urls,
    text,
)

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
    Setting(
        "PIGEON_ENV",
        "env",
        "Environment tag: `env:<value>` on every metric. Letters, digits, `_`, `.`, `:`, `/`, `-`"
        " (a `,`, `|`, `#` or blank would split the metric tags).",
        env_tag,
        required=True,
    ),
    Setting(
        "PIGEON_QUEUES",
        "queues",
        "`[PERCENT:]QUEUE,…`, e.g. `socorro.normal,15:socorro.submitter`: each accepted crash id "
        "goes to each queue whose PERCENT (default 100) takes it. The choice is a function of the "
        "crash id and the queue name (a hash), so a crash gets the same answer on every try and "
        "in every container, each queue chooses independently of the others, and PERCENT/100 of "
        "all crash ids go to the queue. Blanks and newlines around the entries and the `:` are "
        "allowed.",
        parse_queues,
        required=True,
    ),
    Setting(
        "PIGEON_RABBITMQ_URL",
        "rabbitmq_nodes",
        "`amqp://` or `amqps://` URL with credentials (development and tests); for a "
        "self-managed cluster, one URL per node separated by commas (order shuffled once per "
        "container; a node that failed is tried last). Query parameters pika knows are honoured "
        "(`heartbeat`, default 60 s; `channel_max`, `frame_max`, `locale`, `client_properties`, "
        "`ssl_options`, `tcp_options`); the timeouts and retries are Pigeon's and refused in the "
        "URL. Empty pairs (a trailing `&`) are nothing; a parameter pika does not know, one "
        "without a value or one given twice is refused, never echoed. Checked at init.",
        split_broker_urls,
        one_of="broker",
        secret=True,
    ),
    Setting(
        "PIGEON_RABBITMQ_SECRET_ARN",
        "rabbitmq_secret_arn",
        'Secrets Manager secret holding JSON `{"url": …}`, `{"urls": [...]}` (one per node) '
        'or `{"host", "username", "password", "port", "virtual_host", "tls"}`: `host` a name, a '
        'list of names or names separated by commas; `tls` `true`/`false` or `"true"`/`"false"` '
        "(default true); `port` a number or a string of digits (the console's key/value editor "
        "stores strings). The client is made at init and the secret read there, best effort "
        "(a failure warns; the first invocation reads it within its deadline); read again once "
        "when the broker refuses the login (403) or no node answers (the broker may have "
        "moved). Throttling, 5xx and network failures are retried with backoff within the "
        "deadline; AccessDenied and ResourceNotFound are not.",
        secret_arn,
        one_of="broker",
    ),
    Setting(
        "PIGEON_KEY_PREFIX",
        "key_prefix",
        "Prefix of raw-crash keys: `<prefix><3 chars>/<YYYYMMDD>/<crash id>`; a missing trailing "
        "`/` is implied (`v2/raw_crash` is `v2/raw_crash/`, as S3's filter prefix selects the "
        "same keys).",
        key_prefix,
        default="v2/raw_crash/",
        blank_is_unset=False,
    ),
    Setting(
        "PIGEON_EVENT_NAMES",
        "event_names",
        "Comma list of the S3 event types that count: `ObjectCreated:Put`, `:Post`, `:Copy`, "
        "`:CompleteMultipartUpload`, or `ObjectCreated:*` for all (the `s3:` prefix is optional). "
        "Any other name stops init.",
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
        "Seconds to open the AMQP connection (to each node tried), within the deadline.",
        seconds,
        default="5",
    ),
    Setting(
        "PIGEON_PUBLISH_TIMEOUT",
        "publish_timeout",
        "Seconds for the whole invocation's broker work: reading the secret, connecting, "
        "publishing, the confirms. One deadline, computed when the invocation starts: this, cut "
        "short to end 1 s before the Lambda timeout (when less than 2 s are left, halfway "
        "through the time left).",
        seconds,
        default="10",
    ),
    Setting(
        "PIGEON_LOG_LEVEL",
        "log_level",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`. When Lambda's log-level control is on (JSON log "
        "format: `AWS_LAMBDA_LOG_LEVEL`), Lambda's application log level decides instead. "
        "urllib3 and the AWS SDK's loggers log at WARNING and above only, whatever the level. "
        "Each line's `level` uses the names of Lambda's JSON log format (`WARN`, `FATAL`).",
        choice(*LOG_LEVELS, upper=True),
        default="INFO",
    ),
)

NAMES: frozenset[str] = frozenset(setting.name for setting in SETTINGS)


def unknown(environ: Mapping[str, str]) -> list[str]:
    """The PIGEON_* variables that are not settings: a typo here is otherwise silent."""
    return sorted(name for name in environ if name.startswith(PREFIX) and name not in NAMES)
