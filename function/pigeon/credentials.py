"""Where the broker is and how to log in: a URL, or a Secrets Manager secret.

The secret is JSON: ``{"url": "amqps://user:pass@host:5671/vhost"}``, ``{"urls": [one per
node]}``, or ``{"host": …, "username": …, "password": …, "port": 5671, "virtual_host": "/",
"tls": true}`` where ``host`` may be a list of nodes. It is fetched once per container, and
again when the broker refuses the login, so a rotated password is picked up without a
redeploy. A cluster's nodes are several URLs; which one to use is ``pigeon.nodes``' job.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from pigeon.parsers import ConfigError, split_broker_urls

REDACTED = "***"


class BrokerSource(Protocol):
    def urls(self) -> tuple[str, ...]:
        """The amqp(s) URL of each node, with credentials."""
        ...

    def refresh(self) -> bool:
        """Fetch the credentials again; True when that may help (they can change)."""
        ...

    def secrets(self) -> list[str]:
        """Strings that must never appear in a log line or an error message."""
        ...


def secrets_of_urls(urls: tuple[str, ...]) -> list[str]:
    found = [",".join(urls)]
    for url in urls:
        found.append(url)
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            found += [password, unquote(password)]
    return found


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret and len(secret) >= 3:
            text = text.replace(secret, REDACTED)
    return text


class UrlSource:
    """PIGEON_RABBITMQ_URL: one URL, or one per node separated by commas; fixed for the life
    of the container."""

    def __init__(self, text: str) -> None:
        self._urls = split_broker_urls(text, "PIGEON_RABBITMQ_URL")

    def urls(self) -> tuple[str, ...]:
        return self._urls

    def refresh(self) -> bool:
        return False

    def secrets(self) -> list[str]:
        return secrets_of_urls(self._urls)


def _hosts(value: Any, where: str) -> list[str]:
    hosts = value if isinstance(value, list) else [value]
    if not hosts or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise ConfigError(f"{where}: field host must be a host name or a list of host names")
    return [h.strip() for h in hosts]


def urls_from_secret(value: dict[str, Any]) -> tuple[str, ...]:
    """The broker URLs from the secret's JSON; never put the value in an error."""
    where = "PIGEON_RABBITMQ_SECRET_ARN"
    if isinstance(value.get("url"), str):
        return split_broker_urls(value["url"], f"{where} (field url)")
    if "urls" in value:
        listed = value["urls"]
        if (
            not isinstance(listed, list)
            or not listed
            or not all(isinstance(u, str) for u in listed)
        ):
            raise ConfigError(f"{where}: field urls must be a list of amqp(s) URLs")
        return split_broker_urls(",".join(listed), f"{where} (field urls)")
    missing = [k for k in ("host", "username", "password") if value.get(k) in (None, "")]
    if missing:
        raise ConfigError(
            f"{where}: secret JSON lacks 'url', 'urls' or the fields {', '.join(missing)}"
        )
    for key in ("username", "password"):
        if not isinstance(value[key], str):
            raise ConfigError(f"{where}: field {key} must be a string")
    tls = value.get("tls", True)
    scheme = "amqps" if tls else "amqp"
    port = value.get("port", 5671 if tls else 5672)
    vhost = quote(str(value.get("virtual_host", "/")), safe="")
    login = f"{quote(value['username'], safe='')}:{quote(value['password'], safe='')}"
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: field port is not a number") from None
    urls = [f"{scheme}://{login}@{host}:{port}/{vhost}" for host in _hosts(value["host"], where)]
    return split_broker_urls(",".join(urls), where)


class SecretsManagerSource:
    """PIGEON_RABBITMQ_SECRET_ARN: the secret is read with boto3, imported only here."""

    def __init__(self, arn: str, client: Any = None) -> None:
        self._arn = arn
        self._client = client
        self._urls: tuple[str, ...] | None = None
        self._seen: list[str] = []

    def _fetch(self) -> tuple[str, ...]:
        if self._client is None:
            import boto3  # about 0.5 s: only functions configured with a secret pay for it
            from botocore.config import Config

            region = self._arn.split(":")[3] or None
            # Bounded: a hung endpoint must fail the invocation well before the Lambda timeout.
            bounded = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2})
            self._client = boto3.client("secretsmanager", region_name=region, config=bounded)
        response = self._client.get_secret_value(SecretId=self._arn)
        raw = response.get("SecretString")
        if not isinstance(raw, str):
            raise ConfigError("PIGEON_RABBITMQ_SECRET_ARN: the secret has no SecretString")
        self._seen.append(raw)
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigError("PIGEON_RABBITMQ_SECRET_ARN: the secret is not JSON") from None
        if not isinstance(value, dict):
            raise ConfigError("PIGEON_RABBITMQ_SECRET_ARN: the secret is not a JSON object")
        if isinstance(value.get("password"), str):
            self._seen.append(value["password"])
        urls = urls_from_secret(value)
        self._seen += secrets_of_urls(urls)
        return urls

    def urls(self) -> tuple[str, ...]:
        if self._urls is None:
            self._urls = self._fetch()
        return self._urls

    def refresh(self) -> bool:
        self._urls = None
        return True

    def secrets(self) -> list[str]:
        return list(self._seen)
