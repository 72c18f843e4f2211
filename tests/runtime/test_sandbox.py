"""The Docker-free Lambda runtime as a library: awslambdaric over our Runtime API, faithful to
Lambda (process, environment, REPORT lines, errors, timeouts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pigeon_tools.lambda_local.report import Report
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec

FUNCTIONS = Path(__file__).parents[1] / "data" / "functions"


def sandbox(handler: str, timeout: float = 5, **env: str) -> Sandbox:
    spec = FunctionSpec(FUNCTIONS, handler, timeout_s=timeout, memory_mb=512, environment=env)
    return Sandbox(spec)


def test_the_function_sees_lambdas_process_not_the_dev_venv():
    with sandbox("probe.echo", PIGEON_ENV="x") as box:
        outcome = box.invoke(b'{"hello": "world"}', "8f1c0a4e-0000-4000-8000-000000000001")
    assert outcome.ok
    seen = outcome.json()
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


def test_report_lines_measure_memory_and_init_only_when_cold():
    with sandbox("probe.hog") as box:
        cold = box.invoke(b'{"mb": 80}')
        warm = box.invoke(b'{"mb": 1}')
    for outcome in (cold, warm):  # the REPORT line in the logs is the one the outcome carries
        assert Report.parse(outcome.logs) == Report.parse(outcome.report.line())
    assert cold.report.cold
    assert not warm.report.cold
    assert cold.report.max_memory_mb >= 80  # measured from the process, not echoed
    assert cold.report.memory_size_mb == 512
    assert cold.report.billed >= cold.report.duration_ms
    assert cold.logs.splitlines()[0].startswith("INIT_START")
    assert "START RequestId: " in warm.logs
    assert warm.logs.rstrip().splitlines()[-2] == f"END RequestId: {warm.request_id}"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("probe.boom", "ValueError", "boom: the handler failed"),  # raised by the handler
        ("bad_init.handler", "RuntimeError", "init failed: PIGEON_QUEUES"),  # at import (init)
    ],
)
def test_an_error_is_lambdas_error_json(handler, error_type, message):
    with sandbox(handler) as box:
        outcome = box.invoke(b"{}")
    error = outcome.json()
    assert outcome.error
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)
    assert isinstance(error["stackTrace"], list)


def test_the_timeout_kills_the_runtime_and_the_next_invoke_is_cold():
    with sandbox("probe.sleepy", timeout=1) as box:
        started = time.monotonic()
        timed_out = box.invoke(b'{"seconds": 30}')
        elapsed = time.monotonic() - started
        assert not box.warm
        after = box.invoke(b'{"seconds": 0}')
    assert timed_out.error
    assert elapsed < 10
    assert "Task timed out after 1.00 seconds" in timed_out.json()["errorMessage"]
    assert "Task timed out after 1.00 seconds" in timed_out.logs
    assert after.ok
    assert after.report.cold


def test_leaving_the_with_block_kills_the_runtime():
    with sandbox("probe.echo") as box:
        box.invoke(b"{}")
        process = box.process
        assert process is not None
        assert box.warm
    assert process.poll() is not None
    assert box.api is None
