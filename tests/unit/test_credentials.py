"""Broker credentials: URL, Secrets Manager (moto in-process), refresh, redaction, and the
secret's JSON as people write it: the console's key/value editor stores only strings."""

from __future__ import annotations

import json
import random
import time
import uuid

import pytest

from pigeon.credentials import (
    MAX_ATTEMPTS,
    SecretsManagerSource,
    SecretUnavailable,
    UrlSource,
    attempt_timeouts,
    nodes_from_secret,
)
from pigeon.handler import from_environment
from pigeon.parsers import ConfigError, split_broker_urls
from pigeon.redaction import redact
from support.aws_standins import SecretsManagerAnswers, secrets_manager
from support.fixtures import make_secret
from support.records import recording

ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon-AbCdEf"
FIELDS = {"host": "b-1.mq.aws", "username": "u", "password": "topsecret"}


def urls(value: dict) -> list[str]:
    return [node.url for node in nodes_from_secret(value)]


def later(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


def test_redact_hides_the_url_and_the_password_in_any_form():
    source = UrlSource(split_broker_urls("amqp://user:p%40ss-word@host/%2F", "X"))
    text = "failed amqp://user:p%40ss-word@host/%2F with p@ss-word and p%40ss-word"
    assert source.nodes(later())
    assert redact(text) == "failed *** with *** and ***"


@pytest.mark.parametrize("password", ["x", "ab", "%"])
def test_redact_hides_even_a_one_or_two_letter_password(password):
    assert redact(f"login refused for u:{password}", [password, ""]) == "login refused for u:***"


def test_secret_fields_make_a_tls_url_by_default():
    assert urls({**FIELDS, "password": "p/w@"}) == ["amqps://u:p%2Fw%40@b-1.mq.aws:5671/%2F"]
    assert urls({"url": "amqp://u:p@h:5672/v"}) == ["amqp://u:p@h:5672/v"]


@pytest.mark.parametrize(
    ("tls", "scheme", "port"),
    [
        (False, "amqp", 5672),
        ("false", "amqp", 5672),  # the console's editor: every value is a string
        (" FALSE ", "amqp", 5672),
        ("true", "amqps", 5671),
        (True, "amqps", 5671),
    ],
)
def test_tls_from_a_boolean_or_its_string(tls, scheme, port):
    assert urls({**FIELDS, "tls": tls}) == [f"{scheme}://u:topsecret@b-1.mq.aws:{port}/%2F"]


def test_a_port_as_a_number_or_a_string_of_digits():
    assert urls({**FIELDS, "port": "5673"}) == ["amqps://u:topsecret@b-1.mq.aws:5673/%2F"]
    assert urls({**FIELDS, "port": 5674}) == ["amqps://u:topsecret@b-1.mq.aws:5674/%2F"]


def test_a_cluster_in_the_secret_as_urls_a_host_list_or_a_comma_list():
    nodes = ["amqps://u:p@a:5671/%2F", "amqps://u:p@b:5671/%2F", "amqps://u:p@c:5671/%2F"]
    assert urls({"urls": nodes}) == nodes
    assert urls({"urls": ",".join(nodes)}) == nodes
    assert urls({"url": ",".join(nodes)}) == nodes
    fields = {"username": "u", "password": "p", "host": ["a", "b", "c"]}
    assert urls(fields) == nodes
    assert urls({**fields, "host": "a, b,c"}) == nodes  # the console's editor: one string


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"host": "h"}, "lacks"),
        ({"url": "http://u:topsecret@h/"}, "field url"),
        ({"url": 5}, "field url"),
        ({"url": ""}, "field url"),
        ({"urls": 7}, "field urls"),
        ({"urls": []}, "field urls"),
        ({"urls": ["amqp://u:topsecret@h/", "amqp://u:topsecret@h/"]}, "listed twice"),
        ({"url": "amqp://u:topsecret@h/?heartbeat=x"}, "heartbeat"),
        ({**FIELDS, "host": ["a", 7]}, "field host"),
        ({**FIELDS, "host": []}, "field host"),
        ({**FIELDS, "host": "amqps://u:topsecret@h"}, "field host"),
        ({**FIELDS, "host": "h:5671"}, "field host"),
        ({**FIELDS, "host": 42}, "field host"),
        ({**FIELDS, "port": "x"}, "field port"),
        ({**FIELDS, "port": True}, "field port"),
        ({**FIELDS, "port": 5671.5}, "field port"),
        ({**FIELDS, "port": 0}, "field port"),
        ({**FIELDS, "port": "70000"}, "field port"),
        ({**FIELDS, "tls": "no"}, "field tls"),
        ({**FIELDS, "tls": 0}, "field tls"),
        ({**FIELDS, "tls": None}, "field tls"),
        ({**FIELDS, "virtual_host": 3}, "field virtual_host"),
        ({**FIELDS, "virtual_host": ""}, "field virtual_host"),
        ({**FIELDS, "password": 1234567}, "field password"),
        ({**FIELDS, "username": ["u"]}, "field username"),
        # Two forms at once: one would be ignored (a rotation changing `password` but not
        # `url` would go on with the old password without a word).
        ({**FIELDS, "url": "amqp://u:topsecret@h/"}, "field url and the fields host"),
        ({"url": "amqp://u:topsecret@h/", "password": "topsecret"}, "field url and the fields"),
        ({"url": "amqp://u:topsecret@h/", "urls": ["amqp://u:topsecret@h/"]}, "field urls"),
    ],
)
def test_a_bad_secret_names_the_field_but_never_shows_a_value(value, field):
    with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_SECRET_ARN") as raised:
        nodes_from_secret(value)
    assert field in str(raised.value)
    assert "topsecret" not in str(raised.value)


def test_the_secret_is_fetched_once_and_again_after_refresh(secretsmanager):
    arn = make_secret(secretsmanager, {"url": "amqp://u:first@h/"})
    source = SecretsManagerSource(arn)
    assert [n.url for n in source.nodes(later())] == ["amqp://u:first@h/"]
    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"url": "amqp://u:second@h/"})
    )
    assert [n.url for n in source.nodes(later())] == ["amqp://u:first@h/"]  # cached
    assert source.refresh() is True
    assert [n.url for n in source.nodes(later())] == ["amqp://u:second@h/"]
    assert redact("first or second") == "*** or ***"


def test_extra_fields_are_named_in_a_warning_and_never_their_values(secretsmanager):
    arn = make_secret(secretsmanager, {**FIELDS, "virtualhost": "/prod", "engine": "rabbitmq"})
    with recording("pigeon.credentials") as seen:
        assert len(SecretsManagerSource(arn).nodes(later())) == 1
    [warning] = seen.records
    assert warning.getMessage().endswith("does not read: engine, virtualhost")
    assert "/prod" not in warning.getMessage()
    assert "topsecret" not in warning.getMessage()


@pytest.mark.parametrize("raw", ["not json", "[1, 2]"])
def test_a_secret_that_is_not_a_json_object(secretsmanager, raw):
    arn = secretsmanager.create_secret(Name=f"bad-{uuid.uuid4().hex[:6]}", SecretString=raw)["ARN"]
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_SECRET_ARN"):
        SecretsManagerSource(arn).nodes(later())


@pytest.mark.parametrize("left", [0.06, 0.3, 1.0, 4.0, 5.0, 6.0, 30.0, 900.0])
def test_each_attempt_ends_within_the_time_left(left):
    connect, read = attempt_timeouts(left)
    assert connect + read <= left
    assert connect > 0
    assert read > 0


@pytest.fixture
def answers(monkeypatch):
    """A Secrets Manager that answers GetSecretValue from a script (support.aws_standins)."""
    script = SecretsManagerAnswers([])
    with secrets_manager(script) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield script


SECRET = json.dumps({"url": "amqp://u:topsecret@h/"})


def source() -> SecretsManagerSource:
    return SecretsManagerSource(ARN, rng=random.Random(7))


def test_throttling_and_5xx_are_tried_again_with_backoff_then_read(answers):
    answers.answers = ["throttled", "internal", "unavailable", SECRET]
    with recording("pigeon.credentials") as seen:
        assert [n.url for n in source().nodes(later())] == ["amqp://u:topsecret@h/"]
    assert answers.asked == 4
    retried = [r.getMessage() for r in seen.records]
    assert (
        retried[0]
        == "reading the broker secret failed (ThrottlingException (HTTP 400)); trying again"
    )
    assert "InternalServiceError (HTTP 500)" in retried[1]
    assert "ServiceUnavailable (HTTP 503)" in retried[2]


def test_a_secret_that_keeps_failing_is_given_up_after_the_last_attempt(answers):
    answers.answers = ["throttled"]
    with pytest.raises(SecretUnavailable) as raised:
        source().nodes(later())
    assert answers.asked == MAX_ATTEMPTS
    assert str(raised.value) == (
        f"PIGEON_RABBITMQ_SECRET_ARN: ThrottlingException (HTTP 400), {MAX_ATTEMPTS} attempts"
    )


@pytest.mark.parametrize(
    ("fault", "code"),
    [("denied", "AccessDeniedException"), ("not found", "ResourceNotFoundException")],
)
def test_an_answer_that_will_not_change_is_not_tried_again(answers, fault, code):
    answers.answers = [fault, SECRET]
    with pytest.raises(SecretUnavailable) as raised:
        source().nodes(later())
    assert answers.asked == 1
    assert str(raised.value) == (f"PIGEON_RABBITMQ_SECRET_ARN: {code} (HTTP 400), not tried again")
    assert "authorized" not in str(raised.value)  # the error's own text is not repeated


def test_no_time_left_asks_nothing(answers):
    answers.answers = [SECRET]
    with pytest.raises(SecretUnavailable, match="^PIGEON_RABBITMQ_SECRET_ARN: no time left"):
        source().nodes(time.monotonic())
    assert answers.asked == 0


def test_init_reads_the_secret_and_the_invocation_does_not_again(answers):
    answers.answers = [SECRET]
    read = source()
    read.prefetch()
    assert answers.asked == 1
    assert [n.url for n in read.nodes(later())] == ["amqp://u:topsecret@h/"]
    assert answers.asked == 1


@pytest.mark.parametrize("first", ["denied", "not json", json.dumps({"url": "http://x/"})])
def test_a_failed_read_in_init_does_not_fail_init_and_the_invocation_reads_again(answers, first):
    answers.answers = [first, SECRET]
    read = source()
    with recording("pigeon.credentials") as seen:
        read.prefetch()  # does not raise
    [warning] = seen.records
    assert warning.getMessage().startswith("could not read the broker secret in Init")
    assert "PIGEON_RABBITMQ_SECRET_ARN" in warning.__dict__["error"]
    assert [n.url for n in read.nodes(later())] == ["amqp://u:topsecret@h/"]
    assert answers.asked == 2


def test_the_function_inits_with_secrets_manager_refusing(answers, monkeypatch):
    """Init creates the client and tries the secret; AccessDenied there is a warning, and the
    invocation (not Init) fails, naming the setting."""
    answers.answers = ["denied"]
    environ = {
        "PIGEON_ENV": "test",
        "PIGEON_QUEUES": "q",
        "PIGEON_RABBITMQ_SECRET_ARN": ARN,
        "PIGEON_METRICS": "none",
    }
    with recording("pigeon.credentials") as seen:
        pigeon = from_environment(environ)
    assert pigeon is not None
    assert answers.asked == 1
    assert [r.levelname for r in seen.records] == ["WARNING"]
