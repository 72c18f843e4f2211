"""The raw-crash keys of a date range, from the bucket: `<prefix><3 hex>/<YYYYMMDD>/<crash id>`
(the function's own grammar, pigeon.crash_ids), 4,096 entropy prefixes, each listed once for
the whole range (its keys sort by date), in parallel with a bounded pool, handed out in key
order with a bounded look-ahead."""

from __future__ import annotations

import concurrent.futures
import datetime
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from pigeon.crash_ids import parse_key

# The collector's entropy: the crash id's first 3 characters, hex.
ENTROPY = [f"{n:03x}" for n in range(4096)]


@dataclass(frozen=True)
class DateRange:
    first: datetime.date
    last: datetime.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range ends ({self.last}) before it starts ({self.first})")

    def holds(self, date: str) -> bool:
        """Is a raw-crash key's date (YYYYMMDD) a day of the range?"""
        return self.first_s <= date <= self.last_s

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

    def held(self, key: str) -> bool:
        """Is the key a raw-crash key of a day of the range?"""
        parsed = parse_key(key, self.prefix)
        return parsed is not None and self.days.holds(parsed.date)

    def todo(self, after: str = "") -> list[str]:
        """The entropy prefixes left to list: from the one of `after` (a key sent) on."""
        parsed = parse_key(after, self.prefix) if after else None
        if after and parsed is None:
            raise ValueError(f"{after!r} is not a raw-crash key under {self.prefix}")
        return [e for e in ENTROPY if parsed is None or e >= parsed.entropy]

    def entropy(self, entropy: str, after: str = "") -> list[str]:
        """The keys under one entropy prefix whose day is in the range (and > after)."""
        base = f"{self.prefix}{entropy}/"
        start = max(after, base + self.days.first_s)
        end = f"{base}{self.days.last_s}0"  # after every key of the last day: "0" sorts after "/"
        found: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": base}
            kwargs.update({"ContinuationToken": token} if token else {"StartAfter": start})
            page = self.s3.list_objects_v2(**kwargs)
            self.calls += 1
            keys = [item["Key"] for item in page.get("Contents", [])]
            found += [key for key in keys if self.held(key)]
            if (keys and keys[-1] >= end) or not page.get("IsTruncated"):
                return found
            token = page["NextContinuationToken"]

    def keys(self, after: str = "") -> Generator[tuple[str, list[str]]]:
        """(entropy, its keys) in key order, from the entropy of `after` on."""
        todo = deque(self.todo(after))
        pool = concurrent.futures.ThreadPoolExecutor(self.workers)
        try:
            running: deque[tuple[str, concurrent.futures.Future[list[str]]]] = deque()
            while todo or running:
                while todo and len(running) < 4 * self.workers:  # a bounded look-ahead
                    entropy = todo.popleft()
                    running.append((entropy, pool.submit(self.entropy, entropy, after)))
                entropy, future = running.popleft()
                yield entropy, future.result()
        finally:  # stopped or failed: the look-ahead is not listed for nothing, and a stop
            # does not wait for the listings in flight (a few ms each; they end on their own)
            pool.shutdown(wait=False, cancel_futures=True)
