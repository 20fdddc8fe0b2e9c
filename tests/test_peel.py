"""The bead scorer (issue 12): a sentence with no counterpart stays a null, a true merge stays a merge."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from align.aligner import (BEAD_SCORER_FILE, DEFAULT, PEEL_FEATURES, align_vectors, load_bead_scorer, peel_options,
                           peeled)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from planted import planted  # noqa: E402

DIM = 384


def _noisy(rng, v, sigma=0.75):
    x = v / np.linalg.norm(v) + rng.normal(0.0, sigma / np.sqrt(DIM), DIM)
    return x / np.linalg.norm(x)


def _pairs(links):
    return {(l.ru, l.az) for l in links}


def _document(rng, n: int = 40):
    """n ru vectors and their noisy az translations, 1-1."""
    ru = rng.standard_normal((n, DIM))
    ru /= np.linalg.norm(ru, axis=1, keepdims=True)
    return ru, [_noisy(rng, v) for v in ru]


def test_the_weights_load_from_their_file():
    scorer = load_bead_scorer()
    assert tuple(scorer["features"]) == PEEL_FEATURES and len(scorer["weights"]) == len(PEEL_FEATURES)
    on_disk = json.loads(BEAD_SCORER_FILE.read_text(encoding="utf-8"))
    assert scorer["weights"] == on_disk["weights"] and "bench/bead_scorer.py" in on_disk["source"]


def test_a_scorer_file_with_other_features_is_refused(tmp_path):
    bad = tmp_path / "bead_scorer.json"
    bad.write_text(json.dumps({"features": ["gain"], "weights": [1.0], "bias": 0.0}), encoding="utf-8")
    with pytest.raises(ValueError, match="features"):
        load_bead_scorer(bad)


@pytest.mark.parametrize("seed", range(5))
def test_a_one_sided_sentence_between_two_pairs_stays_a_null(seed):
    rng = np.random.default_rng(seed)
    ru, az = _document(rng)
    extra = rng.standard_normal(DIM)
    ru = np.vstack([ru[:20], extra / np.linalg.norm(extra), ru[20:]]).astype(np.float32)  # ru 20 has no counterpart
    az = np.array(az, dtype=np.float32)
    links = align_vectors(ru, az)
    assert ((20,), ()) in _pairs(links)
    assert ((19,), (19,)) in _pairs(links) and ((21,), (20,)) in _pairs(links)


def test_without_the_scorer_the_search_absorbs_planted_nulls():
    """The defect the scorer fixes, on the planted recipe: the search alone glues most nulls into merges."""
    ru, az, gold = planted(3000, seed=11)
    planted_nulls = {l for l in gold if not (l[0] and l[1])}
    found = {(l.ru, l.az) for l in align_vectors(ru, az)}
    found_off = {(l.ru, l.az) for l in align_vectors(ru, az, settings=replace(DEFAULT, peel=False))}
    assert len(planted_nulls & found) >= 0.9 * len(planted_nulls)
    assert len(planted_nulls & found_off) < 0.5 * len(planted_nulls)


@pytest.mark.parametrize("seed", range(5))
def test_a_true_two_to_one_merge_is_still_found(seed):
    rng = np.random.default_rng(100 + seed)
    ru, az = _document(rng)
    az[20] = _noisy(rng, ru[20] + ru[21])  # az 20 translates ru 20 and 21 together
    del az[21]
    links = align_vectors(ru.astype(np.float32), np.array(az, dtype=np.float32))
    assert ((20, 21), (20,)) in _pairs(links)


def test_peel_options_and_the_rest():
    assert peel_options((3, 4, 5, 6)) == [] and peel_options((3, 4, 5, 5)) == []
    assert peel_options((3, 5, 5, 6)) == [("ru", 3), ("ru", 4)]
    assert peeled((3, 5, 5, 6), "ru", 4) == ((3, 4, 5, 6), (4, 5, 5, 6))
    assert peeled((3, 4, 5, 7), "az", 5) == ((3, 4, 6, 7), (3, 4, 5, 6))
