"""Where each setting of a deploy comes from, read from the repository itself: the root's
variables, the committed <env>.tfvars, what deploy.sh passes, the workflows and the docs.

One source per setting (CONTRACTS.md, item 4): every non-secret setting of an environment is in
its committed <env>.tfvars; deploy.sh adds only what it decides (DEPLOY_VARIABLES); GitHub gives
only the role, the state backend and secrets. `problems()` lists every setting with no source,
with two, and every source the docs name that does not exist. tests/infra/test_deploy_sources.py
runs it on the repository and on broken copies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pigeon_tools.deploy.settings import (
    DEPLOY_VARIABLES,
    ENVIRONMENTS,
    EXTRA_VAR_FILES,
    read_tfvars,
)
from pigeon_tools.terraform.hcl import load

GITHUB_NAME = re.compile(r"\b(vars|secrets)\.([A-Za-z_][A-Za-z0-9_]*)")
TF_VAR = re.compile(r"\bTF_VAR_([A-Za-z_][A-Za-z0-9_]*)")
# A file named in the docs as a place settings live: <name>.tfvars[.example], *.hcl[.example].
DOCUMENTED_FILE = re.compile(
    r"`(?:terraform/environments/)?([\w.<>-]+\.(?:tfvars|hcl)(?:\.example)?)`"
)
PLACEHOLDERS = ("<env>", "<ENV>", "ENV")
BACKTICKED = re.compile(r"`([A-Z][A-Z0-9_]+)`")
# Files the docs may name that an operator writes and never commits (deploy.sh reads it).
NOT_COMMITTED = {"backend.hcl"}
# Named in the docs, not a place settings live.
NOT_SETTINGS = {".terraform.lock.hcl", "terraform.lock.hcl"}


@dataclass(frozen=True)
class Repository:
    root: Path  # terraform/environments
    workflows: Path  # .github/workflows
    docs: tuple[Path, ...]  # README.md, docs/*.md
    setup: Path  # the page with the set-up table (docs/ci-cd.md)


def workflow_names(workflows: Path) -> dict[str, set[str]]:
    """{"vars": {...}, "secrets": {...}} the workflows read."""
    found: dict[str, set[str]] = {"vars": set(), "secrets": set()}
    for path in sorted(workflows.glob("*.yml")):
        for kind, name in GITHUB_NAME.findall(path.read_text()):
            found[kind].add(name)
    return found


def setup_rows(setup: Path) -> list[dict[str, str]]:
    """The rows of the set-up table (a table whose header has a `where` and a `name` column),
    each as {column: cell}."""
    rows: list[dict[str, str]] = []
    columns: list[str] | None = None
    for line in setup.read_text().splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if columns is None:
            columns = [c.lower() for c in cells]
            continue
        if {"where", "name"} - set(columns) or len(cells) < len(columns):
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the header's rule
        rows.append(dict(zip(columns, cells, strict=False)))
    return rows


def setup_table_names(setup: Path) -> dict[str, set[str]]:
    """The set-up table's GitHub variables and secrets: the names of each row whose `where`
    says variable or secret."""
    found: dict[str, set[str]] = {"vars": set(), "secrets": set()}
    for row in setup_rows(setup):
        where = row["where"].lower()
        kind = "secrets" if "secret" in where else "vars" if "variable" in where else None
        if kind is not None:
            found[kind].update(BACKTICKED.findall(row["name"]))
    return found


def expand(name: str) -> list[str]:
    for placeholder in PLACEHOLDERS:
        if placeholder in name:
            return [name.replace(placeholder, env) for env in ENVIRONMENTS]
    return [name]


def problems(repo: Repository) -> list[str]:
    found: list[str] = []
    module = load(repo.root)
    variables = module.variables()
    workflow_text = "\n".join(p.read_text() for p in sorted(repo.workflows.glob("*.yml")))
    by_workflow = set(TF_VAR.findall(workflow_text))
    extra_files = sorted(
        {
            p.name
            for pattern in (*EXTRA_VAR_FILES, "*.local.tfvars")
            for p in repo.root.glob(pattern)
        }
    )
    found += [
        f"terraform/environments/{name}: a second source of settings beside <env>.tfvars"
        for name in extra_files
    ]
    for env in ENVIRONMENTS:
        tfvars_path = repo.root / f"{env}.tfvars"
        if not tfvars_path.is_file():
            found.append(f"{env}: terraform/environments/{env}.tfvars does not exist")
            continue
        tfvars = read_tfvars(tfvars_path)
        for name in sorted(set(tfvars) - set(variables)):
            found.append(f"{env}.tfvars sets {name}, which the root does not declare")
        for name, body in sorted(variables.items()):
            sources = []
            if name in tfvars:
                sources.append(f"{env}.tfvars")
            if name in DEPLOY_VARIABLES:
                sources.append("deploy.sh -var")
            if name in by_workflow:
                sources.append(f"TF_VAR_{name} in a workflow")
            if body.get("sensitive") and name in tfvars:
                found.append(
                    f"{env}.tfvars sets {name}, a secret: secrets come from CI's secret store"
                )
            if len(sources) > 1:
                found.append(f"{env}: {name} has two sources: {' and '.join(sources)}")
            if not sources and "default" not in body:
                found.append(
                    f"{env}: {name} has no source: no default, not in {env}.tfvars, "
                    "not set by deploy.sh"
                )
    for name in sorted(by_workflow):
        found.append(f"a workflow sets TF_VAR_{name}: settings come from <env>.tfvars")
    used = workflow_names(repo.workflows)
    documented = setup_table_names(repo.setup)
    setup_name = repo.setup.name
    for kind, label in (("vars", "variable"), ("secrets", "secret")):
        for name in sorted(used[kind] - documented[kind]):
            found.append(
                f"the workflows read the {label} {name}, which {setup_name}'s set-up table "
                "does not name"
            )
        for name in sorted(documented[kind] - used[kind]):
            found.append(
                f"{setup_name}'s set-up table names the {label} {name}, which no workflow reads"
            )
    documented_files: set[str] = set()
    for doc in repo.docs:
        text = doc.read_text()
        for name in sorted(set(TF_VAR.findall(text)) - {"*"}):
            found.append(
                f"{doc.name} names TF_VAR_{name}, which nothing sets: settings come from "
                "<env>.tfvars"
            )
        for mentioned in sorted(set(DOCUMENTED_FILE.findall(text))):
            for name in expand(mentioned):
                if "*" in name or name in NOT_COMMITTED or name in NOT_SETTINGS:
                    continue
                if not (repo.root / name).is_file():
                    documented_files.add(
                        f"{doc.name} names terraform/environments/{name}, which does not exist"
                    )
    return found + sorted(documented_files)
