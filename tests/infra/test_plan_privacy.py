"""A plan is public where the repository is (attestations need a public repository, or GitHub
Enterprise Cloud): the `plan-<env>-…` artifact (the tfplan, every value in it unmasked, and
plan.txt) and the job summaries can be read by anyone. So nothing the root and its modules
plan may be a secret (docs/ci-cd.md, What a public repository publishes):

- no sensitive variable or output (Terraform masks it in the text, not in the tfplan), and no
  sensitive() value;
- no resource or data type whose attributes hold a secret value (the broker secret is an
  aws_secretsmanager_secret without a version: its value is set out of band).

And deploy.sh itself writes no secret it has in its environment (the Datadog provider's keys,
gh's token, the AWS credentials) to the summary or to the artifact, whatever Terraform prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pigeon_tools.terraform import hcl
from support import evidence
from support.deploy_world import prepared

# Types whose state holds a secret value (a password, a key, a token, a secret's plaintext).
SECRET_TYPES = {
    "resource": {
        "aws_secretsmanager_secret_version",  # secret_string, secret_binary
        "aws_ssm_parameter",  # value (SecureString too)
        "aws_iam_access_key",  # secret, ses_smtp_password_v4
        "aws_iam_user_login_profile",  # password
        "aws_iam_service_specific_credential",  # service_password
        "aws_kms_ciphertext",  # plaintext
        "aws_db_instance",  # password
        "aws_rds_cluster",  # master_password
        "aws_docdb_cluster",  # master_password
        "aws_redshift_cluster",  # master_password
        "aws_elasticache_user",  # passwords
        "aws_mq_broker",  # user.password
        "aws_opensearch_domain",  # master_user_password
        "aws_cognito_user_pool_client",  # client_secret
        "aws_lightsail_key_pair",  # private_key
        "datadog_api_key",  # key
        "datadog_application_key",  # key
        "datadog_service_account_application_key",  # key
        "random_password",  # result
        "tls_private_key",  # private_key_pem
        "rabbitmq_user",  # password
    },
    "data": {
        "aws_secretsmanager_secret_version",
        "aws_secretsmanager_random_password",
        "aws_ssm_parameter",
        "aws_kms_secrets",
        "datadog_api_key",
        "datadog_application_key",
    },
}


def deployed_modules(terraform: Path) -> list[hcl.Module]:
    """The root and its modules: what a deploy plans (the examples are never deployed)."""
    dirs = {
        tf.parent
        for tf in terraform.rglob("*.tf")
        if ".terraform" not in tf.parts and "examples" not in tf.relative_to(terraform).parts
    }
    return [hcl.load(d) for d in sorted(dirs)]


def secrets_planned(terraform: Path) -> list[str]:
    found = []
    for module in deployed_modules(terraform):
        where = module.path.relative_to(terraform).as_posix()
        for kind, blocks in (("variable", module.variables()), ("output", module.outputs())):
            for name, body in sorted(blocks.items()):
                if body.get("sensitive") in (True, "true"):
                    found.append(f"{where}: {kind} {name} is sensitive")
        for block_type in ("resource", "data"):
            for block in module.blocks.get(block_type, []):
                for kind in sorted(set(block) & SECRET_TYPES[block_type]):
                    found.append(f"{where}: {block_type} {kind} holds a secret value")
        for file, text in sorted(module.files.items()):
            if re.search(r"\bsensitive\s*\(", text):
                found.append(f"{where}/{file}: a sensitive() value")
    return found


def test_nothing_the_root_plans_is_a_secret():
    assert secrets_planned(hcl.TERRAFORM) == []


def test_a_secret_in_a_module_is_found(tmp_path):
    module = tmp_path / "terraform" / "modules" / "leaky"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'variable "token" {\n  type      = string\n  sensitive = true\n}\n'
        'output "password" {\n  value     = random_password.p.result\n  sensitive = true\n}\n'
        'resource "random_password" "p" {\n  length = 16\n}\n'
        'resource "aws_secretsmanager_secret_version" "v" {\n'
        '  secret_id     = "x"\n  secret_string = sensitive(var.token)\n}\n'
        'data "datadog_api_key" "k" {\n  name = "x"\n}\n'
    )
    example = tmp_path / "terraform" / "examples" / "e"
    example.mkdir(parents=True)
    (example / "main.tf").write_text('resource "tls_private_key" "k" {\n  algorithm = "RSA"\n}\n')
    assert secrets_planned(tmp_path / "terraform") == [
        "modules/leaky: variable token is sensitive",
        "modules/leaky: output password is sensitive",
        "modules/leaky: resource random_password holds a secret value",
        "modules/leaky: resource aws_secretsmanager_secret_version holds a secret value",
        "modules/leaky: data datadog_api_key holds a secret value",
        "modules/leaky/main.tf: a sensitive() value",
    ]


# --- deploy.sh's summary and artifact ---------------------------------------------------------

SECRETS = ("DD_API_KEY", "DD_APP_KEY", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture
def world(tmp_path, deploy_aws):
    return prepared(tmp_path, deploy_aws)


@pytest.mark.parametrize("unattested", [False, True], ids=["deploy-plan", "pull-request-plan"])
def test_a_plan_never_writes_a_secret_of_its_environment_to_the_summary_or_artifact(
    world, unattested
):
    """The stand-in terraform prints the value of each secret variable in its plan and in
    `terraform show` (as a provider that logs its keys would): deploy.sh copies that text to
    the summary and to plan.txt, and must leave the values out."""
    values = {name: evidence.secret(f"{name.lower()}-value-0123456789") for name in SECRETS}
    if not unattested:
        world.attest_artifact(world.dist)
    summary = world.base / "summary.md"
    output = world.base / "output.txt"
    done = world.deploy(
        world.checkout_path,
        "stage",
        "plan",
        *(["--allow-unattested"] if unattested else []),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
        FAKE_TERRAFORM_ECHO=" ".join(SECRETS),
        **{name: str(value) for name, value in values.items()},
    )
    assert done.returncode == 0, done.stderr
    folder = world.root(world.checkout_path) / ".plan" / "stage"
    written = {"summary": summary, "GITHUB_OUTPUT": output}
    written.update({f"artifact {p.name}": p for p in sorted(folder.iterdir())})
    assert {"artifact tfplan", "artifact plan.txt", "artifact metadata.json"} <= set(written)
    texts = {where: path.read_text(errors="replace") for where, path in written.items()}
    assert "(stand-in) DD_API_KEY=" in texts["artifact plan.txt"]  # the echo reached deploy.sh
    leaked = []  # names only: a failure must not print the values either
    for where, text in texts.items():
        evidence.seen(f"deploy.sh's {where}", text)
        leaked += [f"{name} in the {where}" for name, value in values.items() if value in text]
    assert leaked == []
