"""scripts/deploy.sh: plan or apply one environment with a verified CI artifact.

    deploy.sh ENV plan  [--allow-destroy ADDRESS]… [--source-ref REF] [-target=…|-replace=…]…
    deploy.sh ENV plan  --allow-unattested        a plan of a zip built here (never applied)
    deploy.sh ENV apply [the same options]        plan, check the plan, apply exactly it
    deploy.sh ENV apply-saved                     apply the plan a `plan` saved (CI's apply job)
    deploy.sh ENV output [terraform output options, e.g. -raw secret_arn]
    deploy.sh ENV setting NAME                    a setting of ENV.tfvars (or the root's default)
    deploy.sh ENV policy plan|pr-plan|apply       the IAM policy of one of ENV's roles

ENV is stage or prod. The artifact is in dist/ (`gh run download`: docs/deploy.md, First
deploy); PIGEONTOOLS_REPOSITORY (or GITHUB_REPOSITORY) names the repository whose CI built it.
Every preflight runs and every refusal is reported at once; nothing is planned while one
refuses, and nothing applied while a check of the plan refuses. docs/deploy.md lists the checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pigeon_tools.deploy import artifact, ci_run, iam, saved, summary
from pigeon_tools.deploy.checks import PLAN_CHECKS, PREFLIGHTS, check_lock_file, note
from pigeon_tools.deploy.context import ACTIONS, Context, Options
from pigeon_tools.deploy.plan import Plan
from pigeon_tools.deploy.refusals import report, run_checks
from pigeon_tools.deploy.settings import ENVIRONMENTS, SettingsError, load_settings
from pigeon_tools.deploy.terraform import (
    apply_args,
    backend,
    data_dir,
    init_args,
    plan_args,
    plan_dir,
    plan_file,
    state_key,
)
from pigeon_tools.paths import DIST, ROOT

TERRAFORM_ROOT = ROOT / "terraform" / "environments"
# What may be passed on to terraform plan: never -var or -var-file (one source per setting).
PASSED_ON = ("-target=", "-replace=")


def parse(argv: Sequence[str]) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(
        prog="deploy.sh", description=__doc__.split("\n\n")[0], usage=__doc__.split("\n\n")[1]
    )
    parser.add_argument("env", choices=ENVIRONMENTS)
    parser.add_argument("action", choices=(*ACTIONS, "output", "setting", "policy"))
    parser.add_argument("--allow-unattested", action="store_true")
    parser.add_argument("--allow-destroy", action="append", default=[], metavar="ADDRESS")
    parser.add_argument("--source-ref", metavar="REF")
    args, rest = parser.parse_known_args(argv)
    if args.action in ("plan", "apply"):
        bad = [a for a in rest if not a.startswith(PASSED_ON)]
        if bad:
            parser.error(
                f"{' '.join(bad)}: only -target=… and -replace=… go on to terraform plan; "
                f"settings come from {args.env}.tfvars alone"
            )
    elif args.action not in ("output", "setting", "policy") and rest:
        parser.error(f"{args.action} takes no more arguments: {' '.join(rest)}")
    allow = {a for item in args.allow_destroy for a in item.split() if a}
    options = Options(
        env=args.env,
        action=args.action,
        allow_unattested=args.allow_unattested,
        allow_destroy=frozenset(allow),
        source_ref=args.source_ref,
        terraform_args=tuple(rest) if args.action in ("plan", "apply") else (),
    )
    return options, rest


def show_plan(ctx: Context) -> str | None:
    """`terraform show -json` of the saved plan into the context; the text shown to people."""
    terraform = ctx.terraform()
    shown = terraform.capture(["show", "-json", plan_file(ctx.env)])
    if shown.returncode != 0:
        print(shown.stderr, file=sys.stderr)
        return None
    ctx.facts.plan = Plan(json.loads(shown.stdout))
    text = terraform.capture(["show", "-no-color", plan_file(ctx.env)])
    return text.stdout


def facts_shown(ctx: Context) -> list[tuple[str, str]]:
    facts = ctx.facts
    shown = [
        ("environment", ctx.env),
        ("commit", facts.checkout_commit or "?"),
        ("artifact base64 sha256", facts.zip_sha256 or "?"),
    ]
    if facts.traffic_enabled is not None:
        shown.append(
            ("traffic_enabled", f"{str(facts.traffic_enabled).lower()}: {facts.traffic_reason}")
        )
    if ctx.options.allow_destroy:
        shown.append(("allow-destroy", " ".join(sorted(ctx.options.allow_destroy))))
    tfplan = ctx.root / plan_file(ctx.env)
    if tfplan.is_file():
        shown.append(("tfplan sha256 (what an approval approves)", saved.file_sha256(tfplan)))
    return shown


def deploy(ctx: Context) -> int:
    options = ctx.options
    title = f"deploy {ctx.env} {options.action}"
    refusals = run_checks(PREFLIGHTS, ctx)
    if refusals:
        report(refusals, "nothing planned or applied")
        summary.write(ctx.environ, title, facts_shown(ctx), refusals)
        return 1
    artifact.stage(ctx.dist, ctx.root, ctx.env)
    folder = saved.folder(ctx.root, ctx.env)
    terraform = ctx.terraform()
    if options.action != "apply-saved":
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        assert ctx.facts.traffic_enabled is not None
        args = plan_args(
            ctx.env,
            ctx.facts.traffic_enabled,
            lock=not options.allow_unattested,
            extra=options.terraform_args,
        )
        if terraform.run(args) != 0:
            print("deploy: terraform plan failed (above): nothing applied", file=sys.stderr)
            return 1
    plan_text = show_plan(ctx)
    if plan_text is None:
        print("deploy: cannot read the plan (terraform show): nothing applied", file=sys.stderr)
        return 1
    plan_text = summary.redact(plan_text, ctx.environ)  # plan.txt is in the public artifact
    (folder / saved.PLAN_TEXT).write_text(plan_text)
    refusals = run_checks(PLAN_CHECKS, ctx)
    summary.write(ctx.environ, title, facts_shown(ctx), refusals, plan_text, ctx.facts.plan)
    if refusals:
        (ctx.root / plan_file(ctx.env)).unlink(missing_ok=True)
        report(refusals, "nothing applied (the plan is deleted)")
        return 1
    if options.action == "plan":
        write_metadata(ctx)
        note(f"plan saved in terraform/environments/{plan_dir(ctx.env)}/")
        return 0
    if terraform.run(apply_args(ctx.env)) != 0:
        print("deploy: terraform apply failed (above)", file=sys.stderr)
        if options.action == "apply-saved":
            run_id = ctx.environ.get("GITHUB_RUN_ID") or "RUN"
            print(
                "deploy: if Terraform says `Saved plan is stale`, another apply changed "
                f"{ctx.env}'s state since this plan: it is superseded and never applied; plan "
                f"again to deploy this commit: re-run all jobs of run {run_id} "
                f"({ci_run.RERUN_ALL.format(run=run_id)}), not this apply alone (Re-run failed "
                "jobs), which applies the same plan",
                file=sys.stderr,
            )
        return 1
    note(f"{ctx.env}: applied (artifact {ctx.facts.zip_sha256})")
    return 0


def write_metadata(ctx: Context) -> None:
    facts = ctx.facts
    assert facts.backend is not None
    assert facts.traffic_enabled is not None
    saved.write(
        ctx.root,
        saved.Metadata(
            format=saved.FORMAT,
            environment=ctx.env,
            commit=facts.checkout_commit or "",
            zip_sha256=facts.zip_sha256 or "",
            attested=not ctx.options.allow_unattested,
            traffic_enabled=facts.traffic_enabled,
            allow_destroy=tuple(sorted(ctx.options.allow_destroy)),
            backend=facts.backend.args,
            plan_sha256=saved.file_sha256(ctx.root / plan_file(ctx.env)),
            ci_run_id=ctx.environ.get("ARTIFACT_RUN_ID") or None,
        ),
    )
    # The workflow's plan job passes it to the apply job, which applies only that tfplan.
    github_output = ctx.environ.get("GITHUB_OUTPUT")
    if github_output:
        with Path(github_output).open("a") as out:
            out.write(f"plan-sha256={saved.file_sha256(ctx.root / plan_file(ctx.env))}\n")


def output(ctx: Context, args: Sequence[str]) -> int:
    """terraform output, after an init when this machine has none for the environment yet."""
    terraform = ctx.terraform()
    if not (ctx.root / data_dir(ctx.env) / "terraform.tfstate").is_file():
        try:
            state = backend(ctx.root, ctx.env, ctx.environ)
        except SettingsError as error:
            print(f"deploy: {error}", file=sys.stderr)
            return 2
        refused = check_lock_file(ctx)  # init is read-only on the lock file: say so first
        if refused:
            report(refused, "no init, no output")
            return 1
        done = terraform.capture(init_args(state))
        if done.returncode != 0:
            print((done.stdout + done.stderr).strip(), file=sys.stderr)
            return 1
    return terraform.passthrough(["output", *args])


def role_policy(env: str, rest: Sequence[str], environ: Mapping[str, str]) -> int:
    """The plan, pr-plan or apply role's policy, from the types the modules declare (iam.py)."""
    if len(rest) != 1 or rest[0] not in iam.ROLES:
        print(f"deploy: usage: deploy.sh ENV policy {'|'.join(iam.ROLES)}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(TERRAFORM_ROOT, env)
        key = state_key(env, environ)
    except SettingsError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 2
    types = iam.declared(TERRAFORM_ROOT.parent)
    missing = iam.uncovered(types)
    if missing:
        print(f"deploy: no IAM actions known for {', '.join(missing)}", file=sys.stderr)
        return 1
    document = iam.policy(
        types,
        role=rest[0],
        state_bucket=environ.get("TF_STATE_BUCKET") or "STATE_BUCKET",
        state_key=key,
        crash_bucket=str(settings.get("bucket_name") or "CRASH_BUCKET"),
        account_id=str(settings.get("account_id") or "ACCOUNT_ID"),
        region=str(settings.get("region") or "REGION"),
        env=env,
        name=iam.resource_name(TERRAFORM_ROOT.parent, env),
    )
    print(iam.render(document), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options, rest = parse(sys.argv[1:] if argv is None else argv)
    environ = dict(os.environ)
    # PIGEONTOOLS_TERRAFORM_ROOT: another copy of the root (the runbook's test site), as the
    # operator tools read it (pigeon_tools.operate.environment.terraform_root).
    root = Path(environ.get("PIGEONTOOLS_TERRAFORM_ROOT") or TERRAFORM_ROOT)
    ctx = Context(options=options, checkout=ROOT, root=root, dist=DIST, environ=environ)
    if options.action == "output":
        return output(ctx, rest)
    if options.action == "policy":
        return role_policy(options.env, rest, environ)
    if options.action == "setting":
        try:
            settings = load_settings(root, options.env)
            name = rest[0] if rest else ""
            # The architecture has a meaning when unset (x86_64), as the root's default has.
            value = settings.architecture if name == "architecture" else settings.get(name)
        except SettingsError as error:
            print(f"deploy: {error}", file=sys.stderr)
            return 2
        if value is None:
            print(
                f"deploy: {name or '(no name)'} is not set for {options.env}",
                file=sys.stderr,
            )
            return 1
        print(value if isinstance(value, str) else json.dumps(value))
        return 0
    if options.action == "apply-saved":
        meta_path = saved.folder(root, options.env) / saved.METADATA
        if meta_path.is_file():
            try:
                allow = saved.read(root, options.env).allow_destroy
            except (OSError, ValueError, TypeError):
                allow = ()
            # The reviewers approved the plan with these: the apply checks with the same.
            ctx.options = dataclasses.replace(options, allow_destroy=frozenset(allow))
    return deploy(ctx)
