"""Titles, captions and paragraph rows carry real margins, scored like sentences (real model, real page)."""
from __future__ import annotations

from align.pipeline import align_articles
from align.score import KEEP_THRESHOLD

from conftest import SAMPLE


def _rows(result, kind):
    return [p for p in result.pairs if p.kind == kind and p.ru_ids and p.az_ids]


def test_sample_title_caption_and_paragraphs_have_margins(real_embedder):
    sentence = align_articles(SAMPLE / "ru.txt", SAMPLE / "az.txt", real_embedder)
    for kind in ("title", "caption"):
        (row,) = _rows(sentence, kind)
        assert row.margin > 0.01 and row.keep and row.score > 0.9, row
    paragraph = align_articles(SAMPLE / "ru.txt", SAMPLE / "az.txt", real_embedder, level="paragraph")
    body = _rows(paragraph, "paragraph")
    assert body and all(p.margin > 0.01 and p.keep for p in body), body


def test_a_title_that_is_not_the_headline_is_not_kept(real_embedder, tmp_path):
    """The real page's title replaced by one of its body sentences (what a junk <title> or a teaser taken
    for the headline looks like): the title bead is still formed, but its margin and score say no."""
    right = align_articles(SAMPLE / "ru.txt", SAMPLE / "az.txt", real_embedder)
    body = [p for p in right.pairs if p.kind == "sentence"]
    one_sentence = [p for p in body if len(p.ru_ids) == 1 and p.ru.endswith(".")]
    wrong_title = min(one_sentence, key=lambda p: len(p.ru)).ru.rstrip(".")  # a headline has no final period
    page = (SAMPLE / "ru.txt").read_text(encoding="utf-8")
    title = _rows(right, "title")[0].ru
    assert title in page
    changed = tmp_path / "ru.txt"
    changed.write_text(page.replace(title, wrong_title, 1), encoding="utf-8")
    swapped = align_articles(changed, SAMPLE / "az.txt", real_embedder)
    (row,) = _rows(swapped, "title")
    assert row.ru == wrong_title
    assert row.score < KEEP_THRESHOLD and not row.keep, row

