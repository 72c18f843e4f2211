import pytest

from pigeon.config import ConfigError, QueueRoute, load, parse_queues

BASE = {
    "PIGEON_ENV": "stage",
    "PIGEON_QUEUES": "socorro.normal",
    "PIGEON_RABBITMQ_URL": "amqp://user:s3cr3t-pass@rabbit:5672/%2F",
}


def env(**changes):
    values = {**BASE, **changes}
    return {k: v for k, v in values.items() if v is not None}


def test_defaults():
    config = load(env())
    assert config.env == "stage"
    assert config.queues == (QueueRoute("socorro.normal", 100),)
    assert config.key_prefix == "v2/raw_crash/"
    assert config.event_names == frozenset({"ObjectCreated:Put"})
    assert config.metrics_sink == "log"
    assert config.publish_timeout == 10.0


def test_queue_list_with_percentages():
    assert parse_queues("socorro.normal, 15:socorro.submitter,0:never") == (
        QueueRoute("socorro.normal", 100),
        QueueRoute("socorro.submitter", 15),
        QueueRoute("never", 0),
    )


@pytest.mark.parametrize(
    "value",
    ["", "a,,b", "101:q", "-1:q", "1.5:q", "x:q", ":q", "15:", "a b", "q,q", "50:q,q"],
)
def test_bad_queue_lists_name_the_variable(value):
    with pytest.raises(ConfigError, match="^PIGEON_QUEUES"):
        load(env(PIGEON_QUEUES=value))


@pytest.mark.parametrize("name", ["PIGEON_ENV", "PIGEON_QUEUES"])
def test_required_variables(name):
    with pytest.raises(ConfigError, match=f"^{name}: required"):
        load(env(**{name: None}))


def test_exactly_one_broker_source():
    with pytest.raises(ConfigError, match="PIGEON_RABBITMQ_URL or PIGEON_RABBITMQ_SECRET_ARN"):
        load(env(PIGEON_RABBITMQ_URL=None))
    arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon-AbCdEf"
    with pytest.raises(ConfigError, match="set only one"):
        load(env(PIGEON_RABBITMQ_SECRET_ARN=arn))
    assert load(env(PIGEON_RABBITMQ_URL=None, PIGEON_RABBITMQ_SECRET_ARN=arn)).rabbitmq_url is None


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cr3t-pass@rabbit/",
        "amqp://user:s3cr3t-pass@/",
        "amqp://u:s3cr3t-pass@h:99999/",
    ],
)
def test_a_bad_url_is_named_but_never_shown(url):
    with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_URL") as raised:
        load(env(PIGEON_RABBITMQ_URL=url))
    assert "s3cr3t-pass" not in str(raised.value)


def test_the_url_is_not_in_the_repr():
    assert "s3cr3t-pass" not in repr(load(env()))


def test_amqps_is_accepted():
    assert load(
        env(PIGEON_RABBITMQ_URL="amqps://u:p@b-1.mq.us-west-2.amazonaws.com:5671")
    ).rabbitmq_url


def test_a_cluster_is_a_comma_list_of_urls_and_a_comma_in_a_password_stays():
    from pigeon.credentials import UrlSource

    nodes = "amqp://u:p,w@a:5672/%2F , amqps://u:p,w@b:5671/%2F,amqp://u:p,w@c/%2F"
    source = UrlSource(load(env(PIGEON_RABBITMQ_URL=nodes)).rabbitmq_url or "")
    assert source.urls() == (
        "amqp://u:p,w@a:5672/%2F",
        "amqps://u:p,w@b:5671/%2F",
        "amqp://u:p,w@c/%2F",
    )
    assert UrlSource("amqp://u:p,w@a/").urls() == ("amqp://u:p,w@a/",)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "amqp://u:s3cr3t-pass@a/,http://u:s3cr3t-pass@b/",
            "PIGEON_RABBITMQ_URL: not a valid URL|scheme",
        ),
        ("amqp://u:s3cr3t-pass@a/,amqps://u:s3cr3t-pass@:5671/", r"\(URL 2\): no host"),
        ("amqp://u:s3cr3t-pass@a/,amqp://u:s3cr3t-pass@a:5672/", "a host is listed twice"),
    ],
)
def test_a_bad_node_in_the_list_is_named_by_position_and_never_shown(value, message):
    with pytest.raises(ConfigError, match=message) as raised:
        load(env(PIGEON_RABBITMQ_URL=value))
    assert "s3cr3t-pass" not in str(raised.value)


def test_bad_secret_arn():
    with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_SECRET_ARN"):
        load(env(PIGEON_RABBITMQ_URL=None, PIGEON_RABBITMQ_SECRET_ARN="pigeon-secret"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PIGEON_METRICS", "prometheus"),
        ("PIGEON_LOG_LEVEL", "LOUD"),
        ("PIGEON_PUBLISH_TIMEOUT", "soon"),
        ("PIGEON_PUBLISH_TIMEOUT", "0"),
        ("PIGEON_CONNECT_TIMEOUT", "-3"),
        ("PIGEON_STATSD_PORT", "eighty"),
        ("PIGEON_KEY_PREFIX", " "),
        ("PIGEON_EVENT_NAMES", " , "),
    ],
)
def test_other_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}"):
        load(env(**{name: value}))


def test_event_names_accept_the_bucket_config_spelling():
    config = load(
        env(PIGEON_EVENT_NAMES="s3:ObjectCreated:Put,ObjectCreated:CompleteMultipartUpload")
    )
    assert config.event_names == {"ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload"}


def test_init_warns_once_naming_every_unknown_pigeon_variable(capsys):
    import json

    from pigeon.handler import from_environment

    from_environment(
        {
            **BASE,
            "PIGEON_QUEUE": "typo-of-PIGEON_QUEUES",
            "PIGEONTOOLS_INVOKE_MODE": "local",
            "PIGEON_FUZZ": "s3cr3t-value",
            "OTHER": "not ours",
        }
    )
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines()]
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["unknown_variables"] == ["PIGEON_FUZZ", "PIGEON_QUEUE"]
    assert "PIGEON_QUEUE" in warnings[0]["message"]
    assert "s3cr3t-value" not in output


def test_known_variables_only_give_no_warning(capsys):
    from pigeon.handler import from_environment

    from_environment(BASE)
    assert capsys.readouterr().out == ""
