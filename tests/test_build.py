"""The artifact: reproducible bytes, Terraform's hash, and checks that fail a bad build."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build

ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "dist" / "pigeon.zip"
SCRIPT = ROOT / "scripts" / "build.py"


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
    assert not [
        n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("bin/")
    ]


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
    assert set(info) == {"build", "commit", "version"}
    assert info["version"]


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


def test_the_isolated_import_check_rejects_a_dev_only_import(tmp_path):
    bad = tmp_path / "bad.zip"
    rewrite(ZIP, bad, "pigeon/handler.py", lambda data: data + b"\nimport pytest\n")
    done = verify(bad)
    assert done.returncode == 1
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
    with zipfile.ZipFile(big) as archive, pytest.raises(build.BuildError, match="over Lambda's"):
        build.check_size(archive)


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
            stamp = rng.randint(1_000_000_000, 1_900_000_000)
            os.utime(target / name, (stamp, stamp))
    finally:
        os.umask(old)


@pytest.mark.slow
def test_two_clones_at_different_paths_umasks_and_mtimes_give_identical_bytes(tmp_path):
    zips = []
    for n, umask in enumerate((0o022, 0o077)):
        source = tmp_path / f"clone-{n}" / ("deeper/" * n) / "pigeon"
        source.mkdir(parents=True)
        copy_tree(source, umask, seed=n)
        env = {**os.environ, "PIGEON_BUILD_COMMIT": "", "PIGEON_BUILD_ID": ""}
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--source", str(source), "--docker", "never"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            preexec_fn=lambda umask=umask: os.umask(umask),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        zips.append((source / "dist" / "pigeon.zip").read_bytes())
    assert zips[0] == zips[1]
