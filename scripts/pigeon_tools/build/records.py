"""Wheel RECORD files: each one in the zip describes exactly what the zip holds.

pip lists in a RECORD the console scripts it generated (../../bin/…, whose first line is the
building interpreter's path); the build drops those, so it rewrites the RECORDs, and the
verify step checks every line: the file is in the zip, with that hash and size."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import posixpath
import zipfile
from pathlib import Path


def record_hash(data: bytes) -> str:
    """A RECORD's hash form: urlsafe base64 of the sha256, without padding."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


def rewrite(target: Path) -> None:
    """Keep only the lines of files that are in the tree."""
    root = target.resolve()
    for record in sorted(target.glob("*.dist-info/RECORD")):
        kept = []
        for row in _rows(record.read_bytes().decode()):
            path = (root / row[0]).resolve()
            if path.is_relative_to(root) and path.is_file():
                kept.append(row)
        out = io.StringIO(newline="")
        csv.writer(out).writerows(kept)  # pip's own format: csv with \r\n line ends
        record.write_bytes(out.getvalue().encode())


def check(archive: zipfile.ZipFile) -> list[str]:
    """Every RECORD line names a file in the zip with its hash and size (the RECORD's own line
    has none)."""
    problems: list[str] = []
    names = set(archive.namelist())
    for name in sorted(n for n in names if n.endswith(".dist-info/RECORD")):
        for row in _rows(archive.read(name).decode()):
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
