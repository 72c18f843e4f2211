"""Terraform itself, with no provider, for what it can check without one.

- `Validations`: variable validations, run by Terraform. The variable blocks (one module's
  whole variables.tf, or some blocks) are copied into an empty root, which `terraform init`
  needs nothing to download for; `terraform plan` with values then evaluates exactly their
  conditions, cross-variable ones included (Terraform >= 1.9).
- `evaluate`: an expression of literals, printed by `terraform console`.
- `evaluate_with`: the text of an expression from a .tf file (a precondition's condition, a
  local) with its references (var.x, local.y, data.t.n) replaced by literal values, so the
  expression Terraform will evaluate at plan time is evaluated here on values a test chooses.

Needs only the terraform binary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

WHY_SKIPPED = (
    "needs the terraform binary on PATH (no providers, nothing downloaded); CI's test job "
    "installs it"
)
# No CLI configuration of the machine (credentials, mirrors) reaches these runs.
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "TF_IN_AUTOMATION": "1",
    "TF_CLI_CONFIG_FILE": "/dev/null",
}
UNDECLARED = "Value for undeclared variable"


def available() -> bool:
    return shutil.which("terraform") is not None


def _block_end(text: str, start: int) -> int:
    """The index after the `}` that closes the block whose `{` is at or after `start`."""
    depth = 0
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    raise ValueError("unbalanced braces")


def variable_block(tf_file: Path, name: str) -> str:
    """The text of `variable "name" { … }` in a .tf file (braces balanced)."""
    text = tf_file.read_text()
    match = re.search(rf'^variable "{re.escape(name)}" {{', text, re.MULTILINE)
    if match is None:
        raise KeyError(f"no variable {name!r} in {tf_file}")
    return text[match.start() : _block_end(text, match.start())]


def variable_blocks(tf_file: Path) -> list[str]:
    """Every `variable` block of a .tf file, in order."""
    text = tf_file.read_text()
    names = re.findall(r'^variable "([^"]+)" {', text, re.MULTILINE)
    return [variable_block(tf_file, name) for name in names]


class Validations:
    """An empty root holding some variable blocks; `errors(values)` plans it with them.

    `base` holds values every plan gets (a module's required variables), which `errors`
    overrides one by one."""

    def __init__(self, *blocks: str, base: Mapping[str, object] | None = None) -> None:
        self.base = dict(base or {})
        self.folder = Path(tempfile.mkdtemp(prefix="pigeon-tf-validate-"))
        (self.folder / "variables.tf").write_text("\n\n".join(blocks) + "\n")
        done = self._terraform("init", "-input=false", "-no-color", "-backend=false")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        self.output = ""

    @classmethod
    def of(cls, tf_file: Path, base: Mapping[str, object] | None = None) -> Validations:
        """Every variable of a module's variables.tf, as the module declares them."""
        return cls(*variable_blocks(tf_file), base=base)

    def _terraform(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", f"-chdir={self.folder}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENVIRONMENT,
        )

    def plan(self, *args: str, **values: object) -> subprocess.CompletedProcess[str]:
        """`terraform plan` with base | values (as a .tfvars.json, so null is null) and args."""
        given = self.folder / "given.tfvars.json"
        given.write_text(json.dumps({**self.base, **values}))
        done = self._terraform(
            "plan", "-input=false", "-no-color", "-lock=false", f"-var-file={given}", *args
        )
        self.output = done.stdout + done.stderr
        return done

    def errors(self, **values: object) -> str:
        """What Terraform says about these values: empty when every validation passes."""
        done = self.plan(**values)
        return "" if done.returncode == 0 else done.stderr

    def errors_with_file(self, var_file: Path, **values: object) -> str:
        """As `errors`, with a .tfvars file read by Terraform itself after the values."""
        done = self.plan(f"-var-file={var_file.resolve()}", **values)
        return "" if done.returncode == 0 else done.stderr

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def evaluate(expression: str) -> str:
    """What `terraform console` prints for an expression of literals (no provider needed)."""
    with tempfile.TemporaryDirectory(prefix="pigeon-tf-console-") as folder:
        done = subprocess.run(
            ["terraform", f"-chdir={folder}", "console", "-no-color"],
            input=expression + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENVIRONMENT,
        )
    if done.returncode != 0:
        raise ValueError(done.stderr.strip())
    return done.stdout.strip()


def literal(value: object) -> str:
    """An HCL literal for a JSON-able value (HCL's object syntax takes JSON's). Characters
    beyond ASCII are written as themselves: HCL takes no JSON surrogate-pair escape."""
    return json.dumps(value, ensure_ascii=False)


def _replacing(replacement: str) -> Callable[[re.Match[str]], str]:
    return lambda _: replacement


def substitute(expression: str, values: Mapping[str, object]) -> str:
    """`expression` (python-hcl2's `${…}` text, or plain) with each reference in `values`
    (e.g. "var.broker_port", "data.aws_subnet.this") replaced by its literal, in parentheses.
    A reference left over that is not a Terraform function raises: the test must give it."""
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    for reference in sorted(values, key=len, reverse=True):
        pattern = rf"(?<![\w.]){re.escape(reference)}(?![\w])"
        # A function, not a string: the literal's backslashes are not re.sub's escapes.
        text = re.sub(pattern, _replacing(f"({literal(values[reference])})"), text)
    left = re.findall(r"(?<![\w.\"])(?:var|local|data|module)\.[\w.]+", text)
    if left:
        raise KeyError(f"no value given for {sorted(set(left))} in {expression!r}")
    return text


def evaluate_with(expression: str, values: Mapping[str, object]) -> Any:
    """The value of a .tf file's expression, its references replaced by `values`."""
    printed = evaluate(f"jsonencode({substitute(expression, values)})")
    # The console prints a quoted HCL string: JSON's escapes, and template sequences doubled.
    return json.loads(json.loads(printed.replace("$${", "${").replace("%%{", "%{")))


LOCAL_REFERENCE = re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)")


def expression_text(value: object) -> str:
    """HCL expression text for a value as python-hcl2 parsed it: `${…}` strings are
    expressions, other strings literals (templates kept), dicts and lists constructors."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return json.dumps(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(k)} = {expression_text(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(expression_text(v) for v in value) + "]"
    return json.dumps(value)


def evaluate_in(
    module_locals: Mapping[str, Any], expression: object, values: Mapping[str, object]
) -> Any:
    """As `evaluate_with`, with each `local.x` the expression uses evaluated first from the
    module's own locals (their text, recursively), unless `values` gives it."""
    text = expression_text(expression)
    given = dict(values)
    for name in dict.fromkeys(LOCAL_REFERENCE.findall(text)):
        reference = f"local.{name}"
        if reference not in given:
            given[reference] = evaluate_in(module_locals, module_locals[name], given)
    return evaluate_with(text, given)
