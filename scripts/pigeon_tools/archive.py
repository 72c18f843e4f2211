"""Zip archives: extract one as Lambda does, into a folder of its own."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def extract(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    return target


@contextmanager
def extracted(zip_path: Path, prefix: str = "pigeon-zip-") -> Iterator[Path]:
    """The zip's contents in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield extract(zip_path, Path(folder))
