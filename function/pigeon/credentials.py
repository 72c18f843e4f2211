"""Where the broker is and how to log in: a URL, or a Secrets Manager secret.

The secret is JSON in one of three forms: ``{"url": "amqps://user:pass@host:5671/vhost"}``,
``{"urls": [one per node]}``, or ``{"host": …, "username": …, "password": …, "port": 5671,
"virtual_host": "/", "tls": true}`` where ``host`` may be a list of nodes, or nodes separated
by commas. The Secrets Manager console's key/value editor stores only strings, so ``"tls":
"false"`` and ``"port": "5672"`` mean what they say; anything else that is not of its field's
type is refused, naming the field, never showing the value. The secret is read in Init (best
effort), else by the first invocation within its deadline, and again when the broker refuses
the login or no node answers, so a rotated password or a moved broker is picked up without a
redeploy. Throttling, 5xx answers and network failures are tried again, with backoff, while
the deadline allows; AccessDenied, ResourceNotFound and other answers that will not change are
not. A cluster's nodes are several URLs; which
one to use is ``pigeon.nodes``' job.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

from pigeon import logs, redaction
from pigeon.confirms import describe
from pigeon.endpoints import Node
from pigeon.parsers import ConfigError, split_broker_urls

WHERE = "PIGEON_RABBITMQ_SECRET_ARN"
HOST_FIELDS = ("host", "username", "password", "port", "virtual_host", "tls")
FORMS = ("url", "urls", "host")
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?")

# Reading the secret: attempts of one connect and one read each, with a backoff between them,
# all within the invocation's deadline. Throttling, 5xx answers and a network that fails are
# tried again; an answer that will not change (AccessDenied, ResourceNotFound, …) is not.
ATTEMPT_SECONDS = 5.0
CONNECT_SECONDS = 2.0
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.2  # the longest first wait (full jitter); it doubles, up to the cap
BACKOFF_CAP_SECONDS = 2.0
LEAST_SECONDS = 0.05
# Init reads the secret too, best effort, within this much of Init's 10 s.
PREFETCH_SECONDS = 4.0
RETRIED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class SecretUnavailable(Exception):
    """The secret could not be read; the message names the setting, never a value."""


class BrokerSource(Protocol):
    def nodes(self, deadline: float) -> tuple[Node, ...]:
        """Every node, with credentials; reading them ends by the (monotonic) deadline."""
        ...

    def refresh(self) -> bool:
        """Fetch the credentials again; True when that may help (they can change)."""
        ...

    def prefetch(self) -> None:
        """Read the credentials in Init, best effort (never raises)."""
        ...

    def forget(self) -> None:
        """Before a SnapStart snapshot: drop what was read (the secret, the SDK's credentials),
        so that each restored environment reads its own."""
        ...


class UrlSource:
    """PIGEON_RABBITMQ_URL: its nodes, parsed at init; fixed for the life of the container."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self._nodes = nodes

    def nodes(self, deadline: float) -> tuple[Node, ...]:
        return self._nodes

    def refresh(self) -> bool:
        return False

    def prefetch(self) -> None:
        """Nothing to read: the URL was parsed with the settings."""

    def forget(self) -> None:
        """Nothing was read: the nodes come from the environment."""


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


def attempt_timeouts(seconds_left: float) -> tuple[float, float]:
    """The connect and read time-outs of one attempt that ends within the time left."""
    each = min(ATTEMPT_SECONDS, seconds_left)
    connect = min(CONNECT_SECONDS, each / 2)
    return connect, each - connect


def backoff(attempt: int, rng: random.Random) -> float:
    """The wait after failed attempt `attempt` (1, 2, …): full jitter, exponential, capped."""
    return rng.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1)))


def why_not_read(error: BaseException) -> tuple[str, bool]:
    """What went wrong reading the secret (the error's code and HTTP status, never its text)
    and whether trying again may help."""
    from pigeon import secrets_api

    if isinstance(error, secrets_api.ApiError):
        retried = error.code in RETRIED_CODES or error.status >= 500
        return str(error), retried
    if isinstance(error, secrets_api.NetworkError):
        return f"no answer ({error})", error.retried
    if isinstance(error, secrets_api.NoCredentials):
        return str(error), False
    return type(error).__name__, False


class SecretsManagerSource:
    """PIGEON_RABBITMQ_SECRET_ARN: the secret is read with one signed HTTPS request
    (`pigeon.secrets_api`, the standard library only: no SDK to import). Init reads it once,
    best effort (``prefetch``); an invocation reads it when it has no nodes, within its
    deadline."""

    def __init__(
        self,
        arn: str,
        rng: random.Random | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        # Imported only here: a function configured with a URL never loads http.client.
        from pigeon import secrets_api

        self._arn = arn
        self._api = secrets_api.SecretsManager(arn, environ)
        self._rng = rng or random.SystemRandom()
        self._nodes: tuple[Node, ...] | None = None
        self._log = logs.get_logger("pigeon.credentials")

    def _get(self, deadline: float) -> Any:
        """GetSecretValue, tried again on what may pass, within the deadline."""
        attempts, last = 0, ""
        while True:
            left = deadline - time.monotonic()
            if left < LEAST_SECONDS:
                after = f" (after {attempts} attempt(s): {last})" if attempts else ""
                raise SecretUnavailable(
                    f"{WHERE}: no time left before the invocation's deadline to read the "
                    f"secret{after}"
                )
            try:
                return self._api.get_secret_value(*attempt_timeouts(left))
            except Exception as error:
                attempts += 1
                last, retried = why_not_read(error)
                if not retried:
                    raise SecretUnavailable(f"{WHERE}: {last}, not tried again") from None
                if attempts >= MAX_ATTEMPTS:
                    raise SecretUnavailable(f"{WHERE}: {last}, {attempts} attempts") from None
                wait = backoff(attempts, self._rng)
                if time.monotonic() + wait + LEAST_SECONDS >= deadline:
                    raise SecretUnavailable(
                        f"{WHERE}: {last}, {attempts} attempt(s); no time left before the "
                        "invocation's deadline for another"
                    ) from None
                self._log.info(
                    f"reading the broker secret failed ({last}); trying again",
                    extra={"attempt": attempts, "error": last},
                )
                time.sleep(wait)

    def _fetch(self, deadline: float) -> tuple[Node, ...]:
        response = self._get(deadline)
        raw = response.get("SecretString")
        if not isinstance(raw, str):
            raise ConfigError(f"{WHERE}: the secret has no SecretString")
        redaction.remember(raw)  # the whole JSON: its password in a form no URL has
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{WHERE}: the secret is not JSON") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{WHERE}: the secret is not a JSON object")
        if isinstance(value.get("password"), str):
            redaction.remember(value["password"])  # before any error about another field
        nodes = nodes_from_secret(value)
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

    def prefetch(self) -> None:
        """Read the secret in Init, best effort: a failure is logged and the first invocation
        reads it again, within its own deadline. Init never fails for it."""
        try:
            self.nodes(time.monotonic() + PREFETCH_SECONDS)
        except Exception as error:
            self._log.warning(
                "could not read the broker secret in Init; the first invocation reads it again",
                extra={"error": describe(error)},
            )

    def forget(self) -> None:
        self._nodes = None
        # Credentials read from the container endpoint may have been resolved before the
        # snapshot, and would be shared by every environment restored from it.
        self._api.forget()
