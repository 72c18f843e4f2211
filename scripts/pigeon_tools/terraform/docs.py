"""The Inputs and Outputs tables of each module's README, generated from its .tf files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pigeon_tools.terraform.hcl import TERRAFORM, Module, all_modules

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


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


def tables(module: Module) -> str:
    lines = ["## Inputs", "", "| name | type | default | description |", "|---|---|---|---|"]
    for name, spec in module.variables().items():
        lines.append(
            f"| `{name}` | `{cell(type_text(spec.get('type', 'any')))}` | {default_text(spec)} "
            f"| {cell(spec.get('description', ''))} |"
        )
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    for name, spec in module.outputs().items():
        lines.append(f"| `{name}` | {cell(spec.get('description', ''))} |")
    return "\n".join(lines)


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
