"""Step 1: the locked packages of a dependency group, pinned with their hashes (poetry export).

Poetry is used for exporting its lock only; pip installs what it exports."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from pigeon_tools.build.publish import staging
from pigeon_tools.build.steps import BuildError, run, step
from pigeon_tools.paths import ROOT


def poetry() -> str:
    """$POETRY, the one scripts/bootstrap.sh installed, or poetry on PATH."""
    if os.environ.get("POETRY"):
        return os.environ["POETRY"]
    own = ROOT / ".cache" / "poetry" / "bin" / "poetry"
    found = str(own) if own.exists() else shutil.which("poetry")
    if not found:
        raise BuildError("poetry not found: run `make install`, which installs it")
    return found


def export_requirements(source: Path, out: Path, group: str = "main") -> Path:
    run(
        [poetry(), "export", "--only", group, "--format", "requirements.txt", "--output", str(out)],
        cwd=source,
    )
    if "--hash=sha256:" not in out.read_text():
        raise BuildError("poetry export gave no hashes; is poetry.lock complete?")
    return out


def locked_requirements(source: Path, cache: Path, group: str = "main") -> Path:
    """The export, made once per poetry.lock and pyproject.toml."""
    inputs = (source / "poetry.lock").read_bytes() + (source / "pyproject.toml").read_bytes()
    name = f"requirements-{group}-{hashlib.sha256(inputs).hexdigest()[:16]}.txt"
    cached = cache / name
    if cached.exists():
        step(f"export: poetry.lock unchanged, using its export ({group})")
        return cached
    step(f"export: poetry export --only {group} (with hashes)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = staging(cached)
    export_requirements(source, partial, group)
    for old in cache.glob(f"requirements-{group}-*.txt"):
        old.unlink()
    partial.replace(cached)
    return cached


def package_count(requirements: Path) -> int:
    return sum(1 for line in requirements.read_text().splitlines() if line[:1].isalnum())
