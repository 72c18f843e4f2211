"""The Docker-free Lambda runtime: awslambdaric over our Runtime API, faithful to Lambda."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import local_runtime

pytestmark = [pytest.mark.slow]

FUNCTIONS = Path(__file__).parent / "functions"
SCRIPT = Path(local_runtime.__file__)
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>[0-9.]+) ms\t"
    r"Billed Duration: (?P<billed>[0-9]+) ms\tMemory Size: (?P<size>[0-9]+) MB\t"
    r"Max Memory Used: (?P<used>[0-9]+) MB(\tInit Duration: (?P<init>[0-9.]+) ms)?$",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def runtime():
    python = local_runtime.find_python313()
    return python, local_runtime.runtime_packages(python)


def sandbox(runtime, handler: str, timeout: float = 5, **env: str) -> local_runtime.Sandbox:
    python, packages = runtime
    spec = local_runtime.FunctionSpec(
        task_root=FUNCTIONS, handler=handler, timeout_s=timeout, memory_mb=512, environment=env
    )
    return local_runtime.Sandbox(spec, python, packages, echo=False)


def test_the_function_sees_lambdas_process_not_the_dev_venv(runtime):
    box = sandbox(runtime, "probe.echo", PIGEON_ENV="x")
    try:
        outcome = box.invoke(
            b'{"hello": "world"}', request_id="8f1c0a4e-0000-4000-8000-000000000001"
        )
    finally:
        box.kill()
    assert not outcome.error
    seen = json.loads(outcome.payload)
    assert seen["event"] == {"hello": "world"}
    assert seen["sys_path"][0] == str(FUNCTIONS)
    assert not any("site-packages" in p or ".venv" in p for p in seen["sys_path"])
    assert seen["modules"] == []  # nothing of pytest or pigeon leaks in
    env = seen["env"]
    for name in (
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "_HANDLER",
        "TZ",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_LOG_GROUP_NAME",
    ):
        assert env.get(name), name
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["_HANDLER"] == "probe.echo"
    assert env["PIGEON_ENV"] == "x"
    assert seen["request_id"] == "8f1c0a4e-0000-4000-8000-000000000001"
    assert seen["function_arn"].startswith("arn:aws:lambda:us-west-2:")
    assert seen["memory_limit_in_mb"] == "512"
    assert 3000 < seen["remaining_ms"] <= 5000


def test_report_lines_measure_memory_and_init_only_when_cold(runtime):
    box = sandbox(runtime, "probe.hog")
    try:
        cold = box.invoke(b'{"mb": 80}')
        warm = box.invoke(b'{"mb": 1}')
    finally:
        box.kill()
    cold_report = REPORT.search(cold.report)
    warm_report = REPORT.search(warm.report)
    assert cold_report
    assert cold_report["init"] is not None
    assert warm_report
    assert warm_report["init"] is None
    assert int(cold_report["used"]) >= 80  # measured from the process, not echoed
    assert int(cold_report["size"]) == 512
    assert int(cold_report["billed"]) >= float(cold_report["duration"])
    assert cold.logs.splitlines()[0].startswith("INIT_START")
    assert "START RequestId: " in warm.logs
    assert warm.logs.rstrip().splitlines()[-2] == f"END RequestId: {warm.request_id}"


def test_a_handler_error_is_lambdas_error_json(runtime):
    box = sandbox(runtime, "probe.boom")
    try:
        outcome = box.invoke(b"{}")
    finally:
        box.kill()
    error = json.loads(outcome.payload)
    assert outcome.error
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom: the handler failed"
    assert any("probe.py" in frame for frame in error["stackTrace"])


def test_an_init_error_is_lambdas_error_json(runtime):
    box = sandbox(runtime, "bad_init.handler")
    try:
        outcome = box.invoke(b"{}")
    finally:
        box.kill()
    error = json.loads(outcome.payload)
    assert outcome.error
    assert error["errorType"] == "RuntimeError"
    assert "PIGEON_QUEUES" in error["errorMessage"]


def test_the_timeout_kills_the_runtime_and_the_next_invoke_is_cold(runtime):
    box = sandbox(runtime, "probe.sleepy", timeout=1)
    try:
        started = time.monotonic()
        timed_out = box.invoke(b'{"seconds": 30}')
        elapsed = time.monotonic() - started
        assert not box.warm
        after = box.invoke(b'{"seconds": 0}')
    finally:
        box.kill()
    assert timed_out.error
    assert elapsed < 10
    assert "Task timed out after 1.00 seconds" in json.loads(timed_out.payload)["errorMessage"]
    assert "Task timed out after 1.00 seconds" in timed_out.logs
    assert not after.error
    assert REPORT.search(after.report)["init"] is not None


def run_cli(handler: str, event: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "invoke",
            "--task-root",
            str(FUNCTIONS),
            "--handler",
            handler,
            *args,
        ],
        input=event,
        capture_output=True,
        timeout=120,
    )


def test_cli_result_on_stdout_logs_on_stderr_exit_codes():
    ok = run_cli("probe.echo", b'{"a": 1}')
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["event"] == {"a": 1}
    assert b"probe: echo" in ok.stderr
    assert REPORT.search(ok.stderr.decode())
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
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "invoke",
            "--task-root",
            str(FUNCTIONS),
            "--handler",
            "probe.echo",
            "--env-file",
            str(env_file),
        ],
        input=b"{}",
        capture_output=True,
        timeout=120,
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


TRICKY = """\
# a comment
PLAIN=value # an inline comment
HASH=value#not-a-comment
DOUBLE="quoted # not a comment"
SINGLE='literal ${HOME} # kept'
export EXPORTED=yes
EQUALS=a=b=c
EMPTY=
  SPACED = around
REF=${PLAIN}-and-more
QUOTED_REF="${EQUALS}"
"""


def test_the_env_file_reads_as_docker_compose_reads_it(tmp_path):
    path = tmp_path / "fn.env"
    path.write_text(TRICKY)
    assert local_runtime.read_env_file(path) == {
        "PLAIN": "value",
        "HASH": "value#not-a-comment",
        "DOUBLE": "quoted # not a comment",
        "SINGLE": "literal ${HOME} # kept",
        "EXPORTED": "yes",
        "EQUALS": "a=b=c",
        "EMPTY": "",
        "SPACED": "around",
        "REF": "value-and-more",
        "QUOTED_REF": "a=b=c",
    }


@pytest.mark.parametrize(("bad", "line"), [("JUST_A_NAME", 3), ("not a key = value", 3)])
def test_a_line_that_is_not_key_value_names_the_file_and_line(tmp_path, bad, line):
    path = tmp_path / "fn.env"
    path.write_text(f"A=1\n# fine\n{bad}\nB=2\n")
    with pytest.raises(local_runtime.EnvFileError) as raised:
        local_runtime.read_env_file(path)
    assert str(raised.value) == f"{path}:{line}: not a KEY=VALUE line"


@pytest.fixture
def invoke_api():
    process = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "serve",
            "--port",
            "0",
            "--task-root",
            str(FUNCTIONS),
            "--handler",
            "probe.echo",
            "--function-name",
            "probe",
            "--concurrency",
            "2",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = ""
    for line in process.stderr:
        if "Invoke API on" in line:
            break
    port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


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
