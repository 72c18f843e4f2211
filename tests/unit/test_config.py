import os
import string
import subprocess
import sys
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pigeon.config import load
from pigeon.endpoints import parse_node
from pigeon.parsers import ConfigError, QueueRoute, parse_queues
from pigeon_tools.paths import BUILD as FUNCTION_ROOT

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
    ("value", "routes"),
    [
        # The original socorro-pigeon's own parse_queues cases: hand-written values.
        ("  socorro.normal\n ", [(100, "socorro.normal")]),
        ("  15 : socorro.normal\n ", [(15, "socorro.normal")]),
        (
            "socorro.normal , 10:socorro.submitter",
            [(100, "socorro.normal"), (10, "socorro.submitter")],
        ),
        # A Terraform heredoc: one entry a line, CRLF from an editor on Windows.
        (
            "socorro.normal,\n  15:socorro.submitter\n",
            [(100, "socorro.normal"), (15, "socorro.submitter")],
        ),
        ("a,\r\n\t5 :\tb\r\n", [(100, "a"), (5, "b")]),
    ],
)
def test_blanks_and_newlines_around_entries_are_accepted_as_the_original_did(value, routes):
    assert load(env(PIGEON_QUEUES=value)).queues == tuple(QueueRoute(n, p) for p, n in routes)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a,,b",
        "101:q",
        "-1:q",
        "1.5:q",
        "x:q",
        ":q",
        "15:",
        "a b",
        "q,q",
        "50:q,q",
        "a\nb",
        "a,\n",
    ],
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
    config = load(env(PIGEON_RABBITMQ_URL=None, PIGEON_RABBITMQ_SECRET_ARN=arn))
    assert config.rabbitmq_nodes is None


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cr3t-pass@rabbit/",
        "amqp://user:s3cr3t-pass@/",
        "amqp://u:s3cr3t-pass@h:99999/",
        "amqp://s3cr3t-pass@h/",
        "amqp://u:s3cr3t-pass@h/#s3cr3t-pass",
        "amqp://u:s3cr3t-pass@h/?s3cr3t-pass",
    ],
)
def test_a_bad_url_is_named_but_never_shown(url):
    with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_URL") as raised:
        load(env(PIGEON_RABBITMQ_URL=url))
    assert "s3cr3t-pass" not in str(raised.value)


def test_the_url_is_not_in_the_repr():
    assert "s3cr3t-pass" not in repr(load(env()))


def test_amqps_is_accepted():
    [node] = (
        load(
            env(PIGEON_RABBITMQ_URL="amqps://u:p@b-1.mq.us-west-2.amazonaws.com:5671")
        ).rabbitmq_nodes
        or ()
    )
    assert node.name == "b-1.mq.us-west-2.amazonaws.com:5671"
    assert node.parameters.ssl_options is not None


def test_a_cluster_is_a_comma_list_of_urls_and_a_comma_in_a_password_stays():
    nodes = "amqp://u:p,w@a:5672/%2F , amqps://u:p,w@b:5671/%2F,amqp://u:p,w@c/%2F"
    parsed = load(env(PIGEON_RABBITMQ_URL=nodes)).rabbitmq_nodes or ()
    assert [node.url for node in parsed] == [
        "amqp://u:p,w@a:5672/%2F",
        "amqps://u:p,w@b:5671/%2F",
        "amqp://u:p,w@c/%2F",
    ]
    assert [node.name for node in parsed] == ["a:5672", "b:5671", "c:5672"]
    assert [node.parameters.credentials.password for node in parsed] == ["p,w"] * 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # pika would refuse these at the first publish, in an error naming no variable.
        ("connection_name=pigeon", r"URL query parameter 1 is not one pika knows"),
        ("heartbeat=30&s3cr3t-pass", r"URL query parameter 2 is not one pika knows"),
        ("heartbeat=soon", r"URL parameter 'heartbeat' is not valid \(a whole number\)$"),
        ("heartbeat", r"URL parameter 'heartbeat' has no value"),
        ("heartbeat=", r"URL parameter 'heartbeat' has no value"),
        ("heartbeat=30&heartbeat=30", r"URL parameter 'heartbeat' is given more than once"),
        ("heartbeat=-5", r"URL parameter 'heartbeat' is not valid"),
        ("ssl_options=%7B%27cafile%27%3A", r"URL parameter 'ssl_options' is not valid$"),
        ("frame_max=1&frame_max=2", r"URL parameter 'frame_max' is given more than once"),
        # Pigeon's own deadline decides these: refused, not silently overridden.
        (
            "socket_timeout=30",
            r"URL parameter 'socket_timeout' is decided by Pigeon \(PIGEON_CONNECT_TIMEOUT",
        ),
        (
            "blocked_connection_timeout=60",
            r"URL parameter 'blocked_connection_timeout' is decided by Pigeon",
        ),
        ("connection_attempts=3", r"URL parameter 'connection_attempts' is decided by Pigeon"),
        ("retry_delay=2", r"URL parameter 'retry_delay' is decided by Pigeon"),
        ("stack_timeout=9", r"URL parameter 'stack_timeout' is decided by Pigeon"),
    ],
)
def test_a_url_pika_would_refuse_later_is_refused_at_init_naming_the_variable(query, message):
    with pytest.raises(ConfigError, match=f"^PIGEON_RABBITMQ_URL: {message}") as raised:
        load(env(PIGEON_RABBITMQ_URL=f"amqp://user:s3cr3t-pass@rabbit:5672/%2F?{query}"))
    assert "s3cr3t-pass" not in str(raised.value)


@pytest.mark.parametrize(
    "query",
    ["heartbeat=30&", "&heartbeat=30", "heartbeat=30&&", "&&heartbeat=30&&", "heartbeat=3%30"],
)
def test_empty_pairs_of_the_query_are_nothing_as_for_pika(query):
    """RabbitMQ's URI spec and pika: `name=value` pairs separated by `&`; an empty pair (a
    trailing `&`) is no parameter, and a %-escaped value is its character."""
    [node] = load(env(PIGEON_RABBITMQ_URL=f"amqps://u:p@host/vhost?{query}")).rabbitmq_nodes or ()
    assert node.parameters.heartbeat == 30
    assert node.parameters.virtual_host == "vhost"


def test_a_bad_query_never_shows_a_value():
    for query in ["s3cr3t=1", "heartbeat=s3cr3t", "locale=s3cr3t&locale=s3cr3t", "%73%33cr3t"]:
        with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_URL: ") as raised:
            load(env(PIGEON_RABBITMQ_URL=f"amqp://u:p@h/%2F?{query}"))
        assert "s3cr3t" not in str(raised.value)


def test_url_parameters_pika_knows_are_honoured_and_heartbeat_defaults_to_60():
    url = "amqp://u:p@h/%2F?heartbeat=15&channel_max=7&locale=de_DE"
    [node] = load(env(PIGEON_RABBITMQ_URL=url)).rabbitmq_nodes or ()
    assert (node.parameters.heartbeat, node.parameters.channel_max) == (15, 7)
    assert node.parameters.locale == "de_DE"
    [plain] = load(env(PIGEON_RABBITMQ_URL="amqp://u:p@h/")).rabbitmq_nodes or ()
    assert plain.parameters.heartbeat == 60
    timed = plain.connection_parameters(2.5)
    assert (timed.socket_timeout, timed.stack_timeout, timed.connection_attempts) == (2.5, 2.5, 1)
    assert plain.parameters.socket_timeout != 2.5  # a copy: the node's own stay as parsed


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
        ("PIGEON_KEY_PREFIX", " v2/raw_crash/"),
        ("PIGEON_KEY_PREFIX", "/v2/raw_crash/"),
        ("PIGEON_EVENT_NAMES", " , "),
        # Each passes the Terraform module's validation (startswith "s3:ObjectCreated:").
        ("PIGEON_EVENT_NAMES", "s3:ObjectCreated:Pu"),
        ("PIGEON_EVENT_NAMES", "s3:ObjectCreated:"),
        ("PIGEON_EVENT_NAMES", "ObjectRemoved:Delete"),
        ("PIGEON_EVENT_NAMES", "s3:ObjectCreated:*,s3:ObjectCreated:Restore"),
        # The Terraform module has no validation of env: every value reaches the function.
        ("PIGEON_ENV", "prod,team:x"),
        ("PIGEON_ENV", "stage|1"),
        ("PIGEON_ENV", "my env"),
        ("PIGEON_ENV", "prod#1"),
        ("PIGEON_ENV", "x" * 197),
    ],
)
def test_other_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}"):
        load(env(**{name: value}))


@pytest.mark.parametrize(
    "value", ["s3:ObjectCreated:*", "ObjectCreated:*", "s3:ObjectCreated:Put,ObjectCreated:*"]
)
def test_the_object_created_wildcard_counts_every_new_object_as_s3_does(value):
    from pigeon.parsers import event_counts

    names = load(env(PIGEON_EVENT_NAMES=value)).event_names
    for name in ("ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:Post"):
        assert event_counts(name, names)
    assert not event_counts("ObjectRemoved:Delete", names)


@pytest.mark.parametrize("prefix", ["v2/raw_crash", "v2/raw_crash/"])
def test_a_key_prefix_with_or_without_its_slash_selects_the_same_keys(prefix):
    from pigeon.crash_ids import crash_id_from_key

    config = load(env(PIGEON_KEY_PREFIX=prefix))
    assert config.key_prefix == "v2/raw_crash/"
    key = "v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313"
    assert crash_id_from_key(key, config.key_prefix) == key.rsplit("/", 1)[1]


@pytest.mark.parametrize("value", ["prod", "stage-2", "team/prod", "us-west-2:prod", "a.b_c"])
def test_env_values_that_are_datadog_tag_values_are_accepted(value):
    assert load(env(PIGEON_ENV=value)).env == value


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
    warnings = [line for line in lines if line["level"] == "WARN"]
    assert len(warnings) == 1
    assert warnings[0]["unknown_variables"] == ["PIGEON_FUZZ", "PIGEON_QUEUE"]
    assert "PIGEON_QUEUE" in warnings[0]["message"]
    assert "s3cr3t-value" not in output


def test_known_variables_only_give_no_warning(capsys):
    from pigeon.handler import from_environment

    from_environment(BASE)
    assert capsys.readouterr().out == ""


LOADED = (
    "import sys, pigeon.handler; "
    "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('pika', 'http', 'ssl', 'boto3', 'botocore'))))"
)


def _imports_at_init(url: str, code: str = LOADED, **more: str) -> subprocess.CompletedProcess[str]:
    """Init in a fresh interpreter from the build, as Lambda runs it; `code` prints what is
    loaded after it (by default pika's, http's, ssl's and an SDK's modules)."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PIGEON_ENV": "test",
        "PIGEON_QUEUES": "q",
        "PIGEON_RABBITMQ_URL": url,
        "PIGEON_METRICS": "none",
        "PYTHONPATH": str(FUNCTION_ROOT),
        **more,
    }
    return subprocess.run(
        [sys.executable, "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


def test_init_with_a_url_without_a_query_imports_no_pika_and_no_http_client():
    """Init is billed: pika (about 50 ms of imports) comes with the first connection, when a
    URL has nothing for pika to read; the secret's HTTP client only with a secret ARN."""
    done = _imports_at_init("amqp://u:p@h:5672/%2F")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_init_with_a_query_has_pika_read_it_and_refuses_what_pika_would_refuse():
    done = _imports_at_init("amqp://u:p@h:5672/%2F?heartbeat=15")
    assert done.returncode == 0, done.stderr
    assert "pika" in done.stdout.split(",")
    refused = _imports_at_init("amqp://u:s3cr3t@h:5672/%2F?heartbeat=soon")
    assert refused.returncode != 0
    assert "PIGEON_RABBITMQ_URL: URL parameter 'heartbeat' is not valid" in refused.stderr
    assert "s3cr3t" not in refused.stderr


_names = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:%@ /?#[]", max_size=12
)


@given(
    scheme=st.sampled_from(["amqp", "amqps"]),
    user=_names,
    password=_names,
    host=st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    vhost=_names,
)
@settings(max_examples=300, deadline=None)
def test_a_url_without_a_query_accepted_at_init_is_one_pika_takes(
    scheme, user, password, host, port, vhost
):
    """Without a query pika is not asked at init: every such URL Pigeon accepts must be one
    pika builds parameters for at the first connection (else the refusal would come late)."""
    login = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    url = f"{scheme}://{login}{host}{f':{port}' if port else ''}/{quote(vhost, safe='')}"
    try:
        node = parse_node(url, "PIGEON_RABBITMQ_URL")
    except ConfigError:
        return
    parameters = node.parameters  # pika, now: it must not refuse
    assert parameters.host == host
    assert parameters.virtual_host == (vhost or "/")  # pika's default, as RabbitMQ's
    assert parameters.credentials.password == password


def test_provisioned_concurrency_imports_pika_in_init():
    """Its Init runs ahead of any request: the first publish should find pika imported."""
    code = "import sys, pigeon.handler; print('pika' in sys.modules)"
    for kind, expected in (("provisioned-concurrency", "True"), ("on-demand", "False")):
        done = _imports_at_init("amqp://u:p@h:5672/%2F", code, AWS_LAMBDA_INITIALIZATION_TYPE=kind)
        assert done.stdout.strip() == expected, (kind, done.stderr)


@pytest.mark.parametrize("where", ["\x01amqp://u:p@h/", " amqp://u:p@h/", "am\tqp://u:p@h/"])
def test_anything_before_the_scheme_is_refused_at_init(where):
    """pika finds the scheme in the URL's first four characters; urlsplit drops leading control
    characters and tabs. Such a URL would pass here and fail at the first publish."""
    with pytest.raises(ConfigError, match="^PIGEON_RABBITMQ_URL: the URL must start with amqp"):
        parse_node(where, "PIGEON_RABBITMQ_URL")


def test_a_space_in_a_password_is_what_pika_connects_with():
    node = parse_node("amqp://u:p w@h/", "PIGEON_RABBITMQ_URL")
    assert node.parameters.credentials.password == "p w"
