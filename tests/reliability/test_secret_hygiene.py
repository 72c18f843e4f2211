"""Secret hygiene over the whole session: no broker password and no secret value in any log
line, metric line, error JSON or exception that the tests saw; and one run at DEBUG, the
level at which the AWS SDK would log the secret's value."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from pigeon_tools import moto_server
from pigeon_tools.events import event, new_crash_id, raw_crash_key
from pigeon_tools.lambda_local.spec import LoggingConfig
from support import evidence


def test_the_scan_finds_a_planted_secret():
    planted = "pw-planted-" + "x" * 8
    texts = [("somewhere", f"connect failed for amqp://u:{planted}@h/")]
    saved = (set(evidence.SECRETS), list(evidence.TEXTS))
    try:
        evidence.SECRETS.add(planted)
        evidence.TEXTS[:] = texts
        assert evidence.leaks() == [("somewhere", "pw-p…")]
    finally:
        evidence.SECRETS.clear()
        evidence.SECRETS.update(saved[0])
        evidence.TEXTS[:] = saved[1]


@pytest.mark.last
def test_no_secret_appears_in_anything_captured_this_session(request):
    """Runs last. With the broker and fault tests in the session, it must have seen the secrets
    and the failures that would leak them (login refused, unroutable, connection errors)."""
    live = {"component", "runtime", "reliability"}  # the kinds that talk to a broker
    items = request.session.items
    session_ran_broker_tests = any(live & set(Path(str(i.path)).parts) for i in items)
    if session_ran_broker_tests:
        assert evidence.SECRETS, "no secret was registered"
        assert evidence.TEXTS, "nothing was registered for the scan"
    assert evidence.leaks() == []
    evidence.notes["secret_scan"] = {
        "texts": len(evidence.TEXTS),
        "secrets": len(evidence.SECRETS),
        "leaks": 0,
    }


def test_at_debug_through_the_built_zip_the_secret_stays_out_of_the_logs(
    broker, queue, make_function, moto_endpoint
):
    """Lambda's log-level control at DEBUG (JSON format, application log level DEBUG: the
    runtime's root logger at DEBUG), the broker from Secrets Manager (moto's server), a login
    refused first so that the secret is read twice. botocore, urllib3 and s3transfer stay at
    WARNING: at DEBUG botocore logs GetSecretValue's response body, password and all."""
    user = "debug-" + uuid.uuid4().hex[:6]
    good, wrong = (evidence.secret("pw-" + uuid.uuid4().hex) for _ in range(2))
    broker.ctl("add_user", user, good)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    client = moto_server.client("secretsmanager", moto_endpoint)

    def value(password: str) -> str:
        fields = {"host": broker.host, "port": str(broker.port), "tls": "false"}
        return evidence.secret(json.dumps({**fields, "username": user, "password": password}))

    arn = client.create_secret(Name=f"pigeon/{user}", SecretString=value(wrong))["ARN"]
    function = make_function(
        "",
        queue,
        logging=LoggingConfig("JSON", "DEBUG"),
        PIGEON_RABBITMQ_SECRET_ARN=arn,
        PIGEON_LOG_LEVEL="INFO",
        PIGEON_PUBLISH_TIMEOUT="8",  # two reads of the secret and a refused login
        **moto_server.function_environment(moto_endpoint),
    )
    crash_id = new_crash_id("accept")
    keys = [raw_crash_key(crash_id), "v1/dump/not-a-raw-crash"]
    refused = function.invoke(event(keys))
    assert not refused.ok
    client.put_secret_value(SecretId=arn, SecretString=value(good))
    published = function.invoke(event(keys))
    assert published.ok, published.payload
    assert broker.bodies(queue) == [crash_id]
    logs = refused.logs + published.logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    for secret in (good, wrong, value(good), value(wrong)):
        assert secret not in logs
        assert secret not in refused.payload.decode()
    # It ran at DEBUG: Lambda's level decided over PIGEON_LOG_LEVEL, and said so.
    assert any(line.get("message") == "not a raw-crash key" for line in lines)
    assert any("Lambda's application log level" in line.get("message", "") for line in lines)
    assert not [line for line in lines if str(line.get("logger", "")).startswith("botocore")]
