"""Bytecode in the task root, and the three checks that it is right.

Lambda's task root is read-only: Python can write no __pycache__ there, so without .pyc files
in the zip every cold start compiles every module it imports. The build compiles every .py with
the target Python (3.13, its magic number) into an unchecked-hash .pyc whose code objects name
the file as Lambda sees it (/var/task/...); docs/build.md says why unchecked. The compiling is
pigeon_tools/build/compiler.py's, in the target interpreter, a fresh process state per file, so
that the bytes depend on the compiler, the mode, the prefix, the path and the source only. They
are cached by all five (the compiler: its exact release, its magic number, its cache tag and
compiler.py's digest); a check that passed is cached by those and the .pyc's bytes.

A source whose file name has a dot before .py (`six.moves.py`) is never compiled: no import
statement can name it (`import six.moves` reads six/moves.py), so the runtime never reads its
.pyc; the build reports each one it skips, with that reason. A source that does not compile
fails the build, naming the file: the interpreter could never import it either.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools.build.steps import BuildError

TASK_ROOT = "/var/task"  # where Lambda extracts the zip: the paths the code objects name
MODE = "unchecked-hash"
TARGET = "3.13"
# The exact release CI compiles with (the workflows' PYTHON_VERSION, a test holds them equal):
# another 3.13 release may marshal other bytes. version.json records the one that compiled.
PINNED_PYTHON = "3.13.0"
TARGET_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of 3.13
CACHE_TAG = "cpython-313"
COMPILER = Path(__file__).with_name("compiler.py")
# Each file in its own forked child of the compiler: at most this many at once.
JOBS = max(1, min(4, os.cpu_count() or 1))
IDENTITY = (
    "import sys, importlib.util;"
    "print(importlib.util.MAGIC_NUMBER.hex(), sys.implementation.cache_tag, sys.version)"
)


@dataclass(frozen=True)
class Compiler:
    """The target interpreter as the compiler: its version, and what its output depends on."""

    python: str
    version: str  # 3.13.0
    identity: str  # its magic number, cache tag, full sys.version and compiler.py's digest

    def key(self, *parts: bytes, mode: str = MODE, prefix: str = TASK_ROOT) -> str:
        """A cache key of `parts` compiled by this compiler in `mode`, naming `prefix`/…"""
        digest = hashlib.sha256(self.identity.encode())
        for part in (mode.encode(), prefix.encode()):
            digest.update(len(part).to_bytes(8, "little") + part)
        for part in parts:
            digest.update(len(part).to_bytes(8, "little") + part)
        return digest.hexdigest()[:32]


def target_python() -> str:
    """The Python 3.13 the build compiles with and the checks run (the dev venv's base)."""
    from pigeon_tools.python import NoPython313, python313

    try:
        return python313()
    except NoPython313 as error:
        raise BuildError(str(error)) from None


@functools.cache
def compiler(python: str) -> Compiler:
    """`python` as the compiler, refused unless it is Python 3.13 (its magic number)."""
    done = subprocess.run(
        [python, "-S", "-s", "-c", IDENTITY], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BuildError(f"{python} does not run: {done.stderr.strip()[-500:]}")
    magic, tag, version = done.stdout.strip().split(" ", 2)
    if bytes.fromhex(magic) != TARGET_MAGIC or tag != CACHE_TAG:
        raise BuildError(
            f"{python} is Python {version.split()[0]} ({tag}): bytecode for the Lambda "
            f"python{TARGET} runtime needs a Python {TARGET} (PIGEONTOOLS_PYTHON)"
        )
    script = hashlib.sha256(COMPILER.read_bytes()).hexdigest()
    return Compiler(python, version.split()[0], f"{magic}\n{tag}\n{version}\n{script}")


def pyc_name(source: str) -> str:
    """Where the runtime looks for a source's bytecode: pkg/__pycache__/mod.cpython-313.pyc."""
    folder, _, file = source.rpartition("/")
    cached = f"__pycache__/{file.removesuffix('.py')}.{CACHE_TAG}.pyc"
    return f"{folder}/{cached}" if folder else cached


def source_name(pyc: str) -> str | None:
    """The source whose bytecode the runtime would read from `pyc`; None for a .pyc (or .pyo)
    it never reads: beside its source, in another Python's or an optimisation level's name."""
    folder, _, file = pyc.rpartition("/")
    parent, _, cache = folder.rpartition("/")
    suffix = f".{CACHE_TAG}.pyc"
    if cache != "__pycache__" or not file.endswith(suffix) or "." in file.removesuffix(suffix):
        return None
    module = file.removesuffix(suffix) + ".py"
    return f"{parent}/{module}" if parent else module


def is_source(name: str) -> bool:
    """A .py the runtime can import by name, so one that must have its .pyc."""
    return name.endswith(".py") and "__pycache__/" not in f"/{name}" and not skipped(name)


def skipped(name: str) -> str:
    """Why a .py gets no .pyc (an empty string: it gets one)."""
    if name.endswith(".py") and "." in name.rpartition("/")[2].removesuffix(".py"):
        return "a dot in its module name: no import can name it, the runtime never reads it"
    return ""


def is_bytecode(name: str) -> bool:
    return name.endswith((".pyc", ".pyo"))


def sources(root: Path) -> list[str]:
    found = (p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())
    return sorted(name for name in found if is_source(name))


def skipped_sources(root: Path) -> dict[str, str]:
    """The .py files under `root` that get no .pyc, with the reason."""
    found = (p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())
    return {name: why for name in sorted(found) if (why := skipped(name))}


def run(
    compiler: Compiler,
    action: str,
    root: Path,
    names: list[str],
    mode: str = MODE,
    prefix: str = TASK_ROOT,
) -> dict[str, str]:
    """Run the compiler on `names` (paths under `root`); its problems, by path."""
    command = [compiler.python, "-S", "-s", "-B", str(COMPILER), action, str(root), prefix]
    command += [str(JOBS), mode] if action == "compile" else [str(JOBS)]
    done = subprocess.run(
        command,
        input="\0".join(names),
        env={"PYTHONHASHSEED": "0"},  # and nothing else: the compiler's state is fixed
        capture_output=True,
        text=True,
        check=False,
    )
    problems = dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)
    if done.returncode not in (0, 1) or (done.returncode == 1) != bool(problems):
        tail = (done.stdout + done.stderr).strip()[-1500:]
        raise BuildError(f"the bytecode compiler failed (exit {done.returncode}):\n{tail}")
    return problems


def _listed(problems: dict[str, str], limit: int = 10) -> str:
    shown = [f"{name}: {problem}" for name, problem in sorted(problems.items())[:limit]]
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    return "\n  " + "\n  ".join(shown) + more


@dataclass(frozen=True)
class Compiled:
    """What compile_tree did."""

    files: int
    reused: int  # of them, from the cache
    version: str  # the compiler's exact release
    skipped: dict[str, str]  # source: why it has no .pyc


def compile_tree(
    root: Path,
    python: str,
    cache: Path | None = None,
    mode: str = MODE,
    prefix: str = TASK_ROOT,
) -> Compiled:
    """Compile every .py under `root` beside it (__pycache__), code naming `prefix`/…"""
    target = compiler(python)
    names = sources(root)
    keys = {
        name: target.key(name.encode(), (root / name).read_bytes(), mode=mode, prefix=prefix)
        for name in names
    }
    store = cache / "bytecode" if cache else None
    missing = []
    for name in names:
        cached = store / f"{keys[name]}.pyc" if store else None
        if cached and cached.is_file():
            (root / pyc_name(name)).parent.mkdir(exist_ok=True)
            shutil.copyfile(cached, root / pyc_name(name))
        else:
            missing.append(name)
    problems = run(target, "compile", root, missing, mode, prefix) if missing else {}
    if problems:
        raise BuildError(
            f"files that Python {target.version} cannot compile (so it could never import them):"
            + _listed(problems)
            + "\nFix or drop them (a dependency's: pin another release)."
        )
    if store:
        store.mkdir(parents=True, exist_ok=True)
        for name in missing:
            partial = store / f".{keys[name]}.{os.getpid()}.partial"
            shutil.copyfile(root / pyc_name(name), partial)
            partial.replace(store / f"{keys[name]}.pyc")
        wanted = {f"{key}.pyc" for key in keys.values()}
        for old in store.iterdir():
            if old.name not in wanted and not old.name.startswith("."):
                old.unlink(missing_ok=True)
    return Compiled(len(names), len(names) - len(missing), target.version, skipped_sources(root))


def check_pairs(names: list[str]) -> list[str]:
    """Every .py has its .pyc where the runtime looks, and every .pyc is one the runtime would
    read for a .py in the zip."""
    present = set(names)
    problems = [
        f"{name} has no {pyc_name(name)}"
        for name in filter(is_source, names)
        if pyc_name(name) not in present
    ]
    for name in filter(is_bytecode, names):
        source = source_name(name)
        if source is None:
            problems.append(f"{name} is not a .pyc the python{TARGET} runtime reads")
        elif source not in present:
            problems.append(f"{name} has no source ({source}) in the zip")
    return problems


def check_magic(archive: zipfile.ZipFile) -> list[str]:
    """Every .pyc starts with Python 3.13's magic number."""
    problems = []
    for name in filter(is_bytecode, archive.namelist()):
        with archive.open(name) as handle:
            magic = handle.read(4)
        if magic != TARGET_MAGIC:
            problems.append(f"{name} has the magic number {magic!r}, not Python {TARGET}'s")
    return problems


@dataclass
class SourceCheck:
    """The third check, planned from the zip: which .pyc files must be recompiled (or
    validated) and compared, and which passed before with these very bytes."""

    compiler: Compiler
    keys: dict[str, str]  # source path: digest of the compiler, the path, the source, the .pyc
    todo: list[str]
    record: Path | None

    @classmethod
    def plan(cls, archive: zipfile.ZipFile, python: str, cache: Path | None) -> SourceCheck:
        target = compiler(python)
        names = set(archive.namelist())
        keys = {
            name: target.key(name.encode(), archive.read(name), archive.read(pyc_name(name)))
            for name in sorted(filter(is_source, names))
            if pyc_name(name) in names
        }
        record = cache / "bytecode-checked.txt" if cache else None
        passed = set(record.read_text().split()) if record and record.exists() else set()
        return cls(target, keys, [n for n, key in keys.items() if key not in passed], record)

    def run(self, root: Path | None) -> None:
        """Check what is left to check in the zip extracted at `root`; raise on a mismatch."""
        problems = run(self.compiler, "check", root, self.todo) if root and self.todo else {}
        if self.todo and root is None:
            raise ValueError("bytecode to check, but no extracted zip to check it in")
        if problems:
            raise BuildError(
                f"bytecode that is not what its source compiles to with Python "
                f"{self.compiler.version}:{_listed(problems)}\nRebuild. If the zip was built "
                f"with another Python {TARGET} release (one may compile differently), run this "
                "check (scripts/build.py --verify-only) with that one."
            )
        if self.record:
            partial = self.record.with_name(f".{self.record.name}.{os.getpid()}.partial")
            partial.write_text("".join(f"{key}\n" for key in sorted(self.keys.values())))
            partial.replace(self.record)
