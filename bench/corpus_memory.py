"""Peak memory of `align corpus` as the collection grows (fake encoder, no model).

    .venv/bin/python bench/corpus_memory.py                       # --pages 10000 100000
    .venv/bin/python bench/corpus_memory.py --pages 2000 20000    # quicker

Each size runs in a fresh process of its own: N/2 Russian and N/2 Azerbaijani synthetic pages
(bench/pages.py stories of 2–3 sentences, the az side `fake_translate` of the ru one, one date per
story spread over a year), then `run_corpus` over them with the trigram `FakeEncoder` at 384
dimensions (the default model's size) and ``--workers`` worker processes (default 2, as `align
corpus`; 0 runs everything in the driver). Printed per size: wall seconds, pairs found of the N/2
planted, peak anonymous memory (RssAnon, sampled every 0.2 s: what the kernel cannot drop —
memory-mapped vector files are page cache) of the driver, of one worker and of all processes
together, the driver's peak resident memory (VmHWM, page cache of mapped files included), and the
pairing vectors' own size, N × 2 × 384 × 4 bytes (a head and a body vector per page).

The issue's check is printed last: peak(largest) − peak(smallest) against the largest run's vectors.
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from procmem import Sampler, descendants, status_kb  # noqa: E402

DIM = 384


def write_pages(root: Path, pairs: int, seed: int = 0) -> tuple[Path, Path]:
    """``pairs`` ru pages and their az counterparts under ``root``/ru and ``root``/az."""
    from pages import PageExtras, SourceDoc, fake_translate, render_page, synthetic_documents, _layout

    rng = random.Random(f"memory-{seed}")
    ru_dir, az_dir = root / "ru", root / "az"
    ru_dir.mkdir(parents=True)
    az_dir.mkdir(parents=True)
    first = date(2023, 1, 1)
    batch = 500
    for start in range(0, pairs, batch):
        for n, d in enumerate(synthetic_documents(min(batch, pairs - start), seed=seed * 100_000 + start)):
            i = start + n
            body = d.ru_body[: rng.randint(2, 3)]
            doc = SourceDoc(d.key, d.ru_title, body, d.az_title, tuple(fake_translate(b) for b in body))
            extras = PageExtras(day=first + timedelta(days=rng.randrange(365)))
            layout = _layout(doc, rng)
            ru_dir.joinpath(f"ru-{i:06d}.txt").write_text(
                render_page(doc.ru_title, doc.ru_body, "ru", layout, extras), encoding="utf-8")
            az_dir.joinpath(f"az-{i:06d}.txt").write_text(
                render_page(doc.az_title, doc.az_body, "az", layout, extras), encoding="utf-8")
    return ru_dir, az_dir


class AnonPeaks(Sampler):
    """Samples anonymous memory (RssAnon) of this process and of its worker processes."""

    def __init__(self, every: float = 0.2) -> None:
        super().__init__(every)
        self.driver, self.tree, self.worker = 0, 0, 0

    def sample(self) -> None:
        driver = status_kb("RssAnon")
        workers = [status_kb("RssAnon", pid) for pid in descendants(os.getpid())]
        self.driver = max(self.driver, driver)
        self.worker = max([self.worker, *workers])
        self.tree = max(self.tree, driver + sum(workers))


def measure(pages: int, workdir: Path, workers: int) -> dict:
    """One run at ``pages`` pages, in this process (called through `main --child`)."""
    from pages import FakeFactory

    from align.corpus import run_corpus
    from align.filters import FilterSettings

    pairs = pages // 2
    ru_dir, az_dir = write_pages(workdir / "pages", pairs)
    start_anon = status_kb("RssAnon")
    started = time.perf_counter()
    with AnonPeaks() as peaks:
        report = run_corpus(ru_dir, az_dir, workdir / "out", encoder_factory=FakeFactory(dim=DIM), workers=workers,
                            filters=FilterSettings(language=False), progress=False)
    seconds = time.perf_counter() - started
    right = sum(1 for line in (workdir / "out" / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]
                if line.split("\t")[0].removeprefix("ru-") == line.split("\t")[1].removeprefix("az-"))
    return {"pages": pages, "seconds": round(seconds, 1), "pairs": report["pairs"], "right": right,
            "planted": pairs, "driver_hwm_mb": status_kb("VmHWM") / 1024, "driver_anon_mb": peaks.driver / 1024,
            "tree_anon_mb": peaks.tree / 1024, "worker_anon_mb": peaks.worker / 1024,
            "start_anon_mb": start_anon / 1024, "vectors_mb": pages * 2 * DIM * 4 / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[10_000, 100_000], help="pages (half ru, half az)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (0: all in the driver)")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="align-memory-") as tmp:
            print(json.dumps(measure(args.child, Path(tmp), args.workers)))
        return
    rows = []
    for pages in args.pages:
        done = subprocess.run([sys.executable, __file__, "--child", str(pages), "--workers", str(args.workers)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{pages} pages: the run failed: {done.stderr.strip().splitlines()[-1:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['pages']:>7} pages, {args.workers} workers: {row['seconds']:7.1f} s; pairs {row['pairs']} "
              f"({row['right']} right of {row['planted']} planted); peak anonymous memory: driver "
              f"{row['driver_anon_mb']:.0f} MB (at start {row['start_anon_mb']:.0f} MB), one worker "
              f"{row['worker_anon_mb']:.0f} MB, all processes {row['tree_anon_mb']:.0f} MB; driver peak RSS "
              f"{row['driver_hwm_mb']:.0f} MB; vectors {row['vectors_mb']:.0f} MB", flush=True)
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        for label, key in (("all processes, anonymous", "tree_anon_mb"), ("driver, anonymous", "driver_anon_mb"),
                           ("driver, RSS", "driver_hwm_mb")):
            grow = large[key] - small[key]
            print(f"peak ({label}) grows by {grow:.0f} MB from {small['pages']} to {large['pages']} pages; "
                  f"the {large['pages']} pages' vectors are {large['vectors_mb']:.0f} MB: "
                  f"{'less' if grow < large['vectors_mb'] else 'NOT less'}")


if __name__ == "__main__":
    main()
