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
# GitHub fails a job that waited this long for its environment's reviewers: a plan artifact
# must outlive the wait, and need not outlive it.
APPROVAL_WAIT_DAYS = 30
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


def artifact_name(job: dict, upload: dict) -> str:
    """An upload's artifact name, through the step output it may name: `${{ steps.ID.outputs.OUT
    }}` is what step ID's run writes as OUT=$VAR, VAR from its env."""
    name = str(upload["with"]["name"])
    output = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", name)
    if not output:
        return name
    [step] = [s for s in job["steps"] if s.get("id") == output.group(1)]
    [variable] = re.findall(rf'echo "{re.escape(output.group(2))}=\$(\w+)"', step["run"])
    return str(step["env"][variable])


def test_every_uploaded_artifact_survives_a_re_run():
    """Artifact names are unique in a run, not per attempt (upload-artifact v4+): a re-run's
    upload of a name an earlier attempt used fails (409 Conflict) unless it overwrites it. So
    each upload names its attempt, or overwrites where a later attempt's bytes may replace the
    earlier (the reproducible build's); the deploy's plan, which an approval names, never."""
    found = []
    for file, workflow in ALL.items():
        for job_name, job in workflow["jobs"].items():
            for upload in step_using(job, "actions/upload-artifact") if "steps" in job else []:
                name = artifact_name(job, upload)
                if "github.run_attempt" not in name and upload["with"].get("overwrite") is not True:
                    found.append(f"{file}:{job_name}: {name}")
    assert not found, f"a re-run's upload fails with 409: {found}"
    [junit] = step_using(CI["jobs"]["test"], "actions/upload-artifact")
    assert "github.run_attempt" in junit["with"]["name"]  # every attempt's results stay
    [build] = step_using(CI["jobs"]["build"], "actions/upload-artifact")
    assert build["with"]["name"] == "pigeon-${{ matrix.arch }}"  # the name deploys download
    assert build["with"]["overwrite"] is True
    plan = DEPLOY["jobs"]["plan"]
    [saved] = step_using(plan, "actions/upload-artifact")
    assert "${{ github.run_attempt }}" in artifact_name(plan, saved)
    assert saved["with"]["overwrite"] is False


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


def step_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if action in s.get("uses", "")]


def test_deploy_plans_then_applies_exactly_that_plan_behind_the_environment():
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]  # YAML 1.1 reads `on` as true
    assert {"workflow_call", "release", "workflow_dispatch", "pull_request"} <= set(on)
    plan, apply = DEPLOY["jobs"]["plan"], DEPLOY["jobs"]["apply"]
    # The plan job: no reviewers (they review its plan), the plan role and the state settings.
    assert plan["environment"] == "${{ format('{0}-plan', inputs.environment || 'prod') }}"
    assert apply["environment"] == "${{ inputs.environment || 'prod' }}"
    assert apply["needs"] == "plan"
    assert "(inputs.action || 'apply') == 'apply'" in apply["if"]
    # A run takes its environment's deploy turn when it will apply, by the apply job's own
    # condition: a preview (action plan) never takes it (test_workflow_runs.py).
    assert "(inputs.action || 'apply') == 'apply'" in DEPLOY["concurrency"]["group"]
    # One turn for the whole deploy (the workflow's group, or its caller's): none of their own,
    # which would let another deploy plan or apply between them (test_workflow_runs.py).
    assert "concurrency" not in plan
    assert "concurrency" not in apply
    for job in (plan, apply):
        assert job["permissions"]["id-token"] == "write"
        assert job["permissions"]["attestations"] == "read"
        assert not any("aws-access-key-id" in str(s.get("with", {})) for s in job["steps"])
    [plan_role] = step_using(plan, "configure-aws-credentials")
    assert plan_role["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    [apply_role] = step_using(apply, "configure-aws-credentials")
    assert apply_role["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert 'scripts/deploy.sh "$DEPLOY_ENVIRONMENT" plan "${allow[@]}"' in runs(plan)
    assert 'scripts/deploy.sh "$DEPLOY_ENVIRONMENT" apply-saved' in runs(apply)
    # The artifact of the architecture the environment's tfvars name, from the CI run on main.
    [artifact] = step_using(plan, "download-artifact")
    assert artifact["with"]["name"] == "pigeon-${{ steps.settings.outputs.architecture }}"
    assert artifact["with"]["run-id"] == "${{ steps.run.outputs.id }}"
    assert "scripts/ci_run_for_commit.sh" in runs(plan)
    # The saved plan goes from one job to the other as an artifact, hidden folder and all: one
    # per environment and run attempt, never overwritten, kept as long as an approval may wait.
    [upload] = step_using(plan, "upload-artifact")
    [step] = [s for s in plan["steps"] if s.get("id") == "plan"]
    assert step["env"]["PLAN_ARTIFACT"] == (
        "plan-${{ env.DEPLOY_ENVIRONMENT }}-${{ github.run_id }}-${{ github.run_attempt }}"
    )
    assert 'echo "plan-artifact=$PLAN_ARTIFACT" >> "$GITHUB_OUTPUT"' in step["run"]
    assert upload["with"]["name"] == "${{ steps.plan.outputs.plan-artifact }}"
    assert upload["with"]["path"] == "terraform/environments/.plan/${{ env.DEPLOY_ENVIRONMENT }}/"
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["overwrite"] is False
    assert upload["with"]["retention-days"] == APPROVAL_WAIT_DAYS
    assert plan["outputs"]["plan-artifact"] == "${{ steps.plan.outputs.plan-artifact }}"
    assert plan["outputs"]["plan-sha256"] == "${{ steps.plan.outputs.plan-sha256 }}"
    zip_download, plan_download = step_using(apply, "download-artifact")
    assert zip_download["with"]["run-id"] == "${{ needs.plan.outputs.artifact-run-id }}"
    assert zip_download["with"]["name"] == "pigeon-${{ needs.plan.outputs.architecture }}"
    # The very artifact the plan job made (a re-run of the apply alone keeps its outputs).
    assert plan_download["with"]["name"] == "${{ needs.plan.outputs.plan-artifact }}"
    assert "run-id" not in plan_download["with"]  # this run's plan, no other
    assert plan_download["with"]["path"].rstrip("/") == upload["with"]["path"].rstrip("/")
    # deploy.sh applies only the tfplan of the sha256 the plan job reported (and the summary).
    [applying] = [s for s in apply["steps"] if "apply-saved" in s.get("run", "")]
    assert applying["env"]["APPROVED_PLAN_SHA256"] == "${{ needs.plan.outputs.plan-sha256 }}"
    # prod's stage-applied check, in both jobs, asks about the run whose artifact this is.
    assert applying["env"]["ARTIFACT_RUN_ID"] == "${{ needs.plan.outputs.artifact-run-id }}"
    assert step["env"]["ARTIFACT_RUN_ID"] == "${{ steps.run.outputs.id }}"


def test_what_a_deploy_may_destroy_is_an_input_passed_to_deploy_sh():
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]
    for trigger in ("workflow_call", "workflow_dispatch"):
        assert on[trigger]["inputs"]["allow-destroy"]["default"] == ""
    plan = DEPLOY["jobs"]["plan"]
    assert plan["env"]["ALLOW_DESTROY"] == "${{ inputs.allow-destroy }}"
    assert 'allow+=(--allow-destroy "$address")' in runs(plan)


def test_pull_requests_get_a_plan_per_environment_with_the_deploys_settings():
    plan = DEPLOY["jobs"]["pull-request-plan"]
    assert plan["strategy"]["matrix"]["environment"] == ["stage", "prod"]
    # Its own environment, never the deploys' <env>-plan (test_deploy_environments.py).
    assert plan["environment"] == "${{ format('{0}-pr-plan', matrix.environment) }}"
    assert 'scripts/deploy.sh "$PLAN_ENVIRONMENT" plan --allow-unattested' in runs(plan)
    # Never applied, so no state lock (deploy.sh: -lock=false), and no turn to take with deploys
    # (a shared group would let a pull request cancel a deploy waiting its turn).
    assert plan["concurrency"]["group"].startswith("pull-request-plan-")
    assert plan["concurrency"]["cancel-in-progress"] is True


def test_no_setting_reaches_terraform_from_a_workflow():
    """One source per setting: <env>.tfvars. Only secrets come from GitHub (as the Datadog
    provider's own DD_* variables)."""
    for name, path in ((p.name, p) for p in WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert "TF_VAR_" not in text, name
        assert "-var=" not in text, name
        assert "-var-file" not in text, name


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
    for name in ("plan", "apply"):
        assert "--allow-unattested" not in runs(DEPLOY["jobs"][name])  # PR plans' own builds only
    assert "--allow-unattested" in runs(DEPLOY["jobs"]["pull-request-plan"])


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


def test_a_failed_attestation_says_what_a_private_repository_needs():
    steps = CI["jobs"]["build"]["steps"]
    [why] = [s for s in steps if s.get("name") == "Why the attestation failed"]
    assert why["if"] == (
        "failure() && (steps.provenance.outcome == 'failure' || steps.sbom.outcome == 'failure')"
    )
    ids = {s.get("id") for s in steps}
    assert {"provenance", "sbom"} <= ids
    assert "GitHub Enterprise Cloud" in why["env"]["WHY"]
    assert "docs/ci-cd.md#private-repositories" in why["env"]["WHY"]
    assert "## Private repositories" in (ROOT / "docs" / "ci-cd.md").read_text()


def test_a_lock_pull_request_github_may_not_open_says_which_setting_to_turn_on():
    steps = LOCK["jobs"]["lock"]["steps"]
    [why] = [s for s in steps if s.get("name") == "Why the pull request could not be opened"]
    assert why["if"] == "failure() && steps.pull-request.outcome == 'failure'"
    setting = "Allow GitHub Actions to create and approve pull requests"
    assert setting in " ".join(why["env"]["WHY"].split())
    assert setting in (ROOT / "docs" / "ci-cd.md").read_text()


# --- the hostile review of issue 20 ---------------------------------------------------------

SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))
GITHUB_FILES = re.compile(r"\$\{?GITHUB_(OUTPUT|ENV|STEP_SUMMARY|PATH)\b")
# `NAME=$(…)` as a whole simple command: bash -e stops on the substitution's failure.
BARE = re.compile(
    r"(?:^|;|&&|\|\||\bthen|\bdo|\belse)\s*[A-Za-z_]\w*=\$\((?:[^()]|\([^()]*\))*\)"
    r"\s*(?=$|;|&&|\|\||\bfi\b|#)"
)
MASKING = re.compile(r"\b(local|export|declare|readonly|typeset)\s+[A-Za-z_]\w*=\$\(")
PREFIX = re.compile(
    r"(?:^|[;&|]|\bthen|\bdo)\s*@?[A-Za-z_]\w*=\$\$?\((?:[^()]|\([^()]*\))*\)\s+[^;&|#\s]"
)


def swallowed(line: str, *, strict: bool) -> str | None:
    """Why a command substitution on this line hides a failure (None: it does not)."""
    if "$(" not in line:
        return None
    if GITHUB_FILES.search(line) and ">>" in line:
        return "a $(…) in what is written to a GITHUB_* file: its failure is lost"
    if MASKING.search(line):
        return "local/export NAME=$(…) returns the builtin's status, not the command's"
    if PREFIX.search(line):
        return "NAME=$(…) before a command: the command runs whatever the substitution did"
    if strict and BARE.sub("", line).count("$(") > 0:
        return "a $(…) inside a command's arguments: assign it first (NAME=$(…)), then use it"
    return None


def test_no_command_substitution_swallows_a_failure():
    """`echo "x=$(cmd)" >> $GITHUB_OUTPUT` writes `x=` and goes on when cmd fails."""
    assert swallowed('echo "x=$(cmd)" >> "$GITHUB_OUTPUT"', strict=False)
    assert swallowed('echo "id=${A:-$(cmd)}" >> $GITHUB_OUTPUT', strict=False)
    assert swallowed("export x=$(cmd)", strict=False)
    assert swallowed("POETRY=$$(scripts/bootstrap.sh) $(PY) scripts/build.py", strict=False)
    assert swallowed('tool "$(sed -n p f)" x', strict=True)
    assert not swallowed('x=$(scripts/deploy.sh "$ENV" setting region)', strict=True)
    assert not swallowed('if [ -z "$id" ]; then id=$(cmd "$SHA"); fi', strict=True)
    found = []
    for name, workflow in ALL.items():
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    why = swallowed(line, strict=True)
                    if why:
                        found.append(f"{name}:{job_name}: {line.strip()}: {why}")
    for path in [*SCRIPTS, ROOT / "Makefile"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            why = swallowed(line, strict=False)
            if why:
                found.append(f"{path.name}:{number}: {line.strip()}: {why}")
    assert not found, "\n".join(found)


def test_a_workflow_step_that_writes_outputs_stops_on_a_failure():
    for name, workflow in ALL.items():
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                run = step.get("run", "")
                if "$(" in run and "GITHUB_OUTPUT" in run:
                    assert run.lstrip().startswith("set -euo pipefail"), f"{name}:{job_name}"


def test_a_push_to_main_is_never_cancelled_a_pull_request_is():
    concurrency = CI["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    group = concurrency["group"]
    # A pull request's runs share its ref's group; any other run has a group of its own.
    assert "format('ci-pr-{0}', github.ref)" in group
    assert "format('ci-run-{0}', github.run_id)" in group
    assert group.index("github.event_name == 'pull_request'") < group.index("github.run_id")
    assert LOCK["concurrency"]["cancel-in-progress"] is False
    # A deploy, once it runs, is never cancelled: neither deploy.yml's run nor the job of ci.yml
    # that calls it (which runs it in deploy-stage, test_workflow_runs.py).
    assert DEPLOY["concurrency"]["cancel-in-progress"] is False
    assert CI["jobs"]["deploy-stage"]["concurrency"]["cancel-in-progress"] is False


def test_prod_promotion_names_the_job_that_applied_stage():
    from pigeon_tools.deploy.ci_run import STAGE_APPLY_JOB

    caller = [n for n, j in CI["jobs"].items() if j.get("uses", "").endswith("deploy.yml")]
    applying = [n for n, j in DEPLOY["jobs"].items() if "apply-saved" in runs(j)]
    assert caller == ["deploy-stage"]
    assert applying == ["apply"]
    assert "name" not in CI["jobs"]["deploy-stage"]
    assert "name" not in DEPLOY["jobs"]["apply"]
    assert f"{caller[0]} / {applying[0]}" == STAGE_APPLY_JOB
    assert "stage-applied" in [check.name for check in PREFLIGHTS]


def test_secrets_are_environment_secrets_of_the_job_that_uses_them_never_a_forks():
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]
    assert "secrets" not in (on["workflow_call"] or {})
    for name, workflow in ALL.items():
        events = workflow[True] if True in workflow else workflow["on"]
        assert "pull_request_target" not in events, name
        for job_name, job in workflow["jobs"].items():
            assert "secrets" not in job, f"{name}:{job_name} passes secrets on"
            if "secrets." in yaml.safe_dump(job.get("steps", [])):
                assert "environment" in job, f"{name}:{job_name} reads a repository secret"
    pull_request = DEPLOY["jobs"]["pull-request-plan"]
    assert (
        "github.event.pull_request.head.repo.full_name == github.repository" in (pull_request["if"])
    )
    assert "actions" not in pull_request["permissions"]
    assert "attestations" not in pull_request["permissions"]


def test_a_pre_release_or_a_tag_of_another_name_deploys_nothing():
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]
    assert on["release"] == {"types": ["published"]}
    assert "push" not in on  # a tag push alone deploys nothing
    condition = " ".join(DEPLOY["jobs"]["plan"]["if"].split())
    assert "!github.event.release.prerelease" in condition
    assert "!github.event.release.draft" in condition
    assert "startsWith(github.event.release.tag_name, 'v')" in condition
    assert DEPLOY["jobs"]["apply"]["needs"] == "plan"
    assert "release" in [check.name for check in PREFLIGHTS]
    ci_on = CI[True] if True in CI else CI["on"]
    assert ci_on["push"] == {"branches": ["main"]}  # no tags


def test_the_docs_say_a_pre_release_made_a_full_release_later_deploys_nothing():
    """That edit fires `released`, not `published`; listening to both would deploy a full
    release twice (publishing one fires both). So no run at all: the docs say what to do."""
    on = DEPLOY[True] if True in DEPLOY else DEPLOY["on"]
    assert "released" not in on["release"]["types"]
    ci_cd = " ".join((ROOT / "docs" / "ci-cd.md").read_text().split())
    promote = ci_cd[ci_cd.index("## Promote to prod") :]
    promote = promote[: promote.index(" ## ")]
    deploy_md = (ROOT / "docs" / "deploy.md").read_text()
    [release_row] = [line for line in deploy_md.splitlines() if line.startswith("| `release` |")]
    for text in (promote, release_row):
        assert "a pre-release made a full release later deploys nothing" in text.lower()
        assert "`released`, not `published`" in text
        assert "`environment: prod`, `action: apply`" in text
