"""The local runtime's command line: result on stdout, logs on stderr, exit codes, the env
file and the caller's settings, and the stay-open Invoke API for boto3."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pigeon_tools.lambda_local.report import Report
from support import commands

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"


def run_cli(handler: str, event: bytes, *args: str, **options) -> subprocess.CompletedProcess:
    task = ("invoke", "--task-root", str(FUNCTIONS), "--handler", handler)
    return commands.run("local_runtime.py", *task, *args, input=event, **options)


def test_cli_result_on_stdout_logs_on_stderr_exit_codes():
    ok = run_cli("probe.echo", b'{"a": 1}')
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["event"] == {"a": 1}
    assert b"probe: echo" in ok.stderr
    assert Report.parse(ok.stderr.decode()).request_id
    failed = run_cli("probe.boom", b"{}")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"
    timed_out = run_cli("probe.sleepy", b'{"seconds": 10}', "--timeout", "1")
    assert timed_out.returncode == 1
    assert b"Task timed out after 1.00 seconds" in timed_out.stderr


def test_cli_rejects_bad_input():
    assert run_cli("probe.echo", b"not json").returncode == 2
    assert run_cli("probe.echo", b"{}", "--timeout", "0").returncode == 2
    assert run_cli("probe.echo", b"{}", "--memory", "64").returncode == 2


def test_env_file_then_only_the_functions_settings_from_the_caller(tmp_path):
    env_file = tmp_path / "fn.env"
    env_file.write_text("# comment\nPIGEON_ENV=from-file\nPIGEON_QUEUES='a,b'\nOTHER=1\n")
    done = run_cli(
        "probe.echo",
        b"{}",
        "--env-file",
        str(env_file),
        env={
            "PATH": "/usr/bin:/bin",
            "PIGEON_ENV": "from-caller",
            "PIGEON_NOT_A_SETTING": "x",
            "PIGEONTOOLS_INVOKE_MODE": "local",
            "PIGEONTOOLS_FUZZ_EXAMPLES": "5",
            "UNRELATED": "x",
        },
    )
    env = json.loads(done.stdout)["env"]
    assert env["PIGEON_ENV"] == "from-caller"
    assert env["PIGEON_QUEUES"] == "a,b"
    assert env["OTHER"] == "1"  # the env file is the function's environment, all of it
    for name in ("UNRELATED", "PIGEON_NOT_A_SETTING", "PIGEONTOOLS_INVOKE_MODE"):
        assert name not in env, name
    assert not [name for name in env if name.startswith("PIGEONTOOLS_")]
    assert b"not passed to the function (not among its settings): PIGEON_NOT_A_SETTING" in (
        done.stderr
    )


@pytest.fixture
def invoke_api():
    args = ("--task-root", str(FUNCTIONS), "--handler", "probe.echo", "--function-name", "probe")
    with commands.invoke_api(*args, "--concurrency", "2") as url:
        yield url.split("/2015-03-31/")[0]


def test_stay_open_mode_serves_boto3s_lambda_client_from_warm_runtimes(invoke_api):
    import base64

    import boto3

    client = boto3.client(
        "lambda",
        endpoint_url=invoke_api,
        region_name="us-west-2",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    pids = set()
    for n in range(4):
        response = client.invoke(FunctionName="probe", Payload=json.dumps({"n": n}), LogType="Tail")
        assert response["StatusCode"] == 200
        assert "FunctionError" not in response
        seen = json.loads(response["Payload"].read())
        assert seen["event"] == {"n": n}
        pids.add(seen["pid"])
        assert "REPORT RequestId" in base64.b64decode(response["LogResult"]).decode()
    assert len(pids) == 1  # one warm environment served them all, one after another
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="other", Payload=b"{}")
