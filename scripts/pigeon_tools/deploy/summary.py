"""The GitHub Actions job summary of a deploy: what was decided, what was refused, the plan.

GitHub keeps at most 1 MiB of summary per step (a bigger one is not shown at all), so the summary
fits in what is left of that: every destroy and replace is listed (from the plan itself), and a
plan text too long to fit keeps every destroy and replace line, the `Plan:` line and as much of
its tail as fits, and says how many lines were cut. The whole text is plan.txt in the plan
artifact.

Both are public where the repository is (docs/ci-cd.md, What a public repository publishes):
neither ever holds the value of a secret deploy.sh has in its environment (`redact`), whatever
Terraform or a provider prints."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from pigeon_tools.deploy.plan import Plan
from pigeon_tools.deploy.refusals import Refusal

# GitHub's limit for one step's summary, in bytes.
STEP_SUMMARY_LIMIT = 1024 * 1024
# Kept free for the markdown around the plan and for what the step writes after deploy.sh.
MARGIN = 16 * 1024
# The lines of `terraform show` that say what is destroyed or replaced, and the totals.
KEPT = re.compile(
    r"^\s*# .* (will be destroyed|must be replaced|will be replaced)\b"
    r"|^\s*# \((because|moved from)"
    r"|^\s*(-/\+|\+/-|-) (resource|data) "
    r"|^Plan: |^Changes to Outputs:"
)


# The secrets a deploy has in its environment: the Datadog provider's keys, gh's token, the AWS
# credentials, the runner's own tokens.
SECRET_VARIABLES = (
    "DD_API_KEY",
    "DD_APP_KEY",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
)
# Shorter values are no real key or token, and replacing them would garble ordinary words.
SECRET_MIN_LENGTH = 16
REDACTED = "***"


def redact(text: str, environ: Mapping[str, str]) -> str:
    """The text without the value of any secret of the environment (longest first)."""
    values = {environ.get(name) or "" for name in SECRET_VARIABLES}
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= SECRET_MIN_LENGTH:
            text = text.replace(value, REDACTED)
    return text


def size(text: str) -> int:
    return len(text.encode())


def fit(plan_text: str, budget: int) -> tuple[str, int]:
    """The plan text in at most `budget` bytes (more only when the kept lines alone are more):
    every KEPT line, then the tail. Returns the text and how many lines were cut."""
    if size(plan_text) <= budget:
        return plan_text.rstrip("\n"), 0
    lines = plan_text.rstrip("\n").split("\n")
    chosen = {i for i, line in enumerate(lines) if KEPT.search(line)}
    used = sum(size(lines[i]) + 1 for i in chosen)
    for i in range(len(lines) - 1, -1, -1):
        if i in chosen:
            continue
        cost = size(lines[i]) + 1
        if used + cost + 64 * (len(chosen) + 1) > budget:  # room for the "… cut" markers
            break
        chosen.add(i)
        used += cost
    out: list[str] = []
    gap = 0
    for i, line in enumerate(lines):
        if i in chosen:
            if gap:
                out.append(f"… ({gap} lines cut) …")
                gap = 0
            out.append(line)
        else:
            gap += 1
    if gap:
        out.append(f"… ({gap} lines cut) …")
    return "\n".join(out), len(lines) - len(chosen)


def write(
    environ: Mapping[str, str],
    title: str,
    facts: Sequence[tuple[str, str]],
    refusals: Sequence[Refusal] = (),
    plan_text: str | None = None,
    plan: Plan | None = None,
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
    if plan is not None:
        losses = [c for c in plan.changes() if c.deletes]
        lines += ["", f"**Destroyed or replaced: {len(losses) or 'nothing'}**"]
        lines += [f"- {c.verb}: `{c.address}`" for c in losses]
    if plan_text is not None:
        plan_text = redact(plan_text, environ)
        already = Path(path).stat().st_size if Path(path).is_file() else 0
        head = size("\n".join(lines)) + 1
        budget = max(0, STEP_SUMMARY_LIMIT - MARGIN - already - head)
        text, cut = fit(plan_text, budget)
        lines += ["", "<details><summary>plan</summary>", ""]
        if cut:
            lines += [
                f"**The plan is cut to fit GitHub's 1 MiB step summary: {cut} of "
                f"{plan_text.rstrip(chr(10)).count(chr(10)) + 1} lines cut.** Every destroy and "
                "replace line is kept; the whole plan is plan.txt in the plan artifact.",
                "",
            ]
        lines += ["```", text, "```", "</details>"]
    with Path(path).open("a") as summary:
        summary.write(redact("\n".join(lines), environ) + "\n")
