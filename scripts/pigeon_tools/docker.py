"""Is a Docker engine there? The CLI alone is not enough: `docker info` must answer."""

from __future__ import annotations

import functools
import shutil
import subprocess


@functools.cache
def engine_answers(timeout: float = 15.0) -> bool:
    if not shutil.which("docker"):
        return False
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0
