"""What to run: the function's code, handler, size and environment, as Lambda configures it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pigeon_tools.archive import extracted

ACCOUNT = "123456789012"


@dataclass
class FunctionSpec:
    task_root: Path
    handler: str
    name: str = "function"
    memory_mb: int = 256
    timeout_s: float = 30.0
    region: str = "us-west-2"
    environment: dict[str, str] = field(default_factory=dict)

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
