"""Page-level quality machinery: the cover metric, noisy page rendering, and bench/page_quality.py end to end."""
from __future__ import annotations

import sys
from datetime import date

import pytest

from align.eval import score_page_tsv_cover, score_pairs_cover

from conftest import REPO, SAMPLE, shared_path

sys.path.insert(0, str(REPO / "bench"))
import page_quality  # noqa: E402
from pages import PageContent, SiteNoise, render_site_page  # noqa: E402

GOLD = [("Один. Два.", "Bir. İki."), ("Три.", "Üç."), ("Четыре.", "Dörd.")]


def test_cover_accepts_finer_and_coarser_rows():
    finer_and_merged = [("Один.", "Bir."), ("Два. Три.", "İki. Üç."), ("Четыре.", "Dörd.")]
    assert score_pairs_cover(finer_and_merged, GOLD)["f1"] == 1.0
    union = [("Один. Два. Три. Четыре.", "Bir. İki. Üç. Dörd.")]
    assert score_pairs_cover(union, GOLD)["recall"] == 1.0


def test_cover_rejects_glued_noise_and_unbalanced_pieces():
    rows = [("Три.", "BAKI, 6 dekabr - Sputnik. Üç."),  # a dateline glued to the az side
            ("Один.", "Bir. İki."),  # half of the ru side against all of the az side
            ("Четыре.", "Dörd.")]
    result = score_pairs_cover(rows, GOLD)
    assert result["correct"] == 1 and result["found"] == 1
    assert result["precision"] == pytest.approx(1 / 3)


def test_cover_from_a_tsv_kept_rows_only(tmp_path):
    header = "doc\tkind\tbead\tru_ids\taz_ids\tru\taz\tscore\tsimilarity\tmargin\tlength_ratio\tflags\tkeep\treason\n"
    rows = [("Один. Два.", "Bir. İki.", "1"), ("Три.", "Üç.", "0"), ("Четыре.", "Dörd.", "1")]
    path = tmp_path / "out.tsv"
    path.write_text(header + "".join(f"d\tsentence\t1-1\t0\t0\t{r}\t{a}\t0.9\t0.9\t0.1\t1.0\t\t{k}\t\n"
                                     for r, a, k in rows), encoding="utf-8")
    assert score_page_tsv_cover(path, GOLD)["recall"] == pytest.approx(2 / 3)
    assert score_page_tsv_cover(path, GOLD, kept_only=False)["f1"] == 1.0


def test_site_pages_hold_their_content_and_record_their_noise():
    content = PageContent("Министр встретился с коллегой", ["Подпись к снимку министра"],
                          ["Первый абзац статьи.", "Второй абзац. Ещё одно предложение.", "Третий абзац."])
    teaser = [("Другая новость с картинкой", "Заголовок другой новости", date(2023, 12, 1))]
    for style in ("sputnik", "report"):
        page = render_site_page(content, "ru", SiteNoise(style=style, teasers=teaser, byline="Автор: Лейла Гасанова",
                                                          crosslink="Nazir həmkarı ilə görüşüb"))
        for text in [content.title, *content.captions, *content.paragraphs]:
            assert text in page.text, (style, text)
        kinds = {kind for kind, _ in page.noise}
        assert {"navigation", "dateline", "counter"} <= kinds
        for _, text in page.noise:
            assert text in page.text


def test_page_bench_on_two_documents(tmp_path, hash_embedder):
    shared_path("data", "ntrex")
    docs = page_quality.page_docs("dev", limit=2)
    assert len(docs) == 2
    runs = [page_quality.run_doc(doc, hash_embedder, tmp_path) for doc in docs]
    for run in runs:
        assert (tmp_path / f"{run.doc.name}.tsv").is_file()
        ru_title, az_title = run.doc.gold[0]
        assert ru_title in run.doc.ru.text and az_title in run.doc.az.text
        # every unit is in exactly one row, as the TSV promises
        assert sum(len(r["ru_ids"].split(",")) for r in run.rows if r["ru_ids"]) == len(run.ru_units)
    scores = page_quality.score_runs(runs, kept_only=False)
    assert scores["gold"] == sum(len(r.doc.gold) for r in runs)
    assert 0.0 <= scores["precision"] <= 1.0 and 0.0 <= scores["recall"] <= 1.0
    leaks = page_quality.noise_leaks(runs)
    for kind in ("subscribe", "navigation", "copyright", "social", "photo-credit"):
        if kind in leaks:
            assert leaks[kind][1] == 0, (kind, leaks[kind])  # the cleaner drops these lines
    for run in runs:
        for category, kind, example in page_quality.classify(run):
            assert kind in ("FN", "FP") and category in (
                "keep-threshold", "cleaner-leak", "cleaner-drop", "segmentation", "one-sided", "aligner"), example


@pytest.mark.model
def test_real_sample_against_its_hand_made_gold(tmp_path, real_embedder):
    run = page_quality.run_doc(page_quality.sample_doc(SAMPLE), real_embedder, tmp_path)
    kept = page_quality.score_runs([run], kept_only=True)
    assert kept["gold"] == 11
    assert kept["precision"] == 1.0 and kept["recall"] >= 0.9, kept
    assert all(v[1] == 0 for v in page_quality.noise_leaks([run]).values())
