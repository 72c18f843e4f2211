"""Which deployed Pigeon an operator tool talks to: `--env stage|prod`, as scripts/deploy.sh
takes it, gives the names the Terraform modules make (`pigeon-ENV`, `pigeon-ENV-on-failure`,
`pigeon-ENV/rabbitmq`; tests/infra/test_runbook.py ties them to terraform/), and the
environment's settings in its committed `terraform/environments/ENV.tfvars`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pigeon_tools.paths import ROOT


def terraform_root() -> Path:
    """The Terraform root deploy.sh uses (PIGEONTOOLS_TERRAFORM_ROOT, as deploy.sh reads it)."""
    return Path(os.environ.get("PIGEONTOOLS_TERRAFORM_ROOT") or ROOT / "terraform/environments")


def names() -> list[str]:
    """The environments: one <env>.tfvars each."""
    return sorted(path.stem for path in terraform_root().glob("*.tfvars"))


def function_name(env: str) -> str:
    return f"pigeon-{env}"


def failure_queue_name(env: str) -> str:
    return f"{function_name(env)}-on-failure"


def secret_name(env: str) -> str:
    return f"{function_name(env)}/rabbitmq"


def setting(env: str, name: str) -> Any:
    """A value of the environment's tfvars file, or None when it sets none."""
    import hcl2

    from pigeon_tools.terraform.hcl import unquote

    path = terraform_root() / f"{env}.tfvars"
    with path.open() as handle:
        return unquote(hcl2.load(handle)).get(name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--env or --function: which function to invoke."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--env",
        choices=names(),
        help="the environment, as scripts/deploy.sh takes it: invokes pigeon-ENV",
    )
    target.add_argument(
        "--function",
        help="the function's name or ARN instead (scripts/deploy.sh ENV output -raw function_name)",
    )


def region(given: str | None) -> str | None:
    """--region, else AWS_REGION (as the aws CLI and Lambda read it; boto3 alone does not),
    else None: boto3's own choice (AWS_DEFAULT_REGION, the profile's)."""
    return given or os.environ.get("AWS_REGION") or None


def function(args: argparse.Namespace) -> str | None:
    """The function --env or --function names, if any."""
    if args.function:
        return str(args.function)
    return function_name(args.env) if args.env else None


WHICH_FUNCTION = (
    "which function? give --env stage|prod, or --function NAME (scripts/deploy.sh ENV output "
    "-raw function_name)"
)
