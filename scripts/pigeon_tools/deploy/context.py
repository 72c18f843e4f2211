"""What one deploy knows: the operator's options, the checkout, and what the checks found."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pigeon_tools.deploy.plan import Plan
from pigeon_tools.deploy.saved import Metadata
from pigeon_tools.deploy.settings import Settings
from pigeon_tools.deploy.terraform import Backend, Terraform

ACTIONS = ("plan", "apply", "apply-saved")


@dataclass(frozen=True)
class Options:
    env: str
    action: str
    allow_unattested: bool = False
    allow_destroy: frozenset[str] = frozenset()
    source_ref: str | None = None
    terraform_args: tuple[str, ...] = ()

    @property
    def applies(self) -> bool:
        return self.action in ("apply", "apply-saved")


@dataclass
class Facts:
    """Filled in by the checks, read by later ones (a check `needs` the one that fills it)."""

    settings: Settings | None = None
    backend: Backend | None = None
    repository: str | None = None
    zip_sha256: str | None = None
    checkout_commit: str | None = None
    saved: Metadata | None = None
    account: str | None = None
    secret_arn: str | None = None
    traffic_enabled: bool | None = None
    traffic_reason: str = ""
    notification: dict[str, Any] | None = None
    account_settings: dict[str, Any] | None = None
    plan: Plan | None = None


@dataclass
class Context:
    options: Options
    checkout: Path
    root: Path
    dist: Path
    environ: Mapping[str, str]
    facts: Facts = field(default_factory=Facts)

    @property
    def env(self) -> str:
        return self.options.env

    @property
    def settings(self) -> Settings:
        if self.facts.settings is None:
            raise RuntimeError("the settings check has not run")
        return self.facts.settings

    @property
    def plan(self) -> Plan:
        if self.facts.plan is None:
            raise RuntimeError("no plan yet")
        return self.facts.plan

    def terraform(self) -> Terraform:
        return Terraform(self.root, self.env, self.environ)

    def commit(self) -> str | None:
        """This checkout's commit: GITHUB_SHA in GitHub Actions, else git's HEAD."""
        if self.environ.get("GITHUB_SHA"):
            return self.environ["GITHUB_SHA"]
        done = subprocess.run(
            ["git", "-C", str(self.checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None
