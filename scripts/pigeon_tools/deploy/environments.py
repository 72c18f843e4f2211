"""The GitHub environments the workflows' jobs name, held to docs/ci-cd.md's set-up table.

An environment's credentials (its role, its secrets) reach every run GitHub lets into it, and
its deployment-branch rules are all that decide which: a branch whose workflow was edited, and
is run from that branch, gets them without any review. So:

- every environment a job names has branch rules in the set-up table, and they admit exactly
  the refs the jobs naming it run from (a push to main, *Run workflow* on main, a release of a
  tag v*, as the workflows' triggers and conditions say);
- a pull request runs as refs/pull/N/merge, which no branch rule can name: an environment a
  pull request's job uses admits every branch, so no other job may share it, and its role (the
  set-up table's, printed by `deploy.sh ENV policy ROLE`) may write nothing: no state, no lock
  object, no resource;
- the role variable a job assumes is set in that environment, to a role whose trust names it.

`problems()` lists what breaks one of these; tests/infra/test_deploy_environments.py runs it on
the repository and on broken copies."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pigeon_tools.deploy import iam
from pigeon_tools.deploy.settings import ENVIRONMENTS
from pigeon_tools.deploy.sources import Repository, setup_rows

# A rule that admits every branch and tag ("no restriction").
ANY = "any branch or tag"
# The ref of a pull_request run: no deployment-branch rule matches it.
PULL_REQUEST = "refs/pull/N/merge"
# *Run workflow* deploys a commit of main (scripts/ci_run_for_commit.sh finds its CI run there).
DISPATCH_REF = "refs/heads/main"
DEFAULT_BRANCH = "refs/heads/main"
ENVIRONMENT_NAME = re.compile(rf"`((?:{'|'.join(ENVIRONMENTS)})(?:-[a-z-]+)?)`")
RULE_REF = re.compile(r"(tags? )?`([^`]+)`")
TRUST = re.compile(r"trust: `repo:[^`]*:environment:([A-Za-z0-9_-]+)`")
POLICY = re.compile(r"`scripts/deploy\.sh ENV policy ([a-z-]+)`")
ROLE_OF_STEP = re.compile(r"role of step (\d+)")
VARIABLE = re.compile(r"\$\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
FORMAT = re.compile(r"format\('([^']*)',\s*(.+)\)")
OR_DEFAULT = re.compile(r"inputs\.environment\s*\|\|\s*'([^']+)'")
TAG_PREFIX = re.compile(r"startsWith\(github\.event\.release\.tag_name,\s*'([^']+)'\)")
CALLER_REF = re.compile(r"github\.ref\s*==\s*'([^']+)'")


@dataclass(frozen=True)
class Setup:
    """What the set-up table says about environments and roles."""

    rules: Mapping[str, frozenset[str]]  # environment: the refs its branch rules admit, or ANY
    roles: Mapping[str, tuple[str, str]]  # step: (the environment its trust names, ENV), role
    variables: Mapping[tuple[str, str], str]  # (environment, variable): the role's step


def rule_refs(name: str) -> frozenset[str]:
    """`deployment branches and tags: `main` and tag `v*`` as refs; "no restriction": ANY."""
    if "no restriction" in name:
        return frozenset({ANY})
    rule = name[name.index("deployment branches") :] if "deployment branches" in name else name
    rule = rule.split(";")[0]
    return frozenset(
        f"refs/tags/{ref}" if tag else f"refs/heads/{ref}" for tag, ref in RULE_REF.findall(rule)
    )


def read_setup(setup: Path) -> Setup:
    rules: dict[str, frozenset[str]] = {}
    roles: dict[str, tuple[str, str]] = {}
    variables: dict[tuple[str, str], str] = {}
    for row in setup_rows(setup):
        where, name, what = row["where"], row["name"], row.get("what", "")
        step = row.get("step", "")
        named = ENVIRONMENT_NAME.findall(where)
        if "Environments →" in where and "deployment branches" in name:
            for environment in named:
                rules[environment] = rule_refs(name)
        trust, policy = TRUST.search(what), POLICY.search(what)
        if trust and policy:
            roles[step] = (trust.group(1), policy.group(1))
        of_step = ROLE_OF_STEP.search(what)
        if "variable" in where and of_step:
            for environment in named:
                for variable in re.findall(r"`([A-Z][A-Z0-9_]+)`", name):
                    variables[(environment, variable)] = of_step.group(1)
    return Setup(rules, roles, variables)


@dataclass(frozen=True)
class Use:
    """A job naming an environment, for one event and ref it runs from."""

    where: str  # workflow:job
    event: str
    environment: str
    ref: str
    role_variable: str | None


def triggers(workflow: Mapping[Any, Any]) -> Mapping[str, Any]:
    on = workflow.get("on", workflow.get(True)) or {}  # YAML 1.1 reads `on` as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def job_events(job: Mapping[str, Any], jobs: Mapping[str, Any], on: Mapping[str, Any]) -> set[str]:
    """The events the job runs for, by its own `if` and those of the jobs it needs."""
    events = set(on)
    needs = job.get("needs", [])
    for condition in [job.get("if", ""), *(jobs[n].get("if", "") for n in as_list(needs))]:
        text = " ".join(str(condition).split())
        if "github.event_name == 'pull_request'" in text:
            events &= {"pull_request"}
        if "github.event_name != 'pull_request'" in text:
            events -= {"pull_request"}
    return events


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def runs_of(
    name: str,
    job_name: str,
    workflows: Mapping[str, Mapping[Any, Any]],
    problems: list[str],
) -> Iterator[tuple[str, str | None, str]]:
    """(event, inputs.environment, ref) of each way the job runs."""
    workflow = workflows[name]
    jobs = workflow["jobs"]
    job = jobs[job_name]
    on = triggers(workflow)
    for event in sorted(job_events(job, jobs, on)):
        spec = on[event] or {}
        if event == "pull_request":
            yield event, None, PULL_REQUEST
        elif event == "push":
            for branch in spec.get("branches", []):
                yield event, None, f"refs/heads/{branch}"
            for tag in spec.get("tags", []):
                yield event, None, f"refs/tags/{tag}"
        elif event == "schedule":
            yield event, None, DEFAULT_BRANCH
        elif event == "workflow_dispatch":
            choice = (spec.get("inputs") or {}).get("environment") or {}
            for option in choice.get("options") or [None]:
                yield event, option, DISPATCH_REF
        elif event == "release":
            needed = as_list(job.get("needs"))
            conditions = [job.get("if", ""), *(jobs[n].get("if", "") for n in needed)]
            prefixes = [m for c in conditions for m in TAG_PREFIX.findall(str(c))]
            if not prefixes:
                problems.append(f"{name}:{job_name}: runs for any release tag")
                yield event, None, "refs/tags/*"
            for prefix in prefixes:
                yield event, None, f"refs/tags/{prefix}*"
        elif event == "workflow_call":
            for caller_name, caller_workflow in workflows.items():
                for caller_job_name, caller in caller_workflow["jobs"].items():
                    if not str(caller.get("uses", "")).endswith(f"/{name}"):
                        continue
                    refs = CALLER_REF.findall(" ".join(str(caller.get("if", "")).split()))
                    if not refs:
                        problems.append(
                            f"{caller_name}:{caller_job_name} calls {name} from any ref"
                        )
                    environment = (caller.get("with") or {}).get("environment")
                    for ref in refs or [ANY]:
                        yield event, environment, ref
        else:
            problems.append(f"{name}:{job_name}: cannot tell which refs {event} runs from")


def environment_names(
    expression: str, inputs: str | None, matrix: Mapping[str, Any]
) -> list[str] | None:
    """The environment names an `environment:` expression gives (None: not understood)."""
    text = expression.strip()
    if "${{" not in text:
        return [text]
    inner = text.removeprefix("${{").removesuffix("}}").strip()
    template = "{0}"
    formatted = FORMAT.fullmatch(inner)
    if formatted:
        template, inner = formatted.group(1), formatted.group(2).strip()
    default = OR_DEFAULT.fullmatch(inner)
    if inner == "matrix.environment":
        values = [str(v) for v in matrix.get("environment", [])]
    elif default:
        values = [inputs or default.group(1)]
    elif inner == "inputs.environment" and inputs:
        values = [inputs]
    else:
        return None
    return [template.replace("{0}", value) for value in values]


def role_variable(job: Mapping[str, Any]) -> str | None:
    for step in job.get("steps", []):
        if "configure-aws-credentials" in str(step.get("uses", "")):
            found = VARIABLE.fullmatch(str((step.get("with") or {}).get("role-to-assume", "")))
            return found.group(1) if found else "(not a variable)"
    return None


def uses(workflows: Mapping[str, Mapping[Any, Any]], problems: list[str]) -> list[Use]:
    found = []
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            expression = job.get("environment")
            if expression is None:
                continue
            if isinstance(expression, Mapping):
                expression = expression.get("name", "")
            matrix = (job.get("strategy") or {}).get("matrix") or {}
            for event, inputs, ref in runs_of(name, job_name, workflows, problems):
                names = environment_names(str(expression), inputs, matrix)
                if names is None:
                    problems.append(f"{name}:{job_name}: cannot tell the environment {expression}")
                    continue
                for environment in names:
                    found.append(
                        Use(f"{name}:{job_name}", event, environment, ref, role_variable(job))
                    )
    return found


def load_workflows(folder: Path) -> dict[str, Mapping[Any, Any]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yml"))}


def role_policy(repo: Repository, role: str, environment: str) -> dict[str, Any]:
    return iam.policy(
        iam.declared(repo.root.parent),
        role=role,
        state_bucket="STATE_BUCKET",
        state_key=f"pigeon/{environment}.tfstate",
        crash_bucket="CRASH_BUCKET",
        account_id="ACCOUNT_ID",
        region="REGION",
        env=environment,
        name=iam.resource_name(repo.root.parent, environment),
    )


def problems(repo: Repository) -> list[str]:
    found: list[str] = []
    setup = read_setup(repo.setup)
    every = uses(load_workflows(repo.workflows), found)
    by_environment: dict[str, list[Use]] = {}
    for use in every:
        by_environment.setdefault(use.environment, []).append(use)
    table = repo.setup.name
    for environment in sorted(set(setup.rules) - set(by_environment)):
        found.append(f"{table}'s set-up table gives rules to {environment}, which no job names")
    for environment, its in sorted(by_environment.items()):
        jobs = ", ".join(sorted({u.where for u in its}))
        refs = {u.ref for u in its}
        rule = setup.rules.get(environment)
        if rule is None:
            found.append(f"{jobs} name the environment {environment}: {table}'s set-up table "
                         "gives it no deployment-branch rules")  # fmt: skip
        pull_requests = PULL_REQUEST in refs
        if pull_requests and refs != {PULL_REQUEST}:
            others = ", ".join(sorted(refs - {PULL_REQUEST}))
            found.append(
                f"{environment} is used by pull requests and by runs from {others} ({jobs}): "
                "it must admit every branch for the pull requests, so the others' credentials "
                "would reach any branch; give pull requests an environment of their own"
            )
        if rule is not None:
            if pull_requests and rule != {ANY}:
                found.append(
                    f"{table} restricts {environment}'s branches, and pull requests use it "
                    f"({jobs}): their ref {PULL_REQUEST} matches no rule"
                )
            elif not pull_requests and rule != refs:
                admits = "every branch and tag" if ANY in rule else ", ".join(sorted(rule))
                found.append(
                    f"{environment} admits {admits}; {jobs} run from {', '.join(sorted(refs))} "
                    "only: its branch rules must admit exactly those"
                )
        unreviewed = pull_requests or (rule is not None and ANY in rule)
        base = environment.split("-")[0]
        for variable in sorted({u.role_variable for u in its if u.role_variable}):
            step = setup.variables.get((environment, variable))
            if step is None or step not in setup.roles:
                found.append(f"{jobs} assume {variable}, which {table}'s set-up table does "
                             f"not set in {environment} to a role of its steps")  # fmt: skip
                continue
            trusted, role = setup.roles[step]
            if trusted.replace("ENV", base) != environment:
                found.append(
                    f"{variable} in {environment} is the role of step {step}, whose trust names "
                    f"environment {trusted}: AWS refuses {environment}'s token"
                )
            written = iam.writes(role_policy(repo, role, base))
            if unreviewed and written:
                found.append(
                    f"{environment} admits any branch ({jobs}) and its role "
                    f"(step {step}, `deploy.sh {base} policy {role}`) may write: "
                    f"{', '.join(written[:5])}{' …' if len(written) > 5 else ''}"
                )
    return found
