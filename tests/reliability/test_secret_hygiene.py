"""Secret hygiene over the whole session: no broker password and no secret value in any log
line, metric line, error JSON or exception that the tests saw; and one run at DEBUG, the
level at which the AWS SDK would log the secret's value."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pigeon_tools import moto_server
from pigeon_tools.events import event, new_crash_id, raw_crash_key
from pigeon_tools.lambda_local.spec import LoggingConfig
from support import evidence

TESTS = Path(__file__).resolve().parents[1]


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


# A session of its own: the leak, a test that makes (and keeps) a secret, and a quiet one, each
# alone in its file so that xdist may run them on different workers.
SESSION = {
    "test_prints_it": (
        'SECRET = evidence.secret("pw-session-" + "y" * 12)  # made in the worker that prints\n'
        "def test_prints_it():\n"
        '    print("connecting to amqp://pigeon:" + SECRET + "@broker/")\n'
    ),
    "test_makes_one": (
        "def test_makes_one():\n"
        '    evidence.secret("pw-other-" + "z" * 12)\n'
        '    evidence.seen("runtime log", "connected")\n'
    ),
    "test_keeps_quiet": "def test_keeps_quiet():\n    print('nothing to see')\n",
}


def run_session(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (folder / "conftest.py").write_text('pytest_plugins = ["support.evidence_plugin"]\n')
    path = os.pathsep.join([str(TESTS), str(TESTS.parent / "scripts")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, str(folder)],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("spread", [["-n", "2"], ["-p", "no:xdist"]], ids=["xdist", "serial"])
@pytest.mark.parametrize("leaking", [True, False], ids=["leak", "clean"])
def test_a_session_that_leaks_a_secret_fails_however_it_is_spread(tmp_path, spread, leaking):
    """The session's scan (support/evidence_plugin.py) in parallel workers and in one process:
    a leak fails the session and says where, without the secret; a clean one passes and counts
    what every worker scanned."""
    for name, body in SESSION.items():
        if leaking or name != "test_prints_it":
            (tmp_path / f"{name}.py").write_text(f"from support import evidence\n\n{body}")
    done = run_session(tmp_path, *spread)
    summary = done.stdout[done.stdout.find("secret scan") :]
    if leaking:
        assert done.returncode == 1, done.stdout + done.stderr
        assert summary.startswith(
            "secret scan: FAILED: a secret in test_prints_it.py::test_prints_it (call): pw-s…"
        )
        assert "y" * 12 not in done.stdout + done.stderr
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert re.match(r"secret scan: [1-9]\d* texts, 1 secrets watched, 0 leaks", summary)


def test_a_failing_test_does_not_print_the_secrets_it_was_given(tmp_path):
    """pytest prints a failing test's arguments: a secret fixture (the broker password, a URL
    with it) shows as '<secret>', so a failure leaks nothing into the report or junit.xml."""
    (tmp_path / "test_fails.py").write_text(
        "import pytest\n"
        "from support import evidence\n\n"
        "@pytest.fixture\n"
        "def url():\n"
        '    password = evidence.secret("pw-failing-" + "q" * 12)\n'
        '    return evidence.hidden(f"amqp://pigeon:{password}@broker/")\n\n'
        "def test_fails(url):\n"
        "    assert url.startswith('amqps')\n"
    )
    done = run_session(tmp_path, "-p", "no:xdist", "--junitxml", str(tmp_path / "junit.xml"))
    assert done.returncode == 1  # the test failed...
    assert "url = '<secret>'" in done.stdout
    assert "secret scan: FAILED" not in done.stdout  # ...and leaked nothing
    assert "q" * 12 not in done.stdout + (tmp_path / "junit.xml").read_text()


def test_at_debug_through_the_built_zip_the_secret_stays_out_of_the_logs(
    broker, queue, make_function, moto_endpoint
):
    """Lambda's log-level control at DEBUG (JSON format, application log level DEBUG: the
    runtime's root logger at DEBUG), the broker from Secrets Manager (moto's server), a login
    refused first so that the secret is read twice. The function reads the secret with its own
    signed request (no SDK, whose DEBUG logs would hold GetSecretValue's response body), and no
    line at DEBUG holds the secret."""
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
