"""Step 3: the task root (dependencies, function/pigeon, version.json) and its reproducible zip.

The zip has sorted entries, fixed timestamps (SOURCE_DATE_EPOCH, else 1980-01-01),
permissions 0644 and deflate level 6: the same tree gives the same bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path


def copy_function(source: Path, target: Path) -> None:
    shutil.copytree(
        source / "function" / "pigeon",
        target / "pigeon",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def version_info(source: Path, python: str) -> dict[str, str]:
    """version.json: from PIGEONTOOLS_BUILD_VERSION, _COMMIT and _ID (CI sets them), else the
    pyproject version, the git HEAD (or unknown) and `local`: a rebuild is identical. `python`:
    the exact Python release that compiled the bytecode."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    commit = os.environ.get("PIGEONTOOLS_BUILD_COMMIT", "")
    if not commit and (source / ".git").exists():
        found = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = found.stdout.strip() if found.returncode == 0 else ""
    return {
        "version": os.environ.get("PIGEONTOOLS_BUILD_VERSION", "") or str(project["version"]),
        "commit": commit or "unknown",
        "build": os.environ.get("PIGEONTOOLS_BUILD_ID", "") or "local",
        "python": python,
    }


def task_root(tree: Path, source: Path, target: Path, python: str) -> dict[str, str]:
    """Assemble the task root in `target`, bytecode to be compiled by Python `python` (its
    exact release); returns its version info."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tree, target)
    copy_function(source, target)
    info = version_info(source, python)
    (target / "version.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def write_zip(target: Path, zip_path: Path) -> None:
    from repro_zipfile import ReproducibleZipFile

    names = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with ReproducibleZipFile(
        zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6
    ) as archive:
        for name in names:
            archive.write(target / name, name)


def base64_sha256(path: Path) -> str:
    """What Terraform's filebase64sha256() gives for the same file."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
