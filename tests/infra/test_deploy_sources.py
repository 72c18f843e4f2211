"""One source per setting (issue 20, item 2; CONTRACTS.md, item 4): the root's variables, the
committed <env>.tfvars, what deploy.sh passes, the workflows and the docs, read together. A
setting with no source, with two, or a source the docs name that does not exist, fails."""

from __future__ import annotations

import pytest

from pigeon_tools.deploy.sources import Repository, problems
from pigeon_tools.paths import ROOT

VARIABLES = """
variable "env" { type = string }
variable "bucket_name" { type = string }
variable "region" {
  type    = string
  default = "us-west-2"
}
variable "traffic_enabled" {
  type    = bool
  default = false
}
variable "artifact_dir" { type = string }
variable "datadog_api_key" {
  type      = string
  default   = null
  sensitive = true
}
"""
WORKFLOW = """
jobs:
  plan:
    environment: stage-plan
    env:
      TF_STATE_BUCKET: ${{ vars.TF_STATE_BUCKET }}
      DD_API_KEY: ${{ secrets.DATADOG_API_KEY }}
    steps:
      - run: scripts/deploy.sh stage plan
"""
SETUP = """# CI/CD

| step | where | name | if skipped |
|---|---|---|---|
| 1 | environment `stage-plan`, variable | `TF_STATE_BUCKET` | init fails |
| 2 | repository secret | `DATADOG_API_KEY` | Datadog refuses |
"""


@pytest.fixture
def repo(tmp_path) -> Repository:
    root = tmp_path / "terraform" / "environments"
    root.mkdir(parents=True)
    (root / "variables.tf").write_text(VARIABLES)
    for env in ("stage", "prod"):
        (root / f"{env}.tfvars").write_text(f'env = "{env}"\nbucket_name = "crashes-{env}"\n')
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "deploy.yml").write_text(WORKFLOW)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ci-cd.md").write_text(SETUP)
    (docs / "deploy.md").write_text("Settings live in `terraform/environments/<env>.tfvars`.\n")
    return Repository(root, workflows, tuple(sorted(docs.glob("*.md"))), docs / "ci-cd.md")


def test_one_source_for_each_setting_passes(repo):
    assert problems(repo) == []


def test_a_required_setting_with_no_value_has_no_source(repo):
    (repo.root / "prod.tfvars").write_text('env = "prod"\n')
    assert problems(repo) == [
        "prod: bucket_name has no source: no default, not in prod.tfvars, not set by deploy.sh"
    ]


def test_a_setting_from_a_workflow_as_well_has_two_sources(repo):
    workflow = repo.workflows / "deploy.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "      TF_STATE_BUCKET:",
            "      TF_VAR_bucket_name: ${{ vars.TF_STATE_BUCKET }}\n      TF_STATE_BUCKET:",
        )
    )
    found = problems(repo)
    assert (
        "stage: bucket_name has two sources: stage.tfvars and TF_VAR_bucket_name in a workflow"
        in found
    )
    assert "a workflow sets TF_VAR_bucket_name: settings come from <env>.tfvars" in found


def test_what_deploy_sh_decides_in_a_tfvars_has_two_sources(repo):
    (repo.root / "stage.tfvars").write_text(
        'env = "stage"\nbucket_name = "b"\ntraffic_enabled = true\n'
    )
    assert problems(repo) == [
        "stage: traffic_enabled has two sources: stage.tfvars and deploy.sh -var"
    ]


def test_a_second_var_file_and_a_secret_in_a_tfvars_are_refused(repo):
    (repo.root / "stage.local.tfvars").write_text('bucket_name = "other"\n')
    (repo.root / "prod.tfvars").write_text(
        'env = "prod"\nbucket_name = "b"\ndatadog_api_key = "0123"\nqueues = "x"\n'
    )
    found = problems(repo)
    assert (
        "terraform/environments/stage.local.tfvars: a second source of settings beside <env>.tfvars"
        in found
    )
    assert (
        "prod.tfvars sets datadog_api_key, a secret: secrets come from CI's secret store" in found
    )
    assert "prod.tfvars sets queues, which the root does not declare" in found


def test_sources_the_docs_name_must_exist(repo):
    (repo.docs[1]).write_text(
        "Copy `site.tfvars.example` to `<env>.local.tfvars`, or set `TF_VAR_bucket_name`.\n"
    )
    setup = repo.setup
    setup.write_text(setup.read_text() + "| 3 | repository variable | `PIGEON_BUCKET_NAME` | |\n")
    workflow = repo.workflows / "deploy.yml"
    workflow.write_text(workflow.read_text() + "      - run: echo ${{ vars.AWS_ROLE_ARN }}\n")
    assert sorted(problems(repo)) == [
        "ci-cd.md's set-up table names the variable PIGEON_BUCKET_NAME, which no workflow reads",
        "deploy.md names TF_VAR_bucket_name, which nothing sets: settings come from <env>.tfvars",
        "deploy.md names terraform/environments/prod.local.tfvars, which does not exist",
        "deploy.md names terraform/environments/site.tfvars.example, which does not exist",
        "deploy.md names terraform/environments/stage.local.tfvars, which does not exist",
        "the workflows read the variable AWS_ROLE_ARN, which ci-cd.md's set-up table does not name",
    ]


def the_repository() -> Repository:
    docs = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
    return Repository(
        ROOT / "terraform" / "environments",
        ROOT / ".github" / "workflows",
        docs,
        ROOT / "docs" / "ci-cd.md",
    )


def test_the_repository_has_one_source_for_each_setting():
    assert problems(the_repository()) == []
