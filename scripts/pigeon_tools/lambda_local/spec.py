"""What to run: the function's code, handler, size and environment, as Lambda configures it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pigeon_tools.archive import extracted

ACCOUNT = "123456789012"
LOG_FORMATS = ("Text", "JSON")
# Lambda's application log levels (LoggingConfig.ApplicationLogLevel).
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True)
class LoggingConfig:
    """A function's logging_config, as Lambda takes it: the log format, and with JSON the
    application log level (Lambda's default then is INFO)."""

    log_format: str = "Text"
    application_log_level: str | None = None

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise ValueError(f"log_format {self.log_format!r} is not one of {LOG_FORMATS}")
        level = self.application_log_level
        if level is not None and level not in APPLICATION_LOG_LEVELS:
            raise ValueError(f"application_log_level {level!r} is not one of Lambda's")
        if level is not None and self.log_format != "JSON":
            # Lambda's own rule: log-level filtering needs the JSON log format.
            raise ValueError("application_log_level needs log_format JSON")

    def environment(self) -> dict[str, str]:
        """The variables Lambda sets from it, which the runtime client reads."""
        env = {"AWS_LAMBDA_LOG_FORMAT": self.log_format}
        if self.log_format == "JSON":
            env["AWS_LAMBDA_LOG_LEVEL"] = self.application_log_level or "INFO"
        return env


@dataclass
class FunctionSpec:
    task_root: Path
    handler: str
    name: str = "function"
    memory_mb: int = 256
    timeout_s: float = 30.0
    region: str = "us-west-2"
    environment: dict[str, str] = field(default_factory=dict)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.name}"


class TaskRootError(ValueError):
    """The task root is neither a folder nor a zip."""


@contextmanager
def opened(path: Path) -> Iterator[Path]:
    """A folder is used as it is; a zip is extracted to a temporary one, as Lambda does."""
    if path.is_dir():
        yield path.resolve()
        return
    if not zipfile.is_zipfile(path):
        raise TaskRootError(f"{path} is neither a directory nor a zip")
    with extracted(path, prefix="lambda-task-") as root:
        yield root
