"""Where the broker is and how to log in: a URL, or a Secrets Manager secret.

The secret is JSON in one of three forms: ``{"url": "amqps://user:pass@host:5671/vhost"}``,
``{"urls": [one per node]}``, or ``{"host": …, "username": …, "password": …, "port": 5671,
"virtual_host": "/", "tls": true}`` where ``host`` may be a list of nodes, or nodes separated
by commas. The Secrets Manager console's key/value editor stores only strings, so ``"tls":
"false"`` and ``"port": "5672"`` mean what they say; anything else that is not of its field's
type is refused, naming the field, never showing the value. The secret is fetched once per
container, within the invocation's deadline, and again when the broker refuses the login, so a
rotated password is picked up without a redeploy. A cluster's nodes are several URLs; which
one to use is ``pigeon.nodes``' job.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Protocol
from urllib.parse import quote, unquote

from pigeon import logs
from pigeon.endpoints import Node
from pigeon.parsers import ConfigError, split_broker_urls

REDACTED = "***"
WHERE = "PIGEON_RABBITMQ_SECRET_ARN"
HOST_FIELDS = ("host", "username", "password", "port", "virtual_host", "tls")
FORMS = ("url", "urls", "host")
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?")

# Reading the secret: at most two attempts of a connect and a read, within the time left.
ATTEMPT_SECONDS = 5.0
CONNECT_SECONDS = 2.0
RETRY_BACKOFF_SECONDS = 1.0  # botocore's standard mode waits up to 1 s before its 2nd attempt
LEAST_SECONDS = 0.05


class BrokerSource(Protocol):
    def nodes(self, deadline: float) -> tuple[Node, ...]:
        """Every node, with credentials; reading them ends by the (monotonic) deadline."""
        ...

    def refresh(self) -> bool:
        """Fetch the credentials again; True when that may help (they can change)."""
        ...

    def secrets(self) -> list[str]:
        """Strings that must never appear in a log line or an error message."""
        ...

    def forget(self) -> None:
        """Before a SnapStart snapshot: drop what was read (the secret, the SDK's credentials),
        so that each restored environment reads its own."""
        ...


def secrets_of_nodes(nodes: tuple[Node, ...]) -> list[str]:
    found = []
    for node in nodes:
        found.append(node.url)
        password = node.password
        if password:
            found += [password, unquote(password)]
    return found


def redact(text: str, secrets: list[str]) -> str:
    """Every secret replaced, however short: a one-letter password is still a password."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class UrlSource:
    """PIGEON_RABBITMQ_URL: its nodes, parsed at init; fixed for the life of the container."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self._nodes = nodes

    def nodes(self, deadline: float) -> tuple[Node, ...]:
        return self._nodes

    def refresh(self) -> bool:
        return False

    def forget(self) -> None:
        """Nothing was read: the nodes come from the environment."""

    def secrets(self) -> list[str]:
        return secrets_of_nodes(self._nodes)


def _string(value: dict[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found:
        raise ConfigError(f"{WHERE}: field {key} must be a non-empty string")
    return found


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{WHERE}: field {key} must be true or false (or the string of one)")


def _port(value: Any, key: str) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"{WHERE}: field {key} must be a port number (1-65535, or its string)")
    return value


def _hosts(value: Any) -> list[str]:
    listed: list[Any] = []
    if isinstance(value, list):
        listed = value
    elif isinstance(value, str):
        listed = value.split(",")  # the console's editor stores strings: "node1,node2"
    hosts = [h.strip() if isinstance(h, str) else h for h in listed]
    if not hosts:
        raise ConfigError(f"{WHERE}: field host must be a host name or a list of host names")
    for position, host in enumerate(hosts, 1):
        if not isinstance(host, str) or not HOST_NAME.fullmatch(host):
            raise ConfigError(
                f"{WHERE}: field host (entry {position}) is not a host name (letters, digits, "
                "'.' and '-'; no scheme, user, port or '/': those have fields of their own)"
            )
    return hosts


def _urls(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(u, str) and u for u in value):
        return ",".join(value)
    raise ConfigError(f"{WHERE}: field urls must be a list of amqp(s) URLs")


def nodes_from_secret(value: dict[str, Any]) -> tuple[Node, ...]:
    """The broker nodes from the secret's JSON; never put a value in an error."""
    given = [form for form in FORMS if form in value]
    if "host" not in given and any(key in value for key in HOST_FIELDS):
        given.append("host")
    if len(given) > 1:
        raise ConfigError(
            f"{WHERE}: the secret has {' and '.join(_form(f) for f in given)}: use one of the "
            "three forms (a second one would be silently ignored, e.g. by a rotation)"
        )
    if given == ["url"]:
        return split_broker_urls(_string(value, "url"), f"{WHERE} (field url)")
    if given == ["urls"]:
        return split_broker_urls(_urls(value["urls"]), f"{WHERE} (field urls)")
    missing = [k for k in ("host", "username", "password") if value.get(k) in (None, "")]
    if missing:
        raise ConfigError(
            f"{WHERE}: secret JSON lacks 'url', 'urls' or the fields {', '.join(missing)}"
        )
    username, password = _string(value, "username"), _string(value, "password")
    tls = _flag(value.get("tls", True), "tls")
    port = _port(value.get("port", 5671 if tls else 5672), "port")
    vhost = value.get("virtual_host", "/")
    if not isinstance(vhost, str) or not vhost:
        raise ConfigError(f"{WHERE}: field virtual_host must be a non-empty string")
    scheme = "amqps" if tls else "amqp"
    login = f"{quote(username, safe='')}:{quote(password, safe='')}"
    path = quote(vhost, safe="")
    urls = [f"{scheme}://{login}@{host}:{port}/{path}" for host in _hosts(value["host"])]
    return split_broker_urls(",".join(urls), WHERE)


def _form(form: str) -> str:
    return "the fields host, username, password, …" if form == "host" else f"field {form}"


def unknown_fields(value: dict[str, Any]) -> list[str]:
    return sorted(str(k) for k in value if k not in ("url", "urls", *HOST_FIELDS))


def client_config(seconds_left: float) -> dict[str, Any]:
    """botocore Config arguments for one read of the secret that ends within the time left."""
    if seconds_left < LEAST_SECONDS:
        raise TimeoutError("no time left before the invocation's deadline to read the secret")
    attempts = 2 if seconds_left >= 2 * ATTEMPT_SECONDS + RETRY_BACKOFF_SECONDS else 1
    backoff = RETRY_BACKOFF_SECONDS if attempts == 2 else 0.0
    each = min(ATTEMPT_SECONDS, (seconds_left - backoff) / attempts)
    connect = min(CONNECT_SECONDS, each / 2)
    return {
        "connect_timeout": connect,
        "read_timeout": each - connect,
        "retries": {"mode": "standard", "total_max_attempts": attempts},
    }


class SecretsManagerSource:
    """PIGEON_RABBITMQ_SECRET_ARN: the secret is read with boto3, imported only here, at init
    (about 0.5 s that only functions configured with a secret pay, in the init phase rather
    than in the first invocation's deadline)."""

    def __init__(self, arn: str) -> None:
        import boto3
        from botocore.config import Config

        self._arn = arn
        self._session = boto3.session.Session()
        self._config = Config
        self._nodes: tuple[Node, ...] | None = None
        self._seen: list[str] = []
        self._log = logs.get_logger("pigeon.credentials")

    def _client(self, deadline: float) -> Any:
        region = self._arn.split(":")[3] or None
        # A client per read: botocore takes its timeouts and retries only when a client is made.
        bounded = self._config(**client_config(deadline - time.monotonic()))
        return self._session.client("secretsmanager", region_name=region, config=bounded)

    def _fetch(self, deadline: float) -> tuple[Node, ...]:
        response = self._client(deadline).get_secret_value(SecretId=self._arn)
        raw = response.get("SecretString")
        if not isinstance(raw, str):
            raise ConfigError(f"{WHERE}: the secret has no SecretString")
        self._seen.append(raw)
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{WHERE}: the secret is not JSON") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{WHERE}: the secret is not a JSON object")
        if isinstance(value.get("password"), str):
            self._seen += [value["password"], quote(value["password"], safe="")]
        nodes = nodes_from_secret(value)
        self._seen += secrets_of_nodes(nodes)
        extra = unknown_fields(value)
        if extra:
            # Names only. A misspelt field (`virtualhost`) would otherwise go unnoticed.
            self._log.warning(
                f"ignoring fields of the broker secret that Pigeon does not read: "
                f"{', '.join(extra)}",
                extra={"unknown_fields": extra},
            )
        return nodes

    def nodes(self, deadline: float) -> tuple[Node, ...]:
        if self._nodes is None:
            self._nodes = self._fetch(deadline)
        return self._nodes

    def refresh(self) -> bool:
        self._nodes = None
        return True

    def forget(self) -> None:
        import boto3

        self._nodes = None
        # A new session: the old one may hold credentials resolved before the snapshot.
        self._session = boto3.session.Session()

    def secrets(self) -> list[str]:
        return list(self._seen)
