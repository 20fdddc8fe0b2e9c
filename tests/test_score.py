"""Scoring links into rows: kinds, texts, length ratio, flags, the calibrated score and keep."""
from __future__ import annotations

import numpy as np
import pytest

from align.score import calibrated_score, calibration_for, fit_calibration, numbers_in, pair_flags, score_links
from align.types import Link, Unit

RU = [Unit(0, "title", "Министр обороны встретился с коллегой"), Unit(1, "caption", "Фото: министр обороны"),
      Unit(2, "sentence", "В 2023 году было подписано 15 соглашений о сотрудничестве.", 0, 0),
      Unit(3, "sentence", "Встреча прошла в Баку.", 0, 1),
      Unit(4, "sentence", "The meeting was held in Baku yesterday afternoon.", 1, 2)]
AZ = [Unit(0, "title", "Müdafiə naziri həmkarı ilə görüşüb"), Unit(1, "caption", "Foto: müdafiə naziri"),
      Unit(2, "sentence", "2023-cü ildə əməkdaşlıq haqqında 16 saziş imzalanıb.", 0, 0),
      Unit(3, "sentence", "Görüş Bakıda keçirilib.", 0, 1)]
CAL = {"cos_weight": 10.0, "margin_weight": 20.0, "bias": -9.0}


def rows(links, calibration=CAL):
    return score_links(links, RU, AZ, "doc1", calibration=calibration)


def test_kinds_texts_and_order():
    links = [Link((0,), (0,), 0.95, 0.1), Link((1,), (1,), 0.9, 0.1), Link((2, 3), (2,), 0.9, 0.05),
             Link((), (3,)), Link((4,), ())]
    out = rows(links)
    assert [p.kind for p in out] == ["title", "caption", "sentence", "sentence", "sentence"]
    assert out[2].ru == RU[2].text + " " + RU[3].text and out[2].bead == "2-1"
    assert all(p.doc == "doc1" for p in out)


def test_nulls_are_unaligned_and_dropped():
    out = rows([Link((), (3,)), Link((4,), ())])
    assert out[0].flags == ("unaligned-az",) and out[1].flags == ("unaligned-ru",)
    assert not out[0].keep and not out[1].keep and out[0].score == 0.0


def test_numbers_flag():
    assert numbers_in("1 000 и 2,5 и 007") == ["1000", "2.5", "7"]
    assert numbers_in("1,000,000 rub") == ["1000000"]
    out = rows([Link((2,), (2,), 0.95, 0.1)])
    assert "numbers-differ" in out[0].flags and out[0].keep  # informative only
    assert "numbers-differ" not in pair_flags("В 2023 году 15 соглашений.", "2023-cü ildə 15 saziş.", 1.0)


def test_wrong_language_and_script_drop():
    out = rows([Link((4,), (3,), 0.95, 0.1)])
    assert "wrong-script" in out[0].flags and not out[0].keep
    assert "wrong-script" in out[0].reason


def test_length_ratio_flag_and_value():
    out = rows([Link((2, 3), (3,), 0.9, 0.1)])
    assert out[0].length_ratio == pytest.approx(len(RU[2].text + " " + RU[3].text) / len(AZ[3].text), abs=1e-3)
    assert "length-ratio" in out[0].flags


def test_score_threshold_decides_keep():
    good, bad = rows([Link((3,), (3,), 0.95, 0.10), Link((3,), (3,), 0.80, -0.05)])
    assert good.score > 0.5 and good.keep and good.reason == ""
    assert bad.score < 0.5 and not bad.keep and "low-score" in bad.flags and bad.reason.startswith("score")


def test_document_fallback_for_unknown_models():
    assert calibration_for("no-such-model|query") == {}
    links = [Link((3,), (3,), 0.9, 0.10), Link((2,), (2,), 0.9, 0.12), Link((0,), (0,), 0.9, -0.02)]
    out = rows(links, calibration={})
    assert out[0].keep and not out[2].keep
    assert calibrated_score(0.9, 0.11, {}, 0.11) > 0.85


def test_fit_calibration_separates_classes():
    rng = np.random.default_rng(0)
    true_cos, wrong_cos = rng.normal(0.92, 0.02, 300), rng.normal(0.84, 0.03, 300)
    true_m, wrong_m = rng.normal(0.05, 0.02, 300), rng.normal(-0.03, 0.02, 300)
    cal = fit_calibration(true_cos, true_m, wrong_cos, wrong_m)
    assert cal["balanced_accuracy"] > 0.95
    assert calibrated_score(0.93, 0.06, cal, 0.0, prior=0.5) > 0.9 > 0.1 > calibrated_score(0.83, -0.04, cal, 0.0, prior=0.5)
    # the prior shifts the logit by log(prior / (1 − prior))
    assert calibrated_score(0.88, 0.01, cal, 0.0, prior=0.8) > calibrated_score(0.88, 0.01, cal, 0.0, prior=0.5)


def test_default_model_has_stored_constants():
    cal = calibration_for(None)
    assert {"cos_weight", "margin_weight", "bias"} <= cal.keys()
