"""What reaches the function: Lambda's reserved variables (those of its logging configuration
included), the function's configured environment, the caller's values of the function's own
settings, and AWS credentials. Nothing else of the caller's environment."""

from __future__ import annotations

import datetime
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pigeon_tools.lambda_local.spec import FunctionSpec

# What Lambda passes through from its own environment; the caller's others are not inherited.
PASSED_THROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
)


LOG_VARIABLES = ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL")


def caller_settings(
    names: frozenset[str], prefix: str, environ: Mapping[str, str] = os.environ
) -> tuple[dict[str, str], list[str]]:
    """The function's own settings from the caller's environment (they override the env file),
    and the names left out: anything else with the function's prefix, such as a typo."""
    left_out = sorted(k for k in environ if k.startswith(prefix) and k not in names)
    return {k: v for k, v in environ.items() if k in names}, left_out


def lambda_environment(spec: FunctionSpec, api: str, runtime_dir: Path) -> dict[str, str]:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LD_LIBRARY_PATH": f"{spec.task_root}:{spec.task_root}/lib",
        "PYTHONPATH": str(runtime_dir),
        "LAMBDA_TASK_ROOT": str(spec.task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{secrets.token_hex(16)}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
    }
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
    env.update(spec.environment)
    # Reserved: only the logging configuration sets them (Lambda refuses them as variables).
    for name in LOG_VARIABLES:
        env.pop(name, None)
    env.update(spec.logging.environment())
    return env
