"""Nearest-neighbour search for document pairing that stays sub-quadratic on large collections.

    both sides ≤ EXACT_LIMIT documents → exact blocked matrix products (align.documents.nearest_exact)
    larger:
      dated query documents → exact search among the other side's documents dated within ±window days
                              (+ the undated ones), one block per day: cost ~ n × (documents per window)
      undated query documents (and days whose window is itself huge) → an HNSW graph index (faiss)
                              over the other side

The result has the same shape as the exact search — ``(ru_idx, ru_sim, az_idx, az_sim)``, k columns,
best first, ties by index — so the pairing's margins and candidates are computed the same way.
Figures: bench/ann_pairing.py.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

EXACT_LIMIT = 20_000  # the exact search up to this many documents a side (10k × 10k: ~8 s on 2 cores)
DATE_WINDOW = 7  # days: blocked candidates are at most this far apart (the pairing penalises > 3 days)
HNSW_M = 16  # graph degree
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64
BLOCK = 2048  # query rows per exact block


def nearest_both(ru: np.ndarray, az: np.ndarray, k: int, block: int = 1024, *,
                 ru_days: Sequence[int | None] | None = None, az_days: Sequence[int | None] | None = None,
                 window: int = DATE_WINDOW, exact_limit: int = EXACT_LIMIT, window_limit: int = EXACT_LIMIT
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` most similar az rows of every ru row and ru rows of every az row (inner product):
    exact up to ``exact_limit`` rows a side, blocked by date and approximate above (module docstring);
    a date window (or set of undated keys) of at most ``window_limit`` keys is searched exactly."""
    from .documents import nearest_both as nearest_exact

    if max(len(ru), len(az)) <= exact_limit or not len(ru) or not len(az):
        return nearest_exact(ru, az, k, block)
    ru_days = _days(ru_days, len(ru))
    az_days = _days(az_days, len(az))
    ru_idx, ru_sim = nearest_one_way(ru, az, k, ru_days, az_days, window, window_limit)
    az_idx, az_sim = nearest_one_way(az, ru, k, az_days, ru_days, window, window_limit)
    return ru_idx, ru_sim, az_idx, az_sim


def _days(days: Sequence[int | None] | None, n: int) -> np.ndarray:
    """Days as int64, -1 for unknown."""
    if days is None:
        return np.full(n, -1, np.int64)
    return np.array([-1 if d is None else int(d) for d in days], np.int64)


def nearest_one_way(queries: np.ndarray, keys: np.ndarray, k: int, q_days: np.ndarray, k_days: np.ndarray,
                    window: int, exact_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Every query's ``k`` best keys: within its date window where both dates are known (plus the
    undated keys), through the index otherwise."""
    k = min(k, len(keys))
    idx = np.full((len(queries), k), -1, np.int64)
    sim = np.full((len(queries), k), -np.inf, np.float32)
    dated_keys = np.flatnonzero(k_days >= 0)
    undated_keys = np.flatnonzero(k_days < 0)
    by_index = np.flatnonzero(q_days < 0) if len(dated_keys) else np.arange(len(queries))
    if len(dated_keys):
        order = dated_keys[np.argsort(k_days[dated_keys], kind="stable")]
        sorted_days = k_days[order]
        wide = []
        for day in np.unique(q_days[q_days >= 0]):
            rows = np.flatnonzero(q_days == day)
            lo, hi = np.searchsorted(sorted_days, [day - window, day + window + 1])
            if hi - lo > exact_limit:
                wide.append(rows)  # a window as large as a whole collection: the index is cheaper
                continue
            cand = order[lo:hi]
            if len(undated_keys) <= exact_limit:
                cand = np.concatenate([cand, undated_keys])
            i, s = exact_topk(queries[rows], keys, cand, k)
            idx[rows], sim[rows] = i, s
        if len(undated_keys) > exact_limit:  # many undated keys: search them through their own index
            dated_rows = np.flatnonzero(q_days >= 0)
            i, s = index_topk(queries[dated_rows], keys, undated_keys, k)
            idx[dated_rows], sim[dated_rows] = merge_topk(idx[dated_rows], sim[dated_rows], i, s, k)
        by_index = np.concatenate([by_index, *wide]) if wide else by_index
        short = np.flatnonzero(np.isinf(sim[:, -1]))  # fewer than k keys in the window: search all keys
        by_index = np.union1d(by_index, short)
    if len(by_index):
        i, s = index_topk(queries[by_index], keys, np.arange(len(keys)), k)
        idx[by_index], sim[by_index] = i, s
    return sorted_rows(idx, sim)


def exact_topk(queries: np.ndarray, keys: np.ndarray, cand: np.ndarray, k: int, block: int = BLOCK
               ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of the candidate key rows ``cand`` for each query (exact; -1/-inf pad)."""
    import torch

    out_idx = np.full((len(queries), k), -1, np.int64)
    out_sim = np.full((len(queries), k), -np.inf, np.float32)
    if not len(cand):
        return out_idx, out_sim
    sub = torch.from_numpy(np.ascontiguousarray(keys[cand], dtype=np.float32))
    kk = min(k, len(cand))
    with torch.no_grad():
        for start in range(0, len(queries), block):
            q = torch.from_numpy(np.ascontiguousarray(queries[start : start + block], dtype=np.float32))
            vals, pos = (q @ sub.T).topk(kk, dim=1)
            out_idx[start : start + len(q), :kk] = cand[pos.numpy()]
            out_sim[start : start + len(q), :kk] = vals.numpy()
    return out_idx, out_sim


def index_topk(queries: np.ndarray, keys: np.ndarray, cand: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of the key rows ``cand`` for each query through an HNSW graph (faiss,
    inner product, exact inner products on the vectors it visits)."""
    import faiss

    data = np.ascontiguousarray(keys[cand], dtype=np.float32)
    index = faiss.IndexHNSWFlat(data.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(data)
    index.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * k)
    sim, pos = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    found = pos >= 0
    return np.where(found, cand[np.clip(pos, 0, None)], -1), np.where(found, sim, -np.inf).astype(np.float32)


def merge_topk(idx_a: np.ndarray, sim_a: np.ndarray, idx_b: np.ndarray, sim_b: np.ndarray, k: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of two candidate lists per row."""
    idx = np.hstack([idx_a, idx_b])
    sim = np.hstack([sim_a, sim_b])
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)


def sorted_rows(idx: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row by descending similarity, ties by ascending index (as the exact search)."""
    order = np.lexsort((idx, -sim), axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)
