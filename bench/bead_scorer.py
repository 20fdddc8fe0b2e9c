"""Fit the bead scorer (align/bead_scorer.json): is a unit of a merge part of it, or a sentence it absorbed?

    .venv/bin/python bench/bead_scorer.py              # fit on the development sets, write the file
    .venv/bin/python bench/bead_scorer.py --dry-run    # print the fit and its per-set accuracy only

The search (align.dp) sometimes glues a sentence that has no counterpart onto a neighbouring pair as a
2-1 / 1-2 / 3-1 bead. `align.aligner.peel_absorbed` looks at every merge the search returns and, for each
unit at an end of a side holding two or more units, asks a logistic regression over
`align.aligner.PEEL_FEATURES` whether the unit was absorbed; above ``peel_threshold`` it becomes a null.

**Training examples** come from the search's own output (``Settings(peel=False)``) on the development
sets only: `bench/devset.py` dev (NTREX docs 1–62, generator seeds 13, 14, 15: inserted foreign
sentences, dropped ones, real merges), the Bleualign de-fr dev document (real human translation) and
planted vector alignments (`bench/planted.py`'s recipe, 4,000 ru vectors, seeds 101–103 — not the
benchmark's seed 7). For a merge M and a unit u at an end of it: label 1 ("absorbed") when the gold
holds M without u and u as a null, label 0 ("part") when the gold holds M itself; other cases (the
merge is wrong in another way) are not examples. The two classes are weighted equally (absorbed
units are rare in real text: 11 in the 186 dev documents, 1 in bleualign-dev, 467 in the planted sets). Held-out sets (NTREX 63–123, Text+Berg, FLORES devtest)
are never read.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.aligner import (BEAD_SCORER_FILE, DEFAULT, PEEL_FEATURES, _as_unit_rows, first_beads,  # noqa: E402
                           peel_features, peel_options, peeled, prepare)
from align.score import calibration_for, fit_logistic  # noqa: E402

Example = tuple[np.ndarray, int]


def examples_from(doc, beads, gold: set) -> list[Example]:
    """(features, label) for every peel option of every merge in ``beads`` that the gold decides."""
    out = []
    for bead in beads:
        i0, i1, j0, j1 = bead
        exact = (tuple(range(i0, i1)), tuple(range(j0, j1)))
        for side, unit in peel_options(bead):
            rest, _ = peeled(bead, side, unit)
            r0, r1, c0, c1 = rest
            rest_link = (tuple(range(r0, r1)), tuple(range(c0, c1)))
            null = ((unit,), ()) if side == "ru" else ((), (unit,))
            if exact in gold:
                label = 0
            elif rest_link in gold and null in gold:
                label = 1
            else:
                continue
            out.append((peel_features(doc, bead, side, unit), label))
    return out


def body_problem(ru_units, az_units, gold, encoder):
    """The body of a dev-set article pair as `align_vectors` sees it: vectors, paragraphs, texts, gold
    over body indices (links touching titles or captions dropped)."""
    ru_body = [u for u in ru_units if u.kind in ("sentence", "paragraph")]
    az_body = [u for u in az_units if u.kind in ("sentence", "paragraph")]
    ru_pos = {u.id: k for k, u in enumerate(ru_body)}
    az_pos = {u.id: k for k, u in enumerate(az_body)}
    body_gold = set()
    for ru_ids, az_ids in gold:
        if all(i in ru_pos for i in ru_ids) and all(j in az_pos for j in az_ids):
            body_gold.add((tuple(ru_pos[i] for i in ru_ids), tuple(az_pos[j] for j in az_ids)))
    ru = _as_unit_rows(encoder.encode([u.text for u in ru_body]))
    az = _as_unit_rows(encoder.encode([u.text for u in az_body]))
    return ru, az, ru_body, az_body, body_gold


def text_examples(docs, encoder, settings) -> list[Example]:
    calibration = calibration_for(encoder.name)
    out: list[Example] = []
    for _, ru_units, az_units, gold in docs:
        ru, az, ru_body, az_body, body_gold = body_problem(ru_units, az_units, gold, encoder)
        if len(ru) == 0 or len(az) == 0:
            continue
        texts = ([u.text for u in ru_body], [u.text for u in az_body])
        doc = prepare(ru, az, settings, [u.paragraph for u in ru_body], [u.paragraph for u in az_body],
                      np.array([len(t) for t in texts[0]], dtype=np.float64),
                      np.array([len(t) for t in texts[1]], dtype=np.float64), calibration, None, texts)
        out += examples_from(doc, first_beads(doc), body_gold)
    return out


def planted_examples(seeds, n: int, settings) -> list[Example]:
    from planted import planted

    out: list[Example] = []
    for seed in seeds:
        ru, az, gold = planted(n, seed)
        doc = prepare(ru, az, replace(settings, max_bead=4))  # align_vectors' default bead size, as the benchmark
        out += examples_from(doc, first_beads(doc), set(gold))
    return out


def fit(sources: dict[str, list[Example]]) -> tuple[np.ndarray, float, dict]:
    """Weighted logistic fit over all sources; (weights, bias, per-source accuracy and counts)."""
    X = np.array([features for examples in sources.values() for features, _ in examples])
    y = np.array([label for examples in sources.values() for _, label in examples])
    w = np.where(y == 1, 0.5 / max(int(y.sum()), 1), 0.5 / max(int((y == 0).sum()), 1))
    beta, _ = fit_logistic(X, y, w, ridge=1e-3)
    report = {}
    for name, examples in sources.items():
        Xs = np.array([f for f, _ in examples])
        ys = np.array([label for _, label in examples])
        p = 1.0 / (1.0 + np.exp(-(Xs @ beta[:-1] + beta[-1])))
        report[name] = {"absorbed": int(ys.sum()), "parts": int((ys == 0).sum()),
                        "absorbed found": round(float((p[ys == 1] > 0.5).mean()) if ys.sum() else 0.0, 3),
                        "parts kept": round(float((p[ys == 0] <= 0.5).mean()) if (ys == 0).any() else 0.0, 3)}
    return beta[:-1], float(beta[-1]), report


def main(argv: list[str] | None = None) -> int:
    from quality import default_encoder, load_set

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the fit, do not write the file")
    parser.add_argument("--planted-n", type=int, default=4000)
    args = parser.parse_args(argv)
    settings = replace(DEFAULT, peel=False)
    encoder = default_encoder()
    sources = {
        "dev ×3 seeds": text_examples(load_set("dev", (13, 14, 15)), encoder, settings),
        "bleualign-dev": text_examples(load_set("bleualign-dev"), encoder, settings),
        "planted": planted_examples((101, 102, 103), args.planted_n, settings),
    }
    weights, bias, report = fit(sources)
    for name, row in report.items():
        print(f"{name:14s} {row}")
    print("weights:", ", ".join(f"{f} {w:+.3f}" for f, w in zip(PEEL_FEATURES, weights)), f"bias {bias:+.3f}")
    if not args.dry_run:
        data = {"features": list(PEEL_FEATURES), "weights": [round(float(w), 6) for w in weights],
                "bias": round(bias, 6), "model": encoder.name, "examples": report,
                "source": "bench/bead_scorer.py: the search's merges on dev ×3 seeds (NTREX 1–62), "
                          "bleualign-dev and planted vectors (seeds 101–103); gold decides absorbed vs part"}
        BEAD_SCORER_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {BEAD_SCORER_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
