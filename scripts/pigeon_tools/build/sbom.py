"""Step 5: a CycloneDX SBOM of exactly what the zip holds (dist/pigeon.cdx.json), made by
cyclonedx-py from the same hashed export the build installs, reproducibly; and the check that
the two agree: every distribution in the zip is in the SBOM with its version, nothing else."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

from pigeon_tools.build.steps import BuildError, run

DIST_INFO = re.compile(r"^([^/]+)-([^/-]+)\.dist-info/METADATA$")


def normalise(name: str) -> str:
    """PEP 503 names: the same project whatever its spelling in a file name or an SBOM."""
    return re.sub(r"[-_.]+", "-", name).lower()


def write(requirements: Path, source: Path, out: Path, cache: Path | None = None) -> bool:
    """Write the SBOM; True when the same inputs made it before and it came from the cache
    (the SBOM is reproducible: same export, project and tool, same bytes)."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    # The root component from [project] alone: cyclonedx-py reads [tool.poetry] first, and
    # ours holds only the package layout.
    root_text = (
        "[project]\n"
        f"name = {json.dumps(project['name'])}\n"
        f"version = {json.dumps(project['version'])}\n"
        f"description = {json.dumps(project['description'])}\n"
        f"license = {json.dumps(project['license'])}\n"
    )
    key = hashlib.sha256(
        requirements.read_bytes() + root_text.encode() + version("cyclonedx-bom").encode()
    ).hexdigest()[:32]
    cached = cache / "sbom" / f"{key}.cdx.json" if cache else None
    if cached and cached.exists():
        shutil.copyfile(cached, out)
        return True
    with tempfile.TemporaryDirectory(prefix="pigeon-sbom-") as folder:
        root = Path(folder) / "pyproject.toml"
        root.write_text(root_text)
        run(
            [
                sys.executable,
                "-m",
                "cyclonedx_py",
                "requirements",
                str(requirements),
                "--pyproject",
                str(root),
                "--mc-type",
                "application",
                "--output-reproducible",
                "--output-format",
                "JSON",
                "--output-file",
                str(out),
            ]
        )
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}.partial")
        shutil.copyfile(out, partial)
        partial.replace(cached)
    return False


def zip_distributions(archive: zipfile.ZipFile) -> dict[str, str]:
    found = {}
    for name in archive.namelist():
        match = DIST_INFO.match(name)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def sbom_distributions(sbom: Path) -> dict[str, str]:
    try:
        document = json.loads(sbom.read_text())
    except (OSError, ValueError) as error:
        raise BuildError(f"{sbom}: not a readable CycloneDX JSON SBOM ({error})") from None
    return {normalise(c["name"]): str(c["version"]) for c in document.get("components", [])}


def check(archive: zipfile.ZipFile, sbom: Path) -> list[str]:
    in_zip, listed = zip_distributions(archive), sbom_distributions(sbom)
    problems = [
        f"{name} {version} is in the zip but not in the SBOM"
        for name, version in sorted(in_zip.items())
        if listed.get(name) != version
    ]
    problems += [
        f"{name} {version} is in the SBOM but not in the zip"
        for name, version in sorted(listed.items())
        if in_zip.get(name) != version
    ]
    return problems
