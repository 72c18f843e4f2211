"""Broker credentials: URL, Secrets Manager (moto), rotation, and redaction."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from moto import mock_aws

from generate_event import event
from pigeon import config as configuration
from pigeon.broker import SecretsManagerSource, UrlSource, redact, url_from_secret
from pigeon.config import ConfigError
from pigeon.handler import Pigeon
from pigeon.metrics import NullSink
from pigeon.publisher import Publisher
from pigeon_helpers import ACCEPT_ID, SEED_KEYS, LambdaContext

REGION = "us-west-2"


@pytest.fixture
def secretsmanager():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def make_secret(client, value: dict) -> str:
    return client.create_secret(
        Name=f"pigeon-{uuid.uuid4().hex[:6]}", SecretString=json.dumps(value)
    )["ARN"]


def test_redact_hides_the_url_and_the_password_in_any_form():
    source = UrlSource("amqp://user:p%40ss-word@host/%2F")
    text = "failed amqp://user:p%40ss-word@host/%2F with p@ss-word and p%40ss-word"
    assert redact(text, source.secrets()) == "failed *** with *** and ***"


def test_secret_fields_make_a_tls_url_by_default():
    url = url_from_secret({"host": "b-1.mq.aws", "username": "u", "password": "p/w@"})
    assert url == "amqps://u:p%2Fw%40@b-1.mq.aws:5671/%2F"
    assert url_from_secret({"url": "amqp://u:p@h:5672/v"}) == "amqp://u:p@h:5672/v"


@pytest.mark.parametrize("value", [{"host": "h"}, {"url": "http://u:topsecret@h/"}])
def test_a_bad_secret_is_named_but_not_shown(value):
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_SECRET_ARN") as raised:
        url_from_secret(value)
    assert "topsecret" not in str(raised.value)


def test_the_secret_is_fetched_once_and_again_after_refresh(secretsmanager):
    arn = make_secret(secretsmanager, {"url": "amqp://u:first@h/"})
    source = SecretsManagerSource(arn)
    assert source.url() == "amqp://u:first@h/"
    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"url": "amqp://u:second@h/"})
    )
    assert source.url() == "amqp://u:first@h/"  # cached for the life of the container
    assert source.refresh() is True
    assert source.url() == "amqp://u:second@h/"
    assert {"first", "second"} <= set(source.secrets())


@pytest.mark.parametrize("raw", ["not json", "[1, 2]"])
def test_a_secret_that_is_not_a_json_object(secretsmanager, raw):
    arn = secretsmanager.create_secret(Name="bad", SecretString=raw)["ARN"]
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_SECRET_ARN"):
        SecretsManagerSource(arn).url()


@pytest.mark.broker
def test_a_rotated_password_is_picked_up_without_a_restart(broker, secretsmanager):
    user, old, new = f"pigeon-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex, uuid.uuid4().hex
    broker.ctl("add_user", user, old)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    queue = f"test.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    arn = make_secret(
        secretsmanager,
        {"host": broker.host, "port": broker.port, "tls": False, "username": user, "password": old},
    )
    config = configuration.load(
        {"PIGEON_ENV": "test", "PIGEON_QUEUES": queue, "PIGEON_RABBITMQ_SECRET_ARN": arn}
    )
    pigeon = Pigeon(config, Publisher(SecretsManagerSource(arn)), NullSink())
    pigeon(event([SEED_KEYS[0]]), LambdaContext())

    # Rotation: the broker and the secret change; the open connection is dropped.
    broker.ctl("change_password", user, new)
    secretsmanager.put_secret_value(
        SecretId=arn,
        SecretString=json.dumps(
            {
                "host": broker.host,
                "port": broker.port,
                "tls": False,
                "username": user,
                "password": new,
            }
        ),
    )
    broker.ctl("close_all_connections", "rotation")
    time.sleep(0.3)
    pigeon(event([SEED_KEYS[0]]), LambdaContext())
    assert broker.bodies(queue) == [ACCEPT_ID, ACCEPT_ID]
