"""Aligning two articles: structure first (title, captions), then the body, then moved paragraphs.

    align_units(ru_units, az_units, encoder)      title ↔ title, captions one-to-one, body DP, recovery
    align_vectors(ru_vecs, az_vecs, ...)          the body alignment on vectors alone
    paragraph_links(links, ru_units, az_units)    sentence links → n-m paragraph groups

The body search (align.dp) scores each bead by its margin — the cosine of its (summed) vectors minus
the mean of the best cosines of beads of the same shape around it (hubness per shape, which removes
the bias of concatenations) — rescaled by the document's own levels: 0 is the median margin of all
candidate pairs (mostly wrong ones), 1 the median margin of mutual-best pairs (mostly right ones).
The null threshold ``tau``, the length and paragraph costs and the numbers term (numbers written
with digits on both sides of a bead earn ``number_match`` each, one-sided ones cost ``number_miss``)
live in that scale, so they adapt to each document and each model instead of one fixed skip value.
Concatenations are derived from unit vectors (normalised sums); ``Settings(embed_blocks=k)`` embeds
those of up to k units per side for real and mixes them in (measured: lower F1 and several times the
model time — bench/README.md).
After the search:

* re-evaluation (``reevaluate="split"``): an n-n bead whose 1-1 parts are each mutual best and
  confident is split back (over-merging);
* recovery: units left unaligned on both sides are matched by mutual best + margin, run against run,
  so a paragraph moved elsewhere on one side is still aligned.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import dp
from .embed import TextEncoder
from .types import Link, Unit

FULL_SEARCH_CELLS = 300_000  # above n·m = this, search in a band around a coarse path
COARSE_SIDE = 1200  # the coarse grid has at most this many blocks per side


@dataclass(frozen=True)
class Settings:
    """The aligner's knobs, in units of the document's own scale (0 = a typical wrong pair, 1 = right).

    Tuned on the development data only (NTREX docs 1–62 perturbed, Bleualign de-fr dev; see
    bench/README.md; decisions on three generator seeds of the NTREX dev set). Merge penalties only
    for beads of 5–6 units, no unit weighting and ``cos`` alone (no mix) measured best once margins
    are taken against beads of the same shape.
    """

    max_bead: int = 6  # beads up to n + m = 6 (align_vectors' own default is 4, for speed)
    hub_k: int = 4
    shape_hub_k: int = 6  # neighbours in the same-shape hubs (4, 6, 8, 12 measured on the dev sets: 6 best)
    hub_mode: int = 2  # margin against: 1 the units' own neighbours, 2 beads of the same shape (align.dp)
    tau: float = 0.2  # a sentence is aligned only if its bead scores above this
    merge_penalty: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.6)  # by n + m (index): beads of 5 and 6 units are rare
    square_penalty: float = 0.0  # added for beads with ≥ 2 units on both sides (2-2): the over-merge risk
    null_penalty: float = 0.0
    length_weight: float = 1.0  # cost per unit of |log char ratio − centre| beyond the slack
    length_slack: float = 0.2
    paragraph_penalty: float = 1.0
    diagonal_penalty: float = 1.0  # n-n beads whose diagonal 1-1 pairs fit in length pay this × fit
    diagonal_level: float = 0.4
    weight_power: float = 0.0  # unit weight in derived sums: chars ** power
    number_match: float = 0.2  # reward per number written on both sides of a bead …
    number_miss: float = 0.1  # … and cost per number on one side only (needs the texts)
    number_min_digits: int = 2  # shorter numbers are often spelled out on one side
    share_weight: float = 0.0  # cost per merged unit that does not carry its share of the bead (see dp) …
    share_level: float = 0.3  # … below this share
    embed_blocks: int = 0  # embed concatenations of 2 … this many units per side for real (0: derive all)
    embedded_weight: float = 1.0  # share of a bead's cosine from embedded concatenations (the rest derived)
    reevaluate: str = "split"  # "split": undo merges of confident 1-1 pairs; "off"
    peel: bool = True  # a merged unit the bead scorer (align/bead_scorer.json) calls absorbed becomes a null
    peel_threshold: float = 0.8  # … when its P(absorbed) is above this (0.5 / 0.8 measured on the dev sets)
    peel_displaced: bool = True  # a merged unit whose mutual best match lies outside its bead becomes a null …
    displaced_cells: int = 4_000_000  # … checked against the whole other side up to n·m = this (articles)
    split_tau: float = 1.0  # every 1-1 part must be a mutual best with ŝ ≥ this
    recover: bool = True
    recover_tau: float = 0.4  # out-of-order links need more evidence
    recover_max_bead: int = 4  # and are at most n + m = 4
    caption_tau: float = 0.1
    band_width: int = 6  # fine half-width (units) around the coarse path, plus half the coarse factor


DEFAULT = Settings()


# --------------------------------------------------------------------------- public API
def align_vectors(
    ru: np.ndarray,
    az: np.ndarray,
    *,
    ru_paragraphs: Sequence[int] | None = None,
    az_paragraphs: Sequence[int] | None = None,
    ru_lengths: Sequence[int] | None = None,
    az_lengths: Sequence[int] | None = None,
    encode_concat: Callable[[list[str]], np.ndarray] | None = None,
    ru_texts: Sequence[str] | None = None,
    az_texts: Sequence[str] | None = None,
    max_bead: int = 4,
    settings: Settings | None = None,
    calibration: dict | None = None,
) -> list[Link]:
    """Align two sequences of L2-normalised vectors; return links covering every index exactly once.

    >>> links = align_vectors(ru_vecs, az_vecs, ru_paragraphs=[0, 0, 1], az_paragraphs=[0, 1, 1])
    >>> [(l.ru, l.az) for l in links]        # e.g. [((0,), (0,)), ((1,), (1, 2)), ((2,), ())]

    Links come in order along the path (nulls at their place); out-of-order links found by the
    recovery pass take the place of their first ru unit. ``max_bead`` is the largest n + m of a bead
    and overrides ``settings.max_bead`` (4 here, for speed on long inputs; `align_units` uses the
    settings' 6). Lengths (or texts) enable the length-ratio cost, paragraphs the paragraph cost.
    ``encode_concat`` (with the texts) is used only with ``Settings(embed_blocks=k ≥ 2)``, which embeds
    concatenations for real; otherwise they are derived from unit vectors. ``calibration`` (model
    constants, see align.score) is the fallback for documents too small to calibrate themselves.
    """
    s = settings or DEFAULT
    if max_bead != s.max_bead:
        s = replace(s, max_bead=max_bead)
    with _one_blas_thread():  # the products are many and small: threads only add overhead and contention
        return _align_vectors(ru, az, s, ru_paragraphs, az_paragraphs, ru_lengths, az_lengths, encode_concat,
                              ru_texts, az_texts, calibration)


def _align_vectors(ru, az, s, ru_paragraphs, az_paragraphs, ru_lengths, az_lengths, encode_concat,
                   ru_texts, az_texts, calibration) -> list[Link]:
    ru = _as_unit_rows(ru)
    az = _as_unit_rows(az)
    n, m = len(ru), len(az)
    if n == 0 or m == 0:
        return [Link((i,), ()) for i in range(n)] + [Link((), (j,)) for j in range(m)]
    texts = (list(ru_texts), list(az_texts)) if ru_texts is not None and az_texts is not None else None
    doc = prepare(ru, az, s, ru_paragraphs, az_paragraphs,
                  _lengths(ru_lengths, ru_texts, n), _lengths(az_lengths, az_texts, m), calibration,
                  encode_concat, texts)
    beads = first_beads(doc)
    if s.peel:
        beads = peel_absorbed(doc, beads, load_bead_scorer())
    if s.peel_displaced and s.recover and n * m <= s.displaced_cells:
        beads = peel_displaced(doc, beads)
    moved: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    if s.recover:
        beads, moved = recover(doc, ru, az, beads)
    return _links(doc, beads, moved)


_CONTROLLER = None


def _one_blas_thread():
    """A context limiting BLAS to one thread (the controller is built once per process)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def align_units(ru_units: Sequence[Unit], az_units: Sequence[Unit], encoder: TextEncoder,
                settings: Settings | None = None, calibration: dict | None = None) -> list[Link]:
    """Align two articles' units: title ↔ title, captions ↔ captions (one-to-one), then the body.

    Returns links covering every unit id exactly once: the title link first, then caption links,
    then body links in order (recovered moved links at the place of their first ru unit).
    """
    ru_vecs, az_vecs = embed_units(ru_units, encoder), embed_units(az_units, encoder)
    return align_embedded(ru_units, az_units, ru_vecs, az_vecs, encoder, settings, calibration)


def embed_units(units: Sequence[Unit], encoder: TextEncoder) -> np.ndarray:
    """One L2-normalised row per unit (an empty (0, 1) array for no units)."""
    units = list(units)
    if not units:
        return np.zeros((0, 1), np.float32)
    return _as_unit_rows(encoder.encode([u.text for u in units]))


def align_embedded(ru_units: Sequence[Unit], az_units: Sequence[Unit], ru_vecs: np.ndarray, az_vecs: np.ndarray,
                   encoder: TextEncoder | None = None, settings: Settings | None = None,
                   calibration: dict | None = None) -> list[Link]:
    """`align_units` on units already embedded (``ru_vecs[k]`` is the vector of ``ru_units[k]``).

    ``encoder`` is needed only with ``Settings(embed_blocks=k)`` (real embeddings of concatenations).
    """
    s = settings or DEFAULT
    if calibration is None:
        from .score import calibration_for

        calibration = calibration_for(getattr(encoder, "name", None))
    ru_units, az_units = list(ru_units), list(az_units)

    def part(units: list[Unit], kinds: tuple[str, ...]) -> list[int]:
        return [k for k, u in enumerate(units) if u.kind in kinds]

    ru_body, az_body = part(ru_units, ("sentence", "paragraph")), part(az_units, ("sentence", "paragraph"))
    levels = cosine_levels(ru_vecs[ru_body], az_vecs[az_body]) if ru_body and az_body else None
    links: list[Link] = []
    # title ↔ title: always one bead
    ru_title, az_title = part(ru_units, ("title",)), part(az_units, ("title",))
    if ru_title or az_title:
        links.append(_group_link(ru_units, az_units, ru_title, az_title, ru_vecs, az_vecs, s.hub_k))
    # captions ↔ captions: one-to-one, order ignored
    ru_cap, az_cap = part(ru_units, ("caption",)), part(az_units, ("caption",))
    links += match_one_to_one(ru_cap, az_cap, ru_vecs, az_vecs, ru_units, az_units, levels, s.caption_tau, s.hub_k)
    # the body
    if ru_body or az_body:
        dim = max(ru_vecs.shape[1], az_vecs.shape[1])
        body = align_vectors(
            ru_vecs[ru_body] if ru_body else np.zeros((0, dim), np.float32),
            az_vecs[az_body] if az_body else np.zeros((0, dim), np.float32),
            ru_paragraphs=[ru_units[k].paragraph for k in ru_body],
            az_paragraphs=[az_units[k].paragraph for k in az_body],
            ru_texts=[ru_units[k].text for k in ru_body], az_texts=[az_units[k].text for k in az_body],
            encode_concat=encoder.encode if encoder is not None else None, max_bead=s.max_bead, settings=s,
            calibration=calibration,
        )
        for link in body:
            links.append(Link(tuple(ru_units[ru_body[i]].id for i in link.ru),
                              tuple(az_units[az_body[j]].id for j in link.az), link.similarity, link.margin))
    return links


def group_margin(u: np.ndarray, v: np.ndarray, ru_rivals: np.ndarray, az_rivals: np.ndarray, k: int) -> tuple[float, float]:
    """(cosine, margin) of the pair of (normalised) vectors ``u`` (ru) ↔ ``v`` (az), the margin taken
    as the body's sentences take theirs (and as the calibration was fitted): the cosine minus the mean
    of both sides' hubs, a hub being the mean of the ``k`` best cosines among the partner and the
    rivals (``az_rivals``: the other az candidates ``u`` could have matched, one row each)."""
    cos = float(u @ v)

    def hub(x: np.ndarray, rivals: np.ndarray) -> float:
        values = np.concatenate([[cos], rivals @ x]) if len(rivals) else np.array([cos])
        return float(np.sort(values)[-min(k, len(values)):].mean())

    return cos, cos - 0.5 * (hub(u, az_rivals) + hub(v, ru_rivals))


def paragraph_links(links: Sequence[Link], ru_units: Sequence[Unit], az_units: Sequence[Unit]) -> list[Link]:
    """Body links grouped into n-m paragraph links: connected components over paragraphs.

    Two paragraphs fall into one group when any sentence link joins them (directly or through other
    paragraphs), so no sentence link crosses a group. Ids are PARAGRAPH indices (``Unit.paragraph``);
    title and caption links are left out. ``similarity``/``margin`` are the means over the group's
    non-null sentence links (0.0 for unaligned paragraphs). Groups come in order of their first ru
    paragraph; az-only groups after the group holding the preceding az paragraph.
    """
    ru_by_id = {u.id: u for u in ru_units}
    az_by_id = {u.id: u for u in az_units}
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    members: list[tuple[list[tuple[str, int]], Link]] = []
    for link in links:
        units = [("ru", ru_by_id[i]) for i in link.ru] + [("az", az_by_id[j]) for j in link.az]
        nodes = [(side, u.paragraph) for side, u in units if u.kind in ("sentence", "paragraph")]
        if not nodes:
            continue
        for node in nodes:
            find(node)
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        members.append((nodes, link))
    groups: dict[tuple[str, int], dict] = {}
    for node in parent:
        g = groups.setdefault(find(node), {"ru": set(), "az": set(), "sims": [], "margins": []})
        g[node[0]].add(node[1])
    for nodes, link in members:
        if link.ru and link.az:
            g = groups[find(nodes[0])]
            g["sims"].append(link.similarity)
            g["margins"].append(link.margin)
    out = []
    for g in groups.values():
        ru_ids, az_ids = tuple(sorted(g["ru"])), tuple(sorted(g["az"]))
        both = bool(ru_ids and az_ids and g["sims"])
        out.append(Link(ru_ids, az_ids, float(np.mean(g["sims"])) if both else 0.0,
                        float(np.mean(g["margins"])) if both else 0.0))
    return sorted(out, key=lambda l: _group_key(l, out))


def _group_key(link: Link, groups: Sequence[Link]) -> tuple[float, int]:
    if link.ru:
        return (float(min(link.ru)), min(link.az, default=-1))
    before = [min(g.ru) for g in groups if g.ru and g.az and max(g.az) < min(link.az)]
    return ((max(before) + 0.5) if before else -0.5, min(link.az))


# --------------------------------------------------------------------------- preparation
@dataclass
class Document:
    """One body alignment problem, prepared for the search."""

    inputs: dp.Inputs
    scoring: dp.Scoring
    settings: Settings
    levels: dict
    ru: np.ndarray  # the unit vectors
    az: np.ndarray


def _as_unit_rows(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        x = x.reshape(len(x), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _lengths(lengths, texts, n) -> np.ndarray | None:
    if lengths is not None:
        return np.asarray(lengths, dtype=np.float64)
    if texts is not None:
        return np.array([len(t) for t in texts], dtype=np.float64)
    return None


def _breaks(paragraphs, n: int) -> np.ndarray:
    if paragraphs is None:
        return np.zeros(n)
    p = np.asarray(paragraphs)
    out = np.zeros(n)
    out[1:] = p[1:] != p[:-1]
    return out


def make_band(ru: np.ndarray, az: np.ndarray, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The DP band: everything for small inputs, else a band around a coarse path."""
    n, m = len(ru), len(az)
    if n * m <= FULL_SEARCH_CELLS:
        return dp.full_band(n, m)
    factor = max(2, -(-max(n, m) // COARSE_SIDE))
    rows, cols = dp.coarse_path(ru, az, factor)
    return dp.band_around(rows, cols, n, m, factor // 2 + s.band_width)


def prepare(ru, az, s: Settings, ru_paragraphs=None, az_paragraphs=None, ru_len=None, az_len=None,
            calibration: dict | None = None, encode_concat: Callable[[list[str]], np.ndarray] | None = None,
            texts: tuple[list[str], list[str]] | None = None) -> Document:
    """Band, banded similarities, hubs, document levels and the scoring for one body.

    With ``s.embed_blocks ≥ 2``, ``encode_concat`` and the texts, concatenations of up to that many
    units per side are embedded for real (`embedded_blocks`) and mixed into bead cosines."""
    n, m = len(ru), len(az)
    lo, hi = make_band(ru, az, s)
    reach = s.max_bead - 1
    start, width = dp.sim_band(lo, hi, n, m, reach)
    S = dp.banded_similarity(ru, az, start, width)
    k = max(1, min(s.hub_k, m, n))
    ru_hub, az_hub = dp.hubs(S, start, m, k)
    levels = margin_levels(S, start, m, ru_hub, az_hub, calibration)
    has_len = ru_len is not None and az_len is not None
    ru_len = ru_len if ru_len is not None else np.ones(n)
    az_len = az_len if az_len is not None else np.ones(m)
    ru_w = _weights(ru_len, s.weight_power)
    az_w = _weights(az_len, s.weight_power)
    inputs = dp.Inputs(S, start, lo, hi, ru_w, az_w, dp.block_norms(ru, ru_w, reach), dp.block_norms(az, az_w, reach),
                       ru_hub, az_hub, ru_len.astype(np.float64), az_len.astype(np.float64),
                       _breaks(ru_paragraphs, n), _breaks(az_paragraphs, m))
    beads = dp.bead_types(s.max_bead)
    use_embedded = (s.embed_blocks >= 2 and s.embedded_weight > 0
                    and encode_concat is not None and texts is not None)
    if use_embedded:
        sizes_used = range(2, min(s.embed_blocks, s.max_bead - 1) + 1)
        inputs.E = dp.embedded_similarity(embedded_blocks(ru, texts[0], sizes_used, encode_concat),
                                          embedded_blocks(az, texts[1], sizes_used, encode_concat), beads, lo, hi)
    if texts is not None and (s.number_match > 0 or s.number_miss > 0):
        ru_nums, az_nums = (unit_numbers(t, s.number_min_digits) for t in texts)
        inputs.N = dp.shared_numbers(ru_nums, az_nums, start, width)
        inputs.ru_numbers = np.array([len(v) for v in ru_nums], dtype=np.float64)
        inputs.az_numbers = np.array([len(v) for v in az_nums], dtype=np.float64)
    centre = levels.get("log_length_ratio", 0.0)
    if has_len:
        centre = _length_centre(inputs, S, start)
    sizes = beads.sum(axis=1)
    penalty = np.array([(s.merge_penalty[min(t, len(s.merge_penalty) - 1)] + (s.square_penalty if a > 1 and b > 1 else 0.0))
                        if a and b else s.null_penalty for (a, b), t in zip(beads, sizes)], dtype=np.float64)
    scoring = dp.Scoring(
        beads=beads, coef=sizes.astype(np.float64), penalty=penalty,
        floor=levels["floor"], scale=1.0 / max(levels["top"] - levels["floor"], 1e-3), tau=s.tau, use_hubs=s.hub_mode,
        length_weight=s.length_weight if has_len else 0.0, length_centre=centre, length_slack=s.length_slack,
        paragraph_penalty=s.paragraph_penalty if (ru_paragraphs is not None and az_paragraphs is not None) else 0.0,
        diagonal_penalty=s.diagonal_penalty if has_len else 0.0, diagonal_level=s.diagonal_level,
        embedded_weight=s.embedded_weight if use_embedded else 0.0,
        number_match=s.number_match, number_miss=s.number_miss,
        share_weight=s.share_weight, share_level=s.share_level, cosine_floor=levels["cosine_floor"],
        extra={"hub_k": max(1, min(s.shape_hub_k, n, m))},
    )
    return Document(inputs, scoring, s, levels, ru, az)


MAX_NUMBERS_PER_UNIT = 32  # a unit with more is a table: its first 32 numbers are evidence enough


def unit_numbers(texts: Sequence[str], min_digits: int) -> list[list[str]]:
    """The numbers written with digits in each text (normalised, `align.filters.extract_numbers`),
    keeping the first `MAX_NUMBERS_PER_UNIT` of at least ``min_digits`` digits. (Capitalised words
    written alike on both sides were tried as a second cue of this kind: lower F1 on bleualign-dev —
    German capitalises nouns.)"""
    from .filters import extract_numbers

    return [[v for v in extract_numbers(t) if sum(ch.isdigit() for ch in v) >= min_digits][:MAX_NUMBERS_PER_UNIT]
            for t in texts]


def embedded_blocks(units: np.ndarray, texts: Sequence[str], sizes: Sequence[int],
                    encode: Callable[[list[str]], np.ndarray]) -> dict[int, np.ndarray]:
    """Unit vectors of every run of ``a`` consecutive texts (joined by a space), for each ``a`` in
    ``sizes``, embedded in one call; ``{1: units}`` included. Shape of entry a: (n − a + 1, d)."""
    wanted = [(a, " ".join(texts[i:i + a])) for a in sizes for i in range(len(texts) - a + 1)]
    out = {1: units}
    if not wanted:
        return out
    vecs = _as_unit_rows(encode([t for _, t in wanted]))
    first = 0
    for a in sizes:
        count = max(0, len(texts) - a + 1)
        if count:
            out[a] = vecs[first:first + count]
        first += count
    return out


def _weights(lengths: np.ndarray, power: float) -> np.ndarray:
    if power == 0.0:
        return np.ones(len(lengths))
    w = np.maximum(lengths, 1.0) ** power
    return w / w.mean()


def _length_centre(x: dp.Inputs, S: np.ndarray, start: np.ndarray) -> float:
    """Median log char-length ratio of the document's confident 1-1 pairs (≈ 0.0–0.1 for ru/az)."""
    rows, cols = mutual_best(S, start, x.m)
    if len(rows) < 3:
        return 0.0
    return float(np.median(np.log((x.ru_len[rows] + 1.0) / (x.az_len[cols] + 1.0))))


def mutual_best(S: np.ndarray, start: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of unit pairs that are each other's best match within the band."""
    return dp.mutual_best(S, start, m)


def margin_levels(S: np.ndarray, start: np.ndarray, m: int, ru_hub: np.ndarray, az_hub: np.ndarray,
                  calibration: dict | None = None) -> dict:
    """The document's own scale: ``floor`` (median margin of all band pairs) and ``top`` (of mutual bests)."""
    n, width = S.shape
    sample = np.arange(n) if n <= 2000 else np.linspace(0, n - 1, 2000).astype(np.int64)
    cols = start[sample, None] + np.arange(width)[None, :]
    valid = cols < m
    margins = S[sample] - 0.5 * (ru_hub[sample, None] + az_hub[np.minimum(cols, m - 1)])
    rows, best_cols = mutual_best(S, start, m)
    top_vals = S[rows, best_cols - start[rows]] - 0.5 * (ru_hub[rows] + az_hub[best_cols])
    floor = float(np.median(margins[valid])) if valid.any() else -0.1
    cosine_floor = float(np.median(S[sample][valid])) if valid.any() else 0.0
    top = float(np.median(top_vals)) if len(top_vals) else 0.0
    fallback = calibration or {}
    if len(top_vals) < 3 or top - floor < 0.02 or valid.sum() < 9:
        floor = fallback.get("margin_floor", floor if valid.sum() >= 9 else -0.1)
        top = fallback.get("margin_top", max(top, floor + 0.05))
    return {"floor": floor, "top": top, "mutual_best": int(len(top_vals)), "cosine_floor": cosine_floor}


def cosine_levels(ru: np.ndarray, az: np.ndarray, exact_cells: int = 4_000_000, sample: int = 1000,
                  window: int = 64) -> dict:
    """Cosine levels of the body, to judge captions: ``low`` = the median of all pairs (mostly wrong),
    ``high`` = the median of mutual-best pairs (mostly right).

    Exact up to ``exact_cells`` pairs. Longer bodies are sampled so time and memory stay linear:
    ``low`` from ``sample`` evenly spaced rows × as many columns, ``high`` from those rows' mutual
    bests within ``window`` units of their proportional position on the other side.
    """
    n, m = len(ru), len(az)
    if n * m <= exact_cells:
        sim = ru @ az.T
        best_r, best_c = sim.argmax(axis=1), sim.argmax(axis=0)
        mutual = [sim[i, best_r[i]] for i in range(n) if best_c[best_r[i]] == i]
        low = float(np.median(sim))
    else:
        rows = np.unique(np.linspace(0, n - 1, min(n, sample)).astype(np.int64))
        cols = np.unique(np.linspace(0, m - 1, min(m, sample)).astype(np.int64))
        low = float(np.median(ru[rows] @ az[cols].T))
        mutual = [value for r in rows for value in [_windowed_mutual_best(ru, az, int(r), window)] if value is not None]
    high = float(np.median(mutual)) if mutual else low + 0.1
    return {"low": low, "high": max(high, low + 0.02)}


def _windowed_mutual_best(ru: np.ndarray, az: np.ndarray, r: int, window: int) -> float | None:
    """Cosine of ru[r]'s best az unit near its proportional position, if ru[r] is that unit's best too."""
    n, m = len(ru), len(az)
    centre = r * m // n
    c0, c1 = max(0, centre - window), min(m, centre + window + 1)
    sims = az[c0:c1] @ ru[r]
    c = c0 + int(sims.argmax())
    back = c * n // m
    r0, r1 = max(0, back - window), min(n, back + window + 1)
    if not r0 <= r < r1 or r0 + int((ru[r0:r1] @ az[c]).argmax()) != r:
        return None
    return float(sims.max())


# --------------------------------------------------------------------------- structure
def _group_link(ru_units, az_units, ru_idx, az_idx, ru_vecs, az_vecs, hub_k: int = 4) -> Link:
    """The title bead: all title units of each side in one link, its margin against every other unit of
    the other side (a junk title competes with the real headline's neighbours and loses)."""
    ru_ids = tuple(ru_units[k].id for k in ru_idx)
    az_ids = tuple(az_units[k].id for k in az_idx)
    if not ru_idx or not az_idx:
        return Link(ru_ids, az_ids)
    u = unit_vector(ru_vecs[ru_idx].sum(axis=0))
    v = unit_vector(az_vecs[az_idx].sum(axis=0))
    sim, margin = group_margin(u, v, _others(ru_vecs, ru_idx), _others(az_vecs, az_idx), hub_k)
    return Link(ru_ids, az_ids, sim, margin)


def _others(vecs: np.ndarray, taken: Sequence[int]) -> np.ndarray:
    """The rows of ``vecs`` not in ``taken``."""
    keep = np.ones(len(vecs), dtype=bool)
    keep[list(taken)] = False
    return vecs[keep]


def unit_vector(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays zero)."""
    return v / max(float(np.linalg.norm(v)), 1e-9)


def match_one_to_one(ru_idx: list[int], az_idx: list[int], ru_vecs, az_vecs, ru_units, az_units,
                     levels: dict | None, tau: float, hub_k: int = 4) -> list[Link]:
    """One-to-one matching ignoring order (greedy on similarity, mutual best first).

    A pair is kept when its cosine clears ``tau`` on the body's scale (low = median of all body pairs,
    high = median of mutual-best body pairs); others become nulls. Its margin (`group_margin`) is
    taken against every other unit of the other side (captions, title and body). Links come in ru
    order, az-only nulls last.
    """
    if not ru_idx and not az_idx:
        return []
    pairs: dict[int, tuple[int, float, float]] = {}
    if ru_idx and az_idx:
        sim = ru_vecs[ru_idx] @ az_vecs[az_idx].T
        low, high = (levels["low"], levels["high"]) if levels else (0.0, 1.0)
        order = np.dstack(np.unravel_index(np.argsort(-sim, axis=None), sim.shape))[0]
        used_r, used_a = set(), set()
        for r, a in order:
            if r in used_r or a in used_a:
                continue
            value = float(sim[r, a])
            if (value - low) / (high - low) < tau:
                break
            used_r.add(r)
            used_a.add(a)
            ri, ai = ru_idx[r], az_idx[a]
            _, margin = group_margin(ru_vecs[ri], az_vecs[ai], _others(ru_vecs, [ri]), _others(az_vecs, [ai]), hub_k)
            pairs[r] = (a, value, margin)
    links = []
    for r, k in enumerate(ru_idx):
        if r in pairs:
            a, value, margin = pairs[r]
            links.append(Link((ru_units[k].id,), (az_units[az_idx[a]].id,), value, margin))
        else:
            links.append(Link((ru_units[k].id,), ()))
    matched_a = {a for a, _, _ in pairs.values()}
    links += [Link((), (az_units[k].id,)) for a, k in enumerate(az_idx) if a not in matched_a]
    return links


# --------------------------------------------------------------------------- after the search
def first_beads(doc: Document) -> list[tuple[int, int, int, int]]:
    """The search's path, with confident over-merges split back (``reevaluate="split"``)."""
    beads = dp.search(doc.inputs, doc.scoring)
    if doc.settings.reevaluate == "split":
        beads = split_confident(doc, beads)
    return beads


BEAD_SCORER_FILE = Path(__file__).with_name("bead_scorer.json")
PEEL_FEATURES = ("gain", "own", "dp_gain", "length_merge", "length_rest", "share", "char_share", "has_lengths")


@lru_cache(maxsize=4)
def load_bead_scorer(path: Path = BEAD_SCORER_FILE) -> dict:
    """The fitted bead scorer: ``{"features": [...], "weights": [...], "bias": b, ...}`` (bench/bead_scorer.py)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if tuple(data.get("features", ())) != PEEL_FEATURES or len(data.get("weights", ())) != len(PEEL_FEATURES):
        raise ValueError(f"{path}: features {data.get('features')} do not match {list(PEEL_FEATURES)}")
    return data


def peel_options(bead: tuple[int, int, int, int]) -> list[tuple[str, int]]:
    """Where a unit can be peeled off a merge: (side, unit index) for the first and the last unit of each
    side holding two or more units (none for 1-1 beads and nulls)."""
    i0, i1, j0, j1 = bead
    if i1 - i0 < 1 or j1 - j0 < 1 or (i1 - i0) + (j1 - j0) < 3:
        return []
    out = []
    if i1 - i0 >= 2:
        out += [("ru", i0), ("ru", i1 - 1)]
    if j1 - j0 >= 2:
        out += [("az", j0), ("az", j1 - 1)]
    return out


def peeled(bead: tuple[int, int, int, int], side: str, unit: int) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """(the rest of the bead, the peeled unit's own bead against the bead's other side)."""
    i0, i1, j0, j1 = bead
    if side == "ru":
        rest = (i0 + 1, i1, j0, j1) if unit == i0 else (i0, i1 - 1, j0, j1)
        return rest, (unit, unit + 1, j0, j1)
    rest = (i0, i1, j0 + 1, j1) if unit == j0 else (i0, i1, j0, j1 - 1)
    return rest, (i0, i1, unit, unit + 1)


def peel_features(doc: Document, bead, side: str, unit: int) -> np.ndarray:
    """The bead scorer's view of peeling ``unit`` off ``bead`` (`PEEL_FEATURES`, in that order):

    * ``gain``: ŝ of the merge minus ŝ of the rest (what the unit adds, on the document's scale);
    * ``own``: ŝ of the unit alone against the bead's other side;
    * ``dp_gain``: the search's score of the merge minus that of the rest (the null costs nothing);
    * ``length_merge`` / ``length_rest``: |log char ratio − the document's centre| of the merge / the rest;
    * ``share``: the unit's cosine with the other side over the merge's, both above the document's
      typical unrelated cosine — a true part carries ≈ 0.7, an absorbed sentence ≈ 0;
    * ``char_share``: the unit's characters over its side's in the merge;
    * ``has_lengths``: 1 when lengths are known (texts), else 0 (vectors only: lengths are 1s).
    """
    x, sc = doc.inputs, doc.scoring
    rest, own = peeled(bead, side, unit)
    (cos_m, margin_m, score_m), (_, margin_r, score_r), (cos_o, margin_o, _) = dp.bead_values(x, sc, [bead, rest, own])
    shat = lambda margin: (margin - sc.floor) * sc.scale  # noqa: E731
    floor = sc.cosine_floor
    share = (cos_o - floor) / max(cos_m - floor, 1e-3)
    side_len = x.ru_len[bead[0]:bead[1]].sum() if side == "ru" else x.az_len[bead[2]:bead[3]].sum()
    unit_len = x.ru_len[unit] if side == "ru" else x.az_len[unit]
    return np.array([shat(margin_m) - shat(margin_r), shat(margin_o), score_m - score_r,
                     _length_misfit(x, sc, bead), _length_misfit(x, sc, rest), float(np.clip(share, -2.0, 3.0)),
                     float(unit_len / max(side_len, 1e-9)), float(sc.length_weight > 0)])


def _length_misfit(x: dp.Inputs, sc: dp.Scoring, bead) -> float:
    i0, i1, j0, j1 = bead
    ru_chars, az_chars = x.ru_len[i0:i1].sum(), x.az_len[j0:j1].sum()
    return abs(float(np.log((ru_chars + 1.0) / (az_chars + 1.0))) - sc.length_centre)


def peel_absorbed(doc: Document, beads: list[tuple[int, int, int, int]], scorer: dict) -> list[tuple[int, int, int, int]]:
    """A merged unit that does not carry its share of the meaning becomes a null (issue 12).

    For every merge, each unit at an end of a multi-unit side is scored by the bead scorer (a logistic
    regression over `peel_features`, fitted on the development sets); the most likely absorbed one above
    ``peel_threshold`` is peeled off, and the rest is looked at again."""
    weights, bias = np.asarray(scorer["weights"], dtype=np.float64), float(scorer["bias"])
    threshold = doc.settings.peel_threshold

    def absorbed(current) -> tuple[str, int] | None:
        options = peel_options(current)
        if not options:
            return None
        z = [float(peel_features(doc, current, side, unit) @ weights) + bias for side, unit in options]
        best = int(np.argmax(z))
        return options[best] if 1.0 / (1.0 + np.exp(-z[best])) > threshold else None

    return _peel_each(beads, absorbed)


def peel_displaced(doc: Document, beads: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """A unit at an end of a merge whose mutual best match in the whole document lies outside the bead
    — unaligned, or itself at an end of another merge — with ŝ ≥ ``split_tau`` (confident), becomes a
    null: a sentence with a counterpart elsewhere (moved, or the same quote placed differently on each
    side) glued here. Its counterpart is freed the same way, and recovery pairs the two."""
    ru, az, x, sc = doc.ru, doc.az, doc.inputs, doc.scoring
    tau = doc.settings.split_tau
    sim = ru @ az.T
    ru_best, az_best = sim.argmax(axis=1), sim.argmax(axis=0)
    free = {"ru": set(), "az": set()}  # units unaligned or at an end of a merge
    for bead in beads:
        i0, i1, j0, j1 = bead
        if i1 > i0 and j1 == j0:
            free["ru"].add(i0)
        elif j1 > j0 and i1 == i0:
            free["az"].add(j0)
        for side, unit in peel_options(bead):
            free[side].add(unit)

    def displaced(side: str, unit: int, bead) -> bool:
        i0, i1, j0, j1 = bead
        if side == "ru":
            partner = int(ru_best[unit])
            if az_best[partner] != unit or j0 <= partner < j1 or partner not in free["az"]:
                return False
            margin = sim[unit, partner] - 0.5 * (x.ru_hub[unit] + x.az_hub[partner])
        else:
            partner = int(az_best[unit])
            if ru_best[partner] != unit or i0 <= partner < i1 or partner not in free["ru"]:
                return False
            margin = sim[partner, unit] - 0.5 * (x.ru_hub[partner] + x.az_hub[unit])
        return (margin - sc.floor) * sc.scale >= tau

    return _peel_each(beads, lambda current: next(
        ((side, unit) for side, unit in peel_options(current) if displaced(side, unit, current)), None))


def _peel_each(beads: list[tuple[int, int, int, int]], choose) -> list[tuple[int, int, int, int]]:
    """Every bead with the units ``choose(bead)`` names — ``(side, unit)``, or None to stop — peeled off
    one at a time as nulls, the rest of the bead looked at again; nulls keep their place in the order."""
    out: list[tuple[int, int, int, int]] = []
    for bead in beads:
        pending = [bead]
        while pending:
            current = pending.pop()
            hit = choose(current)
            if hit is None:
                out.append(current)
                continue
            rest, _ = peeled(current, *hit)
            null, first = _null_bead(current, *hit)
            if first:
                out.append(null)
                pending.append(rest)
            else:
                pending += [null, rest]  # the rest is looked at (and written) before the null after it
    return out


def _null_bead(bead, side: str, unit: int) -> tuple[tuple[int, int, int, int], bool]:
    """The null bead of a unit peeled off ``bead``, and whether it comes before the rest of the bead."""
    i0, i1, j0, j1 = bead
    if side == "ru":
        return ((unit, unit + 1, j0, j0), True) if unit == i0 else ((unit, unit + 1, j1, j1), False)
    return ((i0, i0, unit, unit + 1), True) if unit == j0 else ((i1, i1, unit, unit + 1), False)


def split_confident(doc: Document, beads: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Undo over-merging: split an n-n bead (2-2, 3-3 …) into n 1-1 pairs when every one of them
    is a mutual best match in the document with ŝ ≥ ``split_tau``.

    Sums of vectors are smoother than single ones, so two right 1-1 pairs side by side can score a
    little better merged; a pair that is each other's best and confidently right is not a merge.
    """
    x, sc = doc.inputs, doc.scoring
    rows, cols = mutual_best(x.S, x.start, x.m)
    partner = dict(zip(rows.tolist(), cols.tolist()))
    out: list[tuple[int, int, int, int]] = []
    for bead in beads:
        i0, i1, j0, j1 = bead
        if (i1 - i0) + (j1 - j0) < 3 or i1 == i0 or j1 == j0:
            out.append(bead)
            continue
        pairs = [(i, partner[i]) for i in range(i0, i1) if partner.get(i, -1) in range(j0, j1)]
        if len(pairs) != i1 - i0 or len(pairs) != j1 - j0 or any(b[1] <= a[1] for a, b in zip(pairs, pairs[1:])):
            out.append(bead)
            continue
        singles = [(i, i + 1, j, j + 1) for i, j in pairs]
        values = dp.bead_values(x, sc, singles)
        shat = (values[:, 1] - sc.floor) * sc.scale
        if (shat < doc.settings.split_tau).any():
            out.append(bead)
            continue
        out.extend(_fill_box(i0, i1, j0, j1, singles))
    return out


def _fill_box(i0, i1, j0, j1, singles):
    """The box ru[i0:i1] × az[j0:j1] as the given monotone 1-1 beads with nulls between them."""
    out, i, j = [], i0, j0
    for a0, a1, b0, b1 in singles + [(i1, i1, j1, j1)]:
        out += [(k, k + 1, j, j) for k in range(i, a0)] + [(i, i, k, k + 1) for k in range(j, b0)]
        if a1 > a0:
            out.append((a0, a1, b0, b1))
        i, j = a1, b1
    return out


def recover(doc: Document, ru: np.ndarray, az: np.ndarray, beads: list[tuple[int, int, int, int]]):
    """Match units left unaligned on both sides (moved paragraphs): mutual best + margin, run ↔ run.

    Returns the beads without the recovered nulls, and the recovered links as (ru ids, az ids).
    """
    s = doc.settings
    left_ru = [i0 for i0, i1, j0, j1 in beads if i1 > i0 and j1 == j0]
    left_az = [j0 for i0, i1, j0, j1 in beads if j1 > j0 and i1 == i0]
    if not left_ru or not left_az:
        return beads, []
    x, sc = doc.inputs, doc.scoring
    sim = ru[left_ru] @ az[left_az].T
    margin = sim - 0.5 * (x.ru_hub[left_ru][:, None] + x.az_hub[left_az][None, :])
    shat = (margin - sc.floor) * sc.scale
    best_a, best_r = shat.argmax(axis=1), shat.argmax(axis=0)
    seeds = [(r, int(best_a[r])) for r in range(len(left_ru))
             if best_r[best_a[r]] == r and shat[r, best_a[r]] >= s.recover_tau]
    if not seeds:
        return beads, []
    ru_runs, az_runs = _runs(left_ru), _runs(left_az)
    used_ru: set[int] = set()
    used_az: set[int] = set()
    found: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for r, a in seeds:
        ru_run = ru_runs[left_ru[r]]
        az_run = az_runs[left_az[a]]
        if ru_run[0] in used_ru or az_run[0] in used_az:
            continue
        sub = _align_run(doc, ru, az, ru_run, az_run)
        for ri, ai, value in sub:
            if ri and ai and value >= s.recover_tau and len(ri) + len(ai) <= s.recover_max_bead:
                found.append((ri, ai))
        used_ru.update(ru_run)
        used_az.update(az_run)
    taken_ru = {i for ri, _ in found for i in ri}
    taken_az = {j for _, ai in found for j in ai}
    kept = [b for b in beads if not ((b[1] > b[0] and b[0] in taken_ru and b[3] == b[2])
                                     or (b[3] > b[2] and b[2] in taken_az and b[1] == b[0]))]
    return kept, found


def _runs(indices: list[int]) -> dict[int, list[int]]:
    """Map each index to the maximal run of consecutive indices containing it."""
    runs: dict[int, list[int]] = {}
    current: list[int] = []
    for k in indices:
        if current and k != current[-1] + 1:
            current = []
        current.append(k)
        runs[k] = current
    return runs


def _align_run(doc: Document, ru, az, ru_run: list[int], az_run: list[int]):
    """A small full search between two runs of leftovers; (ru ids, az ids, ŝ per sentence) per bead."""
    s = replace(doc.settings, recover=False, reevaluate="off")
    sub_ru, sub_az = ru[ru_run], az[az_run]
    x = doc.inputs
    lo, hi = dp.full_band(len(ru_run), len(az_run))
    reach = s.max_bead - 1
    start, width = dp.sim_band(lo, hi, len(ru_run), len(az_run), reach)
    S = dp.banded_similarity(sub_ru, sub_az, start, width)
    ru_len, az_len = x.ru_len[ru_run], x.az_len[az_run]
    inputs = dp.Inputs(S, start, lo, hi, x.ru_w[ru_run], x.az_w[az_run],
                       dp.block_norms(sub_ru, x.ru_w[ru_run], reach), dp.block_norms(sub_az, x.az_w[az_run], reach),
                       x.ru_hub[ru_run], x.az_hub[az_run], ru_len, az_len,
                       x.ru_break[ru_run], x.az_break[az_run])
    beads = dp.search(inputs, doc.scoring)
    values = dp.bead_values(inputs, doc.scoring, beads)
    out = []
    for (i0, i1, j0, j1), (cos, margin, _) in zip(beads, values):
        shat = (margin - doc.scoring.floor) * doc.scoring.scale
        out.append((tuple(ru_run[i0:i1]), tuple(az_run[j0:j1]), shat))
    return out


def _links(doc: Document, beads, moved) -> list[Link]:
    """Beads (+ recovered links) → Link objects with similarity and margin, in order."""
    values = dp.bead_values(doc.inputs, doc.scoring, beads)
    links = [Link(tuple(range(i0, i1)), tuple(range(j0, j1)), float(v[0]), float(v[1]))
             for (i0, i1, j0, j1), v in zip(beads, values)]
    if moved:
        extra = [Link(tuple(ri), tuple(ai), *_values_any(doc, ri, ai)) for ri, ai in moved]
        links = _merge_in_ru_order(links, extra)
    return links


def _values_any(doc: Document, ri, ai) -> tuple[float, float]:
    u = unit_vector(doc.ru[list(ri)].sum(axis=0))
    v = unit_vector(doc.az[list(ai)].sum(axis=0))
    cos = float(u @ v)
    hub = 0.5 * (doc.inputs.ru_hub[list(ri)].mean() + doc.inputs.az_hub[list(ai)].mean())
    return cos, cos - float(hub)


def _merge_in_ru_order(links: list[Link], extra: list[Link]) -> list[Link]:
    out: list[Link] = []
    extra = sorted(extra, key=lambda l: min(l.ru))
    k = 0
    for link in links:
        while k < len(extra) and link.ru and min(extra[k].ru) < min(link.ru):
            out.append(extra[k])
            k += 1
        out.append(link)
    out.extend(extra[k:])
    return out
