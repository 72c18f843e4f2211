"""The Terraform command lines of a deploy, built from the environment's name alone.

Nothing in them depends on the machine or the checkout: terraform runs with -chdir=the root,
every path it is given is relative to that root (the var file, the artifact, the plan, the data
folder), and the same two -var values come from deploy.sh's own checks. A test builds them from
two checkouts at different paths and compares."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools.deploy.settings import (
    ARTIFACT_DIR,
    TRAFFIC_ENABLED,
    SettingsError,
    artifact_dir,
    read_tfvars,
)

# How long a deploy waits for another one's state lock before it fails.
LOCK_TIMEOUT = "10m"


def plan_dir(env: str) -> str:
    """Where a saved plan and what it was made from live, relative to the root."""
    return f".plan/{env}"


def plan_file(env: str) -> str:
    return f"{plan_dir(env)}/tfplan"


def data_dir(env: str) -> str:
    """One .terraform folder per environment (its backend and modules), relative to the root."""
    return f".terraform/{env}"


@dataclass(frozen=True)
class Backend:
    """The S3 backend's settings, as -backend-config arguments."""

    args: tuple[str, ...]

    def describe(self) -> str:
        values = dict(a.removeprefix("-backend-config=").partition("=")[::2] for a in self.args)
        files = [
            a.removeprefix("-backend-config=")
            for a in self.args
            if "=" not in a.removeprefix("-backend-config=")
        ]
        where = f"s3://{values['bucket']}" if "bucket" in values else " and ".join(files)
        return f"{where}, key {values.get('key', '?')}"


# Settings of backend.hcl that would decide where the state lives besides the key deploy.sh
# gives: with one, stage and prod could share a state.
STATE_LOCATION_SETTINGS = ("key", "workspace_key_prefix")
KEY_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def state_key(env: str, environ: Mapping[str, str]) -> str:
    """${TF_STATE_KEY_PREFIX:-pigeon}/<env>.tfstate: one state per environment, always."""
    prefix = environ.get("TF_STATE_KEY_PREFIX") or "pigeon"
    if not KEY_PREFIX.fullmatch(prefix) or any(p in (".", "..") for p in prefix.split("/")):
        raise SettingsError(
            f"TF_STATE_KEY_PREFIX={prefix!r} is not a plain S3 key prefix (letters, digits, "
            "., _, - and /)"
        )
    return f"{prefix}/{env}.tfstate"


def state_key_arg(env: str, environ: Mapping[str, str]) -> str:
    return f"-backend-config=key={state_key(env, environ)}"


def is_state_of(state: Backend, env: str) -> bool:
    """The backend's key (the last one given: Terraform's) is <prefix>/<env>.tfstate."""
    keys = [a.removeprefix("-backend-config=key=") for a in state.args if "=key=" in a]
    if not keys:
        return False
    prefix, _, name = keys[-1].rpartition("/")
    return name == f"{env}.tfstate" and bool(KEY_PREFIX.fullmatch(prefix))


def backend(root: Path, env: str, environ: Mapping[str, str]) -> Backend:
    """backend.hcl (not committed) or TF_STATE_BUCKET and TF_STATE_REGION; the state key is
    ${TF_STATE_KEY_PREFIX:-pigeon}/<env>.tfstate, and nothing else may set it (a backend.hcl
    with a key or workspace_key_prefix, TF_WORKSPACE) so stage and prod never share a state.
    In GitHub Actions the variables come from the `<env>-plan` (or `<env>-pr-plan`) environment,
    so stage and prod may keep their state in different accounts."""
    if environ.get("TF_WORKSPACE"):
        raise SettingsError(
            "TF_WORKSPACE is set: the state of each environment is its own key, in the default "
            "workspace (unset it)"
        )
    key = state_key_arg(env, environ)
    if (root / "backend.hcl").is_file():
        found = sorted(set(read_tfvars(root / "backend.hcl")) & set(STATE_LOCATION_SETTINGS))
        if found:
            raise SettingsError(
                f"terraform/environments/backend.hcl sets {', '.join(found)}: deploy.sh gives "
                "each environment its own state key (remove the line)"
            )
        return Backend(("-backend-config=backend.hcl", key))
    bucket, region = environ.get("TF_STATE_BUCKET"), environ.get("TF_STATE_REGION")
    if not bucket or not region:
        raise SettingsError(
            "the state backend is not set: write terraform/environments/backend.hcl (from "
            "backend.hcl.example), or set TF_STATE_BUCKET and TF_STATE_REGION"
        )
    return Backend((f"-backend-config=bucket={bucket}", f"-backend-config=region={region}", key))


def init_args(state: Backend) -> list[str]:
    return ["init", "-input=false", "-reconfigure", "-lockfile=readonly", *state.args]


def plan_args(
    env: str, traffic_enabled: bool, *, lock: bool, extra: Sequence[str] = ()
) -> list[str]:
    """`lock=False` for plans that can never be applied (-lock=false: they take no state lock,
    so they never wait for a deploy or make one wait); deploys wait for the lock."""
    return [
        "plan",
        "-input=false",
        f"-out={plan_file(env)}",
        f"-var-file={env}.tfvars",
        f"-var={TRAFFIC_ENABLED}={'true' if traffic_enabled else 'false'}",
        f"-var={ARTIFACT_DIR}={artifact_dir(env)}",
        f"-lock-timeout={LOCK_TIMEOUT}" if lock else "-lock=false",
        *extra,
    ]


def apply_args(env: str) -> list[str]:
    return ["apply", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}", plan_file(env)]


class Terraform:
    """terraform -chdir=ROOT, with TF_DATA_DIR per environment."""

    def __init__(self, root: Path, env: str, environ: Mapping[str, str]) -> None:
        self.root = root
        self.environ = {**environ, "TF_DATA_DIR": data_dir(env), "TF_IN_AUTOMATION": "1"}

    def command(self, args: Sequence[str]) -> list[str]:
        return ["terraform", f"-chdir={self.root}", *args]

    def run(self, args: Sequence[str]) -> int:
        """Output to this process's stderr (stdout stays for what a caller reads)."""
        sys.stdout.flush()
        done = subprocess.run(self.command(args), env=self.environ, stdout=sys.stderr, check=False)
        return done.returncode

    def capture(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args), env=self.environ, capture_output=True, text=True, check=False
        )

    def passthrough(self, args: Sequence[str]) -> int:
        """`deploy.sh ENV output …`: terraform's own stdout, stderr and exit status."""
        sys.stdout.flush()
        os.execvpe("terraform", self.command(args), self.environ)  # noqa: S606 (no shell)
