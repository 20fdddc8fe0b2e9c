"""One keep policy: `align pair` and `align corpus` decide through the same filters, with the same
--min-score / --allow options; rows with one side carry no score; swapped or same-language inputs
are warned about in every mode (issue 16)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from pages import FakeEncoder, FakeFactory, fake_translate  # noqa: E402

from align import cli  # noqa: E402
from align.filters import FilterSettings, settings_from_options  # noqa: E402
from align.pipeline import align_segmented  # noqa: E402
from align.types import UsageError  # noqa: E402

RU_SENTENCES = [
    "Министр экономики Керимов открыл новый завод в городе Гянджа.",
    "Бюджет проекта составил 250 миллионов манатов, сообщает пресс-служба.",
    "На заводе будут работать более тысячи человек из соседних районов.",
    "Первая продукция поступит на рынок уже весной следующего года.",
]


def run_cli(*args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(a) for a in args])
    return exit_info.value.code or 0


@pytest.fixture
def article_pair(tmp_path):
    """A ru page and its fake 'az' counterpart whose second sentence says 550 instead of 250."""
    ru_dir, az_dir = tmp_path / "ru", tmp_path / "az"
    ru_dir.mkdir(), az_dir.mkdir()
    az_sentences = [fake_translate(s.replace("250", "550")) for s in RU_SENTENCES]
    title = "Керимов открыл новый завод в Гяндже"
    (ru_dir / "story.txt").write_text(title + "\n\n" + "\n\n".join(RU_SENTENCES) + "\n", encoding="utf-8")
    (az_dir / "story.txt").write_text(fake_translate(title) + "\n\n" + "\n\n".join(az_sentences) + "\n",
                                      encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("ru\taz\nstory.txt\tstory.txt\n", encoding="utf-8")
    return ru_dir, az_dir, pairs


def _decisions(tsv: Path) -> list[tuple[str, str, str, str]]:
    lines = tsv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    return [(r["ru"], r["az"], r["keep"], r["reason"]) for r in rows if r["ru"] and r["az"]]


def _pair_and_corpus(article_pair, tmp_path, monkeypatch, *options) -> tuple[list, list]:
    ru_dir, az_dir, pairs = article_pair
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: FakeEncoder())
    monkeypatch.setattr("align.corpus.DefaultModel", lambda model: FakeFactory())
    out = tmp_path / f"pair{len(options)}.tsv"
    assert run_cli("pair", ru_dir / "story.txt", az_dir / "story.txt", "-o", out, "-q", *options) == 0
    corpus = tmp_path / f"corpus{len(options)}"
    assert run_cli("corpus", ru_dir, az_dir, "--out-dir", corpus, "--pairs", pairs, "--workers", "1", "-q",
                   *options) == 0
    return _decisions(out), _decisions(corpus / "corpus.tsv")


@pytest.mark.slow
def test_pair_and_corpus_make_the_same_keep_decisions(article_pair, tmp_path, monkeypatch):
    # the fake 'Azerbaijani' is transliterated Russian: the language filter is allowed on both
    pair_rows, corpus_rows = _pair_and_corpus(article_pair, tmp_path, monkeypatch, "--allow", "language")
    assert pair_rows == corpus_rows
    numbers = [r for r in pair_rows if "250" in r[0]]
    assert numbers and numbers[0][2] == "0" and numbers[0][3].startswith("numbers:")
    relaxed_pair, relaxed_corpus = _pair_and_corpus(article_pair, tmp_path, monkeypatch, "--allow", "language",
                                                    "--allow", "numbers")
    assert relaxed_pair == relaxed_corpus
    assert [r for r in relaxed_pair if "250" in r[0]][0][2] == "1"


@pytest.mark.slow
def test_min_score_applies_to_both_commands(article_pair, tmp_path, monkeypatch):
    pair_rows, corpus_rows = _pair_and_corpus(article_pair, tmp_path, monkeypatch, "--allow", "language",
                                              "--min-score", "1")
    assert pair_rows == corpus_rows
    assert all(keep == "0" for _, _, keep, _ in pair_rows)


def test_allow_names_are_checked_before_any_work(tmp_path, capsys):
    code = run_cli("pair", tmp_path / "missing-ru.txt", tmp_path / "missing-az.txt", "--allow", "speling")
    err = capsys.readouterr().err
    assert code == 2 and "--allow 'speling'" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(UsageError):
        settings_from_options(1.5)
    assert settings_from_options(None, ["length-ratio", "duplicate"]) == FilterSettings(length_ratio=None,
                                                                                         duplicates=False)


def test_rows_with_one_side_carry_no_score(tmp_path, monkeypatch, hash_embedder):
    ru, az = tmp_path / "ru.txt", tmp_path / "az.txt"
    # the hash embedder matches equal texts: lines 1 and 3 have counterparts, line 2 has none
    ru.write_text("Birinci sətir mətn haqqında.\nЭтой строки нет в переводе, она только здесь.\n"
                  "Üçüncü sətir tamamilə başqadır.\n", encoding="utf-8")
    az.write_text("Birinci sətir mətn haqqında.\nÜçüncü sətir tamamilə başqadır.\n", encoding="utf-8")
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    assert run_cli("pair", ru, az, "--segmented", "-o", tmp_path / "out.tsv", "-q") == 0
    assert run_cli("pair", ru, az, "--segmented", "-o", tmp_path / "out.jsonl", "--format", "jsonl", "-q") == 0
    lines = (tmp_path / "out.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    one_sided = [r for r in rows if not (r["ru_ids"] and r["az_ids"])]
    assert one_sided and all(r[c] == "" for r in one_sided for c in ("score", "similarity", "margin", "length_ratio"))
    assert all(r["score"] for r in rows if r["ru_ids"] and r["az_ids"])
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(r["score"] is None for r in records if not (r["ru_ids"] and r["az_ids"]))


RU_LINES = ["Президент подписал новый указ об образовании.", "Указ вступит в силу с первого сентября.",
            "Министерство подготовит новые правила для школ."]
AZ_LINES = ["Prezident təhsil haqqında yeni fərman imzalayıb.", "Fərman sentyabrın birindən qüvvəyə minəcək.",
            "Nazirlik məktəblər üçün yeni qaydalar hazırlayacaq."]


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_segmented_files_given_swapped_are_swapped_back_with_a_warning(tmp_path, hash_embedder):
    ru, az = _write_lines(tmp_path / "ru.txt", RU_LINES), _write_lines(tmp_path / "az.txt", AZ_LINES)
    right = align_segmented(ru, az, hash_embedder)
    swapped = align_segmented(az, ru, hash_embedder)
    assert not right.warnings
    assert len(swapped.warnings) == 1 and "swapped" in swapped.warnings[0]
    assert [p.ru for p in swapped.aligned] == [p.ru for p in right.aligned]


def test_same_language_inputs_are_warned_about(tmp_path, hash_embedder, monkeypatch, capsys):
    ru, other = _write_lines(tmp_path / "ru.txt", RU_LINES), _write_lines(tmp_path / "ru2.txt", RU_LINES[::-1])
    result = align_segmented(ru, other, hash_embedder)
    assert any("both files look Russian" in w for w in result.warnings)
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    assert run_cli("pair", ru, other, "--segmented", "-o", tmp_path / "o.tsv") == 0
    assert "align: warning: both files look Russian" in capsys.readouterr().err
