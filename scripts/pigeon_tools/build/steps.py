"""What every build step shares: its progress line, its error, and running a command."""

from __future__ import annotations

import subprocess
from pathlib import Path


class BuildError(Exception):
    """A failed step or check; the message says what to fix."""


def step(message: str) -> None:
    print(f"build: {message}", flush=True)


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, text=True, capture_output=True, check=False, cwd=cwd, env=env)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise BuildError(f"{' '.join(cmd[:4])} … failed (exit {done.returncode}):\n{tail}")
    return done.stdout
