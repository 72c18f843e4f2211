#!/usr/bin/env python3
"""Write the Inputs and Outputs tables of each Terraform module's README from its .tf files.

terraform_docs.py          rewrite the tables between the markers
terraform_docs.py --check  exit 1 if a README is out of date (the tests run this)
"""

from __future__ import annotations

import argparse
import json
import sys

from terraform_hcl import TERRAFORM, Module, all_modules

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def type_text(value: object) -> str:
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def default_text(spec: dict) -> str:
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


def render(module: Module, current: str) -> str:
    block = f"{BEGIN}\n{tables(module)}\n{END}"
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block + tail
    return current.rstrip() + "\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for module in all_modules():
        if not module.path.is_relative_to(TERRAFORM / "modules"):
            continue
        readme = module.path / "README.md"
        current = readme.read_text() if readme.exists() else f"# {module.path.name}\n"
        wanted = render(module, current)
        if wanted != current:
            stale.append(readme)
            if not args.check:
                readme.write_text(wanted)
    for readme in stale:
        verb = "out of date" if args.check else "updated"
        print(f"terraform_docs: {readme.relative_to(TERRAFORM.parent)} {verb}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
