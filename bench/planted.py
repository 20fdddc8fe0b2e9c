"""Planted alignment on plain vectors (no model): F1 over links, planted nulls returned as nulls, time, memory.

    python bench/planted.py                       # 20,000 ru vectors, seed 7, default settings
    python bench/planted.py --n 5000 --seed 8     # smaller / another draw
    python bench/planted.py --set merge_share_weight=0.0     # try settings (align.aligner.Settings)

The recipe (issue 12): 20,000 random unit vectors in 384 dimensions are the ru side; the az side is
built from them in order, per step: 3 % an ru vector dropped (ru null), 3 % an unrelated random az
vector inserted (az null), 5 % two consecutive ru vectors summed into one az vector (2-1), the rest
1-1. Every az vector is normalised, given Gaussian noise of σ = 0.75/√384 per component and
normalised again. `align.aligner.align_vectors` (default settings, its default ``max_bead``) aligns
them in a fresh subprocess, so the peak RSS (``resource.getrusage``) is the aligner's own plus the
interpreter, numpy, numba and the two inputs. F1 is `align.eval.score_alignment`'s strict F1
(counted by `strict_scores`, the same counts without the quadratic per-bead breakdown).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 384
DROP, INSERT, MERGE = 0.03, 0.03, 0.05

Gold = list[tuple[tuple[int, ...], tuple[int, ...]]]


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def planted(n: int = 20_000, seed: int = 7, dim: int = DIM) -> tuple[np.ndarray, np.ndarray, Gold]:
    """(ru vectors, az vectors, gold links) of one planted alignment (the recipe in the module docstring)."""
    rng = np.random.default_rng(seed)
    ru = _normalise(rng.standard_normal((n, dim))).astype(np.float32)
    az: list[np.ndarray] = []
    gold: Gold = []
    i = 0
    while i < n:
        u = rng.random()
        if u < DROP:
            gold.append(((i,), ()))
            i += 1
        elif u < DROP + INSERT:
            gold.append(((), (len(az),)))
            az.append(_normalise(rng.standard_normal(dim)))
        elif u < DROP + INSERT + MERGE and i + 1 < n:
            gold.append(((i, i + 1), (len(az),)))
            az.append(_normalise(ru[i] + ru[i + 1]))
            i += 2
        else:
            gold.append(((i,), (len(az),)))
            az.append(ru[i].astype(np.float64))
            i += 1
    noisy = _normalise(np.stack(az)) + rng.normal(0.0, 0.75 / np.sqrt(dim), (len(az), dim))
    return ru, _normalise(noisy).astype(np.float32), gold


def null_share(test: Gold, gold: Gold) -> tuple[int, int]:
    """(planted nulls returned as nulls, planted nulls)."""
    ru_null = {i for r, a in test if not a for i in r}
    az_null = {j for r, a in test if not r for j in a}
    planted_ru = [r[0] for r, a in gold if not a]
    planted_az = [a[0] for r, a in gold if not r]
    found = sum(i in ru_null for i in planted_ru) + sum(j in az_null for j in planted_az)
    return found, len(planted_ru) + len(planted_az)


def strict_scores(test: Gold, gold: Gold) -> dict:
    """Strict P/R/F1 exactly as `align.eval.score_alignment` counts them, without its per-bead-type
    breakdown (which re-reads the gold for every link: quadratic on 20,000 links)."""
    from align.eval import _counts, _f1, _ratio

    hit, miss, _, _ = _counts(gold, test)
    found, lost, _, _ = _counts([l for l in test if l[0] and l[1]], [l for l in gold if l[0] and l[1]])
    p, r = _ratio(hit, hit + miss), _ratio(found, found + lost)
    return {"precision_strict": p, "recall_strict": r, "f1_strict": _f1(p, r)}


def run_once(n: int, seed: int, overrides: list[str]) -> dict:
    """Build the planted pair, align it, score it (run this in a fresh process: RSS is its own)."""
    import resource
    import time

    from quality import parse_settings

    from align.aligner import align_vectors
    from align.eval import as_id_links

    ru, az, gold = planted(n, seed)
    settings = parse_settings(overrides)
    align_vectors(ru[:300], az[:300], settings=settings)  # compile the numba kernels outside the timing
    started = time.perf_counter()
    links = as_id_links(align_vectors(ru, az, settings=settings))
    seconds = time.perf_counter() - started
    result = strict_scores(links, gold)
    found, total = null_share(links, gold)
    absorbed = sum(1 for r, a in links if r and a and len(r) + len(a) > 2) - sum(1 for r, a in gold if len(r) == 2)
    return {"n": len(ru), "m": len(az), "f1": result["f1_strict"], "precision": result["precision_strict"],
            "recall": result["recall_strict"], "nulls_found": found, "nulls": total, "seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "extra_merges": absorbed}


def measure(n: int = 20_000, seed: int = 7, overrides: list[str] | None = None) -> dict:
    """`run_once` in a fresh subprocess (one BLAS thread), as a dict."""
    code = ("import json, sys; sys.path.insert(0, 'bench'); from planted import run_once; "
            f"print(json.dumps(run_once({n}, {seed}, {list(overrides or [])!r})))")
    env_threads = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    import os

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env_threads}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="ru vectors")
    parser.add_argument("--seed", type=int, nargs="+", default=[7])
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="aligner settings to try")
    args = parser.parse_args(argv)
    print(f"{'n × m':>13} {'seed':>4} {'P':>6} {'R':>6} {'F1':>6} {'nulls as nulls':>16} {'sec':>5} {'peak MB':>7}")
    for seed in args.seed:
        r = measure(args.n, seed, args.set)
        print(f"{r['n']:>6} × {r['m']:<6d} {seed:4d} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} "
              f"{r['nulls_found']:5d}/{r['nulls']:<5d} {r['nulls_found'] / max(r['nulls'], 1):5.1%} "
              f"{r['seconds']:5.2f} {r['peak_mb']:7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
