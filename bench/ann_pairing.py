"""Document-pairing neighbour search at scale: exact vs align.neighbours on synthetic vectors.

    .venv/bin/python bench/ann_pairing.py [--sizes 10000 30000 100000 300000] [--dated]

No model: n Russian and n Azerbaijani "document vectors" (768-d, the size of pairing's combined
head+body vectors with the default model), the i-th az vector the planted counterpart of the i-th ru
one. The vectors have an embedding-like spectrum (coordinate scale (j+1)^-0.5 around a shared mean
direction: mean cosine ~0.83, bunched as e5's, planted pairs ~0.96; the exact search misses 0.06 % of
them at k = 8, what pairing uses). Recall = share of
ru documents whose planted counterpart is among its k neighbours.

At 10k × 10k the exact search (align.documents.nearest_both) and the index path of
align.neighbours (forced: exact_limit=0) run on the same vectors; above, the index path alone, both
directions (ru→az and az→ru), with its time and the process's peak RSS printed. ``--dated`` gives each
document a day in one year (counterparts on the same day or the next) and times the date-blocked path.
``--sweep`` times, at the first size, the settings tried for undated documents: larger HNSW graphs,
mean-centred vectors, PQ fast-scan and PCA with an exact re-rank of a 64-candidate shortlist.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align import neighbours  # noqa: E402
from align.documents import nearest_both as nearest_exact  # noqa: E402

D, K, ALPHA, TAU = 768, 8, 0.5, 0.8


def vectors(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = ((np.arange(D) + 1.0) ** -ALPHA).astype(np.float32)
    base = rng.standard_normal(D).astype(np.float32) * scale * 3
    ru = np.empty((n, D), np.float32)
    az = np.empty((n, D), np.float32)
    for start in range(0, n, 20000):
        z = rng.standard_normal((min(20000, n - start), D), dtype=np.float32)
        noise = rng.standard_normal(z.shape, dtype=np.float32) * TAU
        for out, x in ((ru, base + scale * z), (az, base + scale * (z + noise))):
            out[start : start + len(z)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return ru, az


def recall(ru_idx: np.ndarray) -> float:
    return float((ru_idx == np.arange(len(ru_idx))[:, None]).any(axis=1).mean())


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare_libraries(n: int) -> None:
    """ru→az top-k through each library with the settings align.neighbours uses (M 16, ef 40 / 64)."""
    import faiss
    import hnswlib

    ru, az = vectors(n)
    t0 = time.perf_counter()
    exact = nearest_exact(ru, az, K)[0]
    print(f"{n:,} × {n:,} ru→az: exact {time.perf_counter() - t0:.1f} s (both ways) recall {recall(exact):.4f}")
    t0 = time.perf_counter()
    idx, _ = neighbours.index_topk(ru, az, np.arange(n), K)
    print(f"  faiss HNSW (align.neighbours): {time.perf_counter() - t0:5.1f} s  recall {recall(idx):.4f}")
    t0 = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=D)
    index.init_index(max_elements=n, ef_construction=neighbours.HNSW_EF_CONSTRUCTION, M=neighbours.HNSW_M)
    index.set_num_threads(2)
    index.add_items(az)
    index.set_ef(neighbours.HNSW_EF_SEARCH)
    idx, _ = index.knn_query(ru, k=K)
    print(f"  hnswlib HNSW:                  {time.perf_counter() - t0:5.1f} s  recall {recall(idx):.4f}")
    t0 = time.perf_counter()
    cells = int(4 * np.sqrt(n))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(D), D, cells, faiss.METRIC_INNER_PRODUCT)
    ivf.train(az)
    ivf.add(az)
    ivf.nprobe = 16
    _, idx = ivf.search(ru, K)
    print(f"  faiss IVF-Flat ({cells} cells, 16 probed): {time.perf_counter() - t0:5.1f} s  recall {recall(idx):.4f}")


def rerank(ru: np.ndarray, az: np.ndarray, cand: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of each query's candidate rows by exact inner product in full dimensions."""
    sims = np.einsum("nd,ncd->nc", ru, az[np.clip(cand, 0, None)])
    sims[cand < 0] = -np.inf
    return np.take_along_axis(cand, np.argsort(-sims, axis=1)[:, :k], axis=1)


def _hnsw(keys: np.ndarray, queries: np.ndarray, m: int, ef_construction: int, ef_search: int) -> np.ndarray:
    import faiss

    index = faiss.IndexHNSWFlat(D, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(keys)
    index.hnsw.efSearch = ef_search
    return index.search(queries, K)[1]


BEST_HNSW = (48, 80, 256)  # the sweep's best at 10k (M, efConstruction, efSearch)


def sweep(sizes: list[int], shortlist: int = 64) -> None:
    """ru→az recall and time of the index settings tried for the undated path, against exact search,
    at the first size; at the other sizes the best HNSW setting alone (one direction)."""
    import faiss
    import torch

    n = sizes[0]
    ru, az = vectors(n)
    t0 = time.perf_counter()
    exact = nearest_exact(ru, az, K)[0]
    print(f"{n:,} × {n:,} ru→az, k = {K}: exact {time.perf_counter() - t0:5.1f} s (both ways)  recall {recall(exact):.4f}")
    hnsw = _hnsw
    for m, efc, efs in ((16, 40, 64), (32, 80, 256), BEST_HNSW):
        t0 = time.perf_counter()
        idx = hnsw(az, ru, m, efc, efs)
        print(f"  faiss HNSW M {m}, efConstruction {efc}, efSearch {efs}: {time.perf_counter() - t0:5.1f} s  "
              f"recall {recall(idx):.4f}")
    t0 = time.perf_counter()
    mean = az.mean(axis=0)
    centred = [(x - mean) / np.linalg.norm(x - mean, axis=1, keepdims=True) for x in (az, ru)]
    idx = hnsw(np.ascontiguousarray(centred[0]), np.ascontiguousarray(centred[1]), 32, 80, 256)
    print(f"  faiss HNSW M 32 on mean-centred, re-normalised vectors: {time.perf_counter() - t0:5.1f} s  "
          f"recall {recall(idx):.4f}")
    t0 = time.perf_counter()
    pq = faiss.IndexPQFastScan(D, D // 2, 4, faiss.METRIC_INNER_PRODUCT)
    pq.train(az)
    pq.add(az)
    idx = rerank(ru, az, pq.search(ru, shortlist)[1], K)
    print(f"  faiss PQ fast-scan ({D // 2} × 4 bits), {shortlist} re-ranked exactly: {time.perf_counter() - t0:5.1f} s  "
          f"recall {recall(idx):.4f}")
    t0 = time.perf_counter()
    pca = faiss.PCAMatrix(D, 128)
    pca.train(az)
    low_ru, low_az = (torch.from_numpy(pca.apply(x)) for x in (ru, az))
    cand = np.concatenate([(low_ru[s : s + 2048] @ low_az.T).topk(shortlist, dim=1).indices.numpy()
                           for s in range(0, n, 2048)])
    idx = rerank(ru, az, cand, K)
    print(f"  PCA to 128 dimensions, exact search there (still n²), {shortlist} re-ranked: "
          f"{time.perf_counter() - t0:5.1f} s  recall {recall(idx):.4f}")
    for n in sizes[1:]:
        ru, az = vectors(n)
        t0 = time.perf_counter()
        idx = hnsw(az, ru, *BEST_HNSW)
        print(f"{n:,} × {n:,} ru→az: faiss HNSW M {BEST_HNSW[0]}, efConstruction {BEST_HNSW[1]}, efSearch "
              f"{BEST_HNSW[2]}: {time.perf_counter() - t0:5.1f} s (one direction)  recall {recall(idx):.4f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000, 100000, 300000])
    ap.add_argument("--dated", action="store_true")
    ap.add_argument("--libraries", action="store_true",
                    help="compare the index libraries (faiss HNSW / IVF-Flat, hnswlib) ru→az at the first size")
    ap.add_argument("--sweep", action="store_true",
                    help="the undated-path settings tried (HNSW sizes, centring, PQ, PCA) ru→az at the first size, "
                         "the best HNSW setting at the others")
    args = ap.parse_args()
    if args.sweep:
        sweep(args.sizes)
        return
    if args.libraries:
        compare_libraries(args.sizes[0])
        return
    print(f"{D}-d vectors, k = {K}; peak RSS is the process's so far (it only grows)")
    for n in args.sizes:
        ru, az = vectors(n)
        days = None
        if args.dated:
            rng = np.random.default_rng(1)
            ru_days = rng.integers(0, 365, n)
            days = (ru_days.tolist(), (ru_days + rng.integers(0, 2, n)).tolist())
        if n == args.sizes[0] and n <= 20000:
            t0 = time.perf_counter()
            exact = nearest_exact(ru, az, K)
            t_exact = time.perf_counter() - t0
            print(f"{n:>7,} × {n:,}: exact  {t_exact:6.1f} s  recall {recall(exact[0]):.4f}")
        t0 = time.perf_counter()
        kw = dict(ru_days=days[0], az_days=days[1]) if days else {}
        found = neighbours.nearest_both(ru, az, K, exact_limit=0, **kw)
        t = time.perf_counter() - t0
        label = "dated " if days else "index "
        extra = ""
        if n == args.sizes[0] and n <= 20000:
            extra = f"  (exact − index: {recall(exact[0]) - recall(found[0]):+.4f}; time ×{t_exact / t:.1f} faster)"
        az_recall = float((found[2] == np.arange(n)[:, None]).any(axis=1).mean())
        print(f"{n:>7,} × {n:,}: {label} {t:6.1f} s  recall {recall(found[0]):.4f} (az→ru {az_recall:.4f})"
              f"  peak RSS {peak_mb():,.0f} MB{extra}", flush=True)
        del ru, az, found


if __name__ == "__main__":
    main()
