"""Progress for long work: a tqdm bar on a terminal, plain lines in a log.

When stderr is not a terminal (a log file, a pipe, a batch scheduler), tqdm's ``\\r`` frames would
fill the log with garbage, so `progress_bar` prints one plain line at every 10 % instead (and at the
end), e.g. ``align: aligning documents: 120/1200 (10%), 14 s``.
"""
from __future__ import annotations

import sys
import time
from typing import IO


class PlainProgress:
    """The part of tqdm's interface we use (``update``, ``close``, context manager), as log lines."""

    def __init__(self, total: int, desc: str, stream: IO[str], steps: int = 10) -> None:
        self.total, self.desc, self.stream = max(total, 0), desc, stream
        self.count, self._next, self._step = 0, 0, max(self.total // steps, 1)
        self._started = time.perf_counter()
        self._closed = False

    def update(self, n: int = 1) -> None:
        self.count += n
        if self.count >= self._next and self.count < self.total:
            self._line()
            while self._next <= self.count:
                self._next += self._step

    def close(self) -> None:
        if not self._closed and self.total:
            self._closed = True
            self._line()

    def _line(self) -> None:
        share = f" ({100 * self.count // self.total}%)" if self.total else ""
        seconds = time.perf_counter() - self._started
        print(f"align: {self.desc}: {self.count}/{self.total}{share}, {seconds:.0f} s", file=self.stream, flush=True)

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: bool = True, unit: str = "doc", stream: IO[str] | None = None):
    """A progress reporter for ``total`` steps: tqdm on a terminal, `PlainProgress` lines otherwise,
    nothing when not ``enabled``."""
    stream = stream or sys.stderr
    if not enabled:
        return _NoProgress()
    if getattr(stream, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, leave=False, file=stream)
    return PlainProgress(total, desc, stream)
