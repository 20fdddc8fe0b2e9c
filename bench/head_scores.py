"""Are title, caption and paragraph scores calibrated like sentence scores? Right pairs against wrong ones.

    .venv/bin/python bench/head_scores.py                 # dev (NTREX docs 1–62): tune here
    .venv/bin/python bench/head_scores.py --split heldout # report only

For every document of `bench/devset.py`'s set, the article pair is aligned as `align pair` aligns it
(`align.aligner.align_embedded`, then `align.score.score_links`) and each two-sided row of a kind is
counted as **right** (its link is gold) or **wrong**. Wrong heads are then planted the way real pages
produce them, and scored the same way:

* ``title ← other doc``: the ru title replaced by another document's headline (a junk or stale title);
* ``title ← lead``: the ru title replaced by its own article's last body sentence (same story, not
  the headline);
* ``caption ← other doc``: every ru caption replaced by a caption of another document;
* ``paragraph``: NTREX lines are paragraphs: line i ↔ line i is right, line i ↔ line i + 1 wrong; each
  is scored from its sentences' summed vectors against the other lines as `--level paragraph` does
  (`align.pipeline._group_scores`).

``at 0`` repeats the scoring with the margin these rows had before it was measured for them (0 for
titles, single captions and ``--level paragraph`` rows), so the two can be compared in one run. Prints, per kind: rows, kept share (score ≥ the keep threshold) and the score
quartiles. Calibrated means: right rows kept about as often as right sentences, wrong ones about as
rarely as wrong sentences.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.aligner import align_embedded, embed_units  # noqa: E402
from align.pipeline import _group_scores  # noqa: E402
from align.score import KEEP_THRESHOLD, calibrated_score, calibration_for, score_links  # noqa: E402
from align.segment import split_sentences  # noqa: E402
from devset import load_ntrex, make_docs, SPLITS  # noqa: E402
from quality import default_encoder  # noqa: E402


def row_scores(doc, ru_units, az_units, encoder, calibration, gold=None):
    """(kind, right?, score, score with margin 0) for each two-sided row of one article pair."""
    ru_vecs, az_vecs = embed_units(ru_units, encoder), embed_units(az_units, encoder)
    links = align_embedded(ru_units, az_units, ru_vecs, az_vecs, encoder)
    pairs = score_links(links, ru_units, az_units, doc, calibration)
    margins = [l.margin for l in links if l.ru and l.az]
    document_margin = float(np.median(margins)) if margins else 0.0
    out = []
    for link, pair in zip(links, pairs):
        if link.ru and link.az:
            old = calibrated_score(link.similarity, 0.0, calibration, document_margin)
            right = None if gold is None else (link.ru, link.az) in gold
            out.append((pair.kind, right, pair.score, old))
    return out


def collect(split: str, encoder, calibration) -> dict[str, list[tuple[float, float]]]:
    """Kind label → [(score, old score)] over the split."""
    docs = make_docs(split)
    rows: dict[str, list[tuple[float, float]]] = {}

    def add(label, score, old):
        rows.setdefault(label, []).append((score, old))

    for k, d in enumerate(docs):
        gold = set(d.gold)
        for kind, right, score, old in row_scores(d.name, d.ru_units, d.az_units, encoder, calibration, gold):
            add(f"{kind} {'right' if right else 'wrong'}", score, old)
        other = docs[(k + 7) % len(docs)]
        lead = [u for u in d.ru_units if u.kind == "sentence"][-1:]
        for label, text in (("title ← other doc", other.ru_units[0].text),
                            ("title ← lead", lead[0].text if lead else "")):
            if not text:
                continue
            ru = [replace(d.ru_units[0], text=text), *d.ru_units[1:]]
            for kind, _, score, old in row_scores(d.name, ru, d.az_units, encoder, calibration):
                if kind == "title":
                    add(label, score, old)
        other_caps = [u.text for u in other.ru_units if u.kind == "caption"]
        if other_caps and any(u.kind == "caption" for u in d.ru_units):
            texts = iter(other_caps * len(d.ru_units))
            ru = [replace(u, text=next(texts)) if u.kind == "caption" else u for u in d.ru_units]
            for kind, _, score, old in row_scores(d.name, ru, d.az_units, encoder, calibration):
                if kind == "caption":
                    add("caption ← other doc", score, old)
    for label, score, old in paragraph_rows(split, encoder, calibration):
        add(label, score, old)
    return rows


def paragraph_rows(split: str, encoder, calibration):
    """NTREX body lines as paragraphs: (label, score, old score) for right (i ↔ i) and wrong (i ↔ i + 1)."""
    documents = load_ntrex()
    for number in SPLITS[split]:
        _, ru_lines, az_lines = documents[number - 1]
        ru_lines, az_lines = ru_lines[1:], az_lines[1:]
        if len(ru_lines) < 3:
            continue
        ru_sums = _sums(ru_lines, "ru", encoder)
        az_sums = _sums(az_lines, "az", encoder)
        scored = []
        for i in range(len(ru_lines)):
            for j, label in ((i, "paragraph right"), (i + 1, "paragraph wrong")):
                if j < len(az_lines):
                    cos, margin = _group_scores((i,), (j,), ru_sums, az_sums, 4)
                    scored.append((label, cos, margin))
        document_margin = float(np.median([m for label, _, m in scored if label.endswith("right")]))
        for label, cos, margin in scored:
            yield (label, calibrated_score(cos, margin, calibration, document_margin),
                   calibrated_score(cos, 0.0, calibration, document_margin))


def _sums(lines: list[str], lang: str, encoder) -> dict[int, np.ndarray]:
    sentences = [split_sentences(line, lang) or [line] for line in lines]
    flat = [s for group in sentences for s in group]
    vecs = encoder.encode(flat)
    out, k = {}, 0
    for i, group in enumerate(sentences):
        out[i] = vecs[k:k + len(group)].astype(np.float64).sum(axis=0)
        k += len(group)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    args = parser.parse_args(argv)
    encoder = default_encoder()
    calibration = calibration_for(encoder.name)
    rows = collect(args.split, encoder, calibration)
    print(f"split {args.split}; keep threshold {KEEP_THRESHOLD}; model {encoder.name}")
    print(f"{'rows':24s} {'n':>5s}   {'kept':>8s} {'kept at 0':>9s}   {'score quartiles':>18s}   "
          f"{'quartiles at 0':>18s}")
    order = ["sentence right", "sentence wrong", "title right", "title wrong", "title ← other doc", "title ← lead",
             "caption right", "caption wrong", "caption ← other doc", "paragraph right", "paragraph wrong"]
    for label in order + sorted(set(rows) - set(order)):
        if label not in rows:
            continue
        new = np.array([s for s, _ in rows[label]])
        old = np.array([o for _, o in rows[label]])
        q_new = " ".join(f"{v:.2f}" for v in np.quantile(new, [0.25, 0.5, 0.75]))
        q_old = " ".join(f"{v:.2f}" for v in np.quantile(old, [0.25, 0.5, 0.75]))
        at_zero = f"{np.mean(old >= KEEP_THRESHOLD):9.3f}" if not label.startswith("sentence") else f"{'—':>9s}"
        print(f"{label:24s} {len(new):5d}   {np.mean(new >= KEEP_THRESHOLD):8.3f} {at_zero}"
              f"   {q_new:>18s}   {q_old if not label.startswith('sentence') else '—':>18s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
