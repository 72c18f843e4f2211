"""A world for scripts/deploy.sh: a checkout (a copy of the repository's scripts, Terraform and
artifact), stand-ins for terraform, gh and aws on PATH, and AWS on loopback (moto, plus the
Lambda account settings moto lacks). Tests run deploy.sh in it as an operator would.

Only the stand-ins are on PATH besides the system's commands: a runner's own gh, terraform or
aws never answers (system_without)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from pigeon_tools.build.package import base64_sha256
from pigeon_tools.moto_server import FAKE_CREDENTIALS, REGION, client
from pigeon_tools.paths import DIST, ROOT
from support import aws_standins

SUPPORT = Path(__file__).resolve().parent
ACCOUNT = aws_standins.ACCOUNT
REPOSITORY = "example/pigeon"
ARTIFACT = ("pigeon.zip", "pigeon.zip.sha256", "pigeon.cdx.json", "pigeon.version.json")
# The root's interface to deploy.sh (CONTRACTS.md, C <-> T). Until stream T's root declares a
# variable, the checkout declares it in contract_shim.tf so deploy.sh can be tested; once the
# root has them all, the shim is empty and not written.
CONTRACT_VARIABLES = {
    "traffic_enabled": 'variable "traffic_enabled" {\n  type     = bool\n  nullable = false\n}\n',
    "account_id": 'variable "account_id" {\n  type = string\n}\n',
    "artifact_dir": 'variable "artifact_dir" {\n  type = string\n}\n',
}


def system_without(folder: Path, *missing: str) -> Path:
    """The system's commands (/usr/bin, /bin) as links in one folder, but for `missing`."""
    folder.mkdir(parents=True, exist_ok=True)
    for directory in (Path("/usr/bin"), Path("/bin")):
        for command in directory.iterdir():
            link = folder / command.name
            if command.name not in missing and not link.exists() and not link.is_symlink():
                link.symlink_to(command)
    return folder


def hcl(value: Any) -> str:
    """A tfvars value: JSON's strings, numbers, bools and lists are HCL too."""
    return json.dumps(value)


def write_tfvars(path: Path, values: Mapping[str, Any]) -> None:
    path.write_text("".join(f"{k} = {hcl(v)}\n" for k, v in values.items()))


def contract_shim(root: Path) -> str:
    from pigeon_tools.terraform.hcl import load

    declared = set(load(root).variables())
    return "".join(text for name, text in CONTRACT_VARIABLES.items() if name not in declared)


def make_checkout(target: Path, dist: Path = DIST) -> Path:
    """A copy of what deploy.sh reads: scripts/, terraform/ and the artifact in dist/."""
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".terraform*", ".plan", ".artifact", "__pycache__", "*.tfstate")
    shutil.copytree(ROOT / "scripts", target / "scripts", ignore=ignore)
    shutil.copytree(ROOT / "terraform", target / "terraform", ignore=ignore)
    (target / "dist").mkdir()
    for name in ARTIFACT:
        shutil.copyfile(dist / name, target / "dist" / name)
    root = target / "terraform" / "environments"
    shim = contract_shim(root)
    if shim:
        (root / "contract_shim.tf").write_text(shim)
    (root / ".terraform.lock.hcl").write_text(
        "# providers locked (by the terraform-lock workflow)\n"
    )
    return target


def install_stand_in(bin_dir: Path, name: str) -> Path:
    """`name` on PATH in bin_dir: the stand-in tests/support/fake_<name>.py."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SUPPORT / f"fake_{name}.py"}" "$@"\n')
    path.chmod(0o755)
    return path


class World:
    # The checkout prepared() makes, and its artifact folder.
    checkout_path: Path
    dist: Path

    def __init__(self, base: Path, moto: str, lambda_settings: str) -> None:
        self.base = base
        self.moto = moto
        self.lambda_settings = lambda_settings
        self.bin = base / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.terraform_dir = base / "terraform-world"
        self.gh_dir = base / "gh-world"
        self.gh_dir.mkdir(exist_ok=True)
        self.system = system_without(base / "system", "gh", "terraform", "aws")
        self.extra_env: dict[str, str] = {}
        for name in ("terraform", "gh", "aws"):
            self.install(name)

    def install(self, name: str) -> None:
        install_stand_in(self.bin, name)

    def without(self, name: str) -> None:
        (self.bin / name).unlink()

    def checkout(self, name: str = "checkout", dist: Path = DIST) -> Path:
        return make_checkout(self.base / name, dist)

    def root(self, checkout: Path) -> Path:
        return checkout / "terraform" / "environments"

    def settings(self, checkout: Path, env: str = "stage", **values: Any) -> dict[str, Any]:
        """<env>.tfvars of the checkout: the committed one, with the test's values over it."""
        from pigeon_tools.deploy.settings import read_tfvars

        path = self.root(checkout) / f"{env}.tfvars"
        merged = {
            **read_tfvars(path),
            "env": env,
            "account_id": ACCOUNT,
            "region": REGION,
            "bucket_name": f"crashes-{env}",
            **values,
        }
        write_tfvars(path, {k: v for k, v in merged.items() if v is not None})
        return merged

    def environment(self, **more: str) -> dict[str, str]:
        env = {
            "PATH": f"{self.bin}:{self.system}",
            "HOME": str(self.base),
            "PYTHON": sys.executable,
            "PYTHONPATH": f"{ROOT / 'tests'}",
            "PIGEONTOOLS_REPOSITORY": REPOSITORY,
            "GH_TOKEN": "stand-in",
            "TF_STATE_BUCKET": "state",
            "TF_STATE_REGION": REGION,
            "FAKE_TERRAFORM_DIR": str(self.terraform_dir),
            "FAKE_GH_DIR": str(self.gh_dir),
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_settings,
            "AWS_DEFAULT_REGION": REGION,
            **FAKE_CREDENTIALS,
            **self.extra_env,
        }
        env.update(more)
        return {k: v for k, v in env.items() if v is not None}

    def deploy(self, checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/bash", str(checkout / "scripts" / "deploy.sh"), *args],
            capture_output=True,
            text=True,
            env=self.environment(**env),
            cwd=checkout,
            timeout=300,
        )

    # --- the stand-ins' worlds -------------------------------------------------------------

    def attest(self, path: Path, ref: str = "refs/heads/main", **more: str) -> None:
        """GitHub stores a build provenance attestation of this file by REPOSITORY's ci.yml."""
        import hashlib

        store = self.gh_dir / "attestations.json"
        found = json.loads(store.read_text()) if store.is_file() else []
        found.append(
            {
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "repo": more.get("repo", REPOSITORY),
                "ref": ref,
                "workflow": more.get("workflow", ".github/workflows/ci.yml"),
                "runner": more.get("runner", "github-hosted"),
            }
        )
        store.write_text(json.dumps(found))

    def attest_artifact(self, dist: Path, ref: str = "refs/heads/main") -> None:
        for name in ("pigeon.zip", "pigeon.cdx.json"):
            self.attest(dist / name, ref)

    def stage_applied(self, commit: str, run_id: int = 4242, conclusion: str = "success") -> None:
        """GitHub has ci run RUN_ID of a push to main at COMMIT whose stage apply ended so."""
        from pigeon_tools.deploy.ci_run import STAGE_APPLY_JOB

        store = self.gh_dir / "runs.json"
        runs = json.loads(store.read_text()) if store.is_file() else []
        jobs = ci_jobs({STAGE_APPLY_JOB: conclusion})
        runs.append(ci_run_record(run_id, commit, "2026-01-01T10:00:00Z", jobs=jobs))
        store.write_text(json.dumps(runs))

    def terraform_calls(self) -> list[dict[str, Any]]:
        log = self.terraform_dir / "calls.jsonl"
        if not log.is_file():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def gh_calls(self) -> list[list[str]]:
        log = self.gh_dir / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []

    def plan(self, document: Mapping[str, Any]) -> None:
        """The plan the stand-in terraform makes (its `show -json`)."""
        path = self.base / "plan.json"
        path.write_text(json.dumps(document))
        self.extra_env["FAKE_TERRAFORM_PLAN"] = str(path)

    def state_outputs(self, env: str, outputs: Mapping[str, str]) -> None:
        """The state of ENV already has these outputs (a deploy happened before)."""
        path = self.terraform_dir / "backend" / "state" / "pigeon" / f"{env}.tfstate"
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "serial": 1,
            "lineage": "test",
            "outputs": {
                k: {"value": v, "type": "string", "sensitive": False} for k, v in outputs.items()
            },
            "resources": {},
        }
        path.write_text(json.dumps(state))

    def aws(self, service: str) -> Any:
        return client(service, self.moto)


def prepared(base: Path, endpoints: tuple[str, aws_standins.Behaviour, str]) -> World:
    """A world with one checkout of stage (its tfvars for moto's account), the bucket, an empty
    account and a Lambda quota of 1000, and GITHUB_SHA the artifact's commit, as in CI."""
    moto, behaviour, settings = endpoints
    reset_moto(moto)
    behaviour.deny = False
    behaviour.concurrent_executions = behaviour.unreserved = 1000
    world = World(base, moto, settings)
    world.checkout_path = world.checkout()
    world.dist = world.checkout_path / "dist"
    world.settings(world.checkout_path)
    world.aws("s3").create_bucket(
        Bucket="crashes-stage", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    world.extra_env["GITHUB_SHA"] = commit_of(world.dist)
    return world


def ci_jobs(ends: Mapping[str, str | None] | None = None, stage: str = "success") -> list[Any]:
    """A ci run's jobs as `gh run view --json jobs` gives them: each gate job (a matrix leg named
    "build (x86_64)"), then deploy.yml's jobs as deploy-stage called them; every one succeeded
    (but the skipped pull-request plan), or as `stage` says for deploy-stage's plan (failed: its
    apply is skipped). `ends` says how a job ended instead: a conclusion, "" for a job still in
    progress, None for a job the run lacks."""
    from pigeon_tools.deploy.ci_run import GATE_JOBS, STAGE_APPLY_JOB

    said: dict[str, str | None] = {
        **dict.fromkeys(GATE_JOBS, "success"),
        "deploy-stage / plan": stage,
        STAGE_APPLY_JOB: "success" if stage == "success" else "skipped",
        "deploy-stage / pull-request-plan": "skipped",
        **(ends or {}),
    }
    needs = ci_job_needs()
    return [
        {
            "name": name,
            "status": "completed" if end else "in_progress",
            "conclusion": end,
            "databaseId": 9000 + number,
            "needs": needs[name],
        }
        for number, (name, end) in enumerate(said.items())
        if end is not None
    ]


def ci_job_needs() -> dict[str, list[str]]:
    """Each job of a ci run on main, as GitHub names it (a matrix leg "build (x86_64)", a called
    workflow's job "deploy-stage / plan"), and the jobs it needs, from ci.yml and deploy.yml."""
    workflows = ROOT / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "ci.yml").read_text())["jobs"]

    def legs(jobs: Mapping[str, Any], name: str, prefix: str = "") -> list[str]:
        matrix = (jobs[name].get("strategy") or {}).get("matrix") or {}
        values = list(itertools.product(*matrix.values()))
        label = prefix + jobs[name].get("name", name)
        return [f"{label} ({', '.join(map(str, v))})" if v else label for v in values]

    def needed(job: Mapping[str, Any]) -> list[str]:
        needs = job.get("needs") or []
        return [needs] if isinstance(needs, str) else list(needs)

    def names(jobs: Mapping[str, Any], name: str, prefix: str = "") -> list[str]:
        # A matrix job skipped by its `if` is never expanded: one job, named without legs.
        return [*legs(jobs, name, prefix), prefix + jobs[name].get("name", name)]

    out: dict[str, list[str]] = {}
    for name, job in ci.items():
        before = [leg for need in needed(job) for leg in legs(ci, need)]
        if "uses" not in job:
            out.update({key: list(before) for key in names(ci, name)})
            continue
        called = yaml.safe_load((ROOT / job["uses"].removeprefix("./")).read_text())["jobs"]
        for inner, inner_job in called.items():
            within = [leg for need in needed(inner_job) for leg in legs(called, need, f"{name} / ")]
            out.update({key: [*before, *within] for key in names(called, inner, f"{name} / ")})
    return out


def ci_run_record(run_id: int, commit: str, created: str, **fields: Any) -> dict[str, Any]:
    """A workflow run as gh gives it: by default ci.yml's, a push to main, every job succeeded
    (`jobs`: what `gh run view --json jobs` answers; `gh run list` has no such field)."""
    return {
        "databaseId": run_id,
        "headSha": commit,
        "headBranch": "main",
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "workflowName": "ci",
        "path": ".github/workflows/ci.yml",
        "displayTitle": "a commit",
        "createdAt": created,
        "jobs": ci_jobs(),
        **fields,
    }


def commit_of(dist: Path) -> str:
    return str(json.loads((dist / "pigeon.version.json").read_text())["commit"])


def zip_sha256(dist: Path) -> str:
    return base64_sha256(dist / "pigeon.zip")


def reset_moto(endpoint: str) -> None:
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30
    ).read()


@contextmanager
def aws_on_loopback() -> Iterator[tuple[str, aws_standins.Behaviour, str]]:
    """moto, and the Lambda account-settings stand-in: (moto URL, its behaviour, its URL)."""
    from pigeon_tools.moto_server import moto_server

    behaviour = aws_standins.Behaviour()
    with (
        aws_standins.eventbridge_in_notification_answers(),
        moto_server() as moto,
        aws_standins.serve(behaviour) as settings,
    ):
        reset_moto(moto)  # moto's accounts live in this process: start from an empty one
        yield moto, behaviour, settings


def change(
    address: str,
    type_: str,
    actions: list[str],
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    after_unknown: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of a plan's resource_changes, in `terraform show -json`'s shape."""
    return {
        "address": address,
        "mode": "managed",
        "type": type_,
        "name": address.rsplit(".", 1)[-1],
        "change": {
            "actions": actions,
            "before": dict(before) if before is not None else None,
            "after": dict(after) if after is not None else None,
            "after_unknown": dict(after_unknown or {}),
        },
    }


def plan_document(
    *changes: dict[str, Any], outputs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.13.4",
        "resource_changes": list(changes),
        "planned_values": {"outputs": {k: {"value": v} for k, v in (outputs or {}).items()}},
    }
