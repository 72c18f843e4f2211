"""The local runtime gives the function Lambda's logging configuration as Lambda does, from
the one source, the function module's `logging_config` (terraform/modules/function/main.tf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.environment import lambda_environment
from pigeon_tools.lambda_local.spec import FunctionSpec, LoggingConfig
from pigeon_tools.terraform import hcl


def test_the_function_modules_logging_config_is_what_the_local_runtime_uses():
    [block] = hcl.load(function.FUNCTION_MODULE).resources("aws_lambda_function")["this"][
        "logging_config"
    ]
    config = function.logging_config()
    assert config.log_format == block["log_format"]
    assert config.application_log_level == block.get("application_log_level")
    assert function.spec(Path("/task")).logging == config


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (LoggingConfig(), {"AWS_LAMBDA_LOG_FORMAT": "Text"}),
        (LoggingConfig("JSON"), {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}),
        (
            LoggingConfig("JSON", "DEBUG"),
            {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
        ),
    ],
)
def test_lambda_sets_the_log_variables_from_the_logging_config(config, expected, tmp_path):
    spec = FunctionSpec(tmp_path, "h.handler", logging=config, environment={"X": "1"})
    env = lambda_environment(spec, "127.0.0.1:9", tmp_path)
    found = {k: v for k, v in env.items() if k.startswith("AWS_LAMBDA_LOG_")}
    assert found == {
        **expected,
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/function",
        "AWS_LAMBDA_LOG_STREAM_NAME": env["AWS_LAMBDA_LOG_STREAM_NAME"],
    }


def test_the_functions_own_environment_cannot_set_lambdas_reserved_log_variables(tmp_path):
    spec = FunctionSpec(tmp_path, "h.handler", environment={"AWS_LAMBDA_LOG_LEVEL": "DEBUG"})
    assert "AWS_LAMBDA_LOG_LEVEL" not in lambda_environment(spec, "127.0.0.1:9", tmp_path)


@pytest.mark.parametrize(
    "arguments", [("Text", "DEBUG"), ("json", None), ("JSON", "VERBOSE"), ("JSON", "WARNING")]
)
def test_a_logging_config_lambda_would_refuse_is_refused(arguments):
    with pytest.raises(ValueError, match="log"):
        LoggingConfig(*arguments)


def test_a_level_given_by_a_module_variable_is_that_variables_default(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "this" {\n'
        "  logging_config {\n"
        '    log_format            = "JSON"\n'
        "    application_log_level = var.log_level\n"
        "  }\n"
        "}\n"
        'variable "log_level" {\n  type    = string\n  default = "WARN"\n}\n'
    )
    monkeypatch.setattr(function, "FUNCTION_MODULE", tmp_path)
    function.logging_config.cache_clear()
    try:
        assert function.logging_config() == LoggingConfig("JSON", "WARN")
    finally:
        function.logging_config.cache_clear()
