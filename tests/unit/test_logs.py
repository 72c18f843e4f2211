import io
import json
import logging

import pytest

from pigeon import logs


def test_json_lines_with_the_invocation_fields_and_extras():
    stream = io.StringIO()
    logger = logs.setup("INFO", stream=stream)
    logs.start_invocation("req-1")
    logger.info("accepted", extra={"crash_id": "abc", "queue": "q"})
    logger.debug("hidden at INFO")
    logs.end_invocation()
    logger.warning("between invocations")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "accepted"
    assert first["level"] == "INFO"
    assert first["logger"] == "pigeon"
    assert first["aws_request_id"] == "req-1"
    assert (first["crash_id"], first["queue"]) == ("abc", "q")
    assert first["timestamp"].endswith("+00:00")
    assert second["aws_request_id"] is None


def test_lines_do_not_also_go_to_the_runtime_root_logger():
    root_stream = io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    logging.getLogger().addHandler(root_handler)
    try:
        logs.setup("INFO", stream=io.StringIO())
        logs.get_logger("pigeon.handler").info("once")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert root_stream.getvalue() == ""


def test_setup_twice_keeps_one_handler():
    logs.setup("INFO", stream=io.StringIO())
    logs.setup("INFO", stream=io.StringIO())
    assert len(logging.getLogger("pigeon").handlers) == 1


@pytest.mark.parametrize(
    ("pigeon", "lambda_level", "chosen"),
    [
        ("INFO", None, "INFO"),
        ("DEBUG", "", "DEBUG"),
        ("INFO", "DEBUG", "DEBUG"),
        ("DEBUG", "INFO", "INFO"),
        ("INFO", "TRACE", "DEBUG"),
        ("INFO", "WARN", "WARNING"),
        ("INFO", "FATAL", "CRITICAL"),
        ("WARNING", "error", "ERROR"),
        ("INFO", "LOUD", "INFO"),  # not one of Lambda's: PIGEON_LOG_LEVEL stays
    ],
)
def test_lambdas_application_log_level_decides_when_it_is_set(pigeon, lambda_level, chosen):
    assert logs.level_for(pigeon, lambda_level) == chosen


def test_a_pigeon_level_that_lambda_overrides_is_said_once():
    assert logs.overridden("DEBUG", "INFO") == (
        "PIGEON_LOG_LEVEL is DEBUG, but Lambda's application log level (AWS_LAMBDA_LOG_LEVEL "
        "INFO) decides: logging at INFO"
    )
    assert logs.overridden("INFO", "INFO") is None
    assert logs.overridden(None, "DEBUG") is None
    assert logs.overridden("INFO", None) is None


@pytest.mark.parametrize("name", ["botocore", "botocore.parsers", "urllib3", "s3transfer", "boto3"])
def test_the_aws_sdk_says_nothing_below_warning_whatever_the_root_level(name):
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.DEBUG)  # what Lambda's runtime does with AWS_LAMBDA_LOG_LEVEL=DEBUG
    try:
        logs.setup("DEBUG", stream=io.StringIO())
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO)
        assert logger.isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(saved)


def test_the_level_field_uses_lambdas_json_level_names():
    """Lambda's JSON log format (and its log-level control, which reads `level`) names the
    levels TRACE DEBUG INFO WARN ERROR FATAL: Python's WARNING and CRITICAL are mapped."""
    stream = io.StringIO()
    logger = logs.setup("DEBUG", stream=stream)
    logger.debug("d")
    logger.info("i")
    logger.warning("w")
    logger.error("e")
    logger.critical("c")
    levels = [json.loads(line)["level"] for line in stream.getvalue().splitlines()]
    assert levels == ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    assert set(levels) <= set(logs.LAMBDA_LEVELS)
