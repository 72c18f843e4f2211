"""Terraform's provider version constraints (`"~> 6.0"`, `">= 6.0, < 7.0"`), as Terraform reads
them: a comma-separated list of `OP VERSION`, every one must hold. `~> 6.0` is `>= 6.0, < 7.0`;
`~> 6.1.2` is `>= 6.1.2, < 6.2.0`. Versions are compared as (major, minor, patch), missing
parts 0; pre-releases are not handled (no provider constraint here names one).

For the provider-constraint test and the stand-in terraform's `providers lock`.
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]
PART = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+(?:\.\d+){0,2})\s*$")


def version(text: str) -> Version:
    numbers = [int(n) for n in text.strip().lstrip("v").split(".")]
    padded = [*numbers, 0, 0, 0][:3]
    return (padded[0], padded[1], padded[2])


def parts(constraint: str) -> list[tuple[str, Version, int]]:
    """(operator, version, how many parts were given) of each part; ValueError if not one."""
    found = []
    for part in constraint.split(","):
        match = PART.match(part)
        if not match:
            raise ValueError(f"not a Terraform version constraint: {constraint!r}")
        given = match.group(2)
        found.append((match.group(1) or "=", version(given), given.count(".") + 1))
    return found


def _pessimistic_limit(at: Version, given: int) -> Version:
    """The exclusive upper limit of `~> at`: the last given part may grow, the one before not."""
    if given <= 2:
        return (at[0] + 1, 0, 0)
    return (at[0], at[1] + 1, 0)


def admits(constraint: str, candidate: Version) -> bool:
    for op, at, given in parts(constraint):
        ok = {
            "=": candidate == at,
            "!=": candidate != at,
            ">": candidate > at,
            ">=": candidate >= at,
            "<": candidate < at,
            "<=": candidate <= at,
            "~>": at <= candidate < _pessimistic_limit(at, given),
        }[op]
        if not ok:
            return False
    return True


def below(constraint: str) -> Version | None:
    """The least version the constraint excludes from above (every admitted one is lower), or
    None: it has no upper bound."""
    limits = []
    for op, at, given in parts(constraint):
        if op in ("<", "~>"):
            limits.append(at if op == "<" else _pessimistic_limit(at, given))
        elif op in ("<=", "="):
            limits.append((at[0], at[1], at[2] + 1))
    return min(limits) if limits else None


def lowest(constraint: str) -> Version:
    """The least version the constraint admits from below ((0, 0, 0) without a lower bound)."""
    bounds = [(0, 0, 0)]
    for op, at, _ in parts(constraint):
        if op in (">=", "=", "~>"):
            bounds.append(at)
        elif op == ">":
            bounds.append((at[0], at[1], at[2] + 1))
    return max(bounds)


def text(of: Version) -> str:
    return ".".join(map(str, of))
