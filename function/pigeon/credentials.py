"""Where the broker is and how to log in: a URL, or a Secrets Manager secret.

The secret is JSON, either ``{"url": "amqps://user:pass@host:5671/vhost"}`` or
``{"host": …, "username": …, "password": …, "port": 5671, "virtual_host": "/", "tls": true}``.
It is fetched once per container, and again when the broker refuses the login, so a
rotated password is picked up without a redeploy.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from pigeon.parsers import ConfigError, validate_broker_url

REDACTED = "***"


class BrokerSource(Protocol):
    def url(self) -> str:
        """The amqp(s) URL, with credentials."""
        ...

    def refresh(self) -> bool:
        """Fetch the credentials again; True when that may help (they can change)."""
        ...

    def secrets(self) -> list[str]:
        """Strings that must never appear in a log line or an error message."""
        ...


def secrets_of_url(url: str) -> list[str]:
    found = [url]
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
    """PIGEON_RABBITMQ_URL: fixed for the life of the container."""

    def __init__(self, url: str) -> None:
        self._url = url

    def url(self) -> str:
        return self._url

    def refresh(self) -> bool:
        return False

    def secrets(self) -> list[str]:
        return secrets_of_url(self._url)


def url_from_secret(value: dict[str, Any]) -> str:
    """Build the broker URL from the secret's JSON; never put the value in an error."""
    where = "PIGEON_RABBITMQ_SECRET_ARN"
    if isinstance(value.get("url"), str):
        validate_broker_url(value["url"], f"{where} (field url)")
        return str(value["url"])
    missing = [k for k in ("host", "username", "password") if not isinstance(value.get(k), str)]
    if missing:
        raise ConfigError(f"{where}: secret JSON lacks 'url' or the fields {', '.join(missing)}")
    tls = value.get("tls", True)
    scheme = "amqps" if tls else "amqp"
    port = value.get("port", 5671 if tls else 5672)
    vhost = value.get("virtual_host", "/")
    url = (
        f"{scheme}://{quote(value['username'], safe='')}:{quote(value['password'], safe='')}"
        f"@{value['host']}:{int(port)}/{quote(str(vhost), safe='')}"
    )
    validate_broker_url(url, where)
    return url


class SecretsManagerSource:
    """PIGEON_RABBITMQ_SECRET_ARN: the secret is read with boto3, imported only here."""

    def __init__(self, arn: str, client: Any = None) -> None:
        self._arn = arn
        self._client = client
        self._url: str | None = None
        self._seen: list[str] = []

    def _fetch(self) -> str:
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
        url = url_from_secret(value)
        self._seen += secrets_of_url(url)
        return url

    def url(self) -> str:
        if self._url is None:
            self._url = self._fetch()
        return self._url

    def refresh(self) -> bool:
        self._url = None
        return True

    def secrets(self) -> list[str]:
        return list(self._seen)
