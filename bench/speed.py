"""Speed and memory of the body alignment (`align.aligner.align_vectors`) on synthetic vectors.

    python bench/speed.py                    # 20,000 × 20,000 sentence vectors (the target: ≤ 2 s, ≤ 1 GB)
    python bench/speed.py --sizes 1000 5000 20000 --kernel
    python bench/speed.py --units            # the whole article path, `align_units`, with captions

The vectors have realistic structure: 384-d, a strong common direction so that unrelated pairs have
cosine ≈ 0.75–0.8 and translations ≈ 0.9 (as with multilingual-e5-small), 1-1 beads mixed with
2-1/1-2 merges, 1-3/3-1, insertions and deletions on both sides, and paragraphs. Prints wall time
(after a warm-up call that loads the compiled kernels) and CPU time (on a shared machine the CPU
time is the steadier figure), the process's peak RSS before and after the call, the peak of
Python/numpy allocations during a second, untimed call (tracemalloc), and the share of gold links
found exactly.
``--kernel`` also times the DP kernel compiled (numba) against the same code run by the interpreter.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align import dp  # noqa: E402
from align.aligner import align_vectors  # noqa: E402


def synthetic(n: int, seed: int = 0, dim: int = 384):
    """(ru vectors, az vectors, ru paragraphs, az paragraphs, gold links) with ~n units per side."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=dim)
    common /= np.linalg.norm(common)
    content = rng.normal(size=(n + 16, dim)).astype(np.float32)
    content /= np.linalg.norm(content, axis=1, keepdims=True)

    def embed(rows: list[list[int]]) -> np.ndarray:
        out = np.empty((len(rows), dim), dtype=np.float32)
        for k, ids in enumerate(rows):
            v = content[ids].sum(axis=0) / np.sqrt(len(ids)) + 1.9 * common + 0.6 * rng.normal(size=dim) / np.sqrt(dim)
            out[k] = v / np.linalg.norm(v)
        return out

    ru_rows, az_rows, gold = [], [], []
    fact = 0
    kinds = rng.choice(8, size=n, p=[0.78, 0.05, 0.05, 0.02, 0.02, 0.03, 0.03, 0.02])
    for kind in kinds:
        if fact >= n:
            break
        if kind == 0:
            r, a = [[fact]], [[fact]]
            fact += 1
        elif kind in (1, 2):
            joined, split = [[fact, fact + 1]], [[fact], [fact + 1]]
            r, a = (joined, split) if kind == 1 else (split, joined)
            fact += 2
        elif kind in (3, 4):
            joined, split = [[fact, fact + 1, fact + 2]], [[fact], [fact + 1], [fact + 2]]
            r, a = (joined, split) if kind == 3 else (split, joined)
            fact += 3
        elif kind == 5:
            r, a = [[fact]], []
            fact += 1
        elif kind == 6:
            r, a = [], [[fact]]
            fact += 1
        else:
            r, a = [[fact], [fact + 1]], [[fact + 1], [fact]]  # local swap: a 2-2
            fact += 2
        gold.append((tuple(range(len(ru_rows), len(ru_rows) + len(r))),
                     tuple(range(len(az_rows), len(az_rows) + len(a)))))
        ru_rows += r
        az_rows += a
    ru, az = embed(ru_rows), embed(az_rows)
    ru_par = np.cumsum(rng.random(len(ru)) < 0.3).tolist()
    az_par = np.cumsum(rng.random(len(az)) < 0.3).tolist()
    return ru, az, ru_par, az_par, gold


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int) -> None:
    ru, az, ru_par, az_par, gold = synthetic(n)
    for k in (200, 700):  # load the compiled kernels of the full and the banded search
        align_vectors(ru[:k], az[:k], ru_paragraphs=ru_par[:k], az_paragraphs=az_par[:k])
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    links = align_vectors(ru, az, ru_paragraphs=ru_par, az_paragraphs=az_par)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_after = peak_rss_mb()
    tracemalloc.start()  # a second, untimed call measures the allocations (tracing slows numpy down)
    align_vectors(ru, az, ru_paragraphs=ru_par, az_paragraphs=az_par)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    found = {(l.ru, l.az) for l in links}
    exact = sum(1 for g in gold if g in found) / len(gold)
    print(f"{len(ru):6d} × {len(az):6d}  {elapsed:6.2f} s (CPU {cpu:5.2f} s)   allocations peak {traced_peak / 2**20:7.1f} MB   "
          f"peak RSS {rss_after:7.1f} MB (before: {rss_before:6.1f})   gold links found {exact:.3f}",
          flush=True)


class VectorLookup:
    """An encoder over precomputed vectors: text "ru 12" → the 12th ru vector (no model time)."""

    name = "synthetic|speed"

    def __init__(self, ru: np.ndarray, az: np.ndarray) -> None:
        self.vectors = {"ru": ru, "az": az}

    def encode(self, texts) -> np.ndarray:
        rows = [self.vectors[t.split()[0]][int(t.split()[1])] for t in texts]
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)


def run_units(n: int, captions: int = 4, exact_levels: bool = False) -> None:
    """`align_units` (title, captions, body) on synthetic units: time and peak memory.

    ``exact_levels``: the caption levels from the full n×m similarity matrix (the pre-sampling
    behaviour, as a baseline)."""
    import functools

    from align import aligner
    from align.aligner import align_units

    if exact_levels:
        aligner.cosine_levels = functools.partial(aligner.cosine_levels, exact_cells=float("inf"))
    from align.types import Unit

    ru, az, ru_par, az_par, _ = synthetic(n + captions)

    def units(side: str, vecs: np.ndarray, par: list[int]) -> list[Unit]:
        kinds = ["caption"] * captions + ["sentence"] * (len(vecs) - captions)
        return [Unit(k, kind, f"{side} {k}", par[k], k) for k, kind in enumerate(kinds)]

    ru_units, az_units = units("ru", ru, ru_par), units("az", az, az_par)
    encoder = VectorLookup(ru, az)
    align_units(ru_units[:700], az_units[:700], encoder)  # compiled kernels
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    links = align_units(ru_units, az_units, encoder)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    covered = sum(len(l.ru) for l in links) == len(ru_units) and sum(len(l.az) for l in links) == len(az_units)
    print(f"align_units {len(ru):6d} × {len(az):6d}  {elapsed:6.2f} s (CPU {cpu:5.2f} s)   "
          f"peak RSS {peak_rss_mb():7.1f} MB (before: {rss_before:6.1f})   every unit once: {covered}", flush=True)


def kernel_comparison(n: int = 150) -> None:
    """The same DP kernel, compiled and interpreted, on an n × n full band."""
    from align.aligner import DEFAULT, prepare

    ru, az, ru_par, az_par, _ = synthetic(n, seed=1)
    doc = prepare(ru, az, DEFAULT, ru_par, az_par)
    x, sc = doc.inputs, doc.scoring
    ru_tab, az_tab, ru_th, az_th = dp.tables(x, sc)
    args = (x.S, x.E, x.N, x.start, x.lo, x.hi, x.ru_w, x.az_w, ru_tab, az_tab, ru_th, az_th, sc.beads,
            sc.coef.astype(np.float64), sc.penalty.astype(np.float64), sc.params())
    dp._fill(*args)
    started = time.perf_counter()
    dp._fill(*args)
    compiled = time.perf_counter() - started
    started = time.perf_counter()
    dp._fill.py_func(*args)
    interpreted = time.perf_counter() - started
    cells = (len(ru) + 1) * (len(az) + 1)
    print(f"DP kernel on {len(ru)}×{len(az)} ({cells} cells, {len(sc.beads)} bead types): numba {compiled * 1e3:.1f} ms, "
          f"interpreted {interpreted * 1e3:.0f} ms ({interpreted / compiled:.0f}×)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--kernel", action="store_true", help="also compare the compiled and interpreted DP kernel")
    parser.add_argument("--units", action="store_true",
                        help="time `align_units` (the whole article path, captions included) instead")
    parser.add_argument("--exact-levels", action="store_true",
                        help="--units: caption levels from the full n×m matrix (the baseline before sampling)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_info

    threads = max((p.get("num_threads", 1) for p in threadpool_info()), default=1)
    print(f"align_vectors on synthetic 384-d vectors (BLAS threads: {threads})")
    for n in args.sizes:
        run_units(n, exact_levels=args.exact_levels) if args.units else run(n)
    if args.kernel:
        kernel_comparison()
    return 0


if __name__ == "__main__":
    sys.exit(main())
