"""The REPORT line, one grammar that both writes and parses it:

REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\t
Max Memory Used: 40 MB[\tInit Duration: 80.12 ms | \tRestore Duration: 30.50 ms\t
Billed Restore Duration: 4 ms]

Restore Duration is a SnapStart cold start's (an environment restored from a snapshot); its
billed part is the time the after-restore hooks ran.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LINE = re.compile(
    r"^REPORT RequestId: (?P<request_id>\S+)\tDuration: (?P<duration_ms>[0-9.]+) ms\t"
    r"Billed Duration: (?P<billed_ms>[0-9]+) ms\tMemory Size: (?P<memory_size_mb>[0-9]+) MB\t"
    r"Max Memory Used: (?P<max_memory_mb>[0-9]+) MB"
    r"(?:\tInit Duration: (?P<init_ms>[0-9.]+) ms)?"
    r"(?:\tRestore Duration: (?P<restore_ms>[0-9.]+) ms\t"
    r"Billed Restore Duration: (?P<billed_restore_ms>[0-9]+) ms)?$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_mb: int
    init_ms: float | None = None
    billed_ms: int | None = None
    restore_ms: float | None = None
    billed_restore_ms: int | None = None

    @property
    def billed(self) -> int:
        """Lambda bills by the millisecond, rounded up, at least 1 ms."""
        return self.billed_ms if self.billed_ms is not None else math.ceil(self.duration_ms) or 1

    @property
    def cold(self) -> bool:
        """A cold start: Init ran for this invocation, or a SnapStart restore."""
        return self.init_ms is not None or self.restore_ms is not None

    def line(self) -> str:
        text = (
            f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
            f"Billed Duration: {self.billed} ms\tMemory Size: {self.memory_size_mb} MB\t"
            f"Max Memory Used: {self.max_memory_mb} MB"
        )
        if self.init_ms is not None:
            text += f"\tInit Duration: {self.init_ms:.2f} ms"
        if self.restore_ms is not None:
            billed = self.billed_restore_ms if self.billed_restore_ms is not None else 0
            text += (
                f"\tRestore Duration: {self.restore_ms:.2f} ms"
                f"\tBilled Restore Duration: {billed} ms"
            )
        return text

    @classmethod
    def parse(cls, text: str) -> Report:
        """The first REPORT line in `text` (a log, or the line itself)."""
        match = LINE.search(text)
        if match is None:
            raise ValueError("no REPORT line")
        found = match.groupdict()
        return cls(
            request_id=found["request_id"],
            duration_ms=float(found["duration_ms"]),
            billed_ms=int(found["billed_ms"]),
            memory_size_mb=int(found["memory_size_mb"]),
            max_memory_mb=int(found["max_memory_mb"]),
            init_ms=float(found["init_ms"]) if found["init_ms"] else None,
            restore_ms=float(found["restore_ms"]) if found["restore_ms"] else None,
            billed_restore_ms=(
                int(found["billed_restore_ms"]) if found["billed_restore_ms"] else None
            ),
        )
