"""Step 4: the checks a zip must pass before anyone calls it good (also `build.py --verify-only`
on any zip, and deploy.sh before a plan)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

from pigeon_tools import archive as archives
from pigeon_tools.build import bytecode, records
from pigeon_tools.build import sbom as sboms
from pigeon_tools.build.package import base64_sha256
from pigeon_tools.build.steps import BuildError, step
from pigeon_tools.lambda_local import function

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, Lambda's limit for a function and its layers
LAMBDA_ZIPPED_LIMIT = 52_428_800  # 50 MB, Lambda's limit for a zip uploaded directly
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}
PLATFORM_WORDS = {"x86_64": "x86_64", "arm64": "aarch64"}
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def check_size(archive: zipfile.ZipFile, zipped: int = 0) -> int:
    if zipped >= LAMBDA_ZIPPED_LIMIT:
        raise BuildError(
            f"the zip's {zipped / 1e6:.1f} MB are over Lambda's 50 MB for a direct upload: "
            "drop dependencies, or move large ones to a layer"
        )
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


# Run with -S -B from the task root, as Lambda runs it: sys.path is the task root ('' = cwd),
# then the standard library; nothing is written. The handler is imported, then the Secrets
# Manager path of a function configured with a secret ARN (pigeon.secrets_api, made as the
# function makes it; nothing is sent), which must import no AWS SDK, then pika, which the
# first connection imports. Any module of the task
# root that the import system compiles from source instead of reading its .pyc is named, and
# fails the check.
IMPORT_CHECK = """
import importlib, importlib._bootstrap_external as external, os, sys
compiled = []
source_to_code = external.SourceLoader.source_to_code
def counted(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = counted
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
assert callable(handler), "handler is not callable"
where = importlib.import_module(module.partition(".")[0]).__file__
assert where.startswith(os.getcwd()), where
from pigeon import credentials
credentials.SecretsManagerSource(sys.argv[2])  # pigeon.secrets_api, made at init
import pika  # the first connection's (not imported at init for a URL without a query)
sdk = sorted(m for m in sys.modules if m.partition(".")[0] in ("boto3", "botocore"))
assert not sdk, "the secret path imports an AWS SDK: " + ", ".join(sdk[:3])
ours = sorted(p for p in compiled if p.startswith(os.getcwd()))
assert not ours, "compiled from source, not read from its .pyc: " + ", ".join(ours[:5])
"""


# Only parsed (its region and partition): the check makes a client, never a request.
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:pigeon-import-check-AbCdEf"  # noqa: S105


def check_import(zip_path: Path, python: str, handler: str = function.HANDLER) -> None:
    """Import the handler from the extracted zip alone: no dev venv, no site-packages."""
    with archives.extracted(zip_path, prefix="pigeon-import-check-") as root:
        import_from(root, python, handler)


def import_from(root: Path, python: str, handler: str = function.HANDLER) -> None:
    """Import the handler from a task root alone, with its bytecode, as Lambda does."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), **function.environment()}
    done = subprocess.run(
        [python, "-S", "-B", "-c", IMPORT_CHECK, handler, SECRET_ARN],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        if "compiled from source, not read from its .pyc" in last:
            raise BuildError(
                f"{handler} imports, but not with the zip's bytecode:\n{last}\n"
                f"Is the zip's .pyc for another Python than {python}?"
            )
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
        stray = [n for n in archive.namelist() if n.startswith("bin/")]
        if stray:
            raise BuildError(f"machine-specific files in the zip: {stray[:5]}")
        step("check: no bin/ in the zip")
        problems = bytecode.check_pairs(archive.namelist())
        if problems:
            raise BuildError(
                "bytecode missing or left over:\n  "
                + "\n  ".join(problems[:10])
                + "\nRebuild: the build compiles every .py (a .pyc without its source is dropped)."
            )
        count = sum(1 for n in archive.namelist() if bytecode.is_bytecode(n))
        step(f"check: every .py has its .pyc ({count}), and no .pyc is without its .py")
        problems = bytecode.check_magic(archive)
        if problems:
            raise BuildError(
                f"bytecode for another Python than {bytecode.TARGET}:\n  "
                + "\n  ".join(problems[:10])
            )
        step(f"check: every .pyc has Python {bytecode.TARGET}'s magic number")
        zipped = zip_path.stat().st_size
        unzipped = check_size(archive, zipped)
        step(
            f"check: {zipped / 1e6:.1f} MB zipped and {unzipped / 1e6:.1f} MB unzipped are under "
            "Lambda's 50 MB and 250 MB"
        )
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
            step("check: the SBOM lists exactly the distributions in the zip, with versions")
    python = bytecode.target_python()
    with zipfile.ZipFile(zip_path) as archive:
        sources = bytecode.SourceCheck.plan(archive, python, cache)
    runs_here = HOST_ARCH.get(os.uname().machine) == arch
    # The same bytes import the same way: a rebuild with nothing changed skips the slow check.
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    ok = cache / f"imports-ok-{arch}-{digest}" if cache else None
    import_now = runs_here and not (ok and ok.exists())
    with contextlib.ExitStack() as stack:
        needed = sources.todo or import_now
        root = stack.enter_context(archives.extracted(zip_path)) if needed else None
        sources.run(root)
        before = len(sources.keys) - len(sources.todo)
        step(
            f"check: every .pyc is what its source compiles to ({len(sources.todo)} recompiled "
            f"by Python {sources.compiler.version} and compared"
            + (f", {before} passed before)" if before else ")")
        )
        if not runs_here:
            step(f"check: import skipped, the host ({os.uname().machine}) cannot run {arch} code")
        elif not import_now:
            step(f"check: {function.HANDLER} imports: these exact bytes passed before ({python})")
        else:
            assert root is not None
            import_from(root, python)
            step(
                f"check: {function.HANDLER} imports from the extracted zip with its bytecode, "
                f"in isolated {python}"
            )
    if ok and import_now:
        for old in ok.parent.glob(f"imports-ok-{arch}-*"):
            old.unlink()
        ok.touch()
