#!/usr/bin/env python3
"""Build the Lambda artifact: build/ (the task root), dist/pigeon.zip and its .sha256.

    scripts/build.py [--arch x86_64|arm64] [--docker auto|always|never]
    scripts/build.py --verify-only dist/pigeon.zip [--arch …]

Steps: export the locked main dependencies with hashes; install them for the Lambda
platform (in the runtime build image when Docker is there, else with pip's platform
flags: both pick the same wheels); add function/pigeon and version.json; zip
reproducibly; then check the zip before saying it is good.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_IMAGE = "the SAM build image (docker-compose.yml, service build)"
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB, Lambda's limit for a function and its layers
ARCHES = {"x86_64": ("manylinux2014_x86_64", 0x3E), "arm64": ("manylinux2014_aarch64", 0xB7)}
PLATFORM_WORDS = {"x86_64": "x86_64", "arm64": "aarch64"}
HANDLER = "pigeon.handler.handler"
# Enough configuration for the handler to import; it connects to nothing at import.
IMPORT_CHECK_ENV = {
    "PIGEON_ENV": "build-check",
    "PIGEON_QUEUES": "build.check",
    "PIGEON_RABBITMQ_URL": "amqp://build-check.invalid/",
    "PIGEON_METRICS": "none",
}


class BuildError(Exception):
    """A failed step or check; the message says what to fix."""


def step(message: str) -> None:
    print(f"build: {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise BuildError(f"{' '.join(cmd[:4])} … failed (exit {result.returncode}):\n{tail}")
    return result


def find_python313() -> str:
    """The base interpreter (not a venv's), so nothing but the stdlib is importable with -S."""
    if sys.version_info[:2] == (3, 13):
        return getattr(sys, "_base_executable", sys.executable)
    result = subprocess.run(
        [str(ROOT / "scripts" / "find_python313.sh")], text=True, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise BuildError(result.stderr.strip())
    return result.stdout.strip()


# -- steps --------------------------------------------------------------------------------------
def export_requirements(source: Path, out: Path, group: str = "main") -> None:
    """The locked packages of one dependency group, pinned with their hashes."""
    poetry = os.environ.get("POETRY", "")
    if not poetry:
        own = [d / ".cache" / "poetry" / "bin" / "poetry" for d in (source, ROOT)]
        poetry = shutil.which("poetry") or next((str(p) for p in own if p.exists()), "")
    if not poetry:
        raise BuildError("poetry not found: run `make install`, which installs it")
    run(
        [poetry, "export", "--only", group, "--format", "requirements.txt", "--output", str(out)],
        cwd=source,
    )
    if "--hash=sha256:" not in out.read_text():
        raise BuildError("poetry export gave no hashes; is poetry.lock complete?")


def pip_flags(arch: str) -> list[str]:
    platform, _ = ARCHES[arch]
    return [
        "install",
        "--require-hashes",
        "--no-deps",
        "--no-compile",
        "--quiet",
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        "3.13",
        "--only-binary=:all:",
    ]


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def install_dependencies(requirements: Path, target: Path, arch: str, docker: bool) -> None:
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
    """Drop what is machine-specific or regenerated at run time."""
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts embed the build's paths
    for cache in sorted(target.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for compiled in target.rglob("*.py[co]"):
        compiled.unlink()
    rewrite_records(target)


def record_hash(data: bytes) -> str:
    """The hash form of a wheel RECORD: urlsafe base64 of the sha256, without padding."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def rewrite_records(target: Path) -> None:
    """Make each RECORD describe exactly what the tree holds. pip lists the console scripts it
    generated (../../bin/…, whose first line is the building interpreter's path) and any file
    removed above; a RECORD that lists them makes the bytes depend on where the build ran."""
    root = target.resolve()
    for record in sorted(target.glob("*.dist-info/RECORD")):
        rows = list(csv.reader(io.StringIO(record.read_bytes().decode(), newline="")))
        kept = []
        for row in rows:
            path = (root / row[0]).resolve()
            if path.is_relative_to(root) and path.is_file():
                kept.append(row)
        out = io.StringIO(newline="")
        csv.writer(out).writerows(kept)  # pip's own format: csv with \r\n line ends
        record.write_bytes(out.getvalue().encode())


def copy_function(source: Path, target: Path) -> None:
    shutil.copytree(
        source / "function" / "pigeon",
        target / "pigeon",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def version_info(source: Path) -> dict[str, str]:
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
        "version": os.environ.get("PIGEONTOOLS_BUILD_VERSION", "") or project["version"],
        "commit": commit or "unknown",
        "build": os.environ.get("PIGEONTOOLS_BUILD_ID", "") or "local",
    }


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


# -- checks -------------------------------------------------------------------------------------
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
            expected = ARCHES[arch][1]
            machine = int.from_bytes(head[18:20], "little") if head[:4] == b"\x7fELF" else None
            if machine != expected:
                problems.append(f"{name}: not an ELF library for {arch}")
            if ".cpython-" in name and ".cpython-313-" not in name:
                problems.append(f"{name}: built for another Python than 3.13")
    return problems


def check_records(archive: zipfile.ZipFile) -> list[str]:
    """Every RECORD line names a file in the zip, with its hash and size; no line is missing a
    hash but the RECORD's own."""
    problems: list[str] = []
    names = set(archive.namelist())
    for name in sorted(n for n in names if n.endswith(".dist-info/RECORD")):
        text = archive.read(name).decode()
        for row in csv.reader(io.StringIO(text, newline="")):
            if not row:
                continue
            path, digest, size = [*row, "", ""][:3]
            listed = posixpath.normpath(path)
            if listed != path or listed.startswith("../") or listed not in names:
                problems.append(f"{name}: lists {path}, which is not in the zip")
                continue
            if listed == name:
                continue
            data = archive.read(listed)
            if digest != record_hash(data) or size != str(len(data)):
                problems.append(f"{name}: the hash or size of {path} does not match the zip")
    return problems


def check_import(zip_path: Path, python: str, handler: str = HANDLER) -> None:
    """Import the handler from the extracted zip alone: no dev venv, no site-packages."""
    with tempfile.TemporaryDirectory(prefix="pigeon-import-check-") as root:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        module, _, name = handler.rpartition(".")
        code = (
            "import importlib, sys\n"
            f"sys.path.insert(0, {root!r})\n"
            f"handler = getattr(importlib.import_module({module!r}), {name!r})\n"
            "assert callable(handler), 'handler is not callable'\n"
            f"assert importlib.import_module('pigeon').__file__.startswith({root!r})\n"
        )
        env = {"PATH": "/usr/bin:/bin", "HOME": root, **IMPORT_CHECK_ENV}
        result = subprocess.run(
            [python, "-I", "-S", "-c", code],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(
                f"{handler} does not import from the zip alone:\n"
                f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''}\n"
                "Is a runtime import missing from [project.dependencies] in pyproject.toml "
                "(dev-only packages are not in the zip)? Add it with `poetry add`, then rebuild."
            )


def verify(zip_path: Path, arch: str, cache: Path | None = None) -> None:
    sha_file = zip_path.with_name(zip_path.name + ".sha256")
    if sha_file.exists():
        if sha_file.read_text().strip() != base64_sha256(zip_path):
            raise BuildError(
                f"{zip_path} does not match {sha_file}: not the artifact that was built"
            )
        step(f"check: {zip_path.name} matches {sha_file.name}")
    with zipfile.ZipFile(zip_path) as archive:
        step("check: no __pycache__, .pyc or bin/ in the zip")
        stray = [
            n
            for n in archive.namelist()
            if "__pycache__/" in n or n.endswith((".pyc", ".pyo")) or n.startswith("bin/")
        ]
        if stray:
            raise BuildError(f"machine-specific files in the zip: {stray[:5]}")
        unzipped = check_size(archive)
        step(f"check: unzipped size {unzipped / 1e6:.1f} MB is under Lambda's 250 MB")
        problems = check_compiled(archive, arch)
        if problems:
            raise BuildError(
                "compiled code does not fit the Lambda python3.13 runtime on "
                f"{arch}:\n  "
                + "\n  ".join(problems)
                + "\nRebuild for the right --arch, or pin a release with a cp313 manylinux wheel."
            )
        step(f"check: compiled extensions fit cp313 on {arch}")
        problems = check_records(archive)
        if problems:
            raise BuildError(
                "a RECORD does not describe what the zip holds:\n  " + "\n  ".join(problems[:10])
            )
        step("check: every RECORD lists exactly files in the zip, with matching hashes")
    host = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine)
    if host != arch:
        step(f"check: import skipped, the host ({os.uname().machine}) cannot run {arch} code")
        return
    python = find_python313()
    # The same bytes import the same way: a rebuild with nothing changed skips the slow check.
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    passed = cache / f"imports-ok-{arch}-{digest}" if cache else None
    if passed and passed.exists():
        step(f"check: {HANDLER} imports: these exact bytes passed before ({python})")
        return
    check_import(zip_path, python)
    step(f"check: {HANDLER} imports from the extracted zip in isolated {python}")
    if passed:
        for old in passed.parent.glob(f"imports-ok-{arch}-*"):
            old.unlink()
        passed.touch()


# Bump when what goes into a cached dependency tree changes (pruning, RECORD rewriting).
TREE_FORMAT = 2


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """One build at a time per cache and outputs: a second `make build` waits for the first."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            step(f"waiting for another build that holds {lock_file}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def staging(final: Path) -> Path:
    """A folder or file next to `final` that only this process writes."""
    return final.with_name(f".{final.name}.{os.getpid()}.partial")


def publish_dir(staged: Path, final: Path) -> None:
    """Put a complete folder in place: the old one is renamed away first, never half-deleted."""
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def locked_requirements(source: Path, cache: Path) -> Path:
    """poetry export, once per poetry.lock and pyproject.toml."""
    inputs = (source / "poetry.lock").read_bytes() + (source / "pyproject.toml").read_bytes()
    cached = cache / f"requirements-{hashlib.sha256(inputs).hexdigest()[:16]}.txt"
    if cached.exists():
        step("export: poetry.lock unchanged, using its export")
        return cached
    step("export: poetry export --only main (with hashes)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = staging(cached)
    export_requirements(source, partial)
    partial.replace(cached)
    return cached


def dependency_tree(requirements: Path, arch: str, use_docker: bool, cache: Path) -> Path:
    """The installed, pruned dependencies: pip runs once per export, arch and way of building.
    Same hashes in, same wheels, same bytes out: reusing the tree keeps builds reproducible."""
    mode = "docker" if use_docker else "platform"
    inputs = requirements.read_bytes() + f"{arch}{mode}{TREE_FORMAT}".encode()
    tree = cache / f"deps-{arch}-{mode}-{hashlib.sha256(inputs).hexdigest()[:16]}"
    count = sum(1 for line in requirements.read_text().splitlines() if line[:1].isalnum())
    where = f"in {BUILD_IMAGE}" if use_docker else "with pip's platform flags (no Docker)"
    if tree.is_dir():
        step(f"install: {count} locked packages for python3.13 {arch}: already installed ({where})")
        return tree
    step(f"install: {count} locked packages for python3.13 {arch}, {where}")
    partial = staging(tree)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        install_dependencies(requirements, partial, arch, use_docker)
        prune(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for old in cache.glob(f"deps-{arch}-{mode}-*"):
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    partial.rename(tree)  # complete, or not there at all
    return tree


def build(
    arch: str, docker_mode: str, source: Path, build_dir: Path, dist_dir: Path, cache: Path
) -> Path:
    use_docker = docker_mode == "always" or (docker_mode == "auto" and docker_available())
    if docker_mode == "always" and not docker_available():
        raise BuildError("--docker always, but no Docker engine answers `docker info`")
    with exclusive(cache / "build.lock"):
        return _build(arch, use_docker, source, build_dir, dist_dir, cache)


def _build(
    arch: str, use_docker: bool, source: Path, build_dir: Path, dist_dir: Path, cache: Path
) -> Path:
    zip_path = dist_dir / "pigeon.zip"
    sha_path = zip_path.with_name(zip_path.name + ".sha256")
    requirements = locked_requirements(source, cache)
    tree = dependency_tree(requirements, arch, use_docker, cache)
    staged = staging(build_dir)
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(tree, staged)
    copy_function(source, staged)
    info = version_info(source)
    (staged / "version.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    step(
        f"zip: {zip_path.relative_to(source) if zip_path.is_relative_to(source) else zip_path}"
        f" (commit {info['commit'][:12]}, version {info['version']})"
    )
    staged_zip = staging(zip_path)
    try:
        write_zip(staged, staged_zip)
        verify(staged_zip, arch, cache)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        staged_zip.unlink(missing_ok=True)
        raise
    digest = base64_sha256(staged_zip)
    publish_dir(staged, build_dir)
    sha_path.unlink(missing_ok=True)
    staged_zip.replace(zip_path)
    staged_sha = staging(sha_path)
    staged_sha.write_text(digest + "\n")
    staged_sha.replace(sha_path)
    step(f"done: {zip_path.stat().st_size / 1e6:.2f} MB, base64 sha256 {digest}")
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--arch", choices=sorted(ARCHES), default=os.environ.get("PIGEONTOOLS_ARCH", "x86_64")
    )
    parser.add_argument(
        "--docker",
        choices=("auto", "always", "never"),
        default=os.environ.get("PIGEONTOOLS_BUILD_DOCKER", "auto"),
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the project checkout")
    parser.add_argument("--build-dir", type=Path, help="default: SOURCE/build")
    parser.add_argument("--dist-dir", type=Path, help="default: SOURCE/dist")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="export and installed dependencies (default: SOURCE/.cache/build)",
    )
    parser.add_argument(
        "--verify-only", type=Path, metavar="ZIP", help="only run the checks on an existing zip"
    )
    args = parser.parse_args(argv)
    try:
        if args.verify_only:
            verify(args.verify_only, args.arch)
            step(f"ok: {args.verify_only}")
        else:
            source = args.source.resolve()
            build(
                args.arch,
                args.docker,
                source,
                args.build_dir or source / "build",
                args.dist_dir or source / "dist",
                args.cache_dir or source / ".cache" / "build",
            )
    except BuildError as error:
        print(f"build: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
