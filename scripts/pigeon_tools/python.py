"""The Python 3.13 interpreter of the Lambda python3.13 runtime.

scripts/find_python313.sh owns the search (bootstrap needs it before any venv exists); from
inside the dev venv the base interpreter is already known.
"""

from __future__ import annotations

import functools
import subprocess
import sys

from pigeon_tools.paths import SCRIPTS


class NoPython313(RuntimeError):
    """No Python 3.13 on this machine; the message says how to get one."""


@functools.cache
def python313() -> str:
    """A base interpreter (not a venv's), so that nothing but the stdlib is importable with -S."""
    if sys.version_info[:2] == (3, 13):
        return str(getattr(sys, "_base_executable", sys.executable))
    found = subprocess.run(
        [str(SCRIPTS / "find_python313.sh")], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise NoPython313(found.stderr.strip())
    return found.stdout.strip()
