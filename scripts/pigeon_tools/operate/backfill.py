"""Backfill a date range from the bucket: the raw-crash keys listed (listing.py) go through the
function as S3-shaped events in batches, so that its one decision path applies. A checkpoint
file records the last key of the last batch the function took: a stopped backfill resumes
after it, and no batch it took is sent again."""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pigeon.crash_ids import classify, parse_key
from pigeon_tools import events
from pigeon_tools.cli import interrupts_held
from pigeon_tools.operate.invoker import Invoker
from pigeon_tools.operate.listing import Lister
from pigeon_tools.operate.progress import Progress


class BackfillError(RuntimeError):
    """The backfill stopped; the message says where, and that a new run resumes."""


@dataclass
class Checkpoint:
    path: Path | None
    identity: dict[str, str]  # what backfill the file belongs to
    last_key: str = ""
    complete: bool = False

    @classmethod
    def open(cls, path: Path | None, identity: dict[str, str]) -> Checkpoint:
        if path is None or not path.exists():
            return cls(path, identity)
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            raise BackfillError(f"{path} is not a checkpoint (not JSON)") from None
        if not isinstance(saved, dict) or saved.get("identity") != identity:
            other = saved.get("identity") if isinstance(saved, dict) else None
            raise BackfillError(f"{path} is the checkpoint of another backfill: {other}")
        return cls(path, identity, saved.get("last_key", ""), bool(saved.get("complete")))

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {"identity": self.identity, "last_key": self.last_key, "complete": self.complete}
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with interrupts_held():
            partial.write_text(json.dumps(state, indent=2) + "\n")
            partial.replace(self.path)


@dataclass
class Summary:
    listed: int = 0
    batches: int = 0
    accepted: int = 0
    published: int = 0
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    list_calls: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    def lines(self, dry_run: bool) -> list[str]:
        found = []
        for day, counts in sorted(self.per_day.items()):
            found.append(f"{day}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        rate = self.listed / self.seconds if self.seconds else 0.0
        found.append(
            f"listed {self.listed} keys with {self.list_calls} list calls in {self.seconds:.1f} s"
            f" ({rate:.0f} keys/s)"
        )
        if not dry_run:
            found.append(
                f"sent {self.batches} batches: {self.accepted} accepted, {self.published} "
                f"messages published"
            )
        return found


class Backfill:
    def __init__(
        self,
        lister: Lister,
        invoker: Invoker | None,
        checkpoint: Checkpoint,
        batch: int = 100,
    ) -> None:
        self.lister, self.invoker, self.checkpoint, self.batch = lister, invoker, checkpoint, batch
        self.stop_requested = False  # set from a signal handler: stop after the current batch
        self.summary = Summary()

    def run(self, dry_run: bool = False) -> Summary:
        """List and send; `self.summary` holds what was done so far, also after an error."""
        self.summary = summary = Summary()
        started = time.perf_counter()
        try:
            self._run(dry_run, summary)
        finally:
            summary.list_calls, summary.seconds = self.lister.calls, time.perf_counter() - started
        return summary

    def _run(self, dry_run: bool, summary: Summary) -> None:
        after = "" if dry_run else self.checkpoint.last_key
        pending: list[str] = []
        listed = self.lister.keys(after)
        with (
            closing(listed),
            Progress(len(self.lister.todo(after)), "backfill", "prefixes") as progress,
        ):
            for _, keys in listed:
                summary.listed += len(keys)
                self.count(keys, summary)
                pending += keys
                while not dry_run and len(pending) >= self.batch and not self.stop_requested:
                    self.send(pending[: self.batch], summary)
                    del pending[: self.batch]
                progress.advance(note=f"{summary.listed} keys")
                if self.stop_requested:
                    summary.interrupted = True
                    break
            if pending and not dry_run:
                if self.stop_requested:  # asked for after the last listing: not done yet
                    summary.interrupted = True
                else:
                    self.send(pending, summary)
        if not dry_run and not summary.interrupted:
            self.checkpoint.complete = True
            self.checkpoint.save()

    def count(self, keys: list[str], summary: Summary) -> None:
        for key in keys:  # raw-crash keys of the range: the lister keeps no other
            parsed = parse_key(key, self.lister.prefix)
            assert parsed is not None
            decision = classify(parsed.crash_id)
            summary.per_day[parsed.date][decision.value] += 1

    def send(self, keys: list[str], summary: Summary) -> None:
        assert self.invoker is not None
        resume = self.checkpoint.last_key or "the start"
        answer = self.invoker.invoke(events.event(keys, bucket=self.lister.bucket))
        if not answer.ok:
            raise BackfillError(
                f"the function failed on the batch after {resume}: {answer.error}. "
                "Nothing after that key is marked done: run the same command again to resume."
            )
        result, problem = taken(keys, self.lister.prefix, answer.payload)
        if problem:
            raise BackfillError(
                f"the function did not take the batch after {resume}: {problem}. "
                "Nothing after that key is marked done: fix that, then run the same command "
                "again to resume."
            )
        summary.batches += 1
        summary.accepted += int(result["accepted"])
        summary.published += sum(len(ids) for ids in result["published"].values())
        self.checkpoint.last_key = keys[-1]
        self.checkpoint.save()


SUMMARY_COUNTS = ("records", "accepted", "deferred", "throttled", "ignored", "invalid")


def taken(keys: list[str], prefix: str, payload: Any) -> tuple[dict[str, Any], str]:
    """Pigeon's answer to a batch of raw-crash keys, and what is wrong with it ("" when the
    function took every key: it read each record, decided each crash id as the key says, and
    published each crash id it accepted to at least one queue unless it throttled it)."""
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(name), int) for name in SUMMARY_COUNTS
    ):
        snippet = json.dumps(payload)[:120] if payload is not None else "nothing"
        return {}, (
            f"its answer is not Pigeon's invocation summary ({snippet}): is it the Pigeon "
            "function (--env, --function)?"
        )
    published = payload.get("published")
    if not isinstance(published, dict):
        return {}, f"its answer has no published queues ({json.dumps(payload)[:120]})"
    count = len(keys)
    if payload["records"] != count:
        return payload, f"it read {payload['records']} of the {count} records sent"
    if payload["ignored"]:
        return payload, (
            f"it ignored {payload['ignored']} of the {count} records: for it they are not "
            f"raw-crash keys (its PIGEON_KEY_PREFIX is not --prefix {prefix!r}?) or not events "
            "it takes (its PIGEON_EVENT_NAMES without ObjectCreated:Put?)"
        )
    accepted_ids: set[str] = set()
    expected: Counter[str] = Counter()
    for key in keys:
        parsed = parse_key(key, prefix)
        decision = classify(parsed.crash_id).value if parsed else "invalid"
        expected[decision] += 1
        if parsed and decision == "accept":
            accepted_ids.add(parsed.crash_id)
    decided = {"accept": "accepted", "defer": "deferred", "invalid": "invalid"}
    wrong = [
        f"{payload[field]} {field} where the keys say {expected[decision]}"
        for decision, field in decided.items()
        if payload[field] != expected[decision]
    ]
    if wrong:
        return payload, "it decided " + ", ".join(wrong)
    on_queues = {i for ids in published.values() if isinstance(ids, list) for i in ids}
    missing = accepted_ids - on_queues
    # An id on no queue must have been throttled on each of its queues: at least one throttle
    # per missing id (one queue at 0% does not excuse the ids missing from the others).
    if len(missing) > payload["throttled"]:
        return payload, (
            f"it accepted {len(accepted_ids)} crash ids and published {len(missing)} of them to "
            f"no queue (one: {sorted(missing)[0]})"
        )
    return payload, ""
