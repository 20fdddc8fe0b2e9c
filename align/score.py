"""Scoring links into written rows: texts, a calibrated score, flags and the keep decision.

``score`` is the probability that a pair is a true translation pair, from a logistic model on the
link's cosine and margin whose constants were fitted per model (true FLORES-200 dev ru/az pairs
against the hardest wrong candidate of each sentence within 40-sentence "documents", classes
weighted equally; see ``bench/quality.py --calibrate``) and stored in ``align/calibration.json``
keyed by model name (`Embedder.name`, e.g. ``multilingual-e5-small|query``). The fit is balanced,
but a pair the aligner chose is right far more often than not: the score adds that prior
(``ALIGNED_PRIOR`` = 0.8, i.e. + log 4 to the logit). Measured on the NTREX dev set: keeping
``score ≥ 0.5`` keeps 97 % of the right pairs at precision 0.974 (with a 0.5 prior: 80 %, 0.974). For a model without constants the score
comes from the document itself: ``sigmoid((margin − M/2) / (M/4))`` with M the median margin of the
document's aligned links (most links are right and a wrong pair's margin is ≤ 0).

A pair is kept when it has both sides, ``score ≥ 0.5`` and no blocking flag (wrong script or
language). Flags that only inform (``numbers-differ``, ``length-ratio``) do not drop a pair.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .types import Link, Pair, Unit, UnitKind

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
DEFAULT_MODEL_KEY = "multilingual-e5-small|query"
KEEP_THRESHOLD = 0.5
ALIGNED_PRIOR = 0.8  # share of aligned pairs that are right before looking at their scores
BLOCKING = ("no-content", "wrong-script", "ru-wrong-language", "az-wrong-language")
# ru chars / az chars of true pairs (NTREX docs 1–62): used when calibration.json has no entry
LENGTH_RATIO = {"centre": 1.0, "low": 0.5, "high": 2.0}


@lru_cache(maxsize=1)
def load_calibrations() -> dict:
    """The contents of ``align/calibration.json`` (an empty dict when it is missing)."""
    try:
        return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def calibration_for(model_name: str | None) -> dict:
    """The stored constants for a model name (`Embedder.name`), or ``{}`` (→ the document fallback)."""
    models = load_calibrations().get("models", {})
    if model_name is None:
        return models.get(DEFAULT_MODEL_KEY, {})
    if model_name in models:
        return models[model_name]
    base = model_name.split("|")[0]
    for key, value in models.items():  # a model directory renamed or moved keeps its constants
        if key.split("|")[0] == base and key.split("|")[1:] == model_name.split("|")[1:]:
            return value
    return {}


def _length_limits() -> dict:
    return load_calibrations().get("length_ratio", LENGTH_RATIO)


# --------------------------------------------------------------------------- flags
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d+)?")


def numbers_in(text: str) -> list[str]:
    """Numbers written with digits, normalised: thousands separators dropped, decimal comma → dot."""
    out = []
    for raw in _NUMBER.findall(text):
        value = re.sub(r"[ \u00a0\u202f]", "", raw)
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", value):  # 1.000.000 / 1,000
            value = re.sub(r"[.,]", "", value)
        out.append(value.replace(",", ".").lstrip("0") or "0")
    return sorted(out)


def pair_flags(ru: str, az: str, length_ratio: float) -> list[str]:
    """Flags of a two-sided pair (see the module docstring)."""
    from .filters import has_content
    from .lang import detect_language, script_of

    flags = []
    if not (has_content(ru) and has_content(az)):
        flags.append("no-content")
    if numbers_in(ru) != numbers_in(az):
        flags.append("numbers-differ")
    ru_script, az_script = script_of(ru), script_of(az)
    if ru_script == "latn" or az_script == "cyrl":
        flags.append("wrong-script")
    letters = sum(ch.isalpha() for ch in ru), sum(ch.isalpha() for ch in az)
    if letters[0] >= 20 and detect_language(ru) not in ("ru", "unknown"):
        flags.append("ru-wrong-language")
    if letters[1] >= 20 and detect_language(az) not in ("az", "unknown"):
        flags.append("az-wrong-language")
    limits = _length_limits()
    if length_ratio and not (limits["low"] <= length_ratio <= limits["high"]) and min(len(ru), len(az)) >= 15:
        flags.append("length-ratio")
    return flags


# --------------------------------------------------------------------------- score
def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def calibrated_score(similarity: float, margin: float, calibration: dict, document_margin: float,
                     prior: float = ALIGNED_PRIOR) -> float:
    """P(true pair) in [0, 1] from the model's constants (with the prior), else from the document's median margin."""
    if {"cos_weight", "margin_weight", "bias"} <= calibration.keys():
        z = calibration["cos_weight"] * similarity + calibration["margin_weight"] * margin + calibration["bias"]
        return _sigmoid(z + math.log(prior / (1.0 - prior)))
    centre = max(document_margin, 0.02)
    return _sigmoid((margin - centre / 2) / (centre / 4))


def _kind(units: Sequence[Unit]) -> UnitKind:
    kinds = {u.kind for u in units}
    for kind in ("title", "caption", "paragraph"):
        if kind in kinds:
            return kind  # type: ignore[return-value]
    return "sentence"


def score_links(links: Sequence[Link], ru_units: Sequence[Unit], az_units: Sequence[Unit], doc: str,
                calibration: dict | None = None) -> list[Pair]:
    """One `Pair` per link, in the links' order, with texts, score, flags and the keep decision.

    ``calibration``: a model's constants (`calibration_for`); ``None`` means the default model's;
    ``{}`` means "unknown model": score from the document's own margins.
    """
    cal = calibration_for(None) if calibration is None else calibration
    ru_by_id = {u.id: u for u in ru_units}
    az_by_id = {u.id: u for u in az_units}
    aligned = [l.margin for l in links if l.ru and l.az]
    document_margin = float(np.median(aligned)) if aligned else 0.0
    pairs = []
    for link in links:
        ru_side = [ru_by_id[i] for i in link.ru]
        az_side = [az_by_id[j] for j in link.az]
        ru_text = " ".join(u.text for u in ru_side)
        az_text = " ".join(u.text for u in az_side)
        kind = _kind(ru_side + az_side)
        if not ru_side or not az_side:
            flag = "unaligned-ru" if ru_side else "unaligned-az"
            pairs.append(Pair(doc, kind, link.ru, link.az, ru_text, az_text, 0.0, 0.0, 0.0, 0.0,
                              (flag,), False, "no counterpart on the other side"))
            continue
        ratio = len(ru_text) / max(len(az_text), 1)
        flags = pair_flags(ru_text, az_text, ratio)
        score = calibrated_score(link.similarity, link.margin, cal, document_margin)
        if score < KEEP_THRESHOLD:
            flags.append("low-score")
        blocking = [f for f in flags if f in BLOCKING]
        if blocking:
            keep, reason = False, ", ".join(blocking)
        elif score < KEEP_THRESHOLD:
            keep, reason = False, f"score {score:.2f} < {KEEP_THRESHOLD:.2f}"
        else:
            keep, reason = True, ""
        pairs.append(Pair(doc, kind, link.ru, link.az, ru_text, az_text, round(score, 4),
                          round(link.similarity, 4), round(link.margin, 4), round(ratio, 3),
                          tuple(flags), keep, reason))
    return pairs


# --------------------------------------------------------------------------- fitting constants
def fit_calibration(true_cos, true_margin, wrong_cos, wrong_margin, iterations: int = 200) -> dict:
    """Logistic regression P(true | cos, margin), classes weighted equally (Newton's method)."""
    X = np.column_stack([np.concatenate([true_cos, wrong_cos]), np.concatenate([true_margin, wrong_margin])])
    y = np.concatenate([np.ones(len(true_cos)), np.zeros(len(wrong_cos))])
    weight = np.where(y == 1, 0.5 / len(true_cos), 0.5 / len(wrong_cos))
    beta, accuracy = fit_logistic(X, y, weight, iterations)
    return {"cos_weight": float(beta[0]), "margin_weight": float(beta[1]), "bias": float(beta[2]),
            "balanced_accuracy": round(accuracy, 4)}


def fit_logistic(X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, iterations: int = 200,
                 ridge: float = 1e-4) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Newton's method: (coefficients with the bias last, weighted accuracy).

    ``X``: (n, k) features, ``y``: 0/1 labels, ``weight``: per-row weights (default: all equal, summing to 1).
    """
    X = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(len(X))])
    y = np.asarray(y, dtype=np.float64)
    weight = np.full(len(y), 1.0 / max(len(y), 1)) if weight is None else np.asarray(weight, dtype=np.float64)
    beta = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        grad = X.T @ (weight * (p - y)) + ridge * beta
        hess = (X * (weight * p * (1 - p))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    accuracy = float(((p >= 0.5) == (y == 1)).astype(float) @ weight / weight.sum())
    return beta, accuracy


def save_calibration(model_name: str, constants: dict, length_ratio: dict | None = None) -> None:
    """Store one model's constants (and optionally the length-ratio limits) in calibration.json."""
    data = dict(load_calibrations())
    data.setdefault("models", {})[model_name] = constants
    if length_ratio:
        data["length_ratio"] = length_ratio
    CALIBRATION_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    load_calibrations.cache_clear()
