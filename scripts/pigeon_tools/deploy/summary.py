"""The GitHub Actions job summary of a deploy: what was decided, what was refused, the plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pigeon_tools.deploy.refusals import Refusal

# GitHub keeps at most 1 MiB of summary per step: the plan's tail, at most this much of it.
PLAN_TAIL = 60_000


def write(
    environ: Mapping[str, str],
    title: str,
    facts: Sequence[tuple[str, str]],
    refusals: Sequence[Refusal] = (),
    plan_text: str | None = None,
) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    lines = [f"### {title}", ""]
    lines += [f"- {name}: `{value}`" for name, value in facts]
    if refusals:
        lines += ["", f"**REFUSED ({len(refusals)})**", "", "```"]
        lines += [r.render() for r in refusals]
        lines += ["```"]
    if plan_text is not None:
        lines += ["", "<details><summary>plan</summary>", "", "```"]
        lines += [plan_text[-PLAN_TAIL:].rstrip("\n"), "```", "</details>"]
    with Path(path).open("a") as summary:
        summary.write("\n".join(lines) + "\n")
