"""The alignment search: a monotonic dynamic programme over sentence vectors, in linear time and memory.

Everything here works on arrays only (no sentence text, no model; the numbers cue gets each unit's
numbers as short lists of normalised strings). The pieces, in the order `search` uses them:

1. **Band.** Short inputs are searched in full. Long ones first get a coarse path on block-averaged
   vectors (`coarse_band`), and the fine search runs in a band around it: memory and time grow with
   ``n·width``, not ``n·m``.
2. **Similarities** of single units inside the band (`banded_similarity`), and each unit's
   **hub** value: the mean of its ``k`` best similarities on the other side (`hubs`).
3. **Bead scores, derived.** The vector of a concatenation is the (weighted) sum of its unit vectors,
   so ``cos(Σu, Σv) = Σ w_r w_c cos(u_r, v_c) / (‖Σ w u‖ ‖Σ w v‖)``: the numerator is a block of the
   1-1 matrix and the norms come from dot products of neighbouring units (`block_norms`). No bead is
   embedded during the search.
4. **The programme** (`_fill`): for each cell, the best of the bead types (1-1, 1-2, 2-1, 2-2, 1-3,
   3-1 … and the nulls 1-0, 0-1). A bead scores ``coef·(ŝ − τ) − penalty`` where ``ŝ`` is the bead's
   margin (cosine minus the mean hub of its units) rescaled so that 0 is the document's typical wrong
   pair and 1 its typical right pair, minus a length-ratio term and a paragraph-crossing term, plus
   a numbers term when the texts are known (`shared_numbers`: numbers written on both sides of the
   bead earn, numbers on one side only cost). Optionally (`embedded_similarity`) part of a bead's
   cosine comes from real embeddings of the concatenations instead of the derived one.

`Scoring` holds all the knobs; the caller (align.aligner) sets them from the document and the model.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numba import njit

NEG = -1.0e30  # "unreachable"
NO_EMBEDDED = np.zeros((0, 0, 0), dtype=np.float32)  # Inputs.E when no concatenation is embedded
NO_NUMBERS = np.zeros((0, 0), dtype=np.float32)  # Inputs.N when the texts are not known
OUTSIDE = -1.0  # cosine assumed for a cell outside the band


def bead_types(max_bead: int = 4) -> np.ndarray:
    """All (a, b) with a, b ≥ 1 and a + b ≤ max_bead, plus the nulls (1, 0) and (0, 1): shape (k, 2)."""
    beads = [(a, b) for total in range(2, max_bead + 1) for a in range(1, total) for b in [total - a]]
    return np.array(beads + [(1, 0), (0, 1)], dtype=np.int64)


@dataclass
class Scoring:
    """How a bead is scored (see the module docstring). Arrays are indexed like `bead_types`."""

    beads: np.ndarray
    coef: np.ndarray  # per bead: weight of (ŝ − τ); (a + b) counts every sentence the bead explains
    penalty: np.ndarray  # per bead: fixed cost (merge penalties; for nulls: the skip cost)
    floor: float = 0.0  # R: the margin of a typical wrong pair → ŝ = 0
    scale: float = 1.0  # 1 / (T − R): T is the margin of a typical right pair → ŝ = 1
    tau: float = 0.0  # ŝ below which explaining a sentence costs more than leaving it unaligned
    use_hubs: int = 2  # 0: plain cosine; 1: margin against the units' own hubs; 2: against same-type beads
    length_weight: float = 0.0  # cost per unit of |log length ratio − centre| beyond `length_slack`
    length_centre: float = 0.0
    length_slack: float = 0.0
    paragraph_penalty: float = 0.0  # cost when a multi-sentence side crosses a paragraph boundary
    diagonal_penalty: float = 0.0  # cost of an n-n bead (n ≥ 2) whose diagonal 1-1 pairs fit in length …
    diagonal_level: float = 0.0  # … scaled by how far their worst |log length ratio − centre| is below this
    embedded_weight: float = 0.0  # share of the embedded-concatenation cosine (`Inputs.E`) in a bead's cosine
    number_match: float = 0.0  # reward per number found on both sides of a bead (`Inputs.N`) …
    number_miss: float = 0.0  # … and cost per number of the bead found on one side only
    share_weight: float = 0.0  # cost per unit of a merge whose own share of the bead is below `share_level` …
    share_level: float = 0.0  # … share = (its cosine with the other side − `cosine_floor`) / (bead's − floor)
    cosine_floor: float = 0.0  # the cosine of a typical unrelated pair (the document's median band cosine)
    extra: dict = field(default_factory=dict)

    def params(self) -> np.ndarray:
        return np.array([self.floor, self.scale, self.tau, float(self.use_hubs), self.length_weight,
                         self.length_centre, self.length_slack, self.paragraph_penalty, self.diagonal_penalty,
                         self.diagonal_level, self.embedded_weight, self.number_match, self.number_miss,
                         self.share_weight, self.share_level, self.cosine_floor],
                        dtype=np.float64)


# --------------------------------------------------------------------------- band
def full_band(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every cell: column range [0, m] for each of the n + 1 rows."""
    return np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64)


def band_around(path_rows: np.ndarray, path_cols: np.ndarray, n: int, m: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A monotone band of half-width ``width`` around a monotone path of (row, col) points (fine units).

    The path's points are joined by their bounding boxes, so the band always contains the path and
    both corners (0, 0) and (n, m).
    """
    lo = np.full(n + 1, m, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    rows = np.concatenate([[0], path_rows, [n]])
    cols = np.concatenate([[0], path_cols, [m]])
    _boxes(rows.astype(np.int64), cols.astype(np.int64), lo, hi)
    lo = np.maximum(lo - width, 0)
    hi = np.minimum(hi + width, m)
    # widen vertically too: a row may use any column its neighbours within `width` rows use
    lo = _running_min(lo, width)
    hi = _running_max(hi, width)
    lo = np.minimum.accumulate(lo[::-1])[::-1]  # non-decreasing
    hi = np.maximum.accumulate(hi)
    lo[0], hi[-1] = 0, m
    return lo, hi


@njit(cache=True)
def _boxes(rows, cols, lo, hi):
    for p in range(len(rows) - 1):
        r0, r1 = rows[p], rows[p + 1]
        c0, c1 = cols[p], cols[p + 1]
        for r in range(min(r0, r1), max(r0, r1) + 1):
            lo[r] = min(lo[r], min(c0, c1))
            hi[r] = max(hi[r], max(c0, c1))


def _running_min(x: np.ndarray, w: int) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w, x.max()), x, np.full(w, x.max())])
    return sliding_window_view(padded, 2 * w + 1).min(axis=1)


def _running_max(x: np.ndarray, w: int) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w, x.min()), x, np.full(w, x.min())])
    return sliding_window_view(padded, 2 * w + 1).max(axis=1)


def coarse_path(ru: np.ndarray, az: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """A 1-1/1-0/0-1 path over vectors averaged in blocks of ``factor`` units, as fine (row, col) points."""
    cu, cv = _downsample(ru, factor), _downsample(az, factor)
    sim = (cu @ cv.T).astype(np.float32)
    n, m = sim.shape
    row_hub = _topk_mean_rows(sim, 4)
    col_hub = _topk_mean_rows(sim.T.copy(), 4)
    margin = sim - 0.5 * (row_hub[:, None] + col_hub[None, :])
    beads = np.array([(1, 1), (1, 0), (0, 1)], dtype=np.int64)
    back = _coarse_fill(margin.astype(np.float32), beads, float(np.quantile(margin, 0.9)))
    steps = _trace(back, np.zeros(n + 1, dtype=np.int64), beads, n, m)
    rows = np.array([min(s[1], n) * factor for s in steps] or [0], dtype=np.int64)
    cols = np.array([min(s[3], m) * factor for s in steps] or [0], dtype=np.int64)
    return np.minimum(rows, len(ru)), np.minimum(cols, len(az))


def _downsample(x: np.ndarray, factor: int) -> np.ndarray:
    n = len(x)
    blocks = -(-n // factor)
    padded = np.zeros((blocks * factor, x.shape[1]), dtype=np.float32)
    padded[:n] = x
    out = padded.reshape(blocks, factor, -1).sum(axis=1)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _topk_mean_rows(sim: np.ndarray, k: int) -> np.ndarray:
    k = max(1, min(k, sim.shape[1]))
    return np.partition(sim, sim.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


@njit(cache=True)
def _coarse_fill(margin, beads, skip_level):
    n, m = margin.shape
    back = np.full((n + 1, m + 1), -1, dtype=np.int8)
    prev = np.full(m + 1, NEG)
    cur = np.full(m + 1, NEG)
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                cur[0] = 0.0
                continue
            best = NEG
            arg = -1
            if i > 0 and j > 0 and prev[j - 1] > NEG:
                v = prev[j - 1] + margin[i - 1, j - 1] - skip_level
                if v > best:
                    best, arg = v, 0
            if i > 0 and prev[j] > NEG:
                v = prev[j] - 0.02
                if v > best:
                    best, arg = v, 1
            if j > 0 and cur[j - 1] > NEG:
                v = cur[j - 1] - 0.02
                if v > best:
                    best, arg = v, 2
            cur[j] = best
            back[i, j] = arg
        for j in range(m + 1):
            prev[j] = cur[j]
            cur[j] = NEG
    return back


# --------------------------------------------------------------------------- similarities
def sim_band(lo: np.ndarray, hi: np.ndarray, n: int, m: int, reach: int) -> tuple[np.ndarray, int]:
    """Column start of each unit row's similarity band (covering every bead the DP band can use), and its width."""
    rows = np.arange(n)
    first = lo[np.minimum(rows + 1, n)] - reach  # a bead ending in row i+1.. may start reach columns earlier
    last = hi[np.minimum(rows + reach, n)]
    start = np.clip(first, 0, max(m - 1, 0))
    width = int(max(1, (np.minimum(last, m) - start).max())) if n else 1
    return start.astype(np.int64), width


def banded_similarity(ru: np.ndarray, az: np.ndarray, start: np.ndarray, width: int, chunk: int = 64) -> np.ndarray:
    """Cosines ``S[r, k] = ru[r] · az[start[r] + k]`` (OUTSIDE beyond the last column), shape (n, width)."""
    n, m = len(ru), len(az)
    out = np.full((n, width), OUTSIDE, dtype=np.float32)
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        c0 = int(start[r0:r1].min())
        c1 = int(min(m, start[r0:r1].max() + width))
        block = ru[r0:r1] @ az[c0:c1].T
        _scatter(block, start[r0:r1] - c0, out[r0:r1])
    return out


def embedded_similarity(ru_blocks: dict[int, np.ndarray], az_blocks: dict[int, np.ndarray],
                        beads: np.ndarray, lo: np.ndarray, hi: np.ndarray, chunk: int = 64) -> np.ndarray:
    """``E[t, i0, j0 − lo[i0]]``: cosine of the embedded ru block of ``a`` units starting at i0 and the
    embedded az block of ``b`` units starting at j0, for bead type t = (a, b), at every bead start the
    DP band allows; NaN where a side's blocks of that size were not embedded (and for 1-1, which the
    unit cosines already give). ``ru_blocks[a]``: (n − a + 1, d) unit vectors of the a-unit blocks."""
    n = len(lo) - 1
    width = int((hi - lo).max()) + 1
    E = np.full((len(beads), n + 1, width), np.nan, dtype=np.float32)
    for t, (a, b) in enumerate(beads):
        if a == 0 or b == 0 or (a == 1 and b == 1) or a not in ru_blocks or b not in az_blocks:
            continue
        left, right = ru_blocks[a], az_blocks[b]
        for r0 in range(0, len(left), chunk):
            r1 = min(len(left), r0 + chunk)
            c0, c1 = int(lo[r0]), int(min(len(right), hi[r1 - 1] + 1))
            if c1 <= c0:
                continue
            block = left[r0:r1] @ right[c0:c1].T
            _scatter_band(block, lo[r0:r1] - c0, hi[r0:r1] - lo[r0:r1] + 1, E[t, r0:r1])
    return E


def shared_numbers(ru_numbers: list[list[str]], az_numbers: list[list[str]], start: np.ndarray,
                   width: int) -> np.ndarray:
    """How many numbers ru unit r and az unit ``start[r] + k`` share (multiset intersection of the
    numbers written in them), banded like `banded_similarity`, as row-wise running sums:
    ``C[r, k]`` = shared with the az units ``start[r] … start[r] + k − 1``; shape (n, width + 1)."""
    n, m = len(ru_numbers), len(az_numbers)
    out = np.zeros((n, width + 1), dtype=np.float32)
    az_counts = [Counter(values) for values in az_numbers]
    where: dict[str, list[int]] = {}
    for c, counts in enumerate(az_counts):
        for value in counts:
            where.setdefault(value, []).append(c)
    for r, values in enumerate(ru_numbers):
        first = int(start[r])
        for value, count in Counter(values).items():
            columns = where.get(value, [])
            for c in columns[bisect_left(columns, first):bisect_left(columns, min(first + width, m))]:
                out[r, c - first + 1] += min(count, az_counts[c][value])
    return np.cumsum(out, axis=1, dtype=np.float32)


@njit(cache=True)
def _scatter_band(block, offsets, counts, out):
    rows, cols = block.shape
    for r in range(rows):
        for q in range(counts[r]):
            c = offsets[r] + q
            if 0 <= c < cols:
                out[r, q] = block[r, c]


@njit(cache=True)
def _scatter(block, offsets, out):
    rows, cols = block.shape
    width = out.shape[1]
    for r in range(rows):
        o = offsets[r]
        for k in range(width):
            c = o + k
            if c < cols:
                out[r, k] = block[r, c]


@njit(cache=True)
def hubs(S, start, m, k):
    """Mean of the ``k`` best similarities of every unit, on each side, within the band."""
    n, width = S.shape
    row_best = np.full((n, k), -2.0)
    col_best = np.full((m, k), -2.0)
    for r in range(n):
        for q in range(width):
            c = start[r] + q
            if c >= m:
                break
            x = S[r, q]
            _push(row_best[r], x)
            _push(col_best[c], x)
    row_hub = np.empty(n)
    col_hub = np.empty(m)
    for r in range(n):
        row_hub[r] = _mean_valid(row_best[r])
    for c in range(m):
        col_hub[c] = _mean_valid(col_best[c])
    return row_hub, col_hub


@njit(cache=True)
def _push(best, x):
    k = len(best)
    if x <= best[k - 1]:
        return
    p = k - 1
    while p > 0 and best[p - 1] < x:
        best[p] = best[p - 1]
        p -= 1
    best[p] = x


@njit(cache=True)
def _mean_valid(best):
    total = 0.0
    count = 0
    for x in best:
        if x > -1.5:
            total += x
            count += 1
    return total / count if count else 0.0


@njit(cache=True)
def mutual_best(S, start, m):
    """(rows, cols) of unit pairs that are each other's best match within the band."""
    n, width = S.shape
    row_arg = np.full(n, -1, dtype=np.int64)
    row_val = np.full(n, -3.0)
    col_val = np.full(m, -3.0)
    for r in range(n):
        for q in range(width):
            c = start[r] + q
            if c >= m:
                break
            x = S[r, q]
            if x > row_val[r]:
                row_val[r] = x
                row_arg[r] = c
            if x > col_val[c]:
                col_val[c] = x
    count = 0
    for r in range(n):
        if row_arg[r] >= 0 and row_val[r] >= col_val[row_arg[r]]:
            count += 1
    rows = np.empty(count, dtype=np.int64)
    cols = np.empty(count, dtype=np.int64)
    k = 0
    for r in range(n):
        if row_arg[r] >= 0 and row_val[r] >= col_val[row_arg[r]]:
            rows[k] = r
            cols[k] = row_arg[r]
            k += 1
    return rows, cols


def block_norms(vecs: np.ndarray, weights: np.ndarray, max_run: int) -> np.ndarray:
    """``N[s, a] = ‖Σ_{r=s}^{s+a-1} w_r v_r‖`` for a = 1..max_run (0 where the run passes the end)."""
    n = len(vecs)
    norms = np.zeros((n + 1, max_run + 1), dtype=np.float64)
    if n == 0:
        return norms
    dots = [np.ones(n)] + [np.einsum("ij,ij->i", vecs[:-d], vecs[d:]) if d < n else np.zeros(0)
                           for d in range(1, max_run)]
    w = weights.astype(np.float64)
    for a in range(1, max_run + 1):
        count = n - a + 1
        if count <= 0:
            break
        sq = np.zeros(count)
        for p in range(a):
            for q in range(a):
                d = abs(p - q)
                sq += w[p : p + count] * w[q : q + count] * dots[d][min(p, q) : min(p, q) + count]
        norms[:count, a] = np.sqrt(np.maximum(sq, 1e-12))
    return norms


# --------------------------------------------------------------------------- the programme
@dataclass
class Inputs:
    """Everything the fill needs about one document, precomputed once."""

    S: np.ndarray  # (n, width) float32 banded cosines
    start: np.ndarray  # (n,) column of S[:, 0]
    lo: np.ndarray  # (n + 1,) DP band
    hi: np.ndarray
    ru_w: np.ndarray  # unit weights in the derived sums
    az_w: np.ndarray
    ru_norm: np.ndarray  # block_norms
    az_norm: np.ndarray
    ru_hub: np.ndarray
    az_hub: np.ndarray
    ru_len: np.ndarray  # characters (or 1s)
    az_len: np.ndarray
    ru_break: np.ndarray  # 1 where a unit starts a new paragraph
    az_break: np.ndarray
    E: np.ndarray = field(default_factory=lambda: NO_EMBEDDED)  # embedded_similarity(), or empty
    N: np.ndarray = field(default_factory=lambda: NO_NUMBERS)  # shared_numbers(): row-wise running sums, or empty
    ru_numbers: np.ndarray | None = None  # numbers written in each unit (None: 0)
    az_numbers: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ru_w)

    @property
    def m(self) -> int:
        return len(self.az_w)


def search(x: Inputs, scoring: Scoring) -> list[tuple[int, int, int, int]]:
    """The best monotone path as beads ``(i0, i1, j0, j1)`` (ru[i0:i1] ↔ az[j0:j1]), in order."""
    ru_tab, az_tab, ru_th, az_th = tables(x, scoring)
    back = _fill(x.S, x.E, x.N, x.start, x.lo, x.hi, x.ru_w, x.az_w, ru_tab, az_tab, ru_th, az_th, scoring.beads,
                 scoring.coef.astype(np.float64), scoring.penalty.astype(np.float64), scoring.params())
    return _trace(back, x.lo, scoring.beads, x.n, x.m)


def tables(x: Inputs, scoring: Scoring):
    """Block tables and per-bead-type hubs (cached on the Inputs for this bead set)."""
    key = (tuple(map(tuple, scoring.beads)), scoring.extra.get("hub_k", 4), scoring.embedded_weight)
    cached = getattr(x, "_tables", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    ru_tab, az_tab = block_tables(x, scoring)
    ru_th, az_th = type_hubs(x.S, x.E, x.start, x.lo, x.hi, x.ru_w, x.az_w, ru_tab, az_tab, scoring.beads, key[1],
                             scoring.embedded_weight)
    x._tables = (key, (ru_tab, az_tab, ru_th, az_th))
    return ru_tab, az_tab, ru_th, az_th


def block_tables(x: Inputs, scoring: Scoring) -> tuple[np.ndarray, np.ndarray]:
    """Per block start s and size a: [1/‖Σ w v‖, weighted mean hub, log(chars + 1), paragraph breaks
    inside, numbers written].

    Shape (n + 1, reach + 1, 5) per side, so the kernel does no division, log or summing over units.
    """
    reach = int(scoring.beads.max())
    ru_numbers = x.ru_numbers if x.ru_numbers is not None else np.zeros(x.n)
    az_numbers = x.az_numbers if x.az_numbers is not None else np.zeros(x.m)
    return (_table(x.ru_w, x.ru_norm, x.ru_hub, x.ru_len, x.ru_break, ru_numbers, reach),
            _table(x.az_w, x.az_norm, x.az_hub, x.az_len, x.az_break, az_numbers, reach))


def _table(w, norms, hub, length, breaks, numbers, reach) -> np.ndarray:
    n = len(w)
    tab = np.zeros((n + 1, reach + 1, 5))
    cw = np.concatenate([[0.0], np.cumsum(w)])
    ch = np.concatenate([[0.0], np.cumsum(w * hub)])
    cl = np.concatenate([[0.0], np.cumsum(length)])
    cb = np.concatenate([[0.0], np.cumsum(breaks)])
    cn = np.concatenate([[0.0], np.cumsum(numbers)])
    for a in range(1, reach + 1):
        count = n - a + 1
        if count <= 0:
            break
        s = np.arange(count)
        tab[s, a, 0] = 1.0 / np.maximum(norms[s, min(a, norms.shape[1] - 1)], 1e-12)
        tab[s, a, 1] = (ch[s + a] - ch[s]) / np.maximum(cw[s + a] - cw[s], 1e-12)
        tab[s, a, 2] = np.log(cl[s + a] - cl[s] + 1.0)
        tab[s, a, 3] = cb[s + a] - cb[s + 1]
        tab[s, a, 4] = cn[s + a] - cn[s]
    return tab


@njit(cache=True)
def type_hubs(S, E, start, lo, hi, ru_w, az_w, ru_tab, az_tab, beads, k, lam):
    """Hubness per bead type: for every ru block (start, type) the mean of its k best cosines with az
    blocks of the same type in the band, and the same for az blocks. Competing with beads of its own
    shape removes the bias of concatenations (sums of vectors look alike more than single units do);
    the competitors include the same block shifted by a unit, which also keeps right 1-1 pairs from
    being merged (measured: skipping overlapping competitors is worse)."""
    n = len(lo) - 1
    m = len(az_w)
    nb = beads.shape[0]
    ru_best = np.full((n + 1, nb, k), -2.0)
    az_best = np.full((m + 1, nb, k), -2.0)
    for i in range(n + 1):
        for j in range(lo[i], hi[i] + 1):
            for t in range(nb):
                a = beads[t, 0]
                b = beads[t, 1]
                if a == 0 or b == 0:
                    continue
                pi = i - a
                pj = j - b
                if pi < 0 or pj < 0 or pj < lo[pi] or pj > hi[pi]:
                    continue
                cos = _bead_cos(S, start, ru_w, az_w, ru_tab, az_tab, pi, i, pj, j)
                if lam > 0.0:
                    cos = _mixed_cos(cos, E, lo, t, lam, pi, pj)
                _push(ru_best[pi, t], cos)
                _push(az_best[pj, t], cos)
    ru_hub = np.zeros((n + 1, nb))
    az_hub = np.zeros((m + 1, nb))
    for i in range(n + 1):
        for t in range(nb):
            ru_hub[i, t] = _mean_valid(ru_best[i, t])
    for j in range(m + 1):
        for t in range(nb):
            az_hub[j, t] = _mean_valid(az_best[j, t])
    return ru_hub, az_hub


def bead_values(x: Inputs, scoring: Scoring, beads: list[tuple[int, int, int, int]]) -> np.ndarray:
    """For given beads: (derived cosine, margin, DP score) rows, shape (len(beads), 3).

    Bead shapes outside the scoring's bead types use the units' own hubs for their margin.
    """
    ru_tab, az_tab, ru_th, az_th = tables(x, scoring)
    arr = np.array(beads, dtype=np.int64).reshape(-1, 4)
    return _values(arr, x.S, x.E, x.N, x.start, x.lo, x.ru_w, x.az_w, ru_tab, az_tab, ru_th, az_th, scoring.beads,
                   scoring.coef.astype(np.float64), scoring.penalty.astype(np.float64), scoring.params())


@njit(cache=True, inline="always")
def _bead_cos(S, start, ru_w, az_w, ru_tab, az_tab, i0, i1, j0, j1):
    """Cosine of ru[i0:i1] ↔ az[j0:j1] derived from the unit cosines (normalised sums)."""
    width = S.shape[1]
    num = 0.0
    for r in range(i0, i1):
        base = start[r]
        for c in range(j0, j1):
            k = c - base
            x = S[r, k] if 0 <= k < width else OUTSIDE
            num += ru_w[r] * az_w[c] * x
    return num * ru_tab[i0, i1 - i0, 0] * az_tab[j0, j1 - j0, 0]


@njit(cache=True, inline="always")
def _mixed_cos(cos, E, lo, t, lam, i0, j0):
    """``cos`` mixed with the embedded concatenations' cosine (weight ``lam``) where `Inputs.E`
    holds one for bead type ``t`` starting at (i0, j0)."""
    q = j0 - lo[i0]
    if 0 <= t < E.shape[0] and i0 < E.shape[1] and 0 <= q < E.shape[2]:
        e = E[t, i0, q]
        if e == e:  # not NaN: this concatenation was embedded
            return (1.0 - lam) * cos + lam * e
    return cos


@njit(cache=True, inline="always")
def _bead_score(S, start, ru_w, az_w, ru_tab, az_tab, ru_th, az_th, t, i0, i1, j0, j1, coef, pen, P):
    """(cosine, margin, score) of the bead ru[i0:i1] ↔ az[j0:j1] of type t (−1: not a bead type),
    without the optional cues (embedded concatenations, numbers), which the callers add only when on."""
    a = i1 - i0
    b = j1 - j0
    cos = _bead_cos(S, start, ru_w, az_w, ru_tab, az_tab, i0, i1, j0, j1)
    if t >= 0 and P[3] > 1.5:
        hub = 0.5 * (ru_th[i0, t] + az_th[j0, t])
    else:
        hub = 0.5 * (ru_tab[i0, a, 1] + az_tab[j0, b, 1])
    margin = cos - hub
    value = margin if P[3] > 0.5 else cos
    score = coef * ((value - P[0]) * P[1] - P[2]) - pen
    if P[4] > 0.0:
        excess = abs(ru_tab[i0, a, 2] - az_tab[j0, b, 2] - P[5]) - P[6]
        if excess > 0.0:
            score -= P[4] * excess
    if P[7] > 0.0:
        score -= P[7] * (ru_tab[i0, a, 3] + az_tab[j0, b, 3])
    if P[8] > 0.0 and a == b and a > 1:
        score -= P[8] * _diagonal_fit(ru_tab, az_tab, i0, j0, a, P[5], P[9])
    if P[13] > 0.0 and a + b > 2:
        score -= P[13] * _share_shortfall(S, start, ru_w, az_w, ru_tab, az_tab, i0, i1, j0, j1, cos, P[14], P[15])
    return cos, margin, score


@njit(cache=True, inline="always")
def _share_shortfall(S, start, ru_w, az_w, ru_tab, az_tab, i0, i1, j0, j1, cos, level, floor):
    """How far the units of a merge's multi-unit sides fall short of carrying their share of the
    meaning: Σ over those units of max(0, level − share), share = (cosine of the unit with the other
    side's summed vector − floor) / (the bead's cosine − floor). A true merge's parts each carry a
    good part (≈ 0.7 for two equal halves); a one-sided sentence glued onto a pair carries ≈ 0."""
    width = S.shape[1]
    span = max(cos - floor, 1e-3)
    total = 0.0
    if i1 - i0 > 1:
        inv = az_tab[j0, j1 - j0, 0]
        for r in range(i0, i1):
            base = start[r]
            own = 0.0
            for c in range(j0, j1):
                k = c - base
                own += az_w[c] * (S[r, k] if 0 <= k < width else OUTSIDE)
            total += max(0.0, level - (own * inv - floor) / span)
    if j1 - j0 > 1:
        inv = ru_tab[i0, i1 - i0, 0]
        for c in range(j0, j1):
            own = 0.0
            for r in range(i0, i1):
                k = c - start[r]
                own += ru_w[r] * (S[r, k] if 0 <= k < width else OUTSIDE)
            total += max(0.0, level - (own * inv - floor) / span)
    return total


@njit(cache=True, inline="always")
def _numbers_term(N, start, ru_tab, az_tab, i0, i1, j0, j1, reward, cost):
    """``reward`` per number the bead's two sides share, minus ``cost`` per number on one side only."""
    ru_count = ru_tab[i0, i1 - i0, 4]
    az_count = az_tab[j0, j1 - j0, 4]
    if ru_count == 0.0 or az_count == 0.0:  # most sentences hold no number: nothing can be shared
        return -cost * (ru_count + az_count)
    shared = _block_sum(N, start, i0, i1, j0, j1)
    return reward * shared - cost * max(0.0, ru_count + az_count - 2.0 * shared)


@njit(cache=True, inline="always")
def _block_sum(C, start, i0, i1, j0, j1):
    """Σ M[r, c] over the bead ru[i0:i1] × az[j0:j1], from C = row-wise running sums of M (M banded
    like S, 0 outside the band; C[r, k] = Σ M[r, :k])."""
    width = C.shape[1] - 1
    total = 0.0
    for r in range(i0, i1):
        k0 = min(max(j0 - start[r], 0), width)
        k1 = min(max(j1 - start[r], 0), width)
        total += C[r, k1] - C[r, k0]
    return total


@njit(cache=True, inline="always")
def _diagonal_fit(ru_tab, az_tab, i0, j0, a, centre, level):
    """How well an n-n bead's diagonal splits into 1-1 pairs by length: ``level`` minus the worst
    pair's |log length ratio − centre|, floored at 0. Two adjacent right 1-1 pairs match in length
    pair by pair; a real n-n bead (sentence boundaries that do not correspond) rarely does."""
    worst = 0.0
    for k in range(a):
        worst = max(worst, abs(ru_tab[i0 + k, 1, 2] - az_tab[j0 + k, 1, 2] - centre))
    return max(0.0, level - worst)


@njit(cache=True)
def _fill(S, E, N, start, lo, hi, ru_w, az_w, ru_tab, az_tab, ru_th, az_th, beads, coef, pen, P):
    n = len(lo) - 1
    width = 0
    for i in range(n + 1):
        width = max(width, hi[i] - lo[i] + 1)
    D = np.full((n + 1, width), NEG)
    back = np.full((n + 1, width), -1, dtype=np.int8)
    nb = beads.shape[0]
    mixing = P[10] > 0.0
    numbers = N.shape[0] > 0
    for i in range(n + 1):
        lo_i = lo[i]
        for j in range(lo_i, hi[i] + 1):
            if i == 0 and j == 0:
                D[0, 0 - lo_i] = 0.0
                continue
            best = NEG
            arg = -1
            for t in range(nb):
                a = beads[t, 0]
                b = beads[t, 1]
                pi = i - a
                pj = j - b
                if pi < 0 or pj < 0 or pj < lo[pi] or pj > hi[pi]:
                    continue
                prev = D[pi, pj - lo[pi]]
                if prev <= NEG:
                    continue
                if a == 0 or b == 0:
                    s = -pen[t]
                else:
                    cos, _, s = _bead_score(S, start, ru_w, az_w, ru_tab, az_tab, ru_th, az_th, t, pi, i, pj, j,
                                            coef[t], pen[t], P)
                    if mixing:
                        s += coef[t] * P[1] * (_mixed_cos(cos, E, lo, t, P[10], pi, pj) - cos)
                    if numbers:
                        s += _numbers_term(N, start, ru_tab, az_tab, pi, i, pj, j, P[11], P[12])
                if prev + s > best:
                    best = prev + s
                    arg = t
            D[i, j - lo_i] = best
            back[i, j - lo_i] = arg
    return back


@njit(cache=True)
def _values(arr, S, E, N, start, lo, ru_w, az_w, ru_tab, az_tab, ru_th, az_th, beads, coef, pen, P):
    out = np.zeros((arr.shape[0], 3))
    reach = ru_tab.shape[1] - 1
    for q in range(arr.shape[0]):
        i0, i1, j0, j1 = arr[q, 0], arr[q, 1], arr[q, 2], arr[q, 3]
        a, b = i1 - i0, j1 - j0
        t_found = -1
        for t in range(beads.shape[0]):
            if beads[t, 0] == a and beads[t, 1] == b:
                t_found = t
        c = coef[t_found] if t_found >= 0 else float(a + b)
        p = pen[t_found] if t_found >= 0 else 0.0
        if a == 0 or b == 0:
            out[q, 2] = -p
            continue
        if a > reach or b > reach:
            continue
        cos, margin, score = _bead_score(S, start, ru_w, az_w, ru_tab, az_tab, ru_th, az_th, t_found,
                                         i0, i1, j0, j1, c, p, P)
        if P[10] > 0.0:  # the same optional cues as `_fill` adds
            shift = _mixed_cos(cos, E, lo, t_found, P[10], i0, j0) - cos
            cos, margin, score = cos + shift, margin + shift, score + c * P[1] * shift
        if N.shape[0] > 0:
            score += _numbers_term(N, start, ru_tab, az_tab, i0, i1, j0, j1, P[11], P[12])
        out[q, 0] = cos
        out[q, 1] = margin
        out[q, 2] = score
    return out


def _trace(back: np.ndarray, lo: np.ndarray, beads: np.ndarray, n: int, m: int) -> list[tuple[int, int, int, int]]:
    steps = _trace_kernel(back, lo.astype(np.int64), beads, n, m)
    if len(steps) and steps[0, 0] < 0:
        raise RuntimeError("alignment search reached a dead end")
    return [tuple(int(v) for v in row) for row in steps]


@njit(cache=True)
def _trace_kernel(back, lo, beads, n, m):
    out = np.empty((n + m, 4), dtype=np.int64)
    k = 0
    i, j = n, m
    while i > 0 or j > 0:
        t = back[i, j - lo[i]]
        if t < 0:
            out[0, 0] = -1
            return out[:1]
        a, b = beads[t, 0], beads[t, 1]
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = i - a, i, j - b, j
        k += 1
        i, j = i - a, j - b
    return out[:k][::-1].copy()
