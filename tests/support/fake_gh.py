"""A stand-in `gh` for the deploy tests: `attestation verify`, `run list`, `run view --json`,
`run download` and `run rerun`, answered as gh 2.6x answers them (cli/cli
pkg/cmd/attestation/verify, pkg/cmd/run), failures included; everything else fails loudly.

Its world is $FAKE_GH_DIR:
    attestations.json   [{"sha256", "repo", "ref", "workflow", "runner"}]: what GitHub stores
    runs.json           workflow runs as the API lists them (gh's --json field names; "jobs":
                        [{"name", "status", "conclusion"}], answered by `run view --json jobs`
                        only; a matrix leg is named "build (x86_64)"; a job's "databaseId",
                        and its "needs", the names of the jobs it needs, which only
                        `run rerun` reads: GitHub knows them from the workflow, gh never
                        shows them)
    artifacts/<run id>/<artifact name>/…   each run's artifacts
    failures.json       {"run view": "HTTP 502: …"}: a command GitHub's API fails, and what gh says
    calls.jsonl         one line per call

Signed in when GH_TOKEN or GITHUB_TOKEN is set, or $GH_CONFIG_DIR/hosts.yml exists, as gh is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

WORLD = Path(os.environ["FAKE_GH_DIR"])
SLSA = "https://slsa.dev/provenance/v1"
NOT_SIGNED_IN = (
    "To get started with GitHub CLI, please run:  gh auth login\n"
    "Alternatively, populate the GH_TOKEN environment variable with a GitHub API "
    "authentication token.\n"
)


# cli/cli pkg/cmd/run/shared: what `run list --status` accepts (a status or a conclusion), and
# the --json fields of `run list` and of `run view` (jobs only there).
STATUSES = (
    "queued",
    "completed",
    "in_progress",
    "requested",
    "waiting",
    "pending",
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "startup_failure",
    "success",
    "timed_out",
)
RUN_FIELDS = (
    "name",
    "displayTitle",
    "headBranch",
    "headSha",
    "createdAt",
    "updatedAt",
    "startedAt",
    "attempt",
    "status",
    "conclusion",
    "event",
    "number",
    "databaseId",
    "workflowDatabaseId",
    "workflowName",
    "url",
)


def unknown_field(fields: list[str], available: tuple[str, ...]) -> bool:
    """gh refuses a --json field the command does not have, listing those it has."""
    for field in fields:
        if field not in available:
            listed = "".join(f"  {f}\n" for f in sorted(available))
            err(f'Unknown JSON field: "{field}"\nAvailable fields:\n{listed}')
            return True
    return False


def load(name: str, default: Any) -> Any:
    path = WORLD / name
    return json.loads(path.read_text()) if path.is_file() else default


def options(args: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Positional arguments, and every --flag's values (flags without a value: [""])."""
    positional: list[str] = []
    flags: dict[str, list[str]] = {}
    valueless = {"--deny-self-hosted-runners", "--no-public-good", "--all", "--failed"}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("-"):
            name, equals, value = arg.partition("=")
            name = {
                "-R": "--repo",
                "-n": "--name",
                "-D": "--dir",
                "-L": "--limit",
                "-s": "--status",
            }.get(name, name)
            if not equals and name not in valueless:
                index += 1
                value = args[index] if index < len(args) else ""
            flags.setdefault(name, []).append(value)
        else:
            positional.append(arg)
        index += 1
    return positional, flags


def err(text: str) -> None:
    sys.stderr.write(text)


def signed_in() -> bool:
    if os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN"):
        return True
    config = os.environ.get("GH_CONFIG_DIR") or str(Path.home() / ".config" / "gh")
    return (Path(config) / "hosts.yml").is_file()


def verify(args: list[str]) -> int:
    positional, flags = options(args)
    path = Path(positional[0])
    repo = flags.get("--repo", [""])[0]
    if not path.is_file():
        err(
            f"✗ Loading digest for {path} failed\n\nError: failed to open local artifact: "
            f"open {path}: no such file or directory\n"
        )
        return 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    err(f"Loaded digest sha256:{digest} for file://{path}\n")
    found = [
        a
        for a in load("attestations.json", [])
        if a["sha256"] == digest and a["repo"].lower() == repo.lower()
    ]
    if not found:
        err(
            "✗ Loading attestations from GitHub API failed\n\nError: failed to fetch "
            f"attestations from {repo}: HTTP 404: Not Found "
            f"(https://api.github.com/repos/{repo}/attestations/sha256:{digest}?per_page=30)\n"
        )
        return 1
    err(f"Loaded {len(found)} attestation{'s' if len(found) > 1 else ''} from GitHub API\n")
    signer = flags.get("--signer-workflow", [""])[0]
    signer_regex = "^https://" + (
        signer if re.match(r"^[a-zA-Z0-9-]+\.[a-zA-Z0-9-]+", signer) else f"github.com/{signer}"
    )
    source_ref = flags.get("--source-ref", [""])[0]
    err(
        "\nThe following policy criteria will be enforced:\n"
        f"- Predicate type.........................: {SLSA}\n"
        f"- Source Repository Owner URI............: https://github.com/{repo.split('/')[0]}\n"
        f"- Source Repository URI..................: https://github.com/{repo}\n"
        + (f"- Source Repository Ref..................: {source_ref}\n" if source_ref else "")
        + f"- Subject Alternative Name must match regex: {signer_regex}\n"
        "- OIDC Issuer must match:................: https://token.actions.githubusercontent.com\n"
        + (
            "- Action workflow Runner Environment must match: github-hosted\n"
            if "--deny-self-hosted-runners" in flags
            else ""
        )
        + "\n"
    )
    errors = []
    for attestation in found:
        san = f"https://github.com/{attestation['repo']}/{attestation['workflow']}@{attestation['ref']}"
        if (signer and not re.match(signer_regex, san)) or (
            "--deny-self-hosted-runners" in flags
            and attestation.get("runner", "github-hosted") != "github-hosted"
        ):
            errors.append('verifying with issuer "sigstore.dev"')
        elif source_ref and source_ref.lower() != attestation["ref"].lower():
            errors.append(
                f"expected SourceRepositoryRef to be {source_ref}, got {attestation['ref']}"
            )
        else:
            err("✓ Verification succeeded!\n\n")
            err(f"sha256:{digest} was attested by:\nREPO  PREDICATE_TYPE  WORKFLOW\n")
            err(f"{repo}  {SLSA}  {attestation['workflow']}@{attestation['ref']}\n")
            return 0
    err(f"✗ Verification failed\n\nError: {errors[0]}\n")
    return 1


def run_list(args: list[str]) -> int:
    _, flags = options(args)
    runs = load("runs.json", [])
    status = flags.get("--status", [None])[0]
    if status is not None and status not in STATUSES:
        err(
            f'invalid argument "{status}" for "-s, --status" flag: valid values are '
            f"{{{'|'.join(STATUSES)}}}\n"
        )
        return 1

    def wanted(run: dict[str, Any]) -> bool:
        for flag, field in (
            ("--commit", "headSha"),
            ("--branch", "headBranch"),
            ("--event", "event"),
        ):
            if flag in flags and run.get(field) != flags[flag][0]:
                return False
        if "--status" in flags and flags["--status"][0] not in (
            run.get("status"),
            run.get("conclusion"),
        ):
            return False
        if "--workflow" in flags:
            selector = flags["--workflow"][0]
            if selector not in (run.get("workflowName"), Path(run.get("path", "")).name):
                return False
        return True

    chosen = sorted((r for r in runs if wanted(r)), key=lambda r: r["createdAt"], reverse=True)
    chosen = chosen[: int(flags.get("--limit", ["20"])[0])]
    if "--json" not in flags:
        if not chosen:
            err("no runs found\n")
            return 1
        for run in chosen:
            print(
                f"{run['conclusion']}\t{run['displayTitle']}\t{run['workflowName']}\t"
                f"{run['headBranch']}\t{run['event']}\t{run['databaseId']}"
            )
        return 0
    fields = flags["--json"][0].split(",")
    if unknown_field(fields, RUN_FIELDS):
        return 1
    print(json.dumps([{f: run.get(f) for f in fields} for run in chosen], indent=2))
    return 0


def run_view(args: list[str]) -> int:
    positional, flags = options(args)
    repo = flags.get("--repo", ["OWNER/REPO"])[0]
    run_id = positional[0] if positional else ""
    found = [r for r in load("runs.json", []) if str(r.get("databaseId")) == run_id]
    if not found:
        err(f"HTTP 404: Not Found (https://api.github.com/repos/{repo}/actions/runs/{run_id})\n")
        return 1
    fields = flags["--json"][0].split(",") if "--json" in flags else []
    if not fields:
        err("stand-in gh: run view without --json is not supported\n")
        return 1
    if unknown_field(fields, (*RUN_FIELDS, "jobs")):
        return 1
    run = found[0]
    answer = {f: run.get(f, [] if f == "jobs" else None) for f in fields}
    if "jobs" in answer:
        answer["jobs"] = [{k: v for k, v in j.items() if k != "needs"} for j in answer["jobs"]]
    print(json.dumps(answer, indent=2))
    return 0


def dependents(jobs: list[dict[str, Any]], chosen: set[str]) -> set[str]:
    """The chosen jobs and every job that needs one of them, transitively."""
    grown = set(chosen)
    while True:
        more = {j["name"] for j in jobs if set(j.get("needs") or []) & grown} - grown
        if not more:
            return grown
        grown |= more


def run_rerun(args: list[str]) -> int:
    """GitHub's re-run (docs.github.com, "Re-running workflows and jobs"): every job of a
    completed run; its failed jobs (--failed); or one job (--job, its databaseId). A failed or
    one job is re-run with the jobs that depend on it; a job not re-run keeps its outcome and its
    outputs from the attempt before. The re-run jobs are queued in the run's next attempt."""
    positional, flags = options(args)
    job_id = flags.get("--job", [""])[0]
    if positional and job_id:
        err("specify only one of `<run-id>` or `--job`\n")
        return 1
    if "--failed" in flags and job_id:
        err("specify only one of `--failed` or `--job`\n")
        return 1
    if not positional and not job_id:
        err("run or job ID required when not running interactively\n")
        return 1
    runs = load("runs.json", [])
    if job_id:
        found = [r for r in runs for j in r.get("jobs") or [] if str(j.get("databaseId")) == job_id]
    else:
        found = [r for r in runs if str(r.get("databaseId")) == positional[0]]
    if not found:
        err(f"HTTP 404: Not Found (could not find {'job ' + job_id if job_id else 'run'})\n")
        return 1
    run = found[0]
    if run.get("status") != "completed":
        err(f"run {run['databaseId']} cannot be rerun: it is {run.get('status')}\n")
        return 1
    jobs = run.get("jobs") or []
    if job_id:
        chosen = dependents(jobs, {j["name"] for j in jobs if str(j.get("databaseId")) == job_id})
    elif "--failed" in flags:
        ends = {str(j.get("conclusion")) for j in jobs} - {"success", "skipped", "failure"}
        if ends:  # cancelled, timed_out, …: which of them GitHub re-runs is not modelled
            err(f"stand-in gh: --failed with jobs that ended {sorted(ends)} is not modelled\n")
            return 1
        failed = {j["name"] for j in jobs if j.get("conclusion") == "failure"}
        if not failed:
            err(f"run {run['databaseId']} has no failed jobs to rerun\n")
            return 1
        chosen = dependents(jobs, failed)
    else:
        chosen = {j["name"] for j in jobs}
    run["attempt"] = int(run.get("attempt") or 1) + 1
    run["status"], run["conclusion"] = "queued", None
    for job in jobs:
        if job["name"] in chosen:
            job.update(status="queued", conclusion=None, attempt=run["attempt"])
    (WORLD / "runs.json").write_text(json.dumps(runs, indent=2))
    print(
        f"✓ Requested rerun{' (failed jobs)' if '--failed' in flags else ''} of run "
        f"{run['databaseId']}"
    )
    return 0


def run_download(args: list[str]) -> int:
    positional, flags = options(args)
    run_id = positional[0]
    target = Path(flags.get("--dir", ["."])[0])
    names = flags.get("--name", [])
    artifacts = WORLD / "artifacts" / run_id
    chosen = [artifacts / n for n in names] if names else sorted(artifacts.glob("*"))
    chosen = [c for c in chosen if c.is_dir()]
    if not chosen:
        err("no valid artifacts found to download\n")
        return 1
    for artifact in chosen:
        # One artifact named: its files go into the folder itself, as gh does.
        into = target if len(names) == 1 else target / artifact.name
        into.mkdir(parents=True, exist_ok=True)
        for path in artifact.iterdir():
            shutil.copyfile(path, into / path.name)
    return 0


def main() -> int:
    args = sys.argv[1:]
    with (WORLD / "calls.jsonl").open("a") as log:
        log.write(json.dumps(args) + "\n")
    if not signed_in():
        err(NOT_SIGNED_IN)
        return 4
    failing = load("failures.json", {}).get(" ".join(args[:2]))
    if failing:  # GitHub's API answers an error (an outage, a rate limit)
        err(failing + "\n")
        return 1
    if args[:2] == ["attestation", "verify"]:
        return verify(args[2:])
    if args[:2] == ["run", "list"]:
        return run_list(args[2:])
    if args[:2] == ["run", "view"]:
        return run_view(args[2:])
    if args[:2] == ["run", "download"]:
        return run_download(args[2:])
    if args[:2] == ["run", "rerun"]:
        return run_rerun(args[2:])
    err(f"stand-in gh: unsupported: gh {' '.join(args)}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
