"""Step 2: the locked dependencies installed for the Lambda platform, then pruned.

In the SAM build image when Docker is there, else with pip's platform flags on this machine:
both run the same pip flags on the same hashes, so they pick the same wheels. The installed
tree is cached per export, architecture and way of building: same hashes in, same bytes out."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from pigeon_tools.build import records
from pigeon_tools.build.export import package_count
from pigeon_tools.build.publish import staging
from pigeon_tools.build.steps import run, step
from pigeon_tools.paths import ROOT

ARCHES = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
BUILD_IMAGE = "the SAM build image (docker-compose.yml, service build)"
# Bump when what goes into a cached tree changes (pruning, RECORD rewriting).
TREE_FORMAT = 2


def pip_flags(arch: str) -> list[str]:
    return [
        "install",
        "--require-hashes",
        "--no-deps",
        "--no-compile",
        "--quiet",
        "--platform",
        ARCHES[arch],
        "--implementation",
        "cp",
        "--python-version",
        "3.13",
        "--only-binary=:all:",
    ]


def install(requirements: Path, target: Path, arch: str, docker: bool) -> None:
    if not docker:
        pip = [sys.executable, "-m", "pip", *pip_flags(arch)]
        run([*pip, "--target", str(target), "-r", str(requirements)])
        return
    # The same pip flags inside the build image, so both ways pick the very same wheels.
    compose = ["docker", "compose", "--file", str(ROOT / "docker-compose.yml"), "run", "--rm"]
    user = ["-T", "--user", f"{os.getuid()}:{os.getgid()}"]
    mounts = ["--volume", f"{requirements}:/tmp/requirements.txt:ro"]
    mounts += ["--volume", f"{target}:/tmp/target"]
    pip = ["build", "python3.13", "-m", "pip", *pip_flags(arch)]
    files = ["--target", "/tmp/target", "-r", "/tmp/requirements.txt"]
    platform = "linux/amd64" if arch == "x86_64" else "linux/arm64"
    run([*compose, *user, *mounts, *pip, *files], env={**os.environ, "LAMBDA_PLATFORM": platform})


def prune(target: Path) -> None:
    """Drop what is machine-specific or regenerated at run time, then make the RECORDs say so."""
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts embed the build's paths
    for cache in sorted(target.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for compiled in target.rglob("*.py[co]"):
        compiled.unlink()
    records.rewrite(target)


def dependency_tree(requirements: Path, arch: str, docker: bool, cache: Path) -> Path:
    mode = "docker" if docker else "platform"
    inputs = requirements.read_bytes() + f"{arch}{mode}{TREE_FORMAT}".encode()
    tree = cache / f"deps-{arch}-{mode}-{hashlib.sha256(inputs).hexdigest()[:16]}"
    where = f"in {BUILD_IMAGE}" if docker else "with pip's platform flags (no Docker)"
    count = package_count(requirements)
    if tree.is_dir():
        step(f"install: {count} locked packages for python3.13 {arch}: already installed ({where})")
        return tree
    step(f"install: {count} locked packages for python3.13 {arch}, {where}")
    partial = staging(tree)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        install(requirements, partial, arch, docker)
        prune(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for old in cache.glob(f"deps-{arch}-{mode}-*"):
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    partial.rename(tree)  # complete, or not there at all
    return tree
