"""Broker credentials: URL, Secrets Manager (moto in-process), refresh, and redaction."""

from __future__ import annotations

import json

import pytest

from pigeon.config import ConfigError
from pigeon.credentials import SecretsManagerSource, UrlSource, redact, urls_from_secret
from support.fixtures import make_secret


def test_redact_hides_the_url_and_the_password_in_any_form():
    source = UrlSource("amqp://user:p%40ss-word@host/%2F")
    text = "failed amqp://user:p%40ss-word@host/%2F with p@ss-word and p%40ss-word"
    assert redact(text, source.secrets()) == "failed *** with *** and ***"


def test_secret_fields_make_a_tls_url_by_default():
    urls = urls_from_secret({"host": "b-1.mq.aws", "username": "u", "password": "p/w@"})
    assert urls == ("amqps://u:p%2Fw%40@b-1.mq.aws:5671/%2F",)
    assert urls_from_secret({"url": "amqp://u:p@h:5672/v"}) == ("amqp://u:p@h:5672/v",)


def test_a_cluster_in_the_secret_as_urls_a_host_list_or_a_comma_list():
    nodes = ("amqps://u:p@a:5671/%2F", "amqps://u:p@b:5671/%2F", "amqps://u:p@c:5671/%2F")
    assert urls_from_secret({"urls": list(nodes)}) == nodes
    assert urls_from_secret({"url": ",".join(nodes)}) == nodes
    fields = {"username": "u", "password": "p", "host": ["a", "b", "c"]}
    assert urls_from_secret(fields) == nodes


@pytest.mark.parametrize(
    "value",
    [
        {"host": "h"},
        {"url": "http://u:topsecret@h/"},
        {"urls": "amqp://u:topsecret@h/"},
        {"urls": []},
        {"urls": ["amqp://u:topsecret@h/", "amqp://u:topsecret@h/"]},
        {"host": ["a", 7], "username": "u", "password": "topsecret"},
        {"host": [], "username": "u", "password": "topsecret"},
        {"host": "a", "username": "u", "password": "topsecret", "port": "x"},
        {"host": "a", "username": "u", "password": 1234567},
    ],
)
def test_a_bad_secret_is_named_but_not_shown(value):
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_SECRET_ARN") as raised:
        urls_from_secret(value)
    assert "topsecret" not in str(raised.value)


def test_the_secret_is_fetched_once_and_again_after_refresh(secretsmanager):
    arn = make_secret(secretsmanager, {"url": "amqp://u:first@h/"})
    source = SecretsManagerSource(arn)
    assert source.urls() == ("amqp://u:first@h/",)
    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"url": "amqp://u:second@h/"})
    )
    assert source.urls() == ("amqp://u:first@h/",)  # cached for the life of the container
    assert source.refresh() is True
    assert source.urls() == ("amqp://u:second@h/",)
    assert {"first", "second"} <= set(source.secrets())


@pytest.mark.parametrize("raw", ["not json", "[1, 2]"])
def test_a_secret_that_is_not_a_json_object(secretsmanager, raw):
    arn = secretsmanager.create_secret(Name="bad", SecretString=raw)["ARN"]
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_SECRET_ARN"):
        SecretsManagerSource(arn).urls()
