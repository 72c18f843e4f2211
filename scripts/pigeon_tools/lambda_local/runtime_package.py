"""The runtime's own packages, like /var/runtime in the Lambda image: awslambdaric and its
dependencies, as locked in the optional Poetry group `runtime`, installed into their own folder
under .cache (never into the dev venv) with pip --require-hashes."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools.build.export import export_requirements
from pigeon_tools.paths import CACHE, ROOT
from pigeon_tools.python import python313


class RuntimeSetupError(RuntimeError):
    """The runtime client could not be installed; the message says why."""


@dataclass(frozen=True)
class Runtime:
    """An interpreter (base Python 3.13, no site-packages) and the runtime client's packages."""

    python: str
    packages: Path

    @classmethod
    @functools.cache
    def local(cls) -> Runtime:
        python = python313()
        return cls(python, install(python))


def install(python: str) -> Path:
    """The runtime client's folder for this lock, installed once: concurrent callers (two
    terminals, parallel test workers) wait for the one that installs, and none replaces a folder
    another is running from."""
    lock = (ROOT / "poetry.lock").read_bytes()
    tag = hashlib.sha256(lock).hexdigest()[:12]
    target = CACHE / "lambda-runtime" / f"{os.uname().machine}-{tag}"
    if (target / "awslambdaric").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".install.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (target / "awslambdaric").is_dir():
            _install(target)
    return target


def _install(target: Path) -> None:
    print(
        f"local-runtime: installing the runtime client (group 'runtime') into {target}",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(dir=CACHE if CACHE.is_dir() else None) as scratch:
        requirements = export_requirements(ROOT, Path(scratch) / "runtime.txt", group="runtime")
        partial = Path(scratch) / "packages"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "--no-compile",
                "--python-version",
                "3.13",
                "--target",
                str(partial),
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeSetupError(f"pip failed:\n{done.stderr[-2000:]}")
        shutil.rmtree(target, ignore_errors=True)  # a half-made folder of an interrupted install
        partial.rename(target)
