"""The artifact: reproducible bytes, Terraform's hash, and checks that fail a bad build."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import marshal
import os
import random
import shutil
import subprocess
import sys
import types
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from pigeon_tools import archive as archives
from pigeon_tools.build import bytecode, records
from pigeon_tools.build.steps import BuildError
from pigeon_tools.build.verify import check_size
from pigeon_tools.paths import ROOT
from pigeon_tools.python import python313

ZIP = ROOT / "dist" / "pigeon.zip"
SCRIPT = ROOT / "scripts" / "build.py"
POETRY = os.environ.get("POETRY") or str(ROOT / ".cache" / "poetry" / "bin" / "poetry")


def test_the_sha_file_is_what_terraform_filebase64sha256_gives():
    expected = base64.b64encode(hashlib.sha256(ZIP.read_bytes()).digest()).decode()
    assert (ROOT / "dist" / "pigeon.zip.sha256").read_text().strip() == expected


def test_entries_are_sorted_dated_and_normalised():
    with zipfile.ZipFile(ZIP) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o644}
    assert not [n for n in names if n.startswith("bin/")]


def test_the_zip_holds_exactly_build_dir():
    with zipfile.ZipFile(ZIP) as archive:
        zipped = {i.filename: archive.read(i) for i in archive.infolist()}
    built = {
        p.relative_to(ROOT / "build").as_posix(): p.read_bytes()
        for p in (ROOT / "build").rglob("*")
        if p.is_file()
    }
    assert zipped.keys() == built.keys()
    assert zipped == built


def test_version_json():
    info = json.loads(zipfile.ZipFile(ZIP).read("version.json"))
    assert set(info) == {"build", "commit", "python", "version"}
    assert info["version"]
    assert info["python"] == bytecode.compiler(python313()).version  # the compiling release


def workflow_pythons() -> dict[str, str]:
    import yaml

    found = {}
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        text = workflow.read_text()
        env = (yaml.safe_load(text) or {}).get("env") or {}
        if "setup-python" in text:
            found[workflow.name] = str(env.get("PYTHON_VERSION"))
    return found


def test_the_workflows_pin_the_exact_python_release_the_build_expects():
    pins = workflow_pythons()
    assert pins, "no workflow sets up Python"
    assert set(pins.values()) == {bytecode.PINNED_PYTHON}, pins
    assert bytecode.PINNED_PYTHON.startswith(bytecode.TARGET + ".")
    assert bytecode.PINNED_PYTHON.count(".") == 2  # a patch release, not a minor one
    for name in pins:  # and every setup-python uses it
        text = (ROOT / ".github" / "workflows" / name).read_text()
        versions = [
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.strip().startswith("python-version:")
        ]
        assert versions, name
        assert set(versions) == {"${{ env.PYTHON_VERSION }}"}, (name, versions)


def rewrite(source: Path, target: Path, name: str, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == name else data)


def verify(zip_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--verify-only", str(zip_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_accepts_the_build():
    done = verify(ZIP)
    assert done.returncode == 0, done.stderr
    assert "imports from the extracted zip" in done.stdout


def rezip(root: Path, target: Path) -> Path:
    from pigeon_tools.build.package import write_zip

    write_zip(root, target)
    return target


def recompiled(root: Path, *names: str) -> None:
    """Compile these sources of an extracted zip again, as the build does."""
    assert bytecode.run(bytecode.compiler(python313()), "compile", root, list(names)) == {}


def test_the_isolated_import_check_rejects_a_dev_only_import(tmp_path):
    root = archives.extract(ZIP, tmp_path / "root")
    handler = root / "pigeon" / "handler.py"
    handler.write_bytes(handler.read_bytes() + b"\nimport pytest\n")
    recompiled(root, "pigeon/handler.py")  # its bytecode matches: only the import can fail
    done = verify(rezip(root, tmp_path / "bad.zip"))
    assert done.returncode == 1
    assert "every .pyc is what its source compiles to" in done.stdout
    assert "does not import from the zip alone" in done.stderr
    assert "No module named 'pytest'" in done.stderr


def test_the_tag_check_rejects_compiled_code_for_another_arch():
    done = verify(ZIP, "--arch", "arm64")
    assert done.returncode == 1
    assert "not an ELF library for arm64" in done.stderr


def test_the_tag_check_rejects_another_python(tmp_path):
    with zipfile.ZipFile(ZIP) as archive:
        so = next(n for n in archive.namelist() if ".cpython-313-" in n)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(ZIP) as old, zipfile.ZipFile(bad, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == so:
                info.filename = so.replace("cpython-313", "cpython-312")
            new.writestr(info, data)
    assert "built for another Python than 3.13" in verify(bad).stderr


def test_the_size_check_fails_over_250_mb(tmp_path):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(262_144_000))
    with zipfile.ZipFile(big) as archive, pytest.raises(BuildError, match="over Lambda's"):
        check_size(archive)


def test_the_size_check_fails_over_50_mb_zipped(tmp_path):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w") as archive:  # stored: 50 MB of zip
        archive.writestr("random.bin", random.Random(1).randbytes(52_428_800))
    with zipfile.ZipFile(big) as archive, pytest.raises(BuildError, match="over Lambda's 50 MB"):
        check_size(archive, big.stat().st_size)


def test_every_record_describes_exactly_what_the_zip_holds():
    with zipfile.ZipFile(ZIP) as archive:
        assert records.check(archive) == []
        listed = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
    assert listed


def test_verify_rejects_a_record_that_lists_a_file_the_zip_lacks(tmp_path):
    with zipfile.ZipFile(ZIP) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
    bad = tmp_path / "bad.zip"
    rewrite(ZIP, bad, record, lambda data: b"../../bin/tool,sha256=abc,12\r\n" + data)
    done = verify(bad)
    assert done.returncode == 1
    assert "lists ../../bin/tool, which is not in the zip" in done.stderr


def code_objects(code: types.CodeType):
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from code_objects(constant)


def test_every_py_has_an_unchecked_hash_pyc_for_313_whose_code_names_var_task():
    with zipfile.ZipFile(ZIP) as archive:
        names = archive.namelist()
        sources = [n for n in names if n.endswith(".py")]
        pycs = [n for n in names if n.endswith(".pyc")]
        assert len(pycs) == len(sources) > 100  # pika, datadog and requests, pigeon
        for name in sources:
            folder, _, file = name.rpartition("/")
            cached = f"{folder}/__pycache__/{file[:-3]}.cpython-313.pyc".lstrip("/")
            data = archive.read(cached)
            assert data[:4] == importlib.util.MAGIC_NUMBER, name  # the test venv is 3.13
            assert int.from_bytes(data[4:8], "little") == 0b01, name  # hash-based, unchecked
            assert data[8:16] == importlib.util.source_hash(archive.read(name)), name
            code = marshal.loads(data[16:])  # noqa: S302 (the build's own output)
            files = {c.co_filename for c in code_objects(code)}
            assert files == {f"/var/task/{name}"}, name  # never the builder's checkout


def test_a_traceback_from_bytecode_alone_names_the_file_as_lambda_sees_it(tmp_path):
    root = archives.extract(ZIP, tmp_path / "root")
    (root / "pigeon" / "routing.py").unlink()  # the .pyc alone: nothing to fix its name from
    cached = root / "pigeon" / "__pycache__" / "routing.cpython-313.pyc"
    done = subprocess.run(
        [python313(), "-S", "-B", "-c", "import sys; sys.path.insert(0, '.');"
         "import importlib.machinery as m; l = m.SourcelessFileLoader('r', sys.argv[1]);"
         "print(l.get_code('r').co_filename)", str(cached)],
        cwd=root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "/var/task/pigeon/routing.py", done.stderr


def test_bytecode_does_not_depend_on_what_the_compiling_process_holds(tmp_path):
    source = (
        b"def with_metaclass(m):\n    class metaclass(type):\n        pass\n    return metaclass\n"
    )
    (tmp_path / "a.py").write_bytes(source)
    (tmp_path / "b.py").write_bytes(source)
    # The trap is real: compiled in one process while a's code is alive, b gives other bytes.
    naive = subprocess.run(
        [python313(), "-S", "-c", "import marshal, sys; s = open(sys.argv[1], 'rb').read();"
         "alone = marshal.dumps(compile(s, 'b.py', 'exec')); kept = compile(s, 'a.py', 'exec');"
         "print(alone == marshal.dumps(compile(s, 'b.py', 'exec')))", str(tmp_path / "b.py")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert naive.stdout.strip() == "False", naive.stderr
    recompiled(tmp_path, "b.py")
    alone = (tmp_path / "__pycache__" / "b.cpython-313.pyc").read_bytes()
    recompiled(tmp_path, "a.py", "b.py")
    assert (tmp_path / "__pycache__" / "b.cpython-313.pyc").read_bytes() == alone


def changed_zip(tmp_path: Path, change) -> Path:
    """The build's zip, extracted, changed in place by `change(root)`, and zipped again."""
    root = archives.extract(ZIP, tmp_path / "root")
    change(root)
    return rezip(root, tmp_path / "changed.zip")


PYC = Path("pigeon") / "__pycache__" / "routing.cpython-313.pyc"


def test_verify_rejects_a_pyc_that_is_not_what_its_source_compiles_to(tmp_path):
    def edit(root: Path) -> None:  # the source edited after the build, its .pyc kept
        source = root / "pigeon" / "routing.py"
        source.write_text(source.read_text() + "\nLATE = 1\n")

    done = verify(changed_zip(tmp_path, edit))
    assert done.returncode == 1
    assert "pigeon/routing.py: its source hash is not the source's: a stale .pyc" in done.stderr
    assert "Python 3.13" in done.stderr


def test_verify_names_a_checked_hash_pyc_whose_code_was_changed_but_not_its_hash(tmp_path):
    def edit(root: Path) -> None:  # the header is right for the source; the code is another's
        source = (root / "pigeon" / "routing.py").read_bytes()
        code = compile(source + b"\nTAMPERED = 1\n", "/var/task/pigeon/routing.py", "exec")
        header = importlib.util.MAGIC_NUMBER + (0b11).to_bytes(4, "little")
        (root / PYC).write_bytes(header + importlib.util.source_hash(source) + marshal.dumps(code))

    done = verify(changed_zip(tmp_path, edit))
    assert done.returncode == 1
    assert "pigeon/routing.py: it is not what its source compiles to (checked-hash)" in done.stderr


def test_a_check_that_passed_is_not_reused_for_a_pyc_changed_since(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(ZIP) as archive:
        first = bytecode.SourceCheck.plan(archive, python313(), cache)
    with archives.extracted(ZIP) as root:
        first.run(root)

    def edit(root: Path) -> None:
        (root / PYC).write_bytes((root / PYC).read_bytes() + b"\0")

    with zipfile.ZipFile(changed_zip(tmp_path, edit)) as archive:
        again = bytecode.SourceCheck.plan(archive, python313(), cache)
    assert again.todo == ["pigeon/routing.py"]


def test_verify_rejects_a_py_without_its_pyc_and_a_pyc_without_its_py(tmp_path):
    def edit(root: Path) -> None:
        (root / PYC).unlink()
        (root / "pigeon" / "__pycache__" / "gone.cpython-313.pyc").write_bytes(b"x")
        (root / "pigeon" / "__pycache__" / "nodes.cpython-312.pyc").write_bytes(b"x")
        (root / "pigeon" / "legacy.pyc").write_bytes(b"x")

    done = verify(changed_zip(tmp_path, edit))
    assert done.returncode == 1
    assert f"pigeon/routing.py has no {PYC.as_posix()}" in done.stderr
    assert "pigeon/__pycache__/gone.cpython-313.pyc has no source (pigeon/gone.py)" in done.stderr
    assert "nodes.cpython-312.pyc is not a .pyc the python3.13 runtime reads" in done.stderr
    assert "pigeon/legacy.pyc is not a .pyc the python3.13 runtime reads" in done.stderr


def test_verify_rejects_bytecode_for_another_python(tmp_path):
    def edit(root: Path) -> None:  # 3.12's magic number
        data = (root / PYC).read_bytes()
        (root / PYC).write_bytes((3531).to_bytes(2, "little") + b"\r\n" + data[4:])

    done = verify(changed_zip(tmp_path, edit))
    assert done.returncode == 1
    assert f"{PYC.as_posix()} has the magic number" in done.stderr
    assert "not Python 3.13's" in done.stderr


@pytest.mark.parametrize(
    ("flags", "stale", "problem"),
    [
        (0b00, False, "it is not hash-based: a timestamp .pyc"),
        (0b11, True, "its source hash is not the source's: a stale .pyc"),
        (0b11, False, None),  # a checked-hash .pyc is validated, as the interpreter does
    ],
)
def test_the_bytecode_check_validates_checked_hash_and_refuses_timestamp_bytecode(
    tmp_path, flags, stale, problem
):
    root = archives.extract(ZIP, tmp_path / "root")
    data = (root / PYC).read_bytes()
    (root / PYC).write_bytes(data[:4] + flags.to_bytes(4, "little") + data[8:])
    if stale:
        source = root / "pigeon" / "routing.py"
        source.write_text(source.read_text() + "\n# edited\n")
    found = bytecode.run(bytecode.compiler(python313()), "check", root, ["pigeon/routing.py"])
    if problem is None:
        assert found == {}
    else:
        assert found["pigeon/routing.py"].startswith(problem)


def test_the_import_check_covers_the_secrets_manager_path_from_its_bytecode(tmp_path):
    from pigeon_tools.build.verify import import_from

    root = archives.extract(ZIP, tmp_path / "root")
    # Imported only with a secret ARN (pigeon.credentials makes its client at init).
    (root / "pigeon" / "__pycache__" / "secrets_api.cpython-313.pyc").unlink()
    with pytest.raises(BuildError, match="not with the zip's bytecode") as failed:
        import_from(root, python313())
    assert f"{root}/pigeon/secrets_api.py" in str(failed.value)


def test_the_import_check_fails_when_the_secret_path_imports_an_aws_sdk(tmp_path):
    """The zip ships no SDK; a secret path that imports one (here from a stray copy in the task
    root) would put ~0.6 s back into every cold start configured with a secret ARN."""
    from pigeon_tools.build.verify import import_from

    root = archives.extract(ZIP, tmp_path / "root")
    assert not (root / "boto3").exists()
    assert not (root / "botocore").exists()
    (root / "botocore").mkdir()
    (root / "botocore" / "__init__.py").write_text("")
    api = root / "pigeon" / "secrets_api.py"
    api.write_text(api.read_text() + "\nimport botocore  # noqa\n")
    (root / "pigeon" / "__pycache__" / "secrets_api.cpython-313.pyc").unlink()
    with pytest.raises(BuildError, match="the secret path imports an AWS SDK: botocore"):
        import_from(root, python313())


def test_the_import_check_fails_when_the_handler_is_compiled_from_source(tmp_path):
    from pigeon_tools.build.verify import import_from

    root = archives.extract(ZIP, tmp_path / "root")
    (root / "pigeon" / "__pycache__" / "settings.cpython-313.pyc").unlink()
    with pytest.raises(BuildError, match="not with the zip's bytecode") as failed:
        import_from(root, python313())
    assert f"{root}/pigeon/settings.py" in str(failed.value)


# A stand-in for the Docker CLI: `docker info` answers; `docker compose … run … build CMD`
# is recorded, and "runs" in the build image by copying an installed tree into the mounted
# target, as pip with the same flags on the same hashes would.
FAKE_DOCKER = """#!/usr/bin/env python3
import json, os, shutil, sys
args = sys.argv[1:]
if args == ["info"]:
    sys.exit(0)
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "platform": os.environ.get("LAMBDA_PLATFORM")}) + "\\n")
volumes = dict(reversed(args[i + 1].split(":")[:2]) for i, a in enumerate(args) if a == "--volume")
shutil.copytree(os.environ["FAKE_DOCKER_TREE"], volumes["/tmp/target"], dirs_exist_ok=True)
"""


def test_the_docker_path_runs_the_same_pip_in_the_build_image_and_gives_the_same_bytes(tmp_path):
    from pigeon_tools.build.install import pip_flags

    trees = sorted((ROOT / ".cache" / "build").glob("deps-x86_64-*"))
    assert trees, "make build installs the dependency tree first"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    cache = tmp_path / "c"  # the export and the SBOM from the checkout's build: not the subject
    cache.mkdir()
    for made in (ROOT / ".cache" / "build").glob("requirements-main-*.txt"):
        shutil.copy(made, cache)
    shutil.copytree(ROOT / ".cache" / "build" / "sbom", cache / "sbom")
    built = json.loads((ROOT / "build" / "version.json").read_text())
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--docker", "always", "--cache-dir", str(cache),
         "--build-dir", str(tmp_path / "build"), "--dist-dir", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "POETRY": POETRY,
             "FAKE_DOCKER_LOG": str(log), "FAKE_DOCKER_TREE": str(trees[-1]),
             "PIGEONTOOLS_BUILD_COMMIT": built["commit"], "PIGEONTOOLS_BUILD_ID": built["build"],
             "PIGEONTOOLS_BUILD_VERSION": built["version"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in the SAM build image" in done.stdout
    [run] = [json.loads(line) for line in log.read_text().splitlines()]
    args = run["args"]
    assert args[:2] == ["compose", "--file"]
    assert args[3:5] == ["run", "--rm"]
    command = args[args.index("build") + 1 :]
    assert command == ["python3.13", "-m", "pip", *pip_flags("x86_64"), "--target",
                       "/tmp/target", "-r", "/tmp/requirements.txt"]  # fmt: skip
    assert any(a.endswith(":/tmp/requirements.txt:ro") for a in args)  # the export, read-only
    assert run["platform"] == "linux/amd64"
    # Everything after the install (bytecode, zip, checks) is the same as without Docker.
    assert "bytecode: " in done.stdout
    digest = (tmp_path / "dist" / "pigeon.zip.sha256").read_text()
    assert digest == (ROOT / "dist" / "pigeon.zip.sha256").read_text()


def working_tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in listed.split("\0") if f and (ROOT / f).is_file()]


def copy_tree(target: Path, umask: int, seed: int) -> None:
    rng = random.Random(seed)
    old = os.umask(umask)
    try:
        for name in working_tree_files():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, target / name)
    finally:
        os.umask(old)
    touch_all(target, rng)


def touch_all(tree: Path, rng: random.Random) -> None:
    for path in tree.rglob("*"):
        stamp = rng.randint(1_000_000_000, 1_900_000_000)
        os.utime(path, (stamp, stamp))


def run_build(source: Path, python: str, umask: int, cache: Path, **env: str):
    return subprocess.Popen(
        [
            python,
            str(source / "scripts" / "build.py"),
            "--source",
            str(source),
            "--docker",
            "never",
            "--cache-dir",
            str(cache),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "POETRY": POETRY,
            "PIGEONTOOLS_BUILD_COMMIT": "",
            "PIGEONTOOLS_BUILD_ID": "",
            **env,
        },
        preexec_fn=lambda: os.umask(umask),
    )


def finished(process) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory) -> str:
    """A second virtualenv at another place: pip writes its interpreter path into what it
    installs. It runs the dev venv's packages (PYTHONPATH), so only the location differs."""
    home = tmp_path_factory.mktemp("elsewhere") / "a" / "much-longer" / "venv-name"
    subprocess.run([python313(), "-m", "venv", str(home)], check=True, timeout=120)
    return str(home / "bin" / "python")


def test_same_bytes_from_any_checkout_venv_umask_mtimes_and_cache(tmp_path, other_venv):
    site = next((ROOT / ".venv" / "lib").glob("python3.13/site-packages"))
    short = tmp_path / "a" / "pigeon"
    long = tmp_path / "some" / "much longer path" / "with-other_names" / "pigeon-checkout"
    copy_tree(short, 0o022, seed=1)
    copy_tree(long, 0o077, seed=2)
    digests, sboms = [], []
    # cold cache, the dev venv, umask 022
    finished(run_build(short, sys.executable, 0o022, tmp_path / "cache-1"))
    digests.append((short / "dist" / "pigeon.zip.sha256").read_text())
    sboms.append((short / "dist" / "pigeon.cdx.json").read_bytes())
    # cold cache, another venv at another path, umask 077
    finished(run_build(long, other_venv, 0o077, tmp_path / "cache-2", PYTHONPATH=str(site)))
    digests.append((long / "dist" / "pigeon.zip.sha256").read_text())
    # warm cache, every mtime changed
    touch_all(long, random.Random(3))
    output = finished(run_build(long, sys.executable, 0o022, tmp_path / "cache-2"))
    assert "already installed" in output
    digests.append((long / "dist" / "pigeon.zip.sha256").read_text())
    sboms.append((long / "dist" / "pigeon.cdx.json").read_bytes())
    assert len(set(digests)) == 1, digests
    assert len(set(sboms)) == 1  # the SBOM is reproducible too


def test_two_builds_at_once_in_one_tree_both_succeed_with_the_same_bytes(tmp_path):
    tree = tmp_path / "pigeon"
    copy_tree(tree, 0o022, seed=4)
    cache = tree / ".cache" / "build"
    first = run_build(tree, sys.executable, 0o022, cache)
    second = run_build(tree, sys.executable, 0o022, cache)
    outputs = [finished(first), finished(second)]
    assert any("waiting for another build" in output for output in outputs)
    sha = (tree / "dist" / "pigeon.zip.sha256").read_text().strip()
    assert all(f"base64 sha256 {sha}" in output for output in outputs)
    assert (tree / "build" / "pythonjsonlogger").is_dir()
    assert not [p for p in tree.rglob("*.partial")]


def test_a_session_on_a_stale_build_stops_at_once(tmp_path):
    tree = tmp_path / "pigeon"
    copy_tree(tree, 0o022, seed=5)
    shutil.copytree(ROOT / "build", tree / "build")
    session = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/unit/test_routing.py",
    ]
    fresh = subprocess.run(session, cwd=tree, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    routing = tree / "function" / "pigeon" / "routing.py"
    routing.write_text(routing.read_text() + "\n# an edit after the build\n")
    stale = subprocess.run(session, cwd=tree, capture_output=True, text=True, timeout=120)
    assert stale.returncode == pytest.ExitCode.USAGE_ERROR
    assert "build/ is older than function/pigeon: run make build" in stale.stderr


def test_the_sbom_lists_exactly_the_distributions_in_the_zip_with_their_versions():
    from pigeon_tools.build import sbom

    document = json.loads((ROOT / "dist" / "pigeon.cdx.json").read_text())
    assert document["bomFormat"] == "CycloneDX"
    assert document["metadata"]["component"]["name"] == "pigeon"
    with zipfile.ZipFile(ZIP) as archive:
        in_zip = sbom.zip_distributions(archive)
    listed = {sbom.normalise(c["name"]): c["version"] for c in document["components"]}
    assert listed == in_zip
    assert {"pika", "python-json-logger", "datadog"} <= set(listed)
    assert not {"boto3", "botocore"} & set(listed)  # the function signs its one AWS call


def test_verify_rejects_an_sbom_that_does_not_describe_the_zip(tmp_path):
    shutil.copy(ZIP, tmp_path / "pigeon.zip")
    document = json.loads((ROOT / "dist" / "pigeon.cdx.json").read_text())
    document["components"] = [c for c in document["components"] if c["name"] != "pika"]
    document["components"].append({"type": "library", "name": "left-pad", "version": "1.3.0"})
    (tmp_path / "pigeon.cdx.json").write_text(json.dumps(document))
    done = verify(tmp_path / "pigeon.zip")
    assert done.returncode == 1
    assert "pika 1.4.4 is in the zip but not in the SBOM" in done.stderr
    assert "left-pad 1.3.0 is in the SBOM but not in the zip" in done.stderr


def one_file_tree(root: Path, source: bytes = b"def f():\n    return 1\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "m.py").write_bytes(source)
    return root / "__pycache__" / "m.cpython-313.pyc"


def test_the_bytecode_cache_is_keyed_by_mode_task_root_and_the_exact_compiler(
    tmp_path, monkeypatch
):
    cache, python = tmp_path / "cache", python313()
    pyc = one_file_tree(tmp_path / "root")
    assert bytecode.compile_tree(tmp_path / "root", python, cache).reused == 0
    assert bytecode.compile_tree(tmp_path / "root", python, cache).reused == 1
    checked = bytecode.compile_tree(tmp_path / "root", python, cache, mode="checked-hash")
    assert checked.reused == 0
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11
    moved = bytecode.compile_tree(tmp_path / "root", python, cache, prefix="/opt/task")
    assert moved.reused == 0
    code = marshal.loads(pyc.read_bytes()[16:])  # noqa: S302 (the build's own output)
    assert code.co_filename == "/opt/task/m.py"
    real = bytecode.compiler(python)
    for other in (
        real.identity.replace(real.identity.split("\n")[0], "f40d0d0a"),  # another magic
        real.identity.replace(real.version, "3.13.99"),  # another patch release
    ):
        monkeypatch.setattr(bytecode, "compiler", lambda _p, o=other: replace(real, identity=o))
        assert bytecode.compile_tree(tmp_path / "root", python, cache).reused == 0


def test_a_source_with_a_dot_in_its_name_is_skipped_with_the_reason(tmp_path):
    one_file_tree(tmp_path)
    (tmp_path / "six.moves.py").write_bytes(b"x = 1\n")
    done = bytecode.compile_tree(tmp_path, python313())
    assert done.files == 1
    assert list(done.skipped) == ["six.moves.py"]
    assert "no import can name it" in done.skipped["six.moves.py"]
    assert not list((tmp_path / "__pycache__").glob("six*"))
    names = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert bytecode.check_pairs(names) == []


def test_a_source_that_does_not_compile_fails_the_build_naming_the_file(tmp_path):
    one_file_tree(tmp_path)
    (tmp_path / "vendored").mkdir()
    (tmp_path / "vendored" / "py2.py").write_bytes(b"print 'hello'\n")
    with pytest.raises(BuildError) as failed:
        bytecode.compile_tree(tmp_path, python313())
    assert "vendored/py2.py: does not compile with this Python" in str(failed.value)
