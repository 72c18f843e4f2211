"""GetSecretValue with the standard library: one signed HTTPS request, no SDK.

Importing boto3 and botocore and making a client was most of a cold start configured with a
secret ARN (about 0.6 s of about 1.4 s, Init being billed since August 2025: docs/performance.md).
Pigeon makes one call of one AWS API, so it speaks it itself: the JSON 1.1 protocol of Secrets
Manager, signed with Signature Version 4, as the AWS SDKs send it.

- **Credentials**, in the order the SDKs look for them that apply in Lambda: the environment
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``: what Lambda sets for
  the execution role), else the container credentials endpoint
  (``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` or its
  ``_FILE``, or ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``): what Lambda gives a SnapStart
  function instead of the environment's keys. Those are kept until five minutes before they
  expire.
- **Endpoint**: ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, else ``AWS_ENDPOINT_URL`` (as the SDKs
  read them, unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true), else
  ``https://secretsmanager.REGION.DNS-SUFFIX`` of the secret ARN's region and partition (a VPC
  interface endpoint with private DNS answers that same name).
- **Errors**: an answer other than 200 is an `ApiError` with the error's code and HTTP status
  (never its message); a network failure, a timeout or an answer cut short is a
  `NetworkError`. Trying again is the caller's decision (`pigeon.credentials`).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SERVICE = "secretsmanager"
TARGET = "secretsmanager.GetSecretValue"
CONTENT_TYPE = "application/x-amz-json-1.1"
# The DNS suffix of each partition's regional endpoints (botocore's endpoints.json).
DNS_SUFFIX = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
    "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov",
    "aws-eusc": "amazonaws.eu",
}
ECS_HOST = "http://169.254.170.2"  # AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to it
EXPIRY_MARGIN_SECONDS = 300.0
MOST_BYTES = 1 << 20  # a secret holds at most 64 KiB; anything longer is not an answer
USER_AGENT = "pigeon (python-stdlib)"


class ApiError(Exception):
    """Secrets Manager answered with an error: its code and HTTP status, never its text."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"{code} (HTTP {status})")
        self.code = code
        self.status = status


class NetworkError(Exception):
    """No answer: the endpoint refused or timed out, or the answer was cut short. The text is
    the kind of failure only (no host, no payload)."""


class NoCredentials(Exception):
    """Neither the environment nor a container endpoint gives AWS credentials."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None
    expires: float | None = None  # seconds since the epoch; None: for the environment's life

    def fresh(self, now: float) -> bool:
        return self.expires is None or now < self.expires - EXPIRY_MARGIN_SECONDS


def region_and_partition(arn: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The region and partition of a secret ARN (`arn:PARTITION:secretsmanager:REGION:…`); a
    name or partial ARN takes the function's region."""
    parts = arn.split(":")
    if len(parts) > 4 and parts[0] == "arn":
        return parts[3] or environ.get("AWS_REGION", ""), parts[1]
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION", ""), "aws"


def endpoint(region: str, partition: str, environ: Mapping[str, str]) -> str:
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() != "true":
        configured = environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or environ.get(
            "AWS_ENDPOINT_URL"
        )
        if configured:
            return configured.rstrip("/")
    return f"https://{SERVICE}.{region}.{DNS_SUFFIX.get(partition, 'amazonaws.com')}"


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    where = urlsplit(url)
    host = where.hostname or ""
    if where.scheme == "https":
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(host, where.port, timeout=timeout, context=context)
    if where.scheme == "http":
        return http.client.HTTPConnection(host, where.port, timeout=timeout)
    raise NetworkError(f"unsupported endpoint scheme {where.scheme!r}")


def _exchange(
    url: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    connect_seconds: float,
    read_seconds: float,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request on a new connection: the status, headers and body of the answer."""
    connection = _connection(url, connect_seconds)
    where = urlsplit(url)
    path = (where.path or "/") + (f"?{where.query}" if where.query else "")
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(read_seconds)
        connection.request(method, path, body=body or None, headers=dict(headers))
        response = connection.getresponse()
        declared = response.getheader("Content-Length") or "0"
        if declared.isdigit() and int(declared) > MOST_BYTES:
            raise NetworkError("the answer is longer than any secret")
        data = response.read()  # IncompleteRead when cut short of its Content-Length
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    except TimeoutError:
        raise NetworkError("timed out") from None
    except ssl.SSLError as error:
        raise NetworkError(f"TLS: {error.reason or type(error).__name__}") from None
    except (OSError, http.client.HTTPException) as error:
        raise NetworkError(type(error).__name__) from None
    finally:
        connection.close()


def _expiry(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def container_credentials(environ: Mapping[str, str], timeout: float) -> Credentials:
    """The container credentials endpoint, as Lambda serves it to SnapStart functions."""
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    url = full or f"{ECS_HOST}{relative}"
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token_file and not token:
        try:
            with open(token_file, encoding="utf-8") as file:
                token = file.read().strip()
        except OSError as error:
            raise NoCredentials(
                f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read ({type(error).__name__})"
            ) from None
    if token:
        headers["Authorization"] = token
    status, _, data = _exchange(
        url, "GET", headers, b"", connect_seconds=timeout / 2, read_seconds=timeout / 2
    )
    if status != 200:  # Lambda's own endpoint: a failure there may pass
        raise NetworkError(f"the container credentials endpoint answered HTTP {status}")
    try:
        answer = json.loads(data)
        return Credentials(
            str(answer["AccessKeyId"]),
            str(answer["SecretAccessKey"]),
            str(answer["Token"]) if answer.get("Token") else None,
            _expiry(answer.get("Expiration")),
        )
    except (ValueError, KeyError, TypeError):
        raise NoCredentials(
            "the container credentials endpoint's answer is not credentials"
        ) from None


def environment_credentials(environ: Mapping[str, str]) -> Credentials | None:
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, environ.get("AWS_SESSION_TOKEN") or None)
    return None


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """The headers with Signature Version 4's (`Authorization`, `X-Amz-Date`, and
    `X-Amz-Security-Token` for temporary credentials), every given header signed."""
    where = urlsplit(url)
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    host = where.hostname or ""
    default_port = {"http": 80, "https": 443}.get(where.scheme)
    if where.port and where.port != default_port:
        host = f"{host}:{where.port}"
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed |= {"host": host, "x-amz-date": stamp}
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        [
            method,
            where.path or "/",
            where.query,
            "".join(f"{k}:{signed[k]}\n" for k in sorted(signed)),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["X-Amz-Date"] = stamp
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return out


def error_code(headers: Mapping[str, str], data: bytes) -> str:
    """The error's code as the JSON protocol carries it (`__type`, else `x-amzn-ErrorType`),
    without its namespace (`com.amazonaws…#`) or its documentation URL (`:http…`)."""
    found = ""
    try:
        answer = json.loads(data)
        if isinstance(answer, dict):
            found = str(answer.get("__type") or answer.get("code") or "")
    except ValueError:
        pass
    found = found or headers.get("x-amzn-errortype", "")
    return found.rsplit("#", 1)[-1].split(":", 1)[0] or "an error"


class SecretsManager:
    """GetSecretValue of one secret, with the function's own credentials."""

    def __init__(self, arn: str, environ: Mapping[str, str] | None = None) -> None:
        self._arn = arn
        self._environ = os.environ if environ is None else environ
        self._region, partition = region_and_partition(arn, self._environ)
        self._endpoint = endpoint(self._region, partition, self._environ)
        self._credentials: Credentials | None = None

    def forget(self) -> None:
        """Drop credentials read from a container endpoint (SnapStart: each restored
        environment reads its own)."""
        self._credentials = None

    def _current(self, timeout: float) -> Credentials:
        found = environment_credentials(self._environ)
        if found is not None:
            return found
        if self._credentials is not None and self._credentials.fresh(time.time()):
            return self._credentials
        if not (
            self._environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            or self._environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        ):
            raise NoCredentials(
                "no AWS credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor "
                "a container credentials endpoint"
            )
        self._credentials = container_credentials(self._environ, timeout)
        return self._credentials

    def get_secret_value(self, connect_seconds: float, read_seconds: float) -> dict[str, Any]:
        """One attempt: the answer's JSON, or ApiError / NetworkError / NoCredentials."""
        credentials = self._current(connect_seconds + read_seconds)
        body = json.dumps({"SecretId": self._arn}).encode()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": TARGET,
            "User-Agent": USER_AGENT,
        }
        url = f"{self._endpoint}/"
        now = datetime.datetime.now(datetime.UTC)
        signed = sign("POST", url, headers, body, credentials, self._region, now)
        status, answer_headers, data = _exchange(
            url,
            "POST",
            signed,
            body,
            connect_seconds=connect_seconds,
            read_seconds=read_seconds,
        )
        if status != 200:
            raise ApiError(error_code(answer_headers, data), status)
        try:
            answer = json.loads(data)
        except ValueError:
            raise NetworkError("the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise NetworkError("the answer is not a JSON object")
        return answer
