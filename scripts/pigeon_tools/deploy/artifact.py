"""The artifact a deploy ships: where it came from, that it is unchanged, that it passes every
build check, and the copy Terraform reads (under the root, at a path the same everywhere)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools.build.package import base64_sha256
from pigeon_tools.deploy.refusals import Refusal
from pigeon_tools.deploy.settings import artifact_dir
from pigeon_tools.paths import SCRIPTS

ZIP = "pigeon.zip"
SHA256 = "pigeon.zip.sha256"
VERSION = "pigeon.version.json"
SBOM = "pigeon.cdx.json"
# What gh attestation verify checks (ci.yml attests the build provenance of both).
SUBJECTS = (ZIP, SBOM)
# What Terraform reads (CONTRACTS.md, C <-> T, item 1).
STAGED = (ZIP, SHA256, VERSION)
SIGNER_WORKFLOW = ".github/workflows/ci.yml"
MAIN = "refs/heads/main"
# The source refs whose builds may be deployed: reviewed code only.
ALLOWED_REFS = {"stage": (MAIN,), "prod": (MAIN, "refs/tags/v*")}
PRIVATE_REPOSITORIES = "docs/ci-cd.md#private-repositories"


def allowed(env: str, ref: str) -> bool:
    return any(fnmatch.fnmatchcase(ref, pattern) for pattern in ALLOWED_REFS[env])


def refs_to_try(env: str, environ: Mapping[str, str], source_ref: str | None) -> list[str]:
    """The concrete refs to verify against, in order: main, then (prod) the release tag this
    run deploys (GITHUB_REF on a release) or the one the operator named."""
    refs = [MAIN]
    for ref in (source_ref, environ.get("GITHUB_REF")):
        if ref and ref not in refs and ref != MAIN and allowed(env, ref):
            refs.append(ref)
    return refs


@dataclass(frozen=True)
class Attempt:
    ref: str
    returncode: int
    output: str


def gh_verify(subject: Path, repository: str, ref: str) -> Attempt:
    done = subprocess.run(
        [
            "gh",
            "attestation",
            "verify",
            str(subject),
            "--repo",
            repository,
            "--signer-workflow",
            f"github.com/{repository}/{SIGNER_WORKFLOW}",
            "--source-ref",
            ref,
            "--deny-self-hosted-runners",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return Attempt(ref, done.returncode, (done.stdout + done.stderr).strip())


def _tail(text: str, lines: int = 4) -> str:
    return "\n".join(line for line in text.splitlines()[-lines:] if line.strip())


def provenance(dist: Path, repository: str, refs: Sequence[str], env: str) -> list[Refusal]:
    """gh attestation verify for each subject: built by REPOSITORY's ci.yml, from an allowed
    ref, on GitHub's runners, and unchanged since (the attestation names its sha256)."""
    refusals = []
    wanted = " or ".join(ALLOWED_REFS[env])
    for name in SUBJECTS:
        subject = dist / name
        if not subject.is_file():
            refusals.append(
                Refusal(
                    "provenance",
                    f"{subject} is missing",
                    "download the CI run's whole artifact (docs/deploy.md, First deploy)",
                )
            )
            continue
        attempts = [gh_verify(subject, repository, ref) for ref in refs]
        if any(a.returncode == 0 for a in attempts):
            continue
        said = "\n".join(f"gh, --source-ref {a.ref}: {_tail(a.output)}" for a in attempts)
        if "unknown flag" in said:
            fix = "this gh is too old for --source-ref and --deny-self-hosted-runners: upgrade it "
            fix += "(https://cli.github.com)"
        elif any(a.returncode == 4 for a in attempts):
            fix = "gh is not signed in: run `gh auth login`, or set GH_TOKEN (any token that "
            fix += f"can read {repository}; in GitHub Actions, github.token)"
        elif "SourceRepositoryRef" in said:
            fix = f"this build is from another ref: only builds of {wanted} are deployed. "
            fix += (
                "Deploy the artifact of the CI run of a push to main (scripts/ci_run_for_commit.sh)"
            )
        else:
            fix = f"deploy only an artifact CI built: the CI run of a push to main of {repository} "
            fix += "(scripts/ci_run_for_commit.sh COMMIT, then gh run download). A private "
            fix += (
                f"repository needs GitHub Enterprise Cloud for attestations: {PRIVATE_REPOSITORIES}"
            )
        refusals.append(
            Refusal(
                "provenance",
                f"{name} has no valid attestation from {repository}'s ci.yml on {wanted}",
                f"{fix}\n{said}",
            )
        )
    return refusals


def sha256(dist: Path) -> list[Refusal]:
    zip_path, sha_path = dist / ZIP, dist / SHA256
    if not zip_path.is_file() or not sha_path.is_file():
        missing = [str(p) for p in (zip_path, sha_path) if not p.is_file()]
        return [Refusal("sha256", f"missing: {', '.join(missing)}", "download the whole artifact")]
    if base64_sha256(zip_path) != sha_path.read_text().strip():
        return [
            Refusal(
                "sha256",
                f"{zip_path} does not match {SHA256}: changed after it was built",
                "download the artifact again; never edit or rebuild it",
            )
        ]
    return []


def build_checks(dist: Path, arch: str, python: str = sys.executable) -> list[Refusal]:
    done = subprocess.run(
        [python, str(SCRIPTS / "build.py"), "--verify-only", str(dist / ZIP), "--arch", arch],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return []
    return [
        Refusal(
            "build-checks",
            f"{dist / ZIP} fails the build checks for {arch}",
            _tail(done.stdout + done.stderr, 8),
        )
    ]


def built_from(dist: Path) -> str | None:
    """The commit the zip was built from (its pigeon.version.json)."""
    try:
        commit = json.loads((dist / VERSION).read_text()).get("commit")
    except (OSError, ValueError):
        return None
    return str(commit) if commit else None


def stage(dist: Path, root: Path, env: str) -> Path:
    """Copy the verified files where the root reads them: ROOT/.artifact/<env>/ (gitignored)."""
    target = root / artifact_dir(env)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in STAGED:
        shutil.copyfile(dist / name, target / name)
    if base64_sha256(target / ZIP) != (dist / SHA256).read_text().strip():
        raise OSError(f"{target / ZIP} is not the verified zip after copying")
    return target
