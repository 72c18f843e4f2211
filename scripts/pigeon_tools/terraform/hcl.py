"""Read Terraform files with python-hcl2, for the docs generator and the wiring tests.

python-hcl2 keeps HCL's quotes on strings and labels (``'"aws_iam_role"'``); ``unquote``
takes them off, so the rest of the code sees plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from pigeon_tools.paths import ROOT

TERRAFORM = ROOT / "terraform"
VAR_REFERENCE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def unquote(value: Any) -> Any:
    """Strip HCL quotes everywhere in a parsed value; drop python-hcl2's block markers."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        # python-hcl2 adds markers such as __is_block__ and __comments__: not Terraform values.
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


@dataclass
class Module:
    """Every .tf file of one directory, merged by block type."""

    path: Path
    files: dict[str, str] = field(default_factory=dict)
    blocks: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.relative_to(TERRAFORM).as_posix()

    def variables(self) -> dict[str, dict[str, Any]]:
        return {k: v for block in self.blocks.get("variable", []) for k, v in block.items()}

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {k: v for block in self.blocks.get("output", []) for k, v in block.items()}

    def locals(self) -> dict[str, Any]:
        """Every local value, from all the module's locals blocks."""
        return {k: v for block in self.blocks.get("locals", []) for k, v in block.items()}

    def module_calls(self) -> dict[str, dict[str, Any]]:
        return {k: v for block in self.blocks.get("module", []) for k, v in block.items()}

    def _typed(self, block_type: str, kind: str) -> dict[str, dict[str, Any]]:
        """`resource "kind" "name" {…}` (or data) blocks of one kind, by name."""
        return {
            name: body
            for block in self.blocks.get(block_type, [])
            for found, named in block.items()
            if found == kind
            for name, body in named.items()
        }

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return self._typed("resource", kind)

    def data(self, kind: str) -> dict[str, dict[str, Any]]:
        return self._typed("data", kind)

    def referenced_variables(self) -> set[str]:
        return {m for text in self.files.values() for m in VAR_REFERENCE.findall(text)}


def load(path: Path) -> Module:
    """The module in `path`; a folder without Terraform files is an error that names it (a copy
    of the scripts without terraform/ next to them, say), not an empty module."""
    files = sorted(path.glob("*.tf"))
    if not files:
        raise FileNotFoundError(f"no Terraform module at {path} (no *.tf files)")
    module = Module(path)
    for tf in files:
        text = tf.read_text()
        module.files[tf.name] = text
        with tf.open() as handle:
            parsed = unquote(hcl2.load(handle))
        for kind, blocks in parsed.items():
            module.blocks.setdefault(kind, []).extend(blocks)
    return module


def all_modules() -> list[Module]:
    dirs = sorted({tf.parent for tf in TERRAFORM.rglob("*.tf") if ".terraform" not in tf.parts})
    return [load(d) for d in dirs]


def pigeon_entries(notification: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pigeon's own entries of the bucket_notification module's aws_s3_bucket_notification, by
    block type (lambda_function, queue): the dynamic blocks that iterate over local.pigeon."""
    return {
        block: body["content"][0]
        for dynamic in notification.get("dynamic", [])
        for block, body in dynamic.items()
        if "local.pigeon" in str(body["for_each"])
    }


def object_attributes(type_expression: str) -> dict[str, str]:
    """The attributes of an `object({…})` type constraint, name => type text, in order."""
    text = type_expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    if not (text.startswith("object({") and text.endswith("})")):
        raise ValueError(f"not an object type: {type_expression}")
    body, parts, depth, start = text[len("object({") : -2], [], 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    parts.append(body[start:])
    found = {}
    for part in filter(str.strip, parts):
        name, _, kind = part.partition("=")
        found[name.strip()] = kind.strip()
    return found
