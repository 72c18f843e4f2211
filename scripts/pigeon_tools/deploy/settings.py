"""An environment's settings: its committed <env>.tfvars over the root's variable defaults.

That is exactly what Terraform uses, because deploy.sh gives it nothing else: no other var file,
no TF_VAR_*, and `-var` only for the two values deploy.sh decides itself (DEPLOY_VARIABLES).
deploy.sh reads the values it checks before the plan (account, bucket, region, architecture)
from here, and checks after the plan that Terraform used the same ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from pigeon_tools.terraform.hcl import load, unquote

ENVIRONMENTS = ("stage", "prod")
# What deploy.sh passes with -var, from its own checks: never in a .tfvars.
TRAFFIC_ENABLED = "traffic_enabled"
ARTIFACT_DIR = "artifact_dir"
DEPLOY_VARIABLES = (TRAFFIC_ENABLED, ARTIFACT_DIR)
# Files Terraform would read by itself, or that an older set-up used: a second source.
EXTRA_VAR_FILES = (
    "terraform.tfvars",
    "terraform.tfvars.json",
    "*.auto.tfvars",
    "*.auto.tfvars.json",
)
ACCOUNT_ID = re.compile(r"\d{12}")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the file and the variable."""


def artifact_dir(env: str) -> str:
    """The artifact's folder, relative to the root: the same on every machine and checkout."""
    return f".artifact/{env}"


def read_tfvars(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        parsed = hcl2.load(handle)
    # python-hcl2 adds markers such as __comments__: not Terraform values.
    return {str(k): unquote(v) for k, v in parsed.items() if not str(k).startswith("__")}


def defaults(root: Path) -> dict[str, Any]:
    """The root's variables that have a default, with it."""
    return {
        name: unquote(body["default"])
        for name, body in load(root).variables().items()
        if "default" in body
    }


@dataclass(frozen=True)
class Settings:
    env: str
    root: Path
    values: Mapping[str, Any]
    declared: frozenset[str]

    @property
    def tfvars(self) -> Path:
        return self.root / f"{self.env}.tfvars"

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def required(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            raise SettingsError(f"{name} is not set: give it a value in {self.tfvars.name}")
        return value

    @property
    def account_id(self) -> str:
        value = str(self.required("account_id"))
        if not ACCOUNT_ID.fullmatch(value):
            raise SettingsError(
                f"account_id = {value!r} in {self.tfvars.name} is not a 12-digit AWS account id"
            )
        return value

    @property
    def bucket_name(self) -> str:
        return str(self.required("bucket_name"))

    @property
    def region(self) -> str:
        return str(self.required("region"))

    @property
    def architecture(self) -> str:
        """The function's architecture (the zip must be built for it): x86_64 unless set."""
        return str(self.get("architecture") or "x86_64")


def load_settings(root: Path, env: str) -> Settings:
    tfvars = root / f"{env}.tfvars"
    if not tfvars.is_file():
        raise SettingsError(f"no environment {env}: {tfvars} does not exist")
    module = load(root)
    declared = frozenset(module.variables())
    values = {**defaults(root), **read_tfvars(tfvars)}
    return Settings(env=env, root=root, values=values, declared=declared)


def second_sources(root: Path, env: str, environ: Mapping[str, str]) -> list[str]:
    """Every place a setting could come from besides <env>.tfvars: each one is a problem."""
    problems = [
        f"{name} is set in the environment: settings come from {env}.tfvars alone "
        f"(unset it, and put the value in {env}.tfvars)"
        for name in sorted(environ)
        if name.startswith("TF_VAR_")
    ]
    for name in ("TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_CLI_ARGS_apply"):
        if environ.get(name):
            problems.append(f"{name} is set: it adds arguments to every Terraform call (unset it)")
    found = sorted({p.name for pattern in EXTRA_VAR_FILES for p in root.glob(pattern)})
    found += sorted(p.name for p in root.glob("*.local.tfvars"))
    problems += [
        f"terraform/{root.name}/{name} exists: Terraform or an older deploy.sh would read it "
        f"as a second source of settings (move its values into {env}.tfvars, then delete it)"
        for name in found
    ]
    tfvars = root / f"{env}.tfvars"
    if tfvars.is_file():
        problems += [
            f"{name} is set in {env}.tfvars: deploy.sh decides it (remove the line)"
            for name in DEPLOY_VARIABLES
            if name in read_tfvars(tfvars)
        ]
    return problems
