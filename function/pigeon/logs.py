"""JSON log lines on stdout, each carrying the request id and function version."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

LOGGER_NAME = "pigeon"


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


def setup(level: str = "INFO", stream: Any = None) -> logging.Logger:
    """Configure the ``pigeon`` logger once; it does not propagate to the runtime's root logger."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}{aws_request_id}{function_version}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    )
    handler.addFilter(_fields)
    logger.addHandler(handler)
    # pika logs each failed connection step at ERROR; PublishError already says what failed.
    pika_logger = logging.getLogger("pika")
    pika_logger.setLevel(logging.WARNING if level == "DEBUG" else logging.CRITICAL)
    pika_logger.propagate = False
    pika_logger.handlers = [handler]
    return logger


def start_invocation(aws_request_id: str | None) -> None:
    _fields.aws_request_id = aws_request_id


def end_invocation() -> None:
    _fields.aws_request_id = None


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    return logging.getLogger(name)
