"""Variable validations run by Terraform itself, with no provider: the variable blocks are
copied into an empty root, which `terraform init` needs nothing to download for, and `terraform
plan -var …` then evaluates exactly their conditions. Needs only the terraform binary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

WHY_SKIPPED = (
    "needs the terraform binary on PATH (no providers, nothing downloaded); CI's test job "
    "installs it"
)


def available() -> bool:
    return shutil.which("terraform") is not None


def variable_block(tf_file: Path, name: str) -> str:
    """The text of `variable "name" { … }` in a .tf file (braces balanced)."""
    text = tf_file.read_text()
    match = re.search(rf'^variable "{re.escape(name)}" {{', text, re.MULTILINE)
    if match is None:
        raise KeyError(f"no variable {name!r} in {tf_file}")
    depth, end = 0, match.end() - 1
    for end in range(match.end() - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    return text[match.start() : end + 1]


class Validations:
    """An empty root holding some variable blocks; `errors(values)` plans it with them."""

    def __init__(self, *blocks: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pigeon-tf-validate-"))
        (self.folder / "variables.tf").write_text("\n\n".join(blocks) + "\n")
        self._terraform("init", "-input=false", "-no-color", "-backend=false")

    def _terraform(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", f"-chdir={self.folder}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "TF_IN_AUTOMATION": "1"},
        )

    def errors(self, **values: object) -> str:
        """What Terraform says about these values: empty when every validation passes."""
        args = [f"-var={k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items()]
        done = self._terraform("plan", "-input=false", "-no-color", "-lock=false", *args)
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
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "TF_IN_AUTOMATION": "1"},
        )
    if done.returncode != 0:
        raise ValueError(done.stderr.strip())
    return done.stdout.strip()
