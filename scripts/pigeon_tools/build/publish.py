"""Builds in one checkout take turns, and each puts its outputs in place whole: every file or
folder is written next to its final place under a name only this process uses, then renamed."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from pigeon_tools.build.steps import step


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """One build at a time per cache: a second `make build` waits for the first."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            step(f"waiting for another build that holds {lock_file}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def staging(final: Path) -> Path:
    """A name next to `final` that only this process writes."""
    return final.with_name(f".{final.name}.{os.getpid()}.partial")


def publish_dir(staged: Path, final: Path) -> None:
    """Put a complete folder in place: the old one is renamed away first, never half-deleted."""
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def publish_file(final: Path, data: bytes) -> None:
    staged = staging(final)
    staged.write_bytes(data)
    staged.replace(final)
