"""What the tools know about Pigeon: its handler, its settings and a minimal environment.

The settings come from the function's own declaration (pigeon.settings, function/ on the dev
venv's path), never from a copy. It is imported only where needed: the build does not need it.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any

from pigeon_tools.lambda_local import environment as environment_module
from pigeon_tools.lambda_local.spec import FunctionSpec, LoggingConfig
from pigeon_tools.paths import ENV_FILE, ROOT

HANDLER = "pigeon.handler.handler"
LOCAL_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def environment(
    url: str = LOCAL_BROKER_URL, queues: str = "socorro.normal", **more: str
) -> dict[str, str]:
    """Enough configuration for Pigeon to start: no metrics, the given broker and queues.
    Keyword arguments override or add; an empty value removes the variable."""
    values = {
        "PIGEON_ENV": "local",
        "PIGEON_QUEUES": queues,
        "PIGEON_RABBITMQ_URL": url,
        "PIGEON_METRICS": "none",
        **more,
    }
    return {name: value for name, value in values.items() if value}


def setting_names() -> frozenset[str]:
    from pigeon.settings import NAMES

    return NAMES


def setting(name: str) -> str:
    """A setting as a local invoke gives it to the function: the caller's over pigeon.env."""
    from pigeon_tools.lambda_local import envfile

    from_file = envfile.read(ENV_FILE) if ENV_FILE.exists() else {}
    return os.environ.get(name) or from_file.get(name, "")


def broker_url() -> str:
    """The broker the tools talk to: PIGEON_RABBITMQ_URL's (first) node, else the local one."""
    from pigeon.parsers import ConfigError, split_broker_urls

    value = setting("PIGEON_RABBITMQ_URL") or LOCAL_BROKER_URL
    try:
        return split_broker_urls(value, "PIGEON_RABBITMQ_URL")[0].url
    except ConfigError:
        return value  # pika says what is wrong with it


def queue_names(value: str | None = None) -> list[str]:
    """The queue names of PIGEON_QUEUES (by the function's own grammar), without percentages."""
    from pigeon.parsers import parse_queues

    value = setting("PIGEON_QUEUES") if value is None else value
    return [route.name for route in parse_queues(value)] if value.strip() else []


def caller_settings() -> dict[str, str]:
    """Pigeon's settings from the caller's environment, which override the env file; anything
    else that looks like one (a typo, the tools' PIGEONTOOLS_*) stays out, and is named."""
    from pigeon.settings import PREFIX

    chosen, left_out = environment_module.caller_settings(setting_names(), PREFIX)
    if left_out:
        print(
            f"local-runtime: not passed to the function (not among its settings): "
            f"{', '.join(left_out)}",
            file=sys.stderr,
        )
    return chosen


FUNCTION_MODULE = ROOT / "terraform" / "modules" / "function"
_VARIABLE = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}")


@functools.cache
def logging_config() -> LoggingConfig:
    """The function module's `logging_config` (terraform/modules/function/main.tf), as the
    deployed function has it: the one source of the log format and application log level. A
    value given by a variable is that variable's default."""
    from pigeon_tools.terraform import hcl

    module = hcl.load(FUNCTION_MODULE)
    [block] = module.resources("aws_lambda_function")["this"].get("logging_config", [{}])
    variables = module.variables()

    def value(name: str) -> str | None:
        found = block.get(name)
        reference = _VARIABLE.fullmatch(found) if isinstance(found, str) else None
        if reference:
            found = variables.get(reference.group(1), {}).get("default")
        return found if isinstance(found, str) else None

    return LoggingConfig(value("log_format") or "Text", value("application_log_level"))


def spec(
    task_root: Path,
    env_file: Path | None = None,
    environment: dict[str, str] | None = None,
    from_caller: bool = False,
    **options: Any,
) -> FunctionSpec:
    """Pigeon as the local runtime runs it: the env file, then (on the command line) the
    caller's values of Pigeon's settings, then `environment` over both; Lambda's logging
    configuration from the function module (or `logging=LoggingConfig(…)`)."""
    from pigeon_tools.lambda_local import envfile

    values = envfile.read(env_file) if env_file else {}
    values.update(caller_settings() if from_caller else {})
    values.update(environment or {})
    return FunctionSpec(
        task_root=task_root,
        handler=options.pop("handler", HANDLER),
        name=options.pop("name", "pigeon"),
        environment=values,
        logging=options.pop("logging", None) or logging_config(),
        **options,
    )
