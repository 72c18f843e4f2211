"""Refusals, and checks declared as data: each check returns refusals and never stops the run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Refusal:
    """One reason not to go on: what is wrong, and what to do about it."""

    check: str
    what: str
    fix: str
    # The `--allow-destroy` value that accepts this loss (destroy and notification checks only).
    allow: str | None = None

    def render(self) -> str:
        lines = [f"  - {self.check}: {self.what}"]
        lines += [f"      {line}" for line in self.fix.splitlines()]
        if self.allow is not None:
            lines.append(f"      to accept this loss: --allow-destroy '{self.allow}'")
        return "\n".join(lines)


class CheckFailed(Exception):
    """Raised inside a check for the one refusal that ends it (the others it returns)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.what)
        self.refusal = refusal


@dataclass(frozen=True)
class Check[T]:
    """A named check over a context `T`: `run` returns its refusals (empty: passed).

    `needs` names earlier checks whose results this one reads; when one of them refused, this
    one is not run and says so instead of refusing again for the same cause."""

    name: str
    summary: str
    run: Callable[[T], list[Refusal]]
    needs: tuple[str, ...] = ()


def run_checks[T](
    checks: Sequence[Check[T]], context: T, out: TextIO = sys.stderr
) -> list[Refusal]:
    """Every check, in order; all their refusals."""
    refused: set[str] = set()
    refusals: list[Refusal] = []
    for check in checks:
        blocked = [name for name in check.needs if name in refused]
        if blocked:
            print(f"deploy: {check.name}: not checked, it needs {', '.join(blocked)}", file=out)
            refused.add(check.name)
            continue
        try:
            found = check.run(context)
        except CheckFailed as failed:
            found = [failed.refusal]
        if found:
            refused.add(check.name)
            refusals.extend(found)
    return refusals


def report(refusals: Sequence[Refusal], stage: str, out: TextIO = sys.stderr) -> None:
    """All refusals at once, under one line that says what was not done."""
    print(f"deploy: REFUSED ({len(refusals)}), {stage}:", file=out)
    for refusal in refusals:
        print(refusal.render(), file=out)
