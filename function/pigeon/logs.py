"""JSON log lines on stdout, each carrying the request id and function version.

Which level: PIGEON_LOG_LEVEL, unless Lambda's log-level control is on (the JSON log format
with an application log level: Lambda sets AWS_LAMBDA_LOG_LEVEL, and drops lines below it),
in which case Lambda's level decides, so that what Pigeon writes is what Lambda keeps. The AWS
SDK's loggers (botocore, boto3, urllib3, s3transfer) say only WARNING and above, whatever the
level: at DEBUG botocore logs whole responses, the broker secret's among them.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from pigeon.redaction import RedactingFilter

LOGGER_NAME = "pigeon"
QUIET = ("botocore", "boto3", "urllib3", "s3transfer")
# Lambda's application log levels, as Python's (TRACE and FATAL have no level of their own).
LAMBDA_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "CRITICAL",
}


def level_for(pigeon_level: str, lambda_level: str | None) -> str:
    """The level Pigeon logs at: Lambda's application log level when it sets one."""
    return LAMBDA_LEVELS.get((lambda_level or "").strip().upper(), pigeon_level)


def overridden(pigeon_level: str | None, lambda_level: str | None) -> str | None:
    """The warning to give when PIGEON_LOG_LEVEL is set but Lambda's level decides."""
    if not pigeon_level or not pigeon_level.strip():
        return None
    chosen = level_for(pigeon_level.strip().upper(), lambda_level)
    if chosen == pigeon_level.strip().upper():
        return None
    return (
        f"PIGEON_LOG_LEVEL is {pigeon_level.strip().upper()}, but Lambda's application log level"
        f" (AWS_LAMBDA_LOG_LEVEL {lambda_level}) decides: logging at {chosen}"
    )


class _InvocationFields(logging.Filter):
    """Adds the invocation's fields to every record (one invocation at a time per process)."""

    def __init__(self) -> None:
        super().__init__()
        self.aws_request_id: str | None = None
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.aws_request_id
        record.function_version = self.function_version
        return True


_fields = _InvocationFields()

# The level names of Lambda's JSON log format, which its log-level control reads from each
# line's `level`: Python's WARNING and CRITICAL are WARN and FATAL there.
JSON_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


class _LambdaJsonFormatter(JsonFormatter):
    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message: Any) -> None:
        super().add_fields(log_data, record, message)
        level = log_data.get("level")
        if isinstance(level, str):
            log_data["level"] = JSON_LEVEL_NAMES.get(level, level)


def setup(level: str = "INFO", stream: Any = None) -> logging.Logger:
    """Configure the ``pigeon`` logger once; it does not propagate to the runtime's root logger."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        _LambdaJsonFormatter(
            "{levelname}{name}{message}{aws_request_id}{function_version}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    )
    handler.addFilter(_fields)
    handler.addFilter(RedactingFilter())  # every line, pika's too: no secret in any of them
    logger.addHandler(handler)
    # pika logs each failed connection step at ERROR; PublishError already says what failed.
    pika_logger = logging.getLogger("pika")
    pika_logger.setLevel(logging.WARNING if level == "DEBUG" else logging.CRITICAL)
    pika_logger.propagate = False
    pika_logger.handlers = [handler]
    for name in QUIET:  # they go on to the runtime's root logger, at WARNING and above only
        logging.getLogger(name).setLevel(logging.WARNING)
    return logger


def start_invocation(aws_request_id: str | None) -> None:
    _fields.aws_request_id = aws_request_id


def end_invocation() -> None:
    _fields.aws_request_id = None


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    return logging.getLogger(name)
