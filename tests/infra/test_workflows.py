"""The GitHub Actions workflows: thin callers of the make targets and scripts, hardened."""

from __future__ import annotations

import re

import yaml

from pigeon_tools.deploy.checks import PREFLIGHTS
from pigeon_tools.deploy.terraform import Backend, init_args
from pigeon_tools.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
CI = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
DEPLOY = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
LOCK = yaml.safe_load((WORKFLOWS / "terraform-lock.yml").read_text())
ALL = {"ci.yml": CI, "deploy.yml": DEPLOY, "terraform-lock.yml": LOCK}
MAKE_TARGETS = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def test_ci_jobs_call_the_developers_commands():
    jobs = CI["jobs"]
    assert set(jobs) == {
        "lint",
        "test",
        "build",
        "smoke",
        "terraform",
        "workflow-lint",
        "deploy-stage",
    }
    assert "make lint" in runs(jobs["lint"])
    assert "make audit" in runs(jobs["lint"])
    assert "make test" in runs(jobs["test"])
    assert "make reproducible ARCH=${{ matrix.arch }}" in runs(jobs["build"])
    assert jobs["build"]["strategy"]["matrix"]["arch"] == ["x86_64", "arm64"]
    assert jobs["build"]["env"]["PIGEONTOOLS_BUILD_DOCKER"] == "always"
    assert "scripts/smoke_test.sh --docker" in runs(jobs["smoke"])
    assert "scripts/rabbitmq.py start" in runs(jobs["smoke"])
    assert "make terraform-test" in runs(jobs["terraform"])
    assert "make checkov" in runs(jobs["terraform"])
    assert "make lint-workflows" in runs(jobs["workflow-lint"])


def test_every_make_target_and_script_called_exists():
    for workflow in ALL.values():
        for job in workflow["jobs"].values():
            text = runs(job)
            for target in re.findall(r"\bmake ([a-z-]+)", text):
                assert target in MAKE_TARGETS, target
            for script in re.findall(r"\b(scripts/[a-z_0-9]+\.(?:sh|py))", text):
                path = ROOT / script
                assert path.exists(), script
                assert path.stat().st_mode & 0o111, f"{script} is not executable"


def test_build_uploads_the_zip_and_its_sha_and_tests_upload_junit():
    [upload] = [s for s in CI["jobs"]["build"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == "pigeon-${{ matrix.arch }}"
    assert set(upload["with"]["path"].split()) == {
        "dist/pigeon.zip",
        "dist/pigeon.zip.sha256",
        "dist/pigeon.cdx.json",
        "dist/pigeon.version.json",
    }
    [junit] = [s for s in CI["jobs"]["test"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert junit["with"]["path"] == "reports/junit.xml"


def test_every_action_is_pinned_to_a_full_sha_with_its_version():
    for name, text in ((p.name, p.read_text()) for p in WORKFLOWS.glob("*.yml")):
        for line in text.splitlines():
            match = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)(.*)", line)
            if not match or match.group(1).startswith("./"):
                continue
            action, comment = match.groups()
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), f"{name}: {action}"
            assert re.search(r"#\s*v\d+\.\d+\.\d+", comment), f"{name}: {action} lacks # vX.Y.Z"


def test_permissions_are_empty_by_default_and_checkouts_keep_no_credentials():
    for name, workflow in ALL.items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}:{job_name} must say what it needs"
            for step in job.get("steps", []):
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False


def test_no_expression_expands_inside_run():
    for name, workflow in ALL.items():
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                run = step.get("run", "")
                if "${{" in run:
                    # Only matrix values, which this file defines, may be expanded in a script.
                    assert re.findall(r"\$\{\{\s*([^}]*)\}\}", run) == ["matrix.arch "], (
                        f"{name}:{job_name}: {run}"
                    )


def test_stage_deploys_this_runs_artifact_after_every_check_on_main():
    stage = CI["jobs"]["deploy-stage"]
    assert stage["uses"] == "./.github/workflows/deploy.yml"
    assert set(stage["needs"]) == set(CI["jobs"]) - {"deploy-stage"}
    assert "refs/heads/main" in stage["if"]
    assert stage["with"] == {
        "environment": "stage",
        "action": "apply",
        "artifact-run-id": "${{ github.run_id }}",
    }


def test_deploy_uses_the_ci_artifact_oidc_and_the_prod_environment():
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]  # YAML 1.1 reads `on` as true
    assert {"workflow_call", "release", "workflow_dispatch", "pull_request"} <= set(on)
    deploy = DEPLOY["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment || 'prod' }}"
    assert deploy["concurrency"]["group"] == "deploy-${{ inputs.environment || 'prod' }}"
    assert deploy["permissions"]["id-token"] == "write"
    [download] = [s for s in deploy["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"]["name"] == "pigeon-x86_64"
    assert download["with"]["run-id"] == "${{ env.ARTIFACT_RUN_ID }}"
    assert any("configure-aws-credentials" in u for u in uses(deploy))
    assert 'scripts/deploy.sh "$DEPLOY_ENVIRONMENT" "$DEPLOY_ACTION"' in runs(deploy)
    assert not any("aws-access-key-id" in str(s.get("with", {})) for s in deploy["steps"])


def test_pull_requests_get_a_plan_per_environment():
    plan = DEPLOY["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["environment"] == ["stage", "prod"]
    assert 'scripts/deploy.sh "$PLAN_ENVIRONMENT" plan' in runs(plan)


def test_no_caching_in_the_deploy_workflow():
    """A poisoned cache must not reach what deploys (zizmor's cache-poisoning)."""
    for job in DEPLOY["jobs"].values():
        assert not any("actions/cache" in u for u in uses(job))
        for step in job.get("steps", []):
            assert "cache" not in step.get("with", {})


def test_the_build_job_alone_attests_the_zip_and_its_sbom_with_least_permissions():
    build = CI["jobs"]["build"]
    assert build["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    steps = {s["uses"].split("@")[0]: s for s in build["steps"] if "uses" in s}
    provenance = steps["actions/attest-build-provenance"]
    assert set(provenance["with"]["subject-path"].split()) == {
        "dist/pigeon.zip",
        "dist/pigeon.cdx.json",
    }
    sbom = steps["actions/attest-sbom"]
    assert sbom["with"] == {"subject-path": "dist/pigeon.zip", "sbom-path": "dist/pigeon.cdx.json"}
    names = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    assert names.index("actions/attest-sbom") < names.index("actions/upload-artifact")
    for name, job in CI["jobs"].items():
        if name != "build":
            assert job.get("permissions", {}).get("attestations") != "write", name


def test_deploy_sh_verifies_attestation_sha_and_build_before_it_plans():
    names = [check.name for check in PREFLIGHTS]
    order = ["provenance", "sha256", "build-checks", "terraform-init"]
    assert [names.index(n) for n in order] == sorted(names.index(n) for n in order)
    assert 'exec "$python" -m pigeon_tools.deploy' in (ROOT / "scripts" / "deploy.sh").read_text()
    deploy = DEPLOY["jobs"]["deploy"]
    assert deploy["permissions"]["attestations"] == "read"
    assert "--allow-unattested" not in runs(deploy)  # only PR plans of their own build
    assert "--allow-unattested" in runs(DEPLOY["jobs"]["plan"])


def test_dependabot_proposes_updates_for_the_four_ecosystems_monthly():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "github-actions", "docker-compose", "terraform"}
    for update in updates.values():
        assert update["schedule"]["interval"] == "monthly"
        groups = update["groups"].values()
        assert any(g.get("applies-to") == "version-updates" for g in groups)
    assert "/terraform/environments" in updates["terraform"]["directories"]


def test_a_workflow_locks_the_providers_monthly_and_by_hand_as_a_pull_request():
    on = LOCK[True] if True in LOCK else LOCK["on"]
    assert "workflow_dispatch" in on
    assert on["schedule"][0]["cron"].split()[2:] == ["1", "*", "*"]  # the 1st of each month
    job = LOCK["jobs"]["lock"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert "scripts/terraform_lock.sh" in runs(job)
    [pull_request] = [s for s in job["steps"] if "create-pull-request" in s.get("uses", "")]
    assert pull_request["with"]["add-paths"] == "terraform/**/.terraform.lock.hcl"
    script = (ROOT / "scripts" / "terraform_lock.sh").read_text()
    for platform in ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"):
        assert f"-platform={platform}" in script
    assert "dirs=(environments modules/*)" in script


def test_ci_and_deploys_init_with_the_lock_file_read_only():
    check = (ROOT / "scripts" / "terraform_check.sh").read_text()
    assert "-lockfile=readonly" in check
    assert "-lockfile=readonly" in init_args(Backend(()))


def test_the_test_job_has_terraform_so_no_terraform_test_is_skipped_in_ci():
    steps = CI["jobs"]["test"]["steps"]
    names = [step.get("uses", "").split("@")[0] for step in steps]
    make_test = next(i for i, step in enumerate(steps) if step.get("run") == "make test")
    assert "hashicorp/setup-terraform" in names[:make_test]
