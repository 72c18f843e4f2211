"""Every check of a deploy, declared once, in the order they run.

PREFLIGHTS run before anything is planned: all of them, even after one refused (a check that
needs an earlier one's result says it was not checked). PLAN_CHECKS read the plan (`terraform
show -json`, by resource type) before anything is applied. Each returns refusals."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from pigeon_tools.build.package import base64_sha256
from pigeon_tools.deploy import artifact, aws, ci_run, notifications, saved
from pigeon_tools.deploy.context import Context
from pigeon_tools.deploy.refusals import Check, CheckFailed, Refusal
from pigeon_tools.deploy.settings import (
    ARTIFACT_DIR,
    DEPLOY_VARIABLES,
    TRAFFIC_ENABLED,
    SettingsError,
    artifact_dir,
    load_settings,
    second_sources,
)
from pigeon_tools.deploy.terraform import Backend, backend, init_args, is_state_of

LOCK_FILE = ".terraform.lock.hcl"
# The tfplan sha256 the reviewers approved (the plan job's output; deploy.yml's apply job).
APPROVED_PLAN_SHA256 = "APPROVED_PLAN_SHA256"
# What holds messages or crash ids: a delete or a replace loses it (CONTRACTS.md, item 5), and
# the function, whose asynchronous event queue (events S3 sent, not yet run) goes with it.
DATA_HOLDING = (
    "aws_sqs_queue",
    "aws_cloudwatch_log_group",
    "aws_secretsmanager_secret",
    "aws_kms_key",
    "aws_lambda_function",
)
ALLOW_HOW = (
    "--allow-destroy ADDRESS (repeatable; in GitHub Actions: the deploy workflow's "
    "allow-destroy input)"
)


def note(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr)


def tfvars_name(ctx: Context) -> str:
    return f"terraform/environments/{ctx.env}.tfvars"


# --- before the plan -------------------------------------------------------------------------


def check_settings(ctx: Context) -> list[Refusal]:
    try:
        settings = load_settings(ctx.root, ctx.env)
    except SettingsError as error:
        raise CheckFailed(Refusal("settings", str(error), "deploy stage or prod")) from error
    ctx.facts.settings = settings
    refusals = []
    for name in ("account_id", "bucket_name", "region"):
        try:
            getattr(settings, name)
        except SettingsError as error:
            refusals.append(
                Refusal("settings", str(error), f"set it in {tfvars_name(ctx)} and commit it")
            )
    refusals += [
        Refusal(
            "settings",
            f"the root does not declare variable {name!r}, which deploy.sh sets",
            "the root and deploy.sh disagree: update the checkout (CONTRACTS: C <-> T)",
        )
        for name in DEPLOY_VARIABLES
        if name not in settings.declared
    ]
    return refusals


def check_one_source(ctx: Context) -> list[Refusal]:
    return [
        Refusal("one-source", problem, f"every setting of {ctx.env} lives in {tfvars_name(ctx)}")
        for problem in second_sources(ctx.root, ctx.env, ctx.environ)
    ]


def check_saved_plan(ctx: Context) -> list[Refusal]:
    """apply-saved: the plan folder CI's plan job made, for this checkout and this zip."""
    if ctx.options.action != "apply-saved":
        return []
    fix = "apply only the plan of this run's plan job (download its plan artifact to "
    fix += f"terraform/environments/.plan/{ctx.env}/); or plan again"
    try:
        meta = saved.read(ctx.root, ctx.env)
    except (OSError, ValueError, TypeError) as error:
        raise CheckFailed(Refusal("saved-plan", f"no saved plan to apply: {error}", fix)) from error
    ctx.facts.saved = meta
    refusals = []
    plan_path = saved.folder(ctx.root, ctx.env) / "tfplan"
    if meta.environment != ctx.env:
        refusals.append(Refusal("saved-plan", f"the saved plan is for {meta.environment}", fix))
    if not plan_path.is_file() or saved.file_sha256(plan_path) != meta.plan_sha256:
        refusals.append(Refusal("saved-plan", "tfplan is not the plan the metadata describes", fix))
    if not meta.attested:
        refusals.append(
            Refusal("saved-plan", "the plan is of an unattested zip: it is never applied", fix)
        )
    approved = ctx.environ.get(APPROVED_PLAN_SHA256, "")
    if approved and plan_path.is_file() and saved.file_sha256(plan_path) != approved:
        refusals.append(
            Refusal(
                "saved-plan",
                f"tfplan has sha256 {saved.file_sha256(plan_path)}, the approved plan {approved}",
                "apply only the plan the reviewers approved: the plan job's plan-artifact of this "
                "run attempt (re-run the whole workflow to plan again)",
            )
        )
    elif not approved and ctx.environ.get("GITHUB_ACTIONS") == "true":
        refusals.append(
            Refusal(
                "saved-plan",
                f"{APPROVED_PLAN_SHA256} is not set: which plan was approved is unknown",
                "the apply job passes the plan job's plan-sha256 output (deploy.yml)",
            )
        )
    if not is_state_of(Backend(meta.backend), ctx.env):
        refusals.append(
            Refusal(
                "saved-plan",
                f"the plan's state is not {ctx.env}'s: {' '.join(meta.backend) or 'none'}",
                fix,
            )
        )
    commit = ctx.commit()
    if commit != meta.commit:
        refusals.append(
            Refusal(
                "saved-plan", f"the plan was made at commit {meta.commit}, this is {commit}", fix
            )
        )
    zip_path = ctx.dist / artifact.ZIP
    if zip_path.is_file():
        actual = base64_sha256(zip_path)
        if actual != meta.zip_sha256:
            refusals.append(
                Refusal(
                    "saved-plan",
                    f"the plan was made with zip {meta.zip_sha256}, this one is {actual}",
                    "download the CI run's artifact the plan names (its ci_run_id)",
                )
            )
    return refusals


def check_release(ctx: Context) -> list[Refusal]:
    """A GitHub release deploys prod only when it is a published, full release of a tag v*."""
    if ctx.environ.get("GITHUB_EVENT_NAME") != "release":
        return []
    try:
        event = json.loads(Path(ctx.environ.get("GITHUB_EVENT_PATH", "")).read_text())
        release = event["release"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckFailed(
            Refusal("release", f"cannot read the release event ({error})", "run it again")
        ) from error
    tag = str(release.get("tag_name") or "")
    problems = []
    if ctx.env != "prod":
        problems.append(f"a release deploys prod only, not {ctx.env}")
    if release.get("prerelease"):
        problems.append(f"{tag} is a pre-release: pre-releases deploy nothing")
    if release.get("draft"):
        problems.append(f"{tag} is a draft release")
    if not artifact.allowed("prod", f"refs/tags/{tag}"):
        problems.append(f"tag {tag!r} is not a release tag (v*)")
    ref = ctx.environ.get("GITHUB_REF", "")
    if ref and ref != f"refs/tags/{tag}":
        problems.append(f"the run's ref {ref} is not the release's tag refs/tags/{tag}")
    fix = "publish a full release (not a pre-release) of a tag v*, or run deploy by hand"
    return [Refusal("release", problem, fix) for problem in problems]


def check_stage_applied(ctx: Context) -> list[Refusal]:
    """prod: the ci run of this commit on main applied it to stage (its deploy-stage / apply job
    succeeded), the run whose artifact this is."""
    if ctx.env != "prod" or ctx.options.allow_unattested:
        return []
    commit = ctx.commit()
    fix = (
        "promote only a commit stage runs: wait for (or re-run) the deploy-stage job of its ci "
        "run on main, then deploy prod from that run (docs/ci-cd.md, Promote to prod)"
    )
    if not commit:
        raise CheckFailed(Refusal("stage-applied", "cannot tell this checkout's commit", fix))
    repo = repository(ctx)
    try:
        run_id = ctx.environ.get("ARTIFACT_RUN_ID") or ci_run.ci_run(commit, repo)
        run = ci_run.view(run_id, repo)
    except (ci_run.NoRun, ValueError, OSError) as error:
        raise CheckFailed(Refusal("stage-applied", str(error), fix)) from error
    why = ci_run.stage_not_applied(run, commit)
    if why is not None:
        again = f"promote only a commit stage runs: {ci_run.rerun_stage(run_id)}"
        return [Refusal("stage-applied", why, f"{again}; then deploy prod from that run")]
    note(f"stage-applied: ci run {run_id} applied {commit[:12]} to stage")
    return []


def check_state_backend(ctx: Context) -> list[Refusal]:
    if ctx.facts.saved is not None:
        ctx.facts.backend = Backend(ctx.facts.saved.backend)
        return []
    try:
        ctx.facts.backend = backend(ctx.root, ctx.env, ctx.environ)
    except SettingsError as error:
        raise CheckFailed(
            Refusal("state-backend", str(error), "docs/deploy.md, First deploy")
        ) from error
    return []


def check_lock_file(ctx: Context) -> list[Refusal]:
    if (ctx.root / LOCK_FILE).is_file():
        return []
    return [
        Refusal(
            "lock-file",
            f"terraform/environments/{LOCK_FILE} is not committed",
            "make it where the Terraform registry is reachable: run the terraform-lock workflow "
            "(Actions → terraform-lock → Run workflow) and merge its pull request, or run "
            "scripts/terraform_lock.sh and commit the files",
        )
    ]


def repository(ctx: Context) -> str | None:
    return ctx.environ.get("PIGEONTOOLS_REPOSITORY") or ctx.environ.get("GITHUB_REPOSITORY")


def check_provenance(ctx: Context) -> list[Refusal]:
    options = ctx.options
    if options.allow_unattested:
        if options.applies:
            raise CheckFailed(
                Refusal(
                    "provenance",
                    "--allow-unattested is for plans only: an unattested zip is never applied",
                    "apply an artifact CI built and attested (docs/deploy.md, First deploy)",
                )
            )
        note(
            f"PLAN ONLY: {ctx.dist / artifact.ZIP} is not checked for an attestation (built "
            "here); this plan can never be applied, and takes no state lock"
        )
        return []
    repo = repository(ctx)
    if not repo:
        raise CheckFailed(
            Refusal(
                "provenance",
                "PIGEONTOOLS_REPOSITORY is not set",
                "export PIGEONTOOLS_REPOSITORY=OWNER/NAME, the GitHub repository whose CI built "
                "the zip (GitHub Actions sets GITHUB_REPOSITORY)",
            )
        )
    ctx.facts.repository = repo
    if shutil.which("gh") is None:
        raise CheckFailed(
            Refusal(
                "provenance",
                "gh (the GitHub CLI) is not installed, so the zip's attestation cannot be checked",
                "install it: https://cli.github.com (GitHub's runners have it)",
            )
        )
    source_ref = options.source_ref
    if source_ref and not artifact.allowed(ctx.env, source_ref):
        raise CheckFailed(
            Refusal(
                "provenance",
                f"--source-ref {source_ref} is not deployed to {ctx.env}",
                f"{ctx.env} runs builds of {' or '.join(artifact.ALLOWED_REFS[ctx.env])} only",
            )
        )
    refs = artifact.refs_to_try(ctx.env, ctx.environ, source_ref)
    refusals = artifact.provenance(ctx.dist, repo, refs, ctx.env)
    if not refusals:
        note(
            f"provenance: pigeon.zip and its SBOM were built and attested by {repo}'s ci.yml "
            f"({' or '.join(refs)})"
        )
    return refusals


def check_sha256(ctx: Context) -> list[Refusal]:
    refusals = artifact.sha256(ctx.dist)
    if not refusals:
        ctx.facts.zip_sha256 = base64_sha256(ctx.dist / artifact.ZIP)
        note(f"sha256: pigeon.zip is the zip that was built ({ctx.facts.zip_sha256})")
    return refusals


def check_build(ctx: Context) -> list[Refusal]:
    if not (ctx.dist / artifact.ZIP).is_file():
        return []  # sha256 says so
    return artifact.build_checks(ctx.dist, ctx.settings.architecture)


def check_commit(ctx: Context) -> list[Refusal]:
    built = artifact.built_from(ctx.dist)
    here = ctx.facts.checkout_commit = ctx.commit()
    if built is None:
        return [
            Refusal(
                "commit",
                f"{ctx.dist / artifact.VERSION} names no commit",
                "download the whole artifact",
            )
        ]
    if here is None:
        return [
            Refusal(
                "commit",
                f"cannot tell this checkout's commit ({ctx.checkout} is not a git checkout)",
                "deploy from a git clone",
            )
        ]
    if built != here:
        return [
            Refusal(
                "commit",
                f"the zip was built from commit {built}, this checkout is {here}",
                "what is deployed together was tested together: `git checkout "
                f"{built}`, or download the artifact of {here[:12]}'s CI run",
            )
        ]
    return []


def check_init(ctx: Context) -> list[Refusal]:
    state = ctx.facts.backend
    assert state is not None
    note(f"terraform init: state {state.describe()}")
    done = ctx.terraform().capture(init_args(state))
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        return [Refusal("terraform-init", "terraform init failed", tail)]
    return []


def check_account(ctx: Context) -> list[Refusal]:
    settings = ctx.settings
    try:
        account = aws.caller_account(settings.region)
    except aws.ReadFailed as failed:
        raise CheckFailed(
            Refusal(
                "aws-account",
                f"cannot tell which AWS account these credentials are for ({failed})",
                f"sign in to {ctx.env}'s account {settings.account_id} (in GitHub Actions: the "
                f"role of the {ctx.env}-plan or {ctx.env} environment)",
            )
        ) from failed
    ctx.facts.account = account
    if account != settings.account_id:
        return [
            Refusal(
                "aws-account",
                f"these credentials are for account {account}, {tfvars_name(ctx)} says "
                f"{settings.account_id}",
                f"use {ctx.env}'s credentials (or fix account_id in {tfvars_name(ctx)})",
            )
        ]
    return []


def check_traffic_gate(ctx: Context) -> list[Refusal]:
    """traffic_enabled: true only when the broker secret has a current value."""
    done = ctx.terraform().capture(["output", "-json"])
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise CheckFailed(
            Refusal("traffic-gate", "cannot read the state's outputs (terraform output)", tail)
        )
    try:
        outputs: dict[str, Any] = json.loads(done.stdout or "{}")
    except ValueError as error:
        raise CheckFailed(
            Refusal(
                "traffic-gate", f"terraform output -json is not JSON: {error}", done.stdout[:200]
            )
        ) from error
    arn = (outputs.get("secret_arn") or {}).get("value")
    facts = ctx.facts
    if not arn:
        facts.traffic_enabled, facts.traffic_reason = False, "first deploy: no broker secret yet"
    else:
        facts.secret_arn = arn
        try:
            state = aws.secret_state(arn)
        except aws.ReadFailed as failed:
            how = (
                "grant it secretsmanager:DescribeSecret on " + arn if failed.denied else str(failed)
            )
            raise CheckFailed(
                Refusal(
                    "traffic-gate",
                    f"cannot tell whether the broker secret has a value ({failed.code})",
                    f"the deploy's role must be able to describe the secret: {how}",
                )
            ) from failed
        if state.current and not state.deleted:
            facts.traffic_enabled, facts.traffic_reason = True, "the broker secret has a value"
        elif state.deleted:
            facts.traffic_enabled = False
            facts.traffic_reason = "the broker secret is scheduled for deletion"
        elif not state.exists:
            facts.traffic_enabled = False
            facts.traffic_reason = "the broker secret in the state does not exist any more"
        else:
            facts.traffic_enabled = False
            facts.traffic_reason = (
                "the broker secret has no value yet: set it (docs/deploy.md, First deploy), "
                "then deploy again"
            )
    decided = str(facts.traffic_enabled).lower()
    note(f"traffic gate: {TRAFFIC_ENABLED}={decided} ({facts.traffic_reason})")
    return []


def check_read_bucket(ctx: Context) -> list[Refusal]:
    settings = ctx.settings
    bucket = settings.bucket_name
    try:
        ctx.facts.notification = aws.bucket_notification(
            bucket, settings.account_id, settings.region
        )
    except aws.ReadFailed as failed:
        if failed.code == "NoSuchBucket":
            fix = f"bucket_name in {tfvars_name(ctx)} must be {ctx.env}'s existing crash bucket"
        elif failed.denied:
            fix = f"grant s3:GetBucketNotification on arn:aws:s3:::{bucket} (an AccessDenied "
            fix += (
                f"is also what S3 answers when the bucket is not in account {settings.account_id})"
            )
        else:
            fix = "try again; deploy.sh does not change a bucket it cannot read"
        raise CheckFailed(
            Refusal(
                "read-bucket-notification",
                f"cannot read the notification configuration of {bucket} ({failed.code})",
                fix,
            )
        ) from failed
    return []


def check_bucket_region(ctx: Context) -> list[Refusal]:
    """S3 sends a bucket's notifications only to a function or queue of the bucket's region:
    the apply would fail on the notification ("The destination ... is not in the same region"),
    after the function and the queues were made. So the region is read before the plan."""
    settings = ctx.settings
    bucket = settings.bucket_name
    try:
        found = aws.bucket_region(bucket, settings.account_id, settings.region)
    except aws.ReadFailed as failed:
        fix = (
            f"grant s3:GetBucketLocation on arn:aws:s3:::{bucket}"
            if failed.denied
            else ("try again")
        )
        raise CheckFailed(
            Refusal("bucket-region", f"cannot read the region of {bucket} ({failed.code})", fix)
        ) from failed
    if found == settings.region:
        return []
    return [
        Refusal(
            "bucket-region",
            f"the bucket {bucket} is in {found}, and region in {tfvars_name(ctx)} is "
            f"{settings.region}: S3 notifies only a function or queue of the bucket's own "
            "region, so the apply would fail on the bucket notification",
            f'set region = "{found}" in {tfvars_name(ctx)} (the function goes where the bucket is)',
        )
    ]


def check_read_concurrency(ctx: Context) -> list[Refusal]:
    try:
        ctx.facts.account_settings = aws.account_settings(ctx.settings.region)
    except aws.ReadFailed as failed:
        fix = "grant lambda:GetAccountSettings" if failed.denied else "try again"
        raise CheckFailed(
            Refusal(
                "read-account-concurrency",
                f"cannot read the account's Lambda concurrency ({failed.code})",
                fix,
            )
        ) from failed
    return []


PREFLIGHTS: tuple[Check[Context], ...] = (
    Check(
        "settings", "<env>.tfvars exists and sets account_id, bucket_name, region", check_settings
    ),
    Check(
        "one-source",
        "no TF_VAR_*, TF_CLI_ARGS*, terraform.tfvars, *.auto.tfvars or *.local.tfvars; no "
        f"{TRAFFIC_ENABLED} or {ARTIFACT_DIR} in <env>.tfvars",
        check_one_source,
    ),
    Check(
        "release",
        "on a GitHub release: prod only, a published full release (no pre-release, no draft) "
        "of a tag v*",
        check_release,
    ),
    Check(
        "stage-applied",
        "prod: the ci run of this commit on main applied it to stage (deploy-stage / apply "
        "succeeded)",
        check_stage_applied,
    ),
    Check(
        "saved-plan",
        "apply-saved: the plan folder's metadata names this commit, this zip, an attested "
        "build, this environment's state, and its tfplan, whose sha256 is the approved plan's "
        f"({APPROVED_PLAN_SHA256}; required in GitHub Actions)",
        check_saved_plan,
    ),
    Check(
        "state-backend", "backend.hcl, or TF_STATE_BUCKET and TF_STATE_REGION", check_state_backend
    ),
    Check("lock-file", "terraform/environments/.terraform.lock.hcl is committed", check_lock_file),
    Check(
        "provenance",
        "gh attestation verify: pigeon.zip and pigeon.cdx.json attested by the repository's "
        "ci.yml on GitHub's runners, from refs/heads/main (prod: or a release tag v*)",
        check_provenance,
    ),
    Check("sha256", "pigeon.zip matches pigeon.zip.sha256", check_sha256),
    Check(
        "build-checks",
        "build.py --verify-only for the function's architecture",
        check_build,
        needs=("settings",),
    ),
    Check("commit", "the zip was built from this checkout's commit", check_commit),
    Check(
        "terraform-init",
        "terraform init with the committed lock file read-only",
        check_init,
        needs=("state-backend", "lock-file", "saved-plan"),
    ),
    Check(
        "aws-account",
        "the credentials are for <env>.tfvars' account_id (sts:GetCallerIdentity)",
        check_account,
        needs=("settings",),
    ),
    Check(
        "traffic-gate",
        "traffic_enabled from the broker secret: true only when it has a version staged "
        "AWSCURRENT (DescribeSecret); refuses when it cannot tell",
        check_traffic_gate,
        needs=("terraform-init", "aws-account"),
    ),
    Check(
        "read-bucket-notification",
        "the bucket's notification configuration as S3 has it (GetBucketNotificationConfiguration)",
        check_read_bucket,
        needs=("aws-account",),
    ),
    Check(
        "bucket-region",
        "the bucket is in <env>.tfvars' region: S3 notifies only its own region "
        "(GetBucketLocation)",
        check_bucket_region,
        needs=("read-bucket-notification",),
    ),
    Check(
        "read-account-concurrency",
        "the account's Lambda concurrency (GetAccountSettings)",
        check_read_concurrency,
        needs=("aws-account",),
    ),
)


# --- after the plan, before the apply --------------------------------------------------------


def check_plan_inputs(ctx: Context) -> list[Refusal]:
    settings = ctx.settings
    expected: dict[str, Any] = {
        "env": ctx.env,
        TRAFFIC_ENABLED: ctx.facts.traffic_enabled,
        ARTIFACT_DIR: artifact_dir(ctx.env),
        "account_id": settings.account_id,
        "bucket_name": settings.bucket_name,
        "region": settings.region,
    }
    used = ctx.plan.variables()
    return [
        Refusal(
            "plan-inputs",
            f"the plan used {name} = {json.dumps(used.get(name))}, the checks used "
            f"{json.dumps(value)}",
            "plan again (a saved plan is applied only with the decisions it was made with)",
        )
        for name, value in expected.items()
        if used.get(name) != value and str(used.get(name)) != str(value)
    ]


def describe_loss(ctx: Context, change: Any) -> str:
    before: dict[str, Any] = dict(change.before or {})
    name = before.get("name") or before.get("function_name") or before.get("id") or ""
    if change.type == "aws_sqs_queue":
        url = before.get("url") or before.get("id")
        try:
            counts = aws.queue_counts(str(url), ctx.settings.region)
        except aws.ReadFailed as failed:
            return f"the queue {name} and its messages (count unreadable: {failed.code})"
        waiting = counts["ApproximateNumberOfMessages"]
        flight = counts["ApproximateNumberOfMessagesNotVisible"]
        delayed = counts["ApproximateNumberOfMessagesDelayed"]
        return (
            f"the queue {name} and its messages: ApproximateNumberOfMessages {waiting}, "
            f"{flight} in flight, {delayed} delayed (and any that arrive before the apply)"
        )
    if change.type == "aws_cloudwatch_log_group":
        days = before.get("retention_in_days")
        return f"the log group {name} and its logs" + (f" ({days} days kept)" if days else "")
    if change.type == "aws_secretsmanager_secret":
        days = before.get("recovery_window_in_days")
        return f"the secret {name} and its value" + (
            f" (restorable for {days} days)" if days else ""
        )
    if change.type == "aws_kms_key":
        days = before.get("deletion_window_in_days")
        return (
            f"the KMS key {before.get('key_id') or name}: deleted after {days or 'its'} days' "
            "wait, and what it encrypts (secrets, queued messages) becomes unreadable"
        )
    return (
        f"the function {name} and the asynchronous events Lambda holds for it that have not run "
        "yet (up to 6 hours of them)"
    )


def check_destroy(ctx: Context) -> list[Refusal]:
    allowed = ctx.options.allow_destroy
    refusals = []
    for change in ctx.plan.of_type(*DATA_HOLDING):
        if not change.deletes:
            continue
        lost = describe_loss(ctx, change)
        if change.address in allowed:
            note(
                f"destroy: {change.address} will be {change.verb}, as --allow-destroy says: {lost}"
            )
            continue
        refusals.append(
            Refusal(
                "destroy",
                f"{change.address} would be {change.verb}: lost would be {lost}",
                f"if that is meant, name it: {ALLOW_HOW}; if not, undo the change that causes it",
                allow=change.address,
            )
        )
    return refusals


def check_notification(ctx: Context) -> list[Refusal]:
    bucket = ctx.settings.bucket_name
    allowed = ctx.options.allow_destroy
    refusals = []
    now = notifications.current(ctx.facts.notification or {})
    planned = [c for c in ctx.plan.of_type("aws_s3_bucket_notification") if c.changes]
    if not planned and (now.entries or now.eventbridge):
        # This plan leaves the bucket alone (traffic off), but the one that turns traffic on
        # writes the whole configuration: say now what it will have to keep.
        foreign = [e for e in now.entries if e.target not in ctx.plan.known_arns()]
        if foreign or now.eventbridge:
            what = notifications.describe_all(foreign) + (
                "; EventBridge on" if now.eventbridge else ""
            )
            note(
                f"bucket notification: {bucket} has entries this state does not manage ({what}); "
                f"take them over in {tfvars_name(ctx)} before traffic is turned on, or that "
                "deploy refuses"
            )
    for change in planned:
        buckets = {v.get("bucket") for v in (change.before, change.after) if v}
        if bucket not in buckets:
            other = sorted(str(b) for b in buckets)
            key = f"s3://{other[0]}" if other else change.address
            if key not in allowed:
                refusals.append(
                    Refusal(
                        "bucket-notification",
                        f"{change.address} would rewrite the notifications of {', '.join(other)}, "
                        f"which this deploy did not read ({bucket} is {ctx.env}'s bucket)",
                        "bucket_name must stay the bucket the notification is on",
                        allow=key,
                    )
                )
            continue
        after = None if change.deletes and not change.replaces else change.after
        then = notifications.planned(after, change.after_unknown)
        for entry in notifications.lost(now, then, ctx.plan.known_arns()):
            key = notifications.allow_key(bucket, entry)
            if key in allowed:
                note(f"bucket notification: {entry.describe()} will be removed, as allowed")
                continue
            refusals.append(
                Refusal(
                    "bucket-notification",
                    f"{change.address} would remove {entry.describe()} from {bucket}",
                    "that entry is not in this plan: take it over in "
                    f"{tfvars_name(ctx)} (the bucket notification's take-over variables, "
                    "docs/deploy.md), so it is written back unchanged",
                    allow=key,
                )
            )
        if now.eventbridge and not then.eventbridge:
            key = notifications.allow_key(bucket, None)
            if key not in allowed:
                refusals.append(
                    Refusal(
                        "bucket-notification",
                        f"{change.address} would turn EventBridge delivery off on {bucket} (it "
                        "is on: whatever listens there would stop getting the bucket's events)",
                        f"keep it on: take it over in {tfvars_name(ctx)} (eventbridge)",
                        allow=key,
                    )
                )
    return refusals


def reserved(values: Any) -> int:
    value = (values or {}).get("reserved_concurrent_executions")
    return value if isinstance(value, int) and value > 0 else 0


# Service Quotas' code of Lambda's "Concurrent executions" (per account and region).
QUOTA_CODE = "L-B99A9384"


def check_concurrency(ctx: Context) -> list[Refusal]:
    limits = (ctx.facts.account_settings or {}).get("AccountLimit") or {}
    limit = int(limits.get("ConcurrentExecutions", 0))
    unreserved = int(limits.get("UnreservedConcurrentExecutions", 0))
    minimum = min(100, limit)  # Lambda keeps 100 unreserved, or the whole quota below 100
    refusals = []
    asked = 0  # what the plan's earlier functions already take from the unreserved pool
    for change in ctx.plan.of_type("aws_lambda_function"):
        if change.after is None:
            continue
        new = reserved(change.after)
        old = reserved(change.before)
        asked += new - old
        if asked <= unreserved - minimum:
            continue
        room = max(0, unreserved - minimum - (asked - new))
        unreserve = (
            f"set reserved_concurrent_executions = null (in function = {{…}}) in "
            f"{tfvars_name(ctx)} until the quota is raised: null is unreserved, so the function "
            f"may run as many environments as the account's unreserved concurrency ({unreserved} "
            "now), each with its own broker connection, and the broker-connections check holds "
            "that to the broker's limit"
        )
        quota = (
            f"ask for a larger quota: Service Quotas → AWS Lambda → Concurrent executions "
            f"({QUOTA_CODE}) → Request increase at account level (new accounts start at 10), "
            "then reserve again"
        )
        fix = f"{unreserve}; and {quota}"
        if room > 0:
            fix = f"reserve at most {room} in {tfvars_name(ctx)}; or {unreserve}; or {quota}"
        refusals.append(
            Refusal(
                "account-concurrency",
                f"{change.address} would reserve {new} concurrent executions (now {old}); the "
                f"account's limit is {limit} with {unreserved} unreserved, and Lambda keeps "
                f'{minimum} unreserved. It would refuse: "Specified ReservedConcurrentExecutions '
                "for function decreases account's UnreservedConcurrentExecution below its minimum "
                f'value of [{minimum}]."',
                fix,
            )
        )
    return refusals


def check_broker_connections(ctx: Context) -> list[Refusal]:
    """With no reserved concurrency, the function may run as many environments as the
    account's unreserved concurrency, each with its own broker connection: the bound the
    Terraform precondition cannot read. The pigeon module's terraform_data.broker_connections
    gives the broker's limit and the connections of each environment and of other clients."""
    limits = (ctx.facts.account_settings or {}).get("AccountLimit") or {}
    unreserved = int(limits.get("UnreservedConcurrentExecutions", 0))
    # A function whose reservation this plan removes gives it back to the unreserved pool.
    for change in ctx.plan.of_type("aws_lambda_function"):
        unreserved += reserved(change.before) - reserved(change.after)
    refusals = []
    for change in ctx.plan.of_type("terraform_data"):
        given = (change.after or {}).get("input")
        if not isinstance(given, dict) or "broker_connection_limit" not in given:
            continue
        limit = given.get("broker_connection_limit")
        if limit is None or given.get("maximum_concurrency") is not None:
            continue  # no limit given, or a reservation the plan's own precondition checked
        per = int(given.get("connections_per_environment") or 1)
        other = int(given.get("other_connections") or 0)
        needed = unreserved * per + other
        how = (
            f"the function's concurrency is unreserved, so the account's unreserved "
            f"concurrency bounds it: {unreserved} environments x {per} connection(s) each + "
            f"{other} of other clients = {needed} connections, and the broker holds {int(limit)}"
        )
        if needed <= int(limit):
            note(f"broker connections: {how}")
            continue
        room = max(0, (int(limit) - other) // per)
        refusals.append(
            Refusal(
                "broker-connections",
                f"{change.address}: {how}",
                f"set reserved_concurrent_executions to at most {room} in {tfvars_name(ctx)} "
                "(the most environments, so connections, at once), or use a larger broker "
                "(docs/deploy.md, sizing)",
            )
        )
    return refusals


def check_architecture(ctx: Context) -> list[Refusal]:
    arch = ctx.settings.architecture
    refusals = []
    for change in ctx.plan.of_type("aws_lambda_function"):
        planned = (change.after or {}).get("architectures")
        if planned and list(planned) != [arch]:
            refusals.append(
                Refusal(
                    "architecture",
                    f"{change.address} would run on {planned}, the zip was checked for {arch}",
                    f"deploy the pigeon-{planned[0]} artifact with architecture = "
                    f'"{planned[0]}" in {tfvars_name(ctx)}',
                )
            )
    return refusals


PLAN_CHECKS: tuple[Check[Context], ...] = (
    Check(
        "plan-inputs",
        "the plan used the env, account, bucket, region, traffic_enabled and artifact_dir the "
        "preflights checked",
        check_plan_inputs,
    ),
    Check(
        "destroy",
        "no delete or replace of an aws_sqs_queue, aws_cloudwatch_log_group, "
        "aws_secretsmanager_secret, aws_kms_key or aws_lambda_function unless named with "
        "--allow-destroy; says what would be lost (a queue's ApproximateNumberOfMessages)",
        check_destroy,
    ),
    Check(
        "bucket-notification",
        "the planned aws_s3_bucket_notification keeps every entry the bucket has now, and "
        "EventBridge when it is on, unless named with --allow-destroy",
        check_notification,
    ),
    Check(
        "account-concurrency",
        "the planned reserved concurrency leaves Lambda's minimum unreserved (GetAccountSettings)",
        check_concurrency,
    ),
    Check(
        "broker-connections",
        "with unreserved concurrency, the account's unreserved concurrency x connections per "
        "environment + other clients fits the broker's connection limit (GetAccountSettings)",
        check_broker_connections,
    ),
    Check(
        "architecture",
        "the function's planned architecture is the one the zip was checked for",
        check_architecture,
    ),
)

ALL: tuple[Check[Context], ...] = PREFLIGHTS + PLAN_CHECKS
