"""The raw-crash keys of a date range, from the bucket: `<prefix><3 hex>/<YYYYMMDD>/<crash id>`,
4,096 entropy prefixes, each listed once for the whole range (its keys sort by date), in
parallel with a bounded pool, handed out in key order with a bounded look-ahead."""

from __future__ import annotations

import concurrent.futures
import datetime
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ENTROPY = [f"{n:03x}" for n in range(4096)]


@dataclass(frozen=True)
class DateRange:
    first: datetime.date
    last: datetime.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range ends ({self.last}) before it starts ({self.first})")

    def holds(self, segment: str) -> bool:
        """Is a key's date segment a day of the range?"""
        return len(segment) == 8 and segment.isdigit() and self.first_s <= segment <= self.last_s

    @property
    def first_s(self) -> str:
        return self.first.strftime("%Y%m%d")

    @property
    def last_s(self) -> str:
        return self.last.strftime("%Y%m%d")


class Lister:
    def __init__(self, s3: Any, bucket: str, prefix: str, days: DateRange, workers: int = 16):
        self.s3, self.bucket, self.prefix, self.days = s3, bucket, prefix, days
        self.workers = workers
        self.calls = 0

    def entropy(self, entropy: str, after: str = "") -> list[str]:
        """The keys under one entropy prefix whose day is in the range (and > after)."""
        base = f"{self.prefix}{entropy}/"
        start = max(after, base + self.days.first_s)
        found: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": base}
            kwargs.update({"ContinuationToken": token} if token else {"StartAfter": start})
            page = self.s3.list_objects_v2(**kwargs)
            self.calls += 1
            keys = [item["Key"] for item in page.get("Contents", [])]
            segments = [key[len(base) :].split("/", 1)[0] for key in keys]
            found += [k for k, s in zip(keys, segments, strict=True) if self.days.holds(s)]
            beyond = bool(segments) and segments[-1] > self.days.last_s
            if beyond or not page.get("IsTruncated"):
                return found
            token = page["NextContinuationToken"]

    def keys(self, after: str = "") -> Iterator[tuple[str, list[str]]]:
        """(entropy, its keys) in key order, from the entropy of `after` on."""
        start = after[len(self.prefix) : len(self.prefix) + 3] if after else ENTROPY[0]
        todo = deque(e for e in ENTROPY if e >= start)
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            running: deque[tuple[str, concurrent.futures.Future[list[str]]]] = deque()
            while todo or running:
                while todo and len(running) < 4 * self.workers:  # a bounded look-ahead
                    entropy = todo.popleft()
                    running.append((entropy, pool.submit(self.entropy, entropy, after)))
                entropy, future = running.popleft()
                yield entropy, future.result()
