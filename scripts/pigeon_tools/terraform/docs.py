"""Docs generated from the Terraform code: each module README's tables (requirements,
providers, modules, resources, inputs, outputs, as terraform-docs lays them out), and the
Terraform requirement in docs/deploy.md, from its one source (the root's required_version)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pigeon_tools.paths import ROOT
from pigeon_tools.terraform.hcl import TERRAFORM, Module, all_modules, load

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
REQUIREMENT_BEGIN = "<!-- BEGIN terraform requirement -->"
REQUIREMENT_END = "<!-- END terraform requirement -->"
# The one source of the Terraform version Pigeon needs: the root every deploy runs.
REQUIREMENT_SOURCE = TERRAFORM / "environments"
BUILTIN = {"terraform": "terraform.io/builtin/terraform"}


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def type_text(value: object) -> str:
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def default_text(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return "required"
    value = spec["default"]
    shown = value if isinstance(value, str) else json.dumps(value)
    return f"`{cell(shown)}`"


def settings(module: Module) -> dict[str, Any]:
    """The module's `terraform` block (required_version, required_providers)."""
    [block] = module.blocks.get("terraform", [{}])
    return dict(block)


def required_version(module: Module) -> str:
    return str(settings(module).get("required_version", ""))


def required_providers(module: Module) -> dict[str, dict[str, str]]:
    providers = settings(module).get("required_providers", [{}])
    return {name: dict(spec) for block in providers for name, spec in block.items()}


def resources(module: Module) -> list[tuple[str, str]]:
    """(address, kind) of every resource and data source, in file order."""
    found = []
    for block_type, kind in (("resource", "resource"), ("data", "data source")):
        for block in module.blocks.get(block_type, []):
            for resource_type, named in block.items():
                found += [(f"{resource_type}.{name}", kind) for name in named]
    return found


def used_providers(module: Module) -> list[str]:
    """Local names of the providers the module's own resources use (builtin ones included)."""
    names = {address.split("_", 1)[0] for address, _ in resources(module)}
    declared = list(required_providers(module))
    return declared + sorted(names - set(declared))


def tables(module: Module) -> str:
    lines = ["## Requirements", "", "| name | version |", "|---|---|"]
    lines.append(f"| terraform | `{cell(required_version(module))}` |")
    for name, spec in required_providers(module).items():
        lines.append(f"| {name} | `{cell(spec.get('version', ''))}` |")

    declared = required_providers(module)
    lines += ["", "## Providers", "", "| name | source |", "|---|---|"]
    for name in used_providers(module):
        source = declared.get(name, {}).get("source", BUILTIN.get(name, name))
        lines.append(f"| {name} | `{source}` |")

    calls = module.module_calls()
    if calls:
        lines += ["", "## Modules", "", "| name | source |", "|---|---|"]
        lines += [f"| {name} | `{body['source']}` |" for name, body in calls.items()]

    lines += ["", "## Resources", "", "| name | type |", "|---|---|"]
    lines += [f"| `{address}` | {kind} |" for address, kind in resources(module)]

    lines += ["", "## Inputs", "", "| name | type | default | description |", "|---|---|---|---|"]
    for name, spec in module.variables().items():
        lines.append(
            f"| `{name}` | `{cell(type_text(spec.get('type', 'any')))}` | {default_text(spec)} "
            f"| {cell(spec.get('description', ''))} |"
        )
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    for name, spec in module.outputs().items():
        lines.append(f"| `{name}` | {cell(spec.get('description', ''))} |")
    return "\n".join(lines)


def requirement_section() -> str:
    version = required_version(load(REQUIREMENT_SOURCE))
    return (
        f"Terraform `{version}`: the `required_version` of `terraform/environments/versions.tf`,"
        "\nthe one source; every module and example says the same (a test checks)."
    )


def replace_between(current: str, begin: str, end: str, body: str) -> str:
    """`current` with what lies between the markers replaced (appended when they are absent)."""
    block = f"{begin}\n{body}\n{end}"
    if begin in current and end in current:
        head, _, rest = current.partition(begin)
        _, _, tail = rest.partition(end)
        return head + block + tail
    return current.rstrip() + "\n\n" + block + "\n"


def stale_readmes(write: bool) -> list[Path]:
    """The module READMEs whose tables are out of date; rewritten when `write`."""
    stale = []
    for module in all_modules():
        if not module.path.is_relative_to(TERRAFORM / "modules"):
            continue
        readme = module.path / "README.md"
        current = readme.read_text() if readme.exists() else f"# {module.path.name}\n"
        wanted = replace_between(current, BEGIN, END, tables(module))
        if wanted != current:
            stale.append(readme)
            if write:
                readme.write_text(wanted)
    return stale


def stale_docs(write: bool) -> list[Path]:
    """Every doc generated from the Terraform code that is out of date; rewritten when `write`."""
    stale = stale_readmes(write)
    current = DEPLOY_DOC.read_text()
    wanted = replace_between(current, REQUIREMENT_BEGIN, REQUIREMENT_END, requirement_section())
    if wanted != current:
        stale.append(DEPLOY_DOC)
        if write:
            DEPLOY_DOC.write_text(wanted)
    return stale
