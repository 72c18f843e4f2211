"""Progress of long work: a bar on a terminal (tqdm), plain lines otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


class Progress:
    def __init__(self, total: int | None, label: str, unit: str, stream: TextIO = sys.stderr):
        self.total, self.label, self.unit, self.stream = total, label, unit, stream
        self.done = 0
        self.bar: Any = None
        self.last_line = 0.0
        if stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit=unit, file=stream)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line()

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            if note:
                self.bar.set_postfix_str(note)
        elif time.monotonic() - self.last_line >= 2.0:
            self._line(note)

    def _line(self, note: str = "") -> None:
        self.last_line = time.monotonic()
        of = f"/{self.total}" if self.total is not None else ""
        extra = f" ({note})" if note else ""
        print(f"{self.label}: {self.done}{of} {self.unit}{extra}", file=self.stream, flush=True)
