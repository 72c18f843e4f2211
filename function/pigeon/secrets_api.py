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
  read them, unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true), else the regional name
  of the secret ARN's region and partition, ``-fips`` with ``AWS_USE_FIPS_ENDPOINT`` and
  dual-stack with ``AWS_USE_DUALSTACK_ENDPOINT`` (a VPC interface endpoint with private DNS
  answers the same names). A configured endpoint that is not an http(s) URL stops Init,
  naming its variable. ``AWS_CA_BUNDLE`` replaces the system's CAs (as in the SDKs);
  ``HTTPS_PROXY`` (an http:// proxy, with Basic credentials if its URL has them) and
  ``NO_PROXY`` are honoured as urllib reads them, with a CONNECT tunnel; a proxy that refuses
  the tunnel (403, 407) is not tried again.
- **Errors**: an answer other than 200 is an `ApiError` with the error's code and HTTP status
  (never its message); a network failure, a timeout or an answer cut short is a
  `NetworkError` (``retried`` False for what cannot pass: a certificate that does not
  verify). Trying again is the caller's decision (`pigeon.credentials`).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from pigeon.parsers import ConfigError

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
# Each partition's dual-stack DNS suffix (botocore's partitions.json). Secrets Manager's rules
# keep the ordinary names, already dual-stack, in aws, aws-us-gov and aws-cn (and the -fips
# ones of aws and aws-us-gov); the other partitions use these.
DUALSTACK_SUFFIX = {
    "aws-eusc": "api.amazonwebservices.eu",
    "aws-iso": "api.aws.ic.gov",
    "aws-iso-b": "api.aws.scloud",
    "aws-iso-e": "api.cloud-aws.adc-e.uk",
    "aws-iso-f": "api.aws.hci.ic.gov",
}
DUALSTACK_PLAIN = frozenset({"aws", "aws-us-gov", "aws-cn"})
ECS_HOST = "http://169.254.170.2"  # AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to it
# The hosts a container credentials endpoint may have over plain http (the SDKs' allow-list:
# the token must not go anywhere else in clear).
CONTAINER_HTTP_HOSTS = frozenset({"localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
EXPIRY_MARGIN_SECONDS = 300.0
MOST_BYTES = 1 << 20  # a secret holds at most 64 KiB; anything longer is not an answer
USER_AGENT = "pigeon (python-stdlib)"
# Headers sent but never signed (botocore's SIGNED_HEADERS_BLACKLIST).
UNSIGNED = frozenset({"expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"})


class ApiError(Exception):
    """Secrets Manager answered with an error: its code and HTTP status, never its text."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"{code} (HTTP {status})")
        self.code = code
        self.status = status


class NetworkError(Exception):
    """No answer: the endpoint refused or timed out, or the answer was cut short. The text is
    the kind of failure only (no host, no payload); `retried` is False for what cannot pass."""

    def __init__(self, kind: str, *, retried: bool = True) -> None:
        super().__init__(kind)
        self.retried = retried


class NoCredentials(Exception):
    """Neither the environment nor a container endpoint gives AWS credentials."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expires: float | None = None  # seconds since the epoch; None: for the environment's life

    def fresh(self, now: float) -> bool:
        return self.expires is None or now < self.expires - EXPIRY_MARGIN_SECONDS


def region_and_partition(arn: str) -> tuple[str, str]:
    """The region and partition of a secret ARN (`arn:PARTITION:secretsmanager:REGION:…`:
    pigeon.parsers.secret_arn has checked its form)."""
    parts = arn.split(":")
    return parts[3], parts[1]


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def endpoint(region: str, partition: str, environ: Mapping[str, str]) -> str:
    """The endpoint's URL, as the SDKs resolve it; ConfigError names a bad setting."""
    if not _flag(environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        for name in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"):
            configured = environ.get(name, "").strip()
            if configured:
                _checked(configured, name)
                return configured.rstrip("/")
    service = f"{SERVICE}-fips" if _flag(environ, "AWS_USE_FIPS_ENDPOINT") else SERVICE
    suffix = DNS_SUFFIX.get(partition, "amazonaws.com")
    if _flag(environ, "AWS_USE_DUALSTACK_ENDPOINT") and partition not in DUALSTACK_PLAIN:
        suffix = DUALSTACK_SUFFIX.get(partition, suffix)
    return f"https://{service}.{region}.{suffix}"


def _checked(url: str, name: str) -> SplitResult:
    """An endpoint URL the client can use, or ConfigError naming the variable (never its
    value: a URL may hold credentials)."""
    try:
        where = urlsplit(url)
        where.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigError(f"{name}: not a valid URL") from None
    if where.scheme not in ("http", "https") or not where.hostname:
        raise ConfigError(f"{name}: not an http(s) URL with a host")
    return where


def _host_header(where: SplitResult) -> str:
    """The Host header http.client sends for a connection to where.hostname and where.port:
    the host in lower case, an IPv6 literal in brackets, the port unless the scheme's."""
    host = where.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(where.scheme)
    return f"{host}:{where.port}" if where.port and where.port != default else host


def _getenv(environ: Mapping[str, str], name: str) -> str | None:
    """A proxy variable as urllib reads it: the lower-case name first (even when empty)."""
    lower = environ.get(name.lower())
    return lower if lower is not None else environ.get(name)


def _proxy(where: SplitResult, environ: Mapping[str, str]) -> SplitResult | None:
    """The HTTPS proxy for an https endpoint, as the SDKs read it (HTTPS_PROXY, NO_PROXY as
    urllib matches it: `*` alone, host names and their subdomains, `host:port`); ConfigError
    for a proxy that cannot be used. An http endpoint (a local stand-in) is never proxied."""
    proxy = (_getenv(environ, "HTTPS_PROXY") or "").strip()
    if where.scheme != "https" or not proxy:
        return None
    bypass = (_getenv(environ, "NO_PROXY") or "").strip()
    host = (where.hostname or "").lower()
    port = f"{host}:{where.port or 443}"
    if bypass == "*":
        return None
    for entry in (e.strip().lower().lstrip(".") for e in bypass.split(",")):
        if entry and (entry in (host, port) or host.endswith(f".{entry}")):
            return None
    if proxy.startswith("//"):
        proxy = f"http:{proxy}"
    found = _checked(proxy if "://" in proxy else f"http://{proxy}", "HTTPS_PROXY")
    if found.scheme != "http":
        raise ConfigError("HTTPS_PROXY: only an http:// proxy (CONNECT) is supported")
    return found


def _context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The TLS context: the system's CAs, or AWS_CA_BUNDLE's instead (as the SDKs read it);
    ConfigError when the bundle cannot be read."""
    bundle = environ.get("AWS_CA_BUNDLE") or None
    try:
        return ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError):
        raise ConfigError("AWS_CA_BUNDLE: not a readable PEM file of CA certificates") from None


@dataclass(frozen=True)
class Transport:
    """How requests leave: the TLS context, and the HTTPS proxy (None: direct)."""

    context: ssl.SSLContext | None = None
    proxy: SplitResult | None = None


def _connection(where: SplitResult, timeout: float, via: Transport) -> http.client.HTTPConnection:
    host = where.hostname or ""
    if where.scheme != "https":
        return http.client.HTTPConnection(host, where.port, timeout=timeout)
    context = via.context or ssl.create_default_context()
    if via.proxy is None:
        return http.client.HTTPSConnection(host, where.port, timeout=timeout, context=context)
    connection = http.client.HTTPSConnection(
        via.proxy.hostname or "", via.proxy.port or 80, timeout=timeout, context=context
    )
    headers = {}
    if via.proxy.username is not None:
        login = f"{unquote(via.proxy.username)}:{unquote(via.proxy.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    connection.set_tunnel(host, where.port or 443, headers=headers)
    return connection


def _exchange(
    url: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    connect_seconds: float,
    read_seconds: float,
    via: Transport,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request on a new connection: the status, headers and body of the answer. Each
    socket operation (connect, the proxy's CONNECT, the TLS handshake; each read) has its
    time-out; the attempt's whole time is bounded by the caller's deadline between attempts."""
    where = urlsplit(url)
    connection = _connection(where, connect_seconds, via)
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
    except ssl.SSLCertVerificationError:
        # The endpoint's certificate does not verify: trying again cannot help.
        raise NetworkError("TLS: the certificate does not verify", retried=False) from None
    except ssl.SSLError as error:
        raise NetworkError(f"TLS: {error.reason or type(error).__name__}") from None
    except OSError as error:
        said = str(error)
        if said.startswith("Tunnel connection failed:"):  # http.client: the proxy's answer
            status = said.split(":", 1)[1].strip().split(" ", 1)[0]
            raise NetworkError(
                f"the HTTPS proxy refused the tunnel (HTTP {status})",
                retried=status not in ("403", "407"),
            ) from None
        raise NetworkError(type(error).__name__) from None
    except http.client.HTTPException as error:
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


def _container_host(host: str) -> bool:
    """A host the token may go to in clear: a loopback address, or the container's own."""
    if host in CONTAINER_HTTP_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def container_credentials(environ: Mapping[str, str], timeout: float) -> Credentials:
    """The container credentials endpoint, as Lambda serves it to SnapStart functions, read as
    the SDKs read it: RELATIVE_URI before FULL_URI, the token file before the token, and over
    plain http only to the loopback and link-local hosts they allow."""
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    url = (
        f"{ECS_HOST}{relative}"
        if relative
        else environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    )
    where = _checked(url, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if where.scheme == "http" and not _container_host(where.hostname or ""):
        raise NoCredentials(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to a loopback or the "
            "container's link-local host"
        )
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token_file:
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
        url,
        "GET",
        headers,
        b"",
        connect_seconds=timeout / 2,
        read_seconds=timeout / 2,
        via=Transport(),  # Lambda's own endpoint: the system's CAs, never a proxy
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
    `X-Amz-Security-Token` for temporary credentials), every given header signed but those a
    hop may rewrite (UNSIGNED)."""
    where = urlsplit(url)
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    signed = {
        k.lower(): " ".join(str(v).split())
        for k, v in headers.items()
        if k.lower() not in UNSIGNED  # as botocore: a hop may rewrite them
    }
    signed |= {"host": _host_header(where), "x-amz-date": stamp}
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
        self._region, partition = region_and_partition(arn)
        self._endpoint = endpoint(self._region, partition, self._environ)
        # Made once, at init: a bad proxy or CA bundle stops Init, naming its variable.
        self._via = Transport(
            _context(self._environ), _proxy(urlsplit(self._endpoint), self._environ)
        )
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
        """One attempt, within connect_seconds + read_seconds in all (the credentials' read
        included): the answer's JSON, or ApiError / NetworkError / NoCredentials."""
        started = time.monotonic()
        credentials = self._current(connect_seconds)
        read_seconds = max(0.01, read_seconds - max(0.0, time.monotonic() - started))
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
            via=self._via,
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
