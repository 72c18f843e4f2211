"""The standard-library GetSecretValue (pigeon.secrets_api) against what it meets: botocore's own
Signature Version 4 (the same bytes signed give the same signature), a container credentials
endpoint as Lambda serves SnapStart functions (a token, an expiry, a refusal), endpoints that
refuse, hang, cut the answer short or answer a load balancer's HTML, and moto's server."""

from __future__ import annotations

import base64
import datetime
import json
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pigeon import secrets_api
from pigeon.credentials import SecretsManagerSource, SecretUnavailable
from pigeon.parsers import ConfigError
from pigeon_tools import net
from pigeon_tools.broker import tls
from support.aws_standins import serving
from support.fixtures import make_secret

ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon-AbCdEf"
NOW = datetime.datetime(2026, 12, 3, 17, 45, 9, tzinfo=datetime.UTC)
KEYS = secrets_api.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TEMPORARY = secrets_api.Credentials(KEYS.access_key, KEYS.secret_key, "FwoGZXIvYXdzE//token")


def later(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


# --- the signature, against botocore's ----------------------------------------------------


@pytest.mark.parametrize("credentials", [KEYS, TEMPORARY], ids=["keys", "session token"])
@pytest.mark.parametrize(
    "url",
    [
        "https://secretsmanager.us-west-2.amazonaws.com/",
        "http://127.0.0.1:5000/",  # a port that is not the scheme's is part of the host
        "http://[::1]:5000/",  # an IPv6 literal keeps its brackets, as http.client sends it
        "https://secretsmanager.us-west-2.amazonaws.com:443/",  # the default port is left out
        "https://secretsmanager.cn-north-1.amazonaws.com.cn/",
    ],
)
def test_the_signature_is_botocores_for_the_same_request(credentials, url, monkeypatch):
    import botocore.auth
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"SecretId": ARN}).encode()
    headers = {
        "Content-Type": secrets_api.CONTENT_TYPE,
        "X-Amz-Target": secrets_api.TARGET,
        "User-Agent": secrets_api.USER_AGENT,  # sent, never signed: a hop may rewrite it
    }
    ours = secrets_api.sign("POST", url, headers, body, credentials, "us-west-2", NOW)

    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    signer = SigV4Auth(
        Credentials(credentials.access_key, credentials.secret_key, credentials.token),
        "secretsmanager",
        "us-west-2",
    )
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    signer.add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    if credentials.token:
        assert ours["X-Amz-Security-Token"] == credentials.token
    else:
        assert "X-Amz-Security-Token" not in ours


def test_a_changed_byte_of_the_body_or_a_header_changes_the_signature():
    url = "https://secretsmanager.us-west-2.amazonaws.com/"
    headers = {"X-Amz-Target": secrets_api.TARGET}
    one = secrets_api.sign("POST", url, headers, b'{"SecretId":"a"}', KEYS, "us-west-2", NOW)
    two = secrets_api.sign("POST", url, headers, b'{"SecretId":"b"}', KEYS, "us-west-2", NOW)
    three = secrets_api.sign(
        "POST", url, {"X-Amz-Target": "x"}, b'{"SecretId":"a"}', KEYS, "us-west-2", NOW
    )
    assert len({one["Authorization"], two["Authorization"], three["Authorization"]}) == 3


# --- where it sends the request -------------------------------------------------------------


GOV = "arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:s"
CN = "arn:aws-cn:secretsmanager:cn-north-1:1:secret:s"
ISO = "arn:aws-iso:secretsmanager:us-iso-east-1:1:secret:s"
FIPS = {"AWS_USE_FIPS_ENDPOINT": "true"}
DUAL = {"AWS_USE_DUALSTACK_ENDPOINT": "true"}


@pytest.mark.parametrize(
    ("arn", "environ", "expected"),
    [
        (ARN, {}, "https://secretsmanager.us-west-2.amazonaws.com"),
        (CN, {}, "https://secretsmanager.cn-north-1.amazonaws.com.cn"),
        (GOV, {}, "https://secretsmanager.us-gov-west-1.amazonaws.com"),
        (GOV, FIPS, "https://secretsmanager-fips.us-gov-west-1.amazonaws.com"),
        (ARN, FIPS, "https://secretsmanager-fips.us-west-2.amazonaws.com"),
        (ARN, DUAL, "https://secretsmanager.us-west-2.amazonaws.com"),  # already dual-stack
        (ARN, {**FIPS, **DUAL}, "https://secretsmanager-fips.us-west-2.amazonaws.com"),
        (CN, DUAL, "https://secretsmanager.cn-north-1.amazonaws.com.cn"),
        (GOV, {**FIPS, **DUAL}, "https://secretsmanager-fips.us-gov-west-1.amazonaws.com"),
        (ISO, DUAL, "https://secretsmanager.us-iso-east-1.api.aws.ic.gov"),
        (ISO, {**FIPS, **DUAL}, "https://secretsmanager-fips.us-iso-east-1.api.aws.ic.gov"),
        (ISO, {}, "https://secretsmanager.us-iso-east-1.c2s.ic.gov"),
        (ARN, {"AWS_ENDPOINT_URL": "http://127.0.0.1:1/"}, "http://127.0.0.1:1"),
        (
            ARN,
            {"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://b:2"},
            "http://b:2",
        ),
        (
            ARN,
            {"AWS_ENDPOINT_URL": "http://a:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
            "https://secretsmanager.us-west-2.amazonaws.com",
        ),
    ],
)
def test_the_endpoint_is_the_one_botocore_sends_to(arn, environ, expected, monkeypatch):
    """Compared with the URL botocore's endpoint rules really send GetSecretValue to (caught
    before it leaves), where no endpoint is configured."""
    region, partition = secrets_api.region_and_partition(arn)
    assert secrets_api.endpoint(region, partition, environ) == expected
    if not any(k.startswith("AWS_ENDPOINT_URL") for k in environ):
        import botocore.session

        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
            monkeypatch.delenv(name, raising=False)
        for name in {**FIPS, **DUAL}:
            monkeypatch.setenv(name, environ.get(name, "false"))
        client = botocore.session.get_session().create_client(
            "secretsmanager", region_name=region, aws_access_key_id="a", aws_secret_access_key="b"
        )
        sent: list[str] = []

        class Caught(Exception):
            pass

        def catch(request: Any, **_: Any) -> None:
            sent.append(request.url)
            raise Caught

        client.meta.events.register("before-send.secrets-manager.GetSecretValue", catch)
        with pytest.raises(Caught):
            client.get_secret_value(SecretId=arn)
        assert sent[0].rstrip("/") == expected


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"AWS_ENDPOINT_URL": "localhost:4566"}, "AWS_ENDPOINT_URL: not an http(s) URL"),
        (
            {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://h:port/"},
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        ),
        ({"AWS_ENDPOINT_URL": "ftp://h/"}, "AWS_ENDPOINT_URL: not an http(s) URL"),
        ({"HTTPS_PROXY": "http://proxy:port"}, "HTTPS_PROXY: not a valid URL"),
        ({"HTTPS_PROXY": "https://proxy:3128"}, "HTTPS_PROXY: only an http:// proxy"),
        ({"AWS_CA_BUNDLE": "/nonexistent/ca.pem"}, "AWS_CA_BUNDLE: not a readable PEM"),
    ],
)
def test_an_endpoint_setting_that_cannot_work_stops_init_naming_it(environ, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        SecretsManagerSource(ARN, environ={"AWS_REGION": "us-west-2", **environ})


def test_credentials_never_show_the_secret_key_or_the_token():
    shown = repr(TEMPORARY)
    assert KEYS.secret_key not in shown
    assert TEMPORARY.token not in shown
    assert KEYS.access_key in shown


# --- stand-ins: a Secrets Manager that checks who signed, a container credentials endpoint ---


class Seen:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []


def secrets_manager_checking(seen: Seen, secret: str) -> type[BaseHTTPRequestHandler]:
    """Answers GetSecretValue only when the request is signed by the credentials the container
    endpoint handed out (the access key in the Authorization header and the session token)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.requests.append(dict(self.headers))
            authorization = self.headers.get("Authorization", "")
            if (
                "Credential=ASIACONTAINER/" not in authorization
                or self.headers.get("X-Amz-Security-Token") != "container-token"
                or self.headers.get("X-Amz-Target") != secrets_api.TARGET
            ):
                self._answer(400, {"__type": "UnrecognizedClientException", "message": "no"})
                return
            arn = json.loads(body)["SecretId"]
            self._answer(200, {"ARN": arn, "SecretString": secret})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", secrets_api.CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def container_endpoint(asked: list[str], expires_in: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != "lambda-authorization-token":
                self.send_response(403)
                self.end_headers()
                return
            expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires_in)
            data = json.dumps(
                {
                    "AccessKeyId": "ASIACONTAINER",
                    "SecretAccessKey": "container-secret",
                    "Token": "container-token",
                    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


SECRET = json.dumps({"url": "amqp://u:topsecret@h/"})


def snapstart_environ(secrets: str, credentials: str, token: str) -> dict[str, str]:
    """A SnapStart function's environment: no AWS_ACCESS_KEY_ID, a container endpoint."""
    return {
        "AWS_REGION": "us-west-2",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{credentials}/2018-06-01/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
    }


@contextmanager
def snapstart_world(
    token: str = "lambda-authorization-token",  # noqa: S107  (the stand-in's own)
    expires_in: float = 3600,
) -> Iterator[tuple[dict[str, str], Seen, list[str]]]:
    """A Secrets Manager that checks the signer, a container endpoint that hands out the
    credentials for `lambda-authorization-token`, and a SnapStart function's environment."""
    seen, asked = Seen(), []
    with (
        serving(secrets_manager_checking(seen, SECRET)) as secrets,
        serving(container_endpoint(asked, expires_in=expires_in)) as credentials,
    ):
        yield snapstart_environ(secrets, credentials, token), seen, asked


def test_without_keys_in_the_environment_it_signs_with_the_container_endpoints_credentials():
    with snapstart_world() as (environ, seen, asked):
        source = SecretsManagerSource(ARN, environ=environ)
        assert [n.url for n in source.nodes(later())] == ["amqp://u:topsecret@h/"]
        source.refresh()
        source.nodes(later())
        assert asked == ["lambda-authorization-token"]  # kept until near its expiry
        source.forget()  # before a snapshot: each restored environment reads its own
        source.nodes(later())
        assert len(asked) == 2
    assert len(seen.requests) == 3


def test_credentials_about_to_expire_are_read_again():
    with snapstart_world(expires_in=60) as (environ, _seen, asked):
        source = SecretsManagerSource(ARN, environ=environ)
        source.nodes(later())
        source.refresh()
        source.nodes(later())
    assert len(asked) == 2  # 60 s left is inside the 5 minutes' margin


def test_a_token_the_endpoint_refuses_is_tried_again_then_named_never_shown():
    with (
        snapstart_world(token="a-stale-token") as (environ, seen, asked),
        pytest.raises(SecretUnavailable) as raised,
    ):
        SecretsManagerSource(ARN, environ=environ).nodes(later())
    assert "container credentials endpoint answered HTTP 403" in str(raised.value)
    assert "a-stale-token" not in str(raised.value)
    assert len(asked) > 1
    assert not seen.requests


def test_no_credentials_at_all_is_said_at_once():
    environ = {"AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    with pytest.raises(SecretUnavailable, match="no AWS credentials.*not tried again"):
        SecretsManagerSource(ARN, environ=environ).nodes(later())


# --- endpoints that misbehave -----------------------------------------------------------------


def keys_environ(endpoint: str) -> dict[str, str]:
    return {
        "AWS_REGION": "us-west-2",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


def test_a_closed_port_is_a_network_failure_tried_again_within_the_deadline():
    environ = keys_environ(f"http://127.0.0.1:{net.free_port()}")
    started = time.monotonic()
    with pytest.raises(SecretUnavailable) as raised:
        SecretsManagerSource(ARN, environ=environ).nodes(later(3.0))
    assert "no answer (ConnectionRefusedError)" in str(raised.value)
    assert time.monotonic() - started < 3.0


def test_an_endpoint_that_never_answers_times_out_before_the_deadline():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        environ = keys_environ(f"http://127.0.0.1:{listener.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(SecretUnavailable) as raised:
            SecretsManagerSource(ARN, environ=environ).nodes(later(1.5))
        assert time.monotonic() - started < 1.5 + 0.2
        assert "timed out" in str(raised.value) or "no time left" in str(raised.value)
    finally:
        listener.close()


class Misbehaving(BaseHTTPRequestHandler):
    mode = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "html 502":  # a load balancer or proxy in between
            data = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
        elif self.mode == "header only":
            data = b""
            self.send_response(400)
            self.send_header(
                "x-amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/"
            )
        elif self.mode == "namespaced":
            data = json.dumps(
                {"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException"}
            ).encode()
            self.send_response(400)
        else:  # "cut short": a Content-Length the body never reaches
            self.send_response(200)
            self.send_header("Content-Length", "500")
            self.end_headers()
            self.wfile.write(b'{"SecretString": "{\\"url\\"')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.mark.parametrize(
    ("mode", "said", "tried_again"),
    [
        ("html 502", "an error (HTTP 502)", True),
        ("header only", "AccessDeniedException (HTTP 400), not tried again", False),
        ("namespaced", "ResourceNotFoundException (HTTP 400), not tried again", False),
        ("cut short", "no answer (IncompleteRead)", True),
    ],
)
def test_answers_that_are_not_secrets_manager_json_are_named_and_retried_as_they_deserve(
    mode, said, tried_again
):
    handler = type("Handler", (Misbehaving,), {"mode": mode})
    with serving(handler) as endpoint, pytest.raises(SecretUnavailable) as raised:
        SecretsManagerSource(ARN, environ=keys_environ(endpoint)).nodes(later())
    assert said in str(raised.value)
    assert ("attempts" in str(raised.value)) is tried_again


def test_moto_reads_the_secret_it_holds(secretsmanager):
    """The real protocol, answered by moto's server (the function's environment points at it)."""
    arn = make_secret(secretsmanager, {"url": "amqp://u:pw@h/"})
    answer = secrets_api.SecretsManager(arn).get_secret_value(1.0, 4.0)
    assert json.loads(answer["SecretString"]) == {"url": "amqp://u:pw@h/"}
    missing = arn[:-6] + "ZZZZZZ"
    with pytest.raises(secrets_api.ApiError) as raised:
        secrets_api.SecretsManager(missing).get_secret_value(1.0, 4.0)
    assert raised.value.code == "ResourceNotFoundException"  # moto: HTTP 404; AWS: 400


# --- the container endpoint as the SDKs read it --------------------------------------------


def test_the_token_file_wins_over_the_token_and_plain_http_goes_only_to_the_container(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("lambda-authorization-token\n")
    with snapstart_world(token="a-stale-token") as (environ, _seen, asked):
        environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(token_file)
        assert SecretsManagerSource(ARN, environ=environ).nodes(later())
        assert asked == ["lambda-authorization-token"]
        elsewhere = {
            **environ,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://credentials.example.com/creds",
        }
        with pytest.raises(SecretUnavailable, match="plain http only to a loopback"):
            SecretsManagerSource(ARN, environ=elsewhere).nodes(later())
    assert len(asked) == 1  # the token never went to the other host


def slow_container_endpoint(seconds: float) -> type[BaseHTTPRequestHandler]:
    inner = container_endpoint([], expires_in=3600)

    class Handler(inner):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:
            time.sleep(seconds)
            super().do_GET()

    return Handler


def test_reading_the_credentials_counts_against_the_attempts_time():
    """A slow container endpoint and then Secrets Manager share one attempt's time: the
    attempt ends within connect + read, whatever each part took."""
    seen = Seen()
    with (
        serving(secrets_manager_checking(seen, SECRET)) as secrets,
        serving(slow_container_endpoint(0.4)) as credentials,
    ):
        environ = snapstart_environ(secrets, credentials, "lambda-authorization-token")
        api = secrets_api.SecretsManager(ARN, environ)
        started = time.monotonic()
        with pytest.raises(secrets_api.NetworkError, match="timed out"):
            api.get_secret_value(0.3, 0.3)  # the credentials' read alone needs 0.4 s
        assert time.monotonic() - started < 0.6 + 0.15


# --- TLS and proxies: a real TLS endpoint with a throwaway CA ---------------------------------


@contextmanager
def serving_tls(handler: type[BaseHTTPRequestHandler], folder) -> Iterator[tuple[str, str]]:
    files = tls.write(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(files.certificate), str(files.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}", str(files.ca)
    finally:
        server.shutdown()
        server.server_close()


def answering(secret: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            arn = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["SecretId"]
            data = json.dumps({"ARN": arn, "SecretString": secret}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def test_a_certificate_that_does_not_verify_is_not_tried_again_and_a_ca_bundle_trusts_it(
    tmp_path,
):
    with serving_tls(answering(SECRET), tmp_path) as (endpoint, ca):
        environ = keys_environ(endpoint)
        with pytest.raises(SecretUnavailable) as raised:
            SecretsManagerSource(ARN, environ=environ).nodes(later())
        assert str(raised.value).endswith(
            "no answer (TLS: the certificate does not verify), not tried again"
        )
        trusted = {**environ, "AWS_CA_BUNDLE": ca}
        assert SecretsManagerSource(ARN, environ=trusted).nodes(later())


@contextmanager
def connect_proxy(login: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS proxy as corporate egress runs one: CONNECT host:port (with Basic credentials
    when `login` is given, else 407), then bytes both ways."""
    listener = socket.create_server(("127.0.0.1", 0))
    tunnels: list[str] = []
    stop = threading.Event()

    def pipe(client: socket.socket) -> None:
        with client:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            target = request.split(b"\r\n", 1)[0].split()[1].decode()
            if login is not None:
                wanted = "Basic " + base64.b64encode(login.encode()).decode()
                if f"Proxy-Authorization: {wanted}".encode() not in request:
                    client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                    tunnels.append("refused")
                    return
            tunnels.append(target)
            port = target.rpartition(":")[2]
            with socket.create_connection(("127.0.0.1", int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                while not stop.is_set():
                    ready, _, _ = select.select([client, upstream], [], [], 0.2)
                    for side in ready:
                        data = side.recv(65536)
                        if not data:
                            return
                        (upstream if side is client else client).sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=pipe, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", tunnels
    finally:
        stop.set()
        listener.close()


def test_https_proxy_is_tunnelled_through_and_no_proxy_goes_around(tmp_path):
    with (
        serving_tls(answering(SECRET), tmp_path) as (endpoint, ca),
        connect_proxy() as (proxy, tunnels),
    ):
        environ = {**keys_environ(endpoint), "AWS_CA_BUNDLE": ca, "HTTPS_PROXY": proxy}
        assert SecretsManagerSource(ARN, environ=environ).nodes(later())
        port = endpoint.rsplit(":", 1)[1]
        assert tunnels == [f"localhost:{port}"]
        around = {**environ, "NO_PROXY": "example.com,localhost"}
        assert SecretsManagerSource(ARN, environ=around).nodes(later())
        assert len(tunnels) == 1


def test_a_proxy_that_wants_credentials_gets_them_from_its_url_and_a_407_is_not_retried(tmp_path):
    with (
        serving_tls(answering(SECRET), tmp_path) as (endpoint, ca),
        connect_proxy(login="egress:p@ss w") as (proxy, tunnels),
    ):
        environ = {**keys_environ(endpoint), "AWS_CA_BUNDLE": ca, "HTTPS_PROXY": proxy}
        with pytest.raises(SecretUnavailable) as raised:
            SecretsManagerSource(ARN, environ=environ).nodes(later())
        assert str(raised.value).endswith(
            "no answer (the HTTPS proxy refused the tunnel (HTTP 407)), not tried again"
        )
        assert tunnels == ["refused"]
        with_login = proxy.replace("http://", "http://egress:p%40ss%20w@")
        environ["HTTPS_PROXY"] = with_login
        assert SecretsManagerSource(ARN, environ=environ).nodes(later())
        assert tunnels[-1].startswith("localhost:")
        assert "p@ss" not in str(raised.value)
