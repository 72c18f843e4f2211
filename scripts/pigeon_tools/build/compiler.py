"""Compile a task root's .py files to hash-based .pyc files, reproducibly; or recompile them and
say which .pyc files differ. Run by the target interpreter itself, standard library only:

    python3.13 -S -s -B compiler.py compile ROOT PREFIX JOBS MODE < NUL-separated .py paths
    python3.13 -S -s -B compiler.py check ROOT PREFIX JOBS < NUL-separated .py paths

Each file is compiled in a child forked from this small, fixed process, never in a process that
compiled anything before: marshal marks an object as shared (FLAG_REF) by its reference count,
and whether a string comes out interned depends on what else is alive, so code compiled in a
process that holds other code can give other bytes (two functions with the same qualified name
in two files are enough). The caller fixes the environment (PYTHONHASHSEED=0, nothing else).

Code objects name their files as Lambda sees them: PREFIX/path (/var/task/pigeon/handler.py).
`compile` writes each path's __pycache__ file, MODE unchecked-hash or checked-hash. `check`
reads each one: its source hash must be its source's, and it is compiled again in its own mode
and compared byte for byte (checked or unchecked); a timestamp one is refused. Each problem is
a line on stdout: the path, a tab, what is wrong.
Nothing is imported beyond what the interpreter loaded at startup, so that state stays small.
"""

import _imp
import marshal
import os
import sys
import warnings

external = sys.modules["_frozen_importlib_external"]  # the import system's own functions
MAGIC: bytes = external.MAGIC_NUMBER
RAW_MAGIC: int = external._RAW_MAGIC_NUMBER
FLAGS = {"unchecked-hash": 0b01, "checked-hash": 0b11}  # bit 0: hash-based; bit 1: check it
warnings.simplefilter("ignore")  # SyntaxWarnings (old escapes) change nothing that is compiled


def pyc(source: bytes, dfile: str, mode: str) -> bytes:
    """The .pyc bytes of `source`, laid out as importlib writes a hash-based one."""
    code = compile(source, dfile, "exec", dont_inherit=True, optimize=0)
    digest = _imp.source_hash(RAW_MAGIC, source)
    return MAGIC + FLAGS[mode].to_bytes(4, "little") + digest + marshal.dumps(code)


def compiled(source: bytes, prefix: str, name: str, mode: str) -> tuple[bytes, str]:
    try:
        return pyc(source, prefix + "/" + name, mode), ""
    except (SyntaxError, ValueError) as error:
        return b"", f"does not compile with this Python: {error}"


def check(source: bytes, found: bytes, prefix: str, name: str) -> str:
    """The problem of a .pyc against its source, or an empty string. Either hash-based mode is
    compiled again in that mode and compared byte for byte: a checked-hash .pyc whose header
    holds the right hash but whose code was changed is as wrong as an unchecked one."""
    if found[:4] != MAGIC:
        return f"its magic number {found[:4]!r} is not this Python's {MAGIC!r}"
    flags = int.from_bytes(found[4:8], "little")
    mode = next((mode for mode, bits in FLAGS.items() if bits == flags), "")
    if not mode:
        return "it is not hash-based: a timestamp .pyc is checked against the file's mtime"
    if found[8:16] != _imp.source_hash(RAW_MAGIC, source):
        return f"its source hash is not the source's: a stale .pyc ({mode}; the source changed)"
    data, problem = compiled(source, prefix, name, mode)
    return problem or ("" if found == data else f"it is not what its source compiles to ({mode})")


def one(action: str, root: str, prefix: str, mode: str, name: str) -> str:
    """In a forked child: compile or check one file; the problem, or an empty string."""
    with open(os.path.join(root, name), "rb") as handle:
        source = handle.read()
    target = os.path.join(root, external.cache_from_source(name))
    if action == "check":
        try:
            with open(target, "rb") as handle:
                found = handle.read()
        except FileNotFoundError:
            return "it has no .pyc"
        return check(source, found, prefix, name)
    data, problem = compiled(source, prefix, name, mode)
    if not problem:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)
    return problem


def start(action: str, root: str, prefix: str, mode: str, name: str) -> tuple[int, int]:
    """Fork a child that does one file and exits with everything it made; (pid, its pipe)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        status = 0
        try:
            problem = one(action, root, prefix, mode, name)
        except BaseException as error:  # reported by the parent, then the child is gone
            problem, status = f"{type(error).__name__}: {error}", 1
        os.write(write, problem.encode()[:4096])  # within a pipe's buffer: never blocks
        os._exit(status)
    os.close(write)
    return pid, read


def finish(read: int, status: int) -> str:
    """A child's problem, if any, once it has exited."""
    chunks: list[bytes] = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    problem = b"".join(chunks).decode(errors="replace")
    return problem or (f"the compiler exited with status {status}" if status else "")


def main() -> int:
    args = sys.argv[1:]
    wanted = {"compile": 5, "check": 4}
    if (
        not args
        or wanted.get(args[0]) != len(args)
        or not args[3].isdigit()
        or (args[0] == "compile" and args[4] not in FLAGS)
    ):
        sys.exit(f"usage: {sys.argv[0]} compile ROOT PREFIX JOBS MODE | check ROOT PREFIX JOBS")
    action, root, prefix, jobs = args[:4]
    mode = args[4] if action == "compile" else ""
    names = [name for name in sys.stdin.read().split("\0") if name]
    running: dict[int, tuple[str, int]] = {}
    problems: dict[str, str] = {}
    while names or running:
        while names and len(running) < int(jobs):
            name = names.pop(0)
            pid, read = start(action, root, prefix, mode, name)
            running[pid] = (name, read)
        pid, status = os.wait()
        name, read = running.pop(pid)
        problem = finish(read, status)
        if problem:
            problems[name] = " ".join(problem.split())
    for name in sorted(problems):
        print(f"{name}\t{problems[name]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
