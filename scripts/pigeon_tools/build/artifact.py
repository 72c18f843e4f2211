"""The whole build: export, install, package, verify, publish. Two builds of one checkout take
turns; outputs appear whole or not at all."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools import docker
from pigeon_tools.build import bytecode, sbom
from pigeon_tools.build.export import locked_requirements
from pigeon_tools.build.install import dependency_tree
from pigeon_tools.build.package import base64_sha256, task_root, write_zip
from pigeon_tools.build.publish import exclusive, publish_dir, publish_file, staging
from pigeon_tools.build.steps import BuildError, step
from pigeon_tools.build.verify import verify
from pigeon_tools.paths import ROOT

SBOM_NAME = "pigeon.cdx.json"
VERSION_NAME = "pigeon.version.json"


@dataclass(frozen=True)
class Layout:
    """Where a build reads and writes."""

    source: Path = ROOT
    build_dir: Path = ROOT / "build"
    dist_dir: Path = ROOT / "dist"
    cache: Path = ROOT / ".cache" / "build"

    @classmethod
    def of(
        cls,
        source: Path,
        build_dir: Path | None = None,
        dist_dir: Path | None = None,
        cache: Path | None = None,
    ) -> Layout:
        return cls(
            source,
            build_dir or source / "build",
            dist_dir or source / "dist",
            cache or source / ".cache" / "build",
        )


def use_docker(mode: str) -> bool:
    if mode == "always" and not docker.engine_answers():
        raise BuildError("--docker always, but no Docker engine answers `docker info`")
    return mode == "always" or (mode == "auto" and docker.engine_answers())


def build(arch: str, docker_mode: str, layout: Layout) -> Path:
    in_docker = use_docker(docker_mode)
    with exclusive(layout.cache / "build.lock"):
        return _build(arch, in_docker, layout)


def _build(arch: str, in_docker: bool, layout: Layout) -> Path:
    zip_path = layout.dist_dir / "pigeon.zip"
    requirements = locked_requirements(layout.source, layout.cache)
    tree = dependency_tree(requirements, arch, in_docker, layout.cache)
    staged = staging(layout.build_dir)
    shown = (
        zip_path.relative_to(layout.source) if zip_path.is_relative_to(layout.source) else zip_path
    )
    staged_zip = staging(zip_path)
    sbom_path = layout.dist_dir / SBOM_NAME
    staged_sbom = staging(sbom_path)
    try:
        python = bytecode.target_python()
        compiler = bytecode.compiler(python)
        if compiler.version != bytecode.PINNED_PYTHON:
            step(
                f"warning: compiling with Python {compiler.version}, not the release CI pins "
                f"({bytecode.PINNED_PYTHON}): the bytecode, so the zip, may differ from CI's"
            )
        info = task_root(tree, layout.source, staged, compiler.version)
        done = bytecode.compile_tree(staged, python, layout.cache)
        step(
            f"bytecode: {done.files} .py files, {bytecode.MODE} .pyc by Python {done.version}, "
            f"code naming {bytecode.TASK_ROOT}/… ({done.reused} from the cache)"
        )
        for name, why in done.skipped.items():
            step(f"bytecode: skipped {name}: {why}")
        step(f"zip: {shown} (commit {info['commit'][:12]}, version {info['version']})")
        write_zip(staged, staged_zip)
        cached = sbom.write(requirements, layout.source, staged_sbom, layout.cache)
        made = "the same inputs made it before: from the cache" if cached else "cyclonedx-py"
        step(f"sbom: {SBOM_NAME}, CycloneDX, from the same export ({made})")
        verify(staged_zip, arch, layout.cache, staged_sbom)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        staged_zip.unlink(missing_ok=True)
        staged_sbom.unlink(missing_ok=True)
        raise
    digest = base64_sha256(staged_zip)
    publish_dir(staged, layout.build_dir)
    sha_path = zip_path.with_name(zip_path.name + ".sha256")
    sha_path.unlink(missing_ok=True)
    staged_zip.replace(zip_path)
    staged_sbom.replace(sbom_path)
    # The zip's version.json beside it, for Terraform (DD_VERSION) without unzipping.
    publish_file(layout.dist_dir / VERSION_NAME, (layout.build_dir / "version.json").read_bytes())
    publish_file(sha_path, f"{digest}\n".encode())
    step(f"done: {zip_path.stat().st_size / 1e6:.2f} MB, base64 sha256 {digest}")
    return zip_path
