"""Process memory for the benches (Linux /proc): a status field, a process's descendants, and a
background sampler (bench/encode_throughput.py, bench/corpus_memory.py)."""
from __future__ import annotations

import threading
from pathlib import Path


def status_kb(field: str, pid: int | str = "self") -> int:
    """A ``/proc/PID/status`` field in kB (``VmRSS``, ``RssAnon``, ``VmHWM``…); 0 when the process is
    gone or the system has no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root: int) -> list[int]:
    """The processes below ``root`` (children, their children, …); empty without /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    return sorted(family - {root})


class Sampler:
    """Calls ``self.sample()`` every ``every`` seconds on a background thread while the ``with`` block
    runs; subclasses keep their peaks in ``sample``."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)
