"""The hostile review of issue 20, deploy.sh's side: prod only after stage applied the same
commit, a release deploys only as documented, the summary never loses a destroy, each
environment its own state, the apply only of the approved plan."""

from __future__ import annotations

import json

import pytest

from pigeon_tools.deploy import saved, summary
from pigeon_tools.deploy.checks import check_release, check_saved_plan, check_stage_applied
from pigeon_tools.deploy.ci_run import STAGE_APPLY_JOB, rerun_stage
from pigeon_tools.deploy.context import Context, Options
from pigeon_tools.deploy.plan import Plan
from pigeon_tools.deploy.refusals import CheckFailed
from pigeon_tools.deploy.settings import SettingsError
from pigeon_tools.deploy.terraform import Backend, backend, is_state_of, plan_file
from support.deploy_world import ci_jobs, ci_run_record, install_stand_in, system_without

COMMIT = "c" * 40


def context(tmp_path, env="prod", action="plan", **environ):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return Context(
        options=Options(env=env, action=action),
        checkout=tmp_path,
        root=root,
        dist=tmp_path / "dist",
        environ={"GITHUB_SHA": COMMIT, **environ},
    )


def refused(check, ctx):
    try:
        return [r.what for r in check(ctx)]
    except CheckFailed as failed:
        return [failed.refusal.what]


# --- 1. prod needs stage's successful apply of the same commit -------------------------------


@pytest.fixture
def github(tmp_path, monkeypatch):
    """The stand-in gh on PATH, with the runs the test writes."""
    install_stand_in(tmp_path / "bin", "gh")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{system_without(tmp_path / 'sys', 'gh')}")
    monkeypatch.setenv("FAKE_GH_DIR", str(tmp_path))
    monkeypatch.setenv("GH_TOKEN", "stand-in")

    def runs(*records):
        (tmp_path / "runs.json").write_text(json.dumps(list(records)))

    return runs


def stage_job(conclusion="success"):
    """A ci run's jobs, its gate jobs passed, deploy-stage's apply ended so."""
    return ci_jobs({STAGE_APPLY_JOB: conclusion})


def test_prod_deploys_a_commit_only_after_stage_applied_it(tmp_path, github):
    ctx = context(tmp_path, ARTIFACT_RUN_ID="7")
    github(ci_run_record(7, COMMIT, "2026-01-01T10:00:00Z", jobs=stage_job()))
    assert refused(check_stage_applied, ctx) == []

    github(ci_run_record(7, COMMIT, "2026-01-01T10:00:00Z", jobs=stage_job("failure")))
    assert refused(check_stage_applied, ctx) == [
        "stage's apply in ci run 7 did not succeed (failure)"
    ]
    # What to do: re-run the whole run, so its plan plans again (ci_run.rerun_stage).
    [refusal] = check_stage_applied(ctx)
    assert rerun_stage("7") in refusal.fix
    assert "(gh run rerun 7;" in refusal.fix
    # The stage apply was skipped or never ran (a plan-only call, a cancelled run).
    github(ci_run_record(7, COMMIT, "2026-01-01T10:00:00Z", jobs=[]))
    assert "stage never applied" in refused(check_stage_applied, ctx)[0]
    # A run given by hand that applied another commit to stage is no evidence for this one.
    github(ci_run_record(7, "d" * 40, "2026-01-01T10:00:00Z", jobs=stage_job()))
    assert f"not of a push to main at {COMMIT}" in refused(check_stage_applied, ctx)[0]
    # A pull request's run applied nothing.
    github(ci_run_record(7, COMMIT, "2026-01-01T10:00:00Z", event="pull_request", jobs=[]))
    assert "not of a push to main" in refused(check_stage_applied, ctx)[0]
    # No run id: the ci run of this commit on main, found as ci_run_for_commit.sh finds it.
    github(ci_run_record(8, COMMIT, "2026-01-01T10:00:00Z", jobs=stage_job()))
    assert refused(check_stage_applied, context(tmp_path)) == []
    # Found by its gate jobs whatever deploy-stage did, and still refused: stage never applied.
    github(ci_run_record(8, COMMIT, "2026-01-01T10:00:00Z", jobs=ci_jobs(stage="failure")))
    assert refused(check_stage_applied, context(tmp_path)) == [
        "stage's apply in ci run 8 did not succeed (skipped)"
    ]
    github()
    assert "no completed ci run" in refused(check_stage_applied, context(tmp_path))[0]
    # Stage itself, and the plans of pull requests, need no such run.
    assert refused(check_stage_applied, context(tmp_path, env="stage")) == []


# --- 10. a release deploys prod only when it is a full release of a tag v* -------------------


def release_context(tmp_path, env="prod", **release):
    event = tmp_path / "event.json"
    full = {"tag_name": "v1.2.0", "prerelease": False, "draft": False, **release}
    event.write_text(json.dumps({"action": "published", "release": full}))
    return context(
        tmp_path,
        env=env,
        GITHUB_EVENT_NAME="release",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_REF=f"refs/tags/{full['tag_name']}",
    )


def test_a_pre_release_a_draft_or_another_tag_deploys_nothing(tmp_path):
    assert refused(check_release, release_context(tmp_path)) == []
    assert refused(check_release, release_context(tmp_path, prerelease=True)) == [
        "v1.2.0 is a pre-release: pre-releases deploy nothing"
    ]
    assert "v1.2.0 is a draft release" in refused(
        check_release, release_context(tmp_path, draft=True)
    )
    assert "tag 'nightly' is not a release tag (v*)" in refused(
        check_release, release_context(tmp_path, tag_name="nightly")
    )
    assert "a release deploys prod only, not stage" in refused(
        check_release, release_context(tmp_path, env="stage")
    )
    assert refused(check_release, context(tmp_path, GITHUB_EVENT_NAME="workflow_dispatch")) == []


# --- 5. the summary keeps every destroy within GitHub's 1 MiB ---------------------------------


def test_a_huge_plan_keeps_every_destroy_and_replace_and_says_what_was_cut(tmp_path):
    blocks = []
    for i in range(4000):
        blocks += [f"  # aws_x.keep[{i}] will be updated in-place", f"  ~ resource {i} {{"]
        blocks += [f'      ~ tags = {{ "n" = "{"é" * 40}{i}" }}'] * 5
        blocks += ["    }"]
        if i % 500 == 7:
            blocks += [
                f"  # aws_sqs_queue.q[{i}] will be destroyed",
                "  # (because aws_sqs_queue.q is not in configuration)",
                f'  - resource "aws_sqs_queue" "q{i}" {{',
                "    }",
                f"  # aws_lambda_function.f[{i}] must be replaced",
                f'-/+ resource "aws_lambda_function" "f{i}" {{',
                "    }",
            ]
    blocks.append("Plan: 8 to add, 4000 to change, 16 to destroy.")
    text = "\n".join(blocks) + "\n"
    assert summary.size(text) > 2 * summary.STEP_SUMMARY_LIMIT
    out = tmp_path / "summary.md"
    out.write_text("x" * 100_000)  # what the step wrote before
    plan = Plan({"resource_changes": []})
    summary.write({"GITHUB_STEP_SUMMARY": str(out)}, "deploy prod plan", [], (), text, plan)
    written = out.read_text()
    assert len(written.encode()) <= summary.STEP_SUMMARY_LIMIT
    for line in text.splitlines():
        if "destroyed" in line or "replaced" in line or line.startswith(("-/+", "Plan:")):
            assert line in written, line
    assert "lines cut.** Every destroy and replace line is kept" in written
    assert "lines cut) …" in written
    # A plan that fits is shown whole, with nothing said about cutting.
    small = tmp_path / "small.md"
    summary.write({"GITHUB_STEP_SUMMARY": str(small)}, "t", [], (), "Plan: 1 to add.\n", plan)
    assert "cut" not in small.read_text()


def test_the_summary_lists_every_destroy_and_replace_from_the_plan(tmp_path):
    plan = Plan(
        {
            "resource_changes": [
                {"address": "a.q", "type": "aws_sqs_queue", "change": {"actions": ["delete"]}},
                {"address": "a.f", "type": "t", "change": {"actions": ["delete", "create"]}},
                {"address": "a.u", "type": "t", "change": {"actions": ["update"]}},
            ]
        }
    )
    out = tmp_path / "summary.md"
    summary.write({"GITHUB_STEP_SUMMARY": str(out)}, "t", [], (), "", plan)
    written = out.read_text()
    assert "**Destroyed or replaced: 2**" in written
    assert "- destroyed: `a.q`" in written
    assert "- replaced: `a.f`" in written
    assert "a.u" not in written


# --- 8. stage and prod never share a state ----------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "pigeon", "team/pigeon"])
@pytest.mark.parametrize("with_file", [False, True])
def test_each_environment_has_its_own_state_key(tmp_path, prefix, with_file):
    root = tmp_path / "root"
    root.mkdir()
    if with_file:
        (root / "backend.hcl").write_text('bucket = "b"\nregion = "us-west-2"\n')
    environ = {"TF_STATE_BUCKET": "b", "TF_STATE_REGION": "r", "TF_STATE_KEY_PREFIX": prefix}
    stage, prod = (backend(root, env, environ) for env in ("stage", "prod"))
    keys = [[a for a in state.args if "key=" in a] for state in (stage, prod)]
    assert keys[0] != keys[1]
    assert len(keys[0]) == len(keys[1]) == 1
    assert is_state_of(stage, "stage")
    assert is_state_of(prod, "prod")
    assert not is_state_of(stage, "prod")
    assert not is_state_of(prod, "stage")


def test_nothing_else_may_say_where_the_state_lives(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    environ = {"TF_STATE_BUCKET": "b", "TF_STATE_REGION": "r"}
    for line in ('key = "shared.tfstate"', 'workspace_key_prefix = "x"'):
        (root / "backend.hcl").write_text(f'bucket = "b"\n{line}\n')
        with pytest.raises(SettingsError, match="gives each environment its own state key"):
            backend(root, "stage", environ)
    (root / "backend.hcl").unlink()
    with pytest.raises(SettingsError, match="TF_WORKSPACE is set"):
        backend(root, "stage", {**environ, "TF_WORKSPACE": "prod"})
    for prefix in ("../prod", "a//b", "x/prod.tfstate#"):
        with pytest.raises(SettingsError, match="TF_STATE_KEY_PREFIX"):
            backend(root, "stage", {**environ, "TF_STATE_KEY_PREFIX": prefix})
    assert not is_state_of(Backend(("-backend-config=backend.hcl",)), "stage")


# --- 3. the apply applies only the approved plan, of this environment's state -----------------


def saved_plan(ctx, *, backend_args=("-backend-config=key=pigeon/prod.tfstate",)):
    folder = saved.folder(ctx.root, ctx.env)
    folder.mkdir(parents=True)
    tfplan = ctx.root / plan_file(ctx.env)
    tfplan.write_text("the plan")
    saved.write(
        ctx.root,
        saved.Metadata(
            format=saved.FORMAT,
            environment=ctx.env,
            commit=COMMIT,
            zip_sha256="z",
            attested=True,
            traffic_enabled=False,
            allow_destroy=(),
            backend=tuple(backend_args),
            plan_sha256=saved.file_sha256(tfplan),
            ci_run_id="7",
        ),
    )
    return saved.file_sha256(tfplan)


def test_the_apply_refuses_a_plan_other_than_the_approved_one(tmp_path):
    ctx = context(tmp_path, action="apply-saved", GITHUB_ACTIONS="true")
    sha = saved_plan(ctx)
    assert refused(check_saved_plan, ctx) == [
        "APPROVED_PLAN_SHA256 is not set: which plan was approved is unknown"
    ]
    ctx.environ = {**ctx.environ, "APPROVED_PLAN_SHA256": sha}
    assert refused(check_saved_plan, ctx) == []
    ctx.environ = {**ctx.environ, "APPROVED_PLAN_SHA256": "0" * 64}
    assert refused(check_saved_plan, ctx) == [
        f"tfplan has sha256 {sha}, the approved plan {'0' * 64}"
    ]


def test_the_apply_refuses_a_plan_of_another_environments_state(tmp_path):
    ctx = context(tmp_path, action="apply-saved")
    saved_plan(ctx, backend_args=("-backend-config=key=pigeon/stage.tfstate",))
    assert refused(check_saved_plan, ctx) == [
        "the plan's state is not prod's: -backend-config=key=pigeon/stage.tfstate"
    ]
