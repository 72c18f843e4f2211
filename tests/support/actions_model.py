"""A small, faithful model of what GitHub Actions decides from the workflow files before any step
runs: which jobs run (their `if:`), and which concurrency groups they take, in what order, with
GitHub's rules (docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax,
`concurrency`; and reusing-workflow-configurations, "Supported keywords for jobs that call a
reusable workflow", "github context"):

- a group has at most one running and one pending member; a member queued while the group is
  taken becomes pending and cancels the member pending before it; with cancel-in-progress, it
  cancels the running one; group names are case-insensitive;
- a cancelled job cancels its run (the run shows "cancelled", not "failed");
- a called workflow (`uses:` of a job) sees its caller's `github` context (event, run id, and
  its caller's workflow name in `github.workflow`) and the caller's `with:` as its `inputs`.

Expressions: `${{ }}` (and bare `if:`) in the subset the workflows use: literals, ==, !=, &&, ||,
!, parentheses, format(), startsWith(), property access on github/inputs/matrix/vars, with
GitHub's loose equality (case-insensitive strings; other types compared as numbers) and its
falsy values (false, 0, '', null). Anything else raises: the model never guesses.

Runs are generators of steps (Acquire, Work, Release); `Scheduler` runs them in simulated time.
Terraform's one rule for a saved plan is `Environment`: applying a plan made before another
apply of the same state fails ("Saved plan is stale"), as deploy.sh's apply-saved does."""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

# --- expressions ---------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\.)|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"unsupported expression at {text[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


def number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and isinstance(left, dict | list):
        return left is right
    return number(left) == number(right)


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_(template: Any, *args: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return text_of(args[int(token[1:-1])])

    return re.sub(r"\{\{|\}\}|\{\d+\}", replace, text_of(template))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format": format_,
    "startswith": lambda s, prefix: text_of(s).casefold().startswith(text_of(prefix).casefold()),
}


class Parser:
    def __init__(self, text: str, contexts: dict[str, Any]) -> None:
        self.tokens = tokens(text)
        self.at = 0
        self.contexts = {name.casefold(): value for name, value in contexts.items()}

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise ValueError("unexpected end of expression")
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, found {token[1]!r}")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.equality()
        while self.peek() == "&&":
            self.take()
            right = self.equality()
            value = right if truthy(value) else value
        return value

    def equality(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            value = equal(value, right) if op == "==" else not equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() == ".":
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise ValueError(f"property name expected, found {name!r}")
            value = value.get(name) if isinstance(value, dict) else None
        return value

    def primary(self) -> Any:
        kind, token = self.take()
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return float(token)
        if token == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise ValueError(f"unexpected {token!r}")
        if self.peek() == "(":
            function = FUNCTIONS.get(token.casefold())
            if function is None:
                raise ValueError(f"function {token}() is not modelled")
            self.take("(")
            args: list[Any] = []
            while self.peek() != ")":
                args.append(self.or_())
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
            return function(*args)
        literal = {"true": True, "false": False, "null": None}
        if token in literal:
            return literal[token]
        if token.casefold() not in self.contexts:
            raise ValueError(f"context {token} is not modelled")
        return self.contexts[token.casefold()]


def evaluate(expression: str, contexts: dict[str, Any]) -> Any:
    """One expression, without its ${{ }}."""
    return Parser(expression, contexts).parse()


EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(value: Any, contexts: dict[str, Any]) -> Any:
    """A workflow value: a string that is one ${{ }} is that expression's value; one with
    ${{ }} inside it is a string; anything else is itself."""
    if not isinstance(value, str):
        return value
    whole = EMBEDDED.fullmatch(value.strip())
    if whole:
        return evaluate(whole.group(1), contexts)
    return EMBEDDED.sub(lambda m: text_of(evaluate(m.group(1), contexts)), value)


def condition(value: Any, contexts: dict[str, Any]) -> bool:
    """A job's `if:` (with or without ${{ }}); none means it runs."""
    if value is None:
        return True
    if isinstance(value, str) and not EMBEDDED.search(value):
        return truthy(evaluate(value, contexts))
    return truthy(interpolate(value, contexts))


# --- concurrency ---------------------------------------------------------------------------


@dataclass
class Acquire:
    group: str
    cancel_in_progress: bool


@dataclass
class Release:
    group: str


@dataclass
class Work:
    """Time passing in a job; `before` happens as it starts, `after` as it ends (never, if the
    run is cancelled meanwhile)."""

    minutes: float
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None


Step = Acquire | Release | Work


@dataclass
class Run:
    name: str
    steps: Generator[Step]
    conclusion: str | None = None  # success, failure, cancelled
    why: str = ""
    held: list[str] = field(default_factory=list)
    after: Callable[[], None] | None = None
    groups_entered: list[str] = field(default_factory=list)
    ended: float | None = None  # when, in simulated minutes


@dataclass
class Group:
    running: Run | None = None
    pending: Run | None = None


class Scheduler:
    """GitHub's concurrency rules in simulated minutes; `log` says what happened, in order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.groups: dict[str, Group] = {}
        self.queue: list[tuple[float, int, Run]] = []
        self.order = itertools.count()
        self.runs: list[Run] = []
        self.log: list[str] = []

    def start(self, run: Run, at: float) -> Run:
        self.runs.append(run)
        heapq.heappush(self.queue, (at, next(self.order), run))
        return run

    def group(self, name: str) -> Group:
        return self.groups.setdefault(name.casefold(), Group())

    def advance(self, run: Run) -> None:
        """Run `run` until it waits (for time or a group) or ends."""
        try:
            if run.after is not None:
                after, run.after = run.after, None
                after()
        except StaleSavedPlan as stale:
            self.end(run, "failure", str(stale))
            return
        while run.conclusion is None:
            try:
                step = next(run.steps)
            except StopIteration:
                self.end(run, "success")
                return
            if isinstance(step, Work):
                if step.before is not None:
                    step.before()
                run.after = step.after
                heapq.heappush(self.queue, (self.now + step.minutes, next(self.order), run))
                return
            if isinstance(step, Release):
                self.release(run, step.group)
                continue
            if step.group.casefold() in (g.casefold() for g in run.held):
                # GitHub would leave it pending behind itself for good.
                raise AssertionError(f"deadlocked: {run.name} waits for {step.group}, its own")
            group = self.group(step.group)
            run.groups_entered.append(step.group)
            if group.running is None:
                group.running = run
                run.held.append(step.group)
                continue
            if step.cancel_in_progress:
                self.cancel(group.running, f"cancelled in progress by {run.name}")
                group.running = run
                run.held.append(step.group)
                continue
            if group.pending is not None:
                self.cancel(group.pending, f"pending in {step.group}, superseded by {run.name}")
            group.pending = run
            self.log.append(f"{self.now:g} {run.name} pending in {step.group}")
            return

    def release(self, run: Run, name: str) -> None:
        run.held.remove(name)
        group = self.group(name)
        group.running = None
        waiting, group.pending = group.pending, None
        if waiting is not None:
            group.running = waiting
            waiting.held.append(name)
            self.log.append(f"{self.now:g} {waiting.name} takes {name}")
            self.advance(waiting)

    def cancel(self, run: Run, why: str) -> None:
        for group in self.groups.values():
            if group.pending is run:
                group.pending = None
        self.end(run, "cancelled", why)
        run.steps.close()

    def end(self, run: Run, conclusion: str, why: str = "") -> None:
        run.conclusion, run.why, run.ended = conclusion, why, self.now
        self.log.append(f"{self.now:g} {run.name} {conclusion} {why}".rstrip())
        for name in list(run.held):
            self.release(run, name)

    def run(self) -> list[Run]:
        """Until nothing is left to do. A run still waiting then is deadlocked: it raises."""
        while self.queue:
            self.now, _, run = heapq.heappop(self.queue)
            self.advance(run)
        stuck = [r.name for r in self.runs if r.conclusion is None]
        if stuck:
            raise AssertionError(f"deadlocked: {stuck}; {self.log}")
        return self.runs


# --- what the deploys do to an environment -------------------------------------------------


class StaleSavedPlan(Exception):
    pass


@dataclass
class Environment:
    """One environment's Terraform state: what is applied, and its serial (every apply writes
    the state anew). A saved plan records the serial it was made against."""

    name: str
    commit: str | None = None
    serial: int = 0
    applied: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    def plan(self, commit: str) -> dict[str, Any]:
        return {"commit": commit, "serial": self.serial}

    def apply(self, saved: dict[str, Any], run: str) -> None:
        if saved["serial"] != self.serial:
            self.stale.append(run)
            raise StaleSavedPlan(f"{run}: Saved plan is stale")
        self.commit = saved["commit"]
        self.serial += 1
        self.applied.append(saved["commit"])


# --- the workflow files, run ---------------------------------------------------------------


@dataclass
class Timing:
    checks: float = 10.0  # ci.yml's jobs before deploy-stage
    plan: float = 5.0
    apply: float = 5.0
    approval: dict[str, float] = field(default_factory=dict)  # an environment's reviewers


def on(workflow: dict[str, Any]) -> dict[str, Any]:
    events = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on`
    assert isinstance(events, dict)
    return events


def inputs_for(workflow: dict[str, Any], event: str, given: dict[str, Any]) -> dict[str, Any]:
    """The inputs context: the trigger's defaults and what was given; empty for other events."""
    declared = (on(workflow).get(event) or {}).get("inputs") or {}
    if not declared:
        return {}
    return {name: given.get(name, spec.get("default")) for name, spec in declared.items()}


def concurrency(holder: dict[str, Any], contexts: dict[str, Any]) -> Acquire | None:
    spec = holder.get("concurrency")
    if spec is None:
        return None
    if isinstance(spec, str):
        return Acquire(text_of(interpolate(spec, contexts)), False)
    cancel = truthy(interpolate(spec.get("cancel-in-progress", False), contexts))
    return Acquire(text_of(interpolate(spec["group"], contexts)), cancel)


def matrix_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    axes = ((job.get("strategy") or {}).get("matrix")) or {}
    if not axes:
        return [{}]
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


def job_order(jobs: dict[str, Any]) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        for name, job in jobs.items():
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            if name not in done and all(n in done for n in needs):
                done.append(name)
    return done


@dataclass
class World:
    """The repository's workflow files, what each run did, and each environment."""

    workflows: dict[str, dict[str, Any]]
    timing: Timing = field(default_factory=Timing)
    scheduler: Scheduler = field(default_factory=Scheduler)
    environments: dict[str, Environment] = field(default_factory=dict)
    jobs_run: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def environment(self, name: str) -> Environment:
        return self.environments.setdefault(name, Environment(name))

    def trigger(self, file: str, name: str, at: float, github: dict[str, Any], **given: Any) -> Run:
        """A run of `file` for an event (github: the github context, e.g. event_name, ref)."""
        workflow = self.workflows[file]
        github = {"workflow": workflow["name"], "repository": "owner/pigeon", **github}
        inputs = inputs_for(workflow, github["event_name"], given)
        run = Run(name, self.workflow(file, name, github, inputs, sha=given.get("sha", name)))
        return self.scheduler.start(run, at)

    def workflow(
        self, file: str, run: str, github: dict[str, Any], inputs: dict[str, Any], sha: str
    ) -> Generator[Step]:
        workflow = self.workflows[file]
        contexts = {"github": github, "inputs": inputs, "vars": {}}
        lock = concurrency(workflow, contexts)
        if lock:
            yield lock
        saved: dict[str, Any] = {}
        ran: set[str] = set()
        for job_name in job_order(workflow["jobs"]):
            job = workflow["jobs"][job_name]
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            # GitHub skips a job whose needs did not all succeed (a skipped one included),
            # unless its `if` asks for always() (or a status): the model's jobs succeed.
            if any(n not in ran for n in needs) and "always()" not in str(job.get("if")):
                continue
            for matrix in matrix_of(job):
                contexts = {"github": github, "inputs": inputs, "vars": {}, "matrix": matrix}
                if not condition(job.get("if"), contexts):
                    continue
                ran.add(job_name)
                self.jobs_run.append((run, f"{file}:{job_name}", matrix))
                job_lock = concurrency(job, contexts)
                if job_lock:
                    yield job_lock
                if "uses" in job:
                    called = job["uses"].removeprefix("./.github/workflows/")
                    with_ = {
                        k: interpolate(v, contexts) for k, v in (job.get("with") or {}).items()
                    }
                    yield from self.workflow(
                        called,
                        run,
                        github,
                        inputs_for(self.workflows[called], "workflow_call", with_),
                        sha,
                    )
                else:
                    yield from self.job(run, job, contexts, saved, sha)
                if job_lock:
                    yield Release(job_lock.group)
        if lock:
            yield Release(lock.group)

    def job(
        self,
        run: str,
        job: dict[str, Any],
        contexts: dict[str, Any],
        saved: dict[str, Any],
        sha: str,
    ) -> Generator[Step]:
        """What a job does to an environment: deploy.sh's plan saves a plan; apply-saved
        applies it (after the environment's reviewers); anything else only takes time."""
        script = "\n".join(step.get("run", "") for step in job.get("steps", []))
        target = (
            text_of(interpolate(job.get("environment"), contexts)) if job.get("environment") else ""
        )
        name = target.removesuffix("-plan")
        if "apply-saved" in script:
            yield Work(self.timing.approval.get(target, 0.0))
            env = self.environment(name)
            yield Work(self.timing.apply, after=lambda: env.apply(saved[name], run))
        elif re.search(r'deploy\.sh "\$DEPLOY_ENVIRONMENT" plan', script):
            env = self.environment(name)
            yield Work(self.timing.plan, before=lambda: saved.__setitem__(name, env.plan(sha)))
        elif job.get("steps"):
            yield Work(self.timing.checks if "make test" in script else 1.0)
