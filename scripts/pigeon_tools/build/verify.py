"""Step 4: the checks a zip must pass before anyone calls it good (also `build.py --verify-only`
on any zip, and deploy.sh before a plan)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from pigeon_tools import archive as archives
from pigeon_tools import function
from pigeon_tools.build import records
from pigeon_tools.build import sbom as sboms
from pigeon_tools.build.package import base64_sha256
from pigeon_tools.build.steps import BuildError, step
from pigeon_tools.python import python313

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, Lambda's limit for a function and its layers
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}
PLATFORM_WORDS = {"x86_64": "x86_64", "arm64": "aarch64"}
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def check_size(archive: zipfile.ZipFile) -> int:
    unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped >= LAMBDA_UNZIPPED_LIMIT:
        raise BuildError(
            f"unzipped size {unzipped / 1e6:.1f} MB is over Lambda's 250 MB limit: "
            "drop dependencies, or move large ones to a layer"
        )
    return unzipped


def _tag_fits(tag: str, arch: str) -> bool:
    interpreter, abi, platform = tag.split("-")
    python_ok = interpreter in ("py3", "cp313") or (
        abi == "abi3" and interpreter.startswith("cp3") and int(interpreter[3:]) <= 13
    )
    word = PLATFORM_WORDS[arch]
    platform_ok = platform == "any" or (
        platform.startswith("manylinux") and platform.endswith(word)
    )
    return python_ok and platform_ok


def check_compiled(archive: zipfile.ZipFile, arch: str) -> list[str]:
    """Every binary wheel fits cp313 on the target arch; every .so is an ELF for that arch."""
    problems: list[str] = []
    for name in archive.namelist():
        if name.endswith(".dist-info/WHEEL"):
            lines = archive.read(name).decode().splitlines()
            tags = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
            purelib = any(line.strip() == "Root-Is-Purelib: true" for line in lines)
            if not purelib and not any(_tag_fits(tag, arch) for tag in tags):
                dist = name.split("/")[0]
                problems.append(f"{dist}: wheel tags {tags} do not fit cp313 on {arch}")
        elif name.endswith(".so") or ".so." in name:
            head = archive.open(name).read(20)
            machine = int.from_bytes(head[18:20], "little") if head[:4] == b"\x7fELF" else None
            if machine != ELF_MACHINES[arch]:
                problems.append(f"{name}: not an ELF library for {arch}")
            if ".cpython-" in name and ".cpython-313-" not in name:
                problems.append(f"{name}: built for another Python than 3.13")
    return problems


# Run with -S from the task root: sys.path is the task root ('' = cwd), then the standard library.
IMPORT_CHECK = """
import importlib, os, sys
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
assert callable(handler), "handler is not callable"
where = importlib.import_module(module.partition(".")[0]).__file__
assert where.startswith(os.getcwd()), where
"""


def check_import(zip_path: Path, python: str, handler: str = function.HANDLER) -> None:
    """Import the handler from the extracted zip alone: no dev venv, no site-packages."""
    with tempfile.TemporaryDirectory(prefix="pigeon-import-check-") as folder:
        root = archives.extract(zip_path, Path(folder))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root), **function.environment()}
        done = subprocess.run(
            [python, "-S", "-c", IMPORT_CHECK, handler],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
            raise BuildError(
                f"{handler} does not import from the zip alone:\n{last}\n"
                "Is a runtime import missing from [project.dependencies] in pyproject.toml "
                "(dev-only packages are not in the zip)? Add it with `poetry add`, then rebuild."
            )


def verify(
    zip_path: Path,
    arch: str,
    cache: Path | None = None,
    sbom: Path | None = None,
    version_file: Path | None = None,
) -> None:
    """Every check; with `sbom` and `version_file` (the files beside a published zip), that
    they describe it."""
    sha_file = zip_path.with_name(zip_path.name + ".sha256")
    if sha_file.exists():
        if sha_file.read_text().strip() != base64_sha256(zip_path):
            raise BuildError(
                f"{zip_path} does not match {sha_file}: not the artifact that was built"
            )
        step(f"check: {zip_path.name} matches {sha_file.name}")
    with zipfile.ZipFile(zip_path) as archive:
        if version_file is not None and version_file.read_bytes() != archive.read("version.json"):
            raise BuildError(f"{version_file.name} is not the zip's version.json")
        stray = [
            n
            for n in archive.namelist()
            if "__pycache__/" in n or n.endswith((".pyc", ".pyo")) or n.startswith("bin/")
        ]
        if stray:
            raise BuildError(f"machine-specific files in the zip: {stray[:5]}")
        step("check: no __pycache__, .pyc or bin/ in the zip")
        unzipped = check_size(archive)
        step(f"check: unzipped size {unzipped / 1e6:.1f} MB is under Lambda's 250 MB")
        problems = check_compiled(archive, arch)
        if problems:
            raise BuildError(
                f"compiled code does not fit the Lambda python3.13 runtime on {arch}:\n  "
                + "\n  ".join(problems)
                + "\nRebuild for the right --arch, or pin a release with a cp313 manylinux wheel."
            )
        step(f"check: compiled extensions fit cp313 on {arch}")
        problems = records.check(archive)
        if problems:
            raise BuildError(
                "a RECORD does not describe what the zip holds:\n  " + "\n  ".join(problems[:10])
            )
        step("check: every RECORD lists exactly files in the zip, with matching hashes")
        if sbom is not None:
            problems = sboms.check(archive, sbom)
            if problems:
                raise BuildError(
                    f"{sbom.name} does not describe the zip:\n  " + "\n  ".join(problems)
                )
            step(f"check: {sbom.name} lists exactly the distributions in the zip, with versions")
    if HOST_ARCH.get(os.uname().machine) != arch:
        step(f"check: import skipped, the host ({os.uname().machine}) cannot run {arch} code")
        return
    python = python313()
    # The same bytes import the same way: a rebuild with nothing changed skips the slow check.
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    passed = cache / f"imports-ok-{arch}-{digest}" if cache else None
    if passed and passed.exists():
        step(f"check: {function.HANDLER} imports: these exact bytes passed before ({python})")
        return
    check_import(zip_path, python)
    step(f"check: {function.HANDLER} imports from the extracted zip in isolated {python}")
    if passed:
        for old in passed.parent.glob(f"imports-ok-{arch}-*"):
            old.unlink()
        passed.touch()
