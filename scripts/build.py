#!/usr/bin/env python3
"""Build the Lambda artifact: build/ (the task root), dist/pigeon.zip and its .sha256.

examples:
  build.py                                   # build/, dist/pigeon.zip (make build)
  build.py --arch arm64 --docker never       # for arm64, pip's platform flags
  build.py --verify-only dist/pigeon.zip     # the checks only, on an existing zip

Steps: export the locked main dependencies with hashes; install them for the Lambda platform
(in the runtime build image when Docker is there, else with pip's platform flags: both pick the
same wheels); add function/pigeon and version.json; zip reproducibly; write the CycloneDX SBOM
(dist/pigeon.cdx.json) from the same export; check the zip and the SBOM.

environment: PIGEONTOOLS_ARCH, PIGEONTOOLS_BUILD_DOCKER (the defaults of --arch, --docker);
PIGEONTOOLS_BUILD_VERSION, _COMMIT, _ID (version.json; CI sets them).

exit status: 0 built (or verified), 1 a step failed, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pigeon_tools import cli
from pigeon_tools.build.artifact import SBOM_NAME, VERSION_NAME, Layout, build
from pigeon_tools.build.export import locked_requirements
from pigeon_tools.build.install import ARCHES
from pigeon_tools.build.steps import BuildError, step
from pigeon_tools.build.verify import verify
from pigeon_tools.paths import ROOT


def main() -> int:
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--arch",
        choices=sorted(ARCHES),
        default=os.environ.get("PIGEONTOOLS_ARCH", "x86_64"),
        help="the function's architecture",
    )
    parser.add_argument(
        "--docker",
        choices=("auto", "always", "never"),
        default=os.environ.get("PIGEONTOOLS_BUILD_DOCKER", "auto"),
        help="install in the runtime build image (auto: when an engine answers)",
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the project checkout")
    parser.add_argument("--build-dir", type=Path, help="default: SOURCE/build")
    parser.add_argument("--dist-dir", type=Path, help="default: SOURCE/dist")
    parser.add_argument(
        "--cache-dir", type=Path, help="export and installed dependencies (SOURCE/.cache/build)"
    )
    parser.add_argument(
        "--verify-only",
        type=Path,
        metavar="ZIP",
        help="only run the checks on an existing zip (and the SBOM beside it, if any)",
    )
    parser.add_argument(
        "--print-export",
        action="store_true",
        help="write the hashed export of the locked main dependencies; print its path",
    )
    args = parser.parse_args()
    try:
        if args.print_export:
            source = args.source.resolve()
            cache = args.cache_dir or source / ".cache" / "build"
            print(locked_requirements(source, cache))
        elif args.verify_only:
            sbom = args.verify_only.with_name(SBOM_NAME)
            version = args.verify_only.with_name(VERSION_NAME)
            verify(
                args.verify_only,
                args.arch,
                sbom=sbom if sbom.exists() else None,
                version_file=version if version.exists() else None,
            )
            step(f"ok: {args.verify_only}")
        else:
            source = args.source.resolve()
            build(
                args.arch,
                args.docker,
                Layout.of(source, args.build_dir, args.dist_dir, args.cache_dir),
            )
    except BuildError as error:
        print(f"build: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    cli.run(main, "build")
