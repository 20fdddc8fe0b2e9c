"""Published aligners re-implemented on our vectors, for side-by-side figures in bench/quality.py.

* ``bertalign`` — Bertalign's algorithm (Liu & Zhu 2022) as its paper and defaults describe it:
  real embeddings of every concatenation of up to ``max_align - 1`` consecutive sentences; a
  first pass (1-1 and nulls over each sentence's top-3 neighbours) gives anchors; a second pass
  searches beads up to ``a + b ≤ 5`` in a window of 5 around them. A bead scores the cosine of its
  two concatenations minus the mean cosine of each side with the other side's adjacent single
  sentences ("margin"), times ``log2(1 + min/max)`` of the character lengths (after scaling by the
  document's length ratio); a null scores ``skip = −0.1``. Scores are *not* weighted by bead size.

Our own code, written from the published description (no code copied). Embedding is done by the
caller's encoder, so the figures are on exactly the same model as ours.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from numba import njit

IdLink = tuple[tuple[int, ...], tuple[int, ...]]


def overlap_vectors(texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], depth: int):
    """``vecs[o, i]``: the embedding of texts[i-o .. i] joined by spaces (zeros where i < o); and the
    UTF-8 byte lengths of the same concatenations, shape (depth, n)."""
    n = len(texts)
    wanted: list[str] = []
    slots: list[tuple[int, int]] = []
    lens = np.zeros((depth, n))
    for o in range(depth):
        for i in range(o, n):
            joined = " ".join(texts[i - o : i + 1])
            wanted.append(joined)
            slots.append((o, i))
            lens[o, i] = len(joined.encode("utf-8"))
    vecs = np.asarray(encode(wanted), dtype=np.float32)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    out = np.zeros((depth, n, vecs.shape[1]), dtype=np.float32)
    for (o, i), v in zip(slots, vecs):
        out[o, i] = v
    return out, lens


def bead_types(max_align: int) -> np.ndarray:
    beads = [(0, 1), (1, 0)] + [(a, b) for a in range(1, max_align) for b in range(1, max_align) if a + b <= max_align]
    return np.array(beads, dtype=np.int64)


def first_pass(src: np.ndarray, tgt: np.ndarray, top_k: int = 3) -> list[tuple[int, int]]:
    """1-1 anchors: a DP over 1-1 and nulls where a 1-1 scores its cosine if the target is among the
    source's top-k neighbours (else 0), nulls 0. Returns (i, j) DP cells (1-based ends) of 1-1 steps."""
    sim = src @ tgt.T
    k = min(top_k, sim.shape[1])
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    gain = np.zeros_like(sim)
    rows = np.arange(sim.shape[0])[:, None]
    gain[rows, top] = sim[rows, top]
    return _first_fill(gain.astype(np.float64))


@njit(cache=True)
def _first_fill(gain):
    n, m = gain.shape
    cost = np.zeros((n + 1, m + 1))
    back = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            best = -1e30
            arg = -1
            if j > 0 and cost[i, j - 1] > best:
                best, arg = cost[i, j - 1], 0
            if i > 0 and cost[i - 1, j] > best:
                best, arg = cost[i - 1, j], 1
            if i > 0 and j > 0 and cost[i - 1, j - 1] + gain[i - 1, j - 1] > best:
                best, arg = cost[i - 1, j - 1] + gain[i - 1, j - 1], 2
            cost[i, j] = best
            back[i, j] = arg
    out = []
    i, j = n, m
    while i > 0 or j > 0:
        a = back[i, j]
        if a == 2:
            out.append((i, j))
            i, j = i - 1, j - 1
        elif a == 1:
            i -= 1
        else:
            j -= 1
    return out[::-1]


def second_path(anchors: list[tuple[int, int]], win: int, n: int, m: int) -> np.ndarray:
    """Per DP row i (0..n): the [lo, hi] column window: between consecutive anchors, widened by ``win``."""
    anchors = list(anchors)
    if not anchors or anchors[-1] != (n, m):
        if anchors and (anchors[-1][0] == n or anchors[-1][1] == m):
            anchors.pop()
        anchors.append((n, m))
    path = []
    prev_i, prev_j = 0, 0
    for i, j in anchors:
        lo, hi = max(0, prev_j - win), min(m, j + win)
        path += [(lo, hi)] * (i - prev_i)
        prev_i, prev_j = i, j
    path = [path[0] if path else (0, m)] + path
    return np.array(path, dtype=np.int64)


@njit(cache=True)
def _second_fill(sv, tv, sl, tl, path, beads, ratio, skip):
    n = sv.shape[1]
    m = tv.shape[1]
    width = 0
    for i in range(n + 1):
        width = max(width, path[i, 1] - path[i, 0] + 1)
    cost = np.full((n + 1, width), -1e30)
    back = np.full((n + 1, width), -1, dtype=np.int8)
    cost[0, 0 - path[0, 0]] = 0.0
    for i in range(n + 1):
        for j in range(path[i, 0], path[i, 1] + 1):
            if i == 0 and j == 0:
                continue
            best = -1e30
            arg = -1
            for t in range(beads.shape[0]):
                a = beads[t, 0]
                b = beads[t, 1]
                pi = i - a
                pj = j - b
                if pi < 0 or pj < 0 or pj < path[pi, 0] or pj > path[pi, 1]:
                    continue
                prev = cost[pi, pj - path[pi, 0]]
                if prev <= -1e29:
                    continue
                if a == 0 or b == 0:
                    s = skip
                else:
                    u = sv[a - 1, i - 1]
                    v = tv[b - 1, j - 1]
                    s = np.dot(u, v) - 0.5 * (_neighbours(u, tv, b, j, m) + _neighbours(v, sv, a, i, n))
                    lu = sl[a - 1, i - 1]
                    lv = tl[b - 1, j - 1] * ratio
                    s *= np.log2(1.0 + min(lu, lv) / max(lu, lv, 1e-9))
                if prev + s > best:
                    best = prev + s
                    arg = t
            cost[i, j - path[i, 0]] = best
            back[i, j - path[i, 0]] = arg
    return back


@njit(cache=True)
def _neighbours(vec, db, size, end, count):
    """Mean cosine of ``vec`` with the single sentences just before and just after the block ending at
    ``end`` (1-based) of ``size`` sentences; a missing side is left out."""
    left = end - size  # 1-based index of the sentence before the block
    right = end + 1
    total = 0.0
    seen = 0
    if right <= count:
        total += np.dot(vec, db[0, right - 1])
        seen += 1
    if left > 0:
        total += np.dot(vec, db[0, left - 1])
        seen += 1
    return total / seen if seen else 0.0


def bertalign(src_texts: Sequence[str], tgt_texts: Sequence[str], encode: Callable[[list[str]], np.ndarray],
              max_align: int = 5, top_k: int = 3, win: int = 5, skip: float = -0.1) -> list[IdLink]:
    """Bertalign's two-pass alignment of two sentence lists with the given encoder; Vecalign-style links."""
    n, m = len(src_texts), len(tgt_texts)
    if n == 0 or m == 0:
        return [((i,), ()) for i in range(n)] + [((), (j,)) for j in range(m)]
    depth = max_align - 1
    sv, sl = overlap_vectors(src_texts, encode, depth)
    tv, tl = overlap_vectors(tgt_texts, encode, depth)
    anchors = first_pass(sv[0], tv[0], top_k)
    path = second_path(anchors, win, n, m)
    beads = bead_types(max_align)
    ratio = float(sl[0].sum() / max(tl[0].sum(), 1.0))
    back = _second_fill(sv.astype(np.float64), tv.astype(np.float64), sl, tl, path, beads, ratio, skip)
    links: list[IdLink] = []
    i, j = n, m
    while i > 0 or j > 0:
        t = back[i, j - path[i, 0]]
        if t < 0:
            raise RuntimeError("bertalign search reached a dead end")
        a, b = int(beads[t, 0]), int(beads[t, 1])
        links.append((tuple(range(i - a, i)), tuple(range(j - b, j))))
        i, j = i - a, j - b
    return links[::-1]
