"""Cleaning and scoring on real pages (bench/data/real: stored public pages, noise marked by hand)."""
from __future__ import annotations

from pathlib import Path

import pytest

from align.clean import clean_page
from align.filters import content_filter, has_content
from align.read import read_page
from align.types import Pair

REAL = Path(__file__).resolve().parents[1] / "bench" / "data" / "real"


def article(pair: str, lang: str):
    return clean_page(read_page(REAL / pair / f"{lang}.txt"), lang)


def texts(art) -> list[str]:
    return [t for t in (art.title or "", *art.captions, *art.paragraphs) if t]


def removed(art) -> dict[str, str]:
    return {r.text.strip(): r.reason for r in art.removed}


@pytest.mark.parametrize("pair, lang, line, reason", [
    ("03-report", "ru", "• 16 января, 2026", "timestamp"),  # a date line behind a bullet
    ("03-report", "ru", "• 18:07", "timestamp"),  # a time-only line
    ("03-report", "az", "- 16 yanvar, 2026", "timestamp"),
    ("03-report", "az", "- 17:44", "timestamp"),
    ("26-ona-azadses", "az", "- 19-09-2020, 08:30", "timestamp"),
    ("32-bundle-ednews", "az", "Siyasət 10:42 17.04.2024", "timestamp"),  # section, time and date
    ("03-report", "ru", "Внешняя политика", "navigation"),  # a section line
    ("26-ona-azadses", "az", "- Cəmiyyət", "navigation"),
    ("26-ona-azadses", "ru", "• СОЦИУМ", "navigation"),
    ("20-aze-7times", "az", "• whatsapp", "social"),  # share buttons spelled out
    ("20-aze-7times", "az", "• telegram", "social"),
    ("15-novoyevremya-qarabaginfo", "az", None, "navigation"),  # a breadcrumb "Ana Sayfa > …"
    ("32-bundle-ednews", "ru", "Новость дополняется", "timestamp"),
    ("29-minval-metbuat", "az", "0552252950 (Whatsapp)", "subscribe"),  # a call to send videos
    ("29-minval-metbuat", "az", "BU KATEQORİYADAN DİGƏR XƏBƏRLƏR", "navigation"),  # a related-news heading
])
def test_noise_kinds_of_real_pages_are_removed(pair, lang, line, reason):
    art = article(pair, lang)
    gone = removed(art)
    if line is None:  # the breadcrumb: the page's first line
        line = (REAL / pair / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[0].strip()
    assert gone.get(line) == reason, (line, gone)
    assert all(line not in t for t in texts(art))


def test_a_trend_header_line_is_a_timestamp():
    art = clean_page(read_page(REAL / "unpaired" / "02-trend-ru.txt"), "ru")
    assert removed(art).get("Политика Материалы 12 декабря 2025 10:50 (UTC +04:00)") == "timestamp"
    assert not art.title or "UTC" not in art.title


@pytest.mark.parametrize("pair, lang, stamp", [
    ("01-day", "ru", "date 2025-11-10"), ("01-day", "az", "date 2025-11-10"),  # a page's date field glued on
    ("05-day", "az", "date 2025-11-17"),
    ("12-haqqin-1news", "az", "09:23 -"),  # a feed's time glued before the lead
])
def test_a_stamp_glued_before_content_is_cut_off(pair, lang, stamp):
    art = article(pair, lang)
    assert stamp in removed(art) and removed(art)[stamp] == "timestamp"
    assert all(not t.startswith(stamp) for t in texts(art))


def test_a_stamp_glued_before_the_title_leaves_the_headline():
    art = article("01-day", "az")
    assert art.title == "Avstraliyada Azərbaycanla Parlamentlərarası Dostluq Qrupu təsis edilib"


def test_no_hand_marked_noise_line_is_a_whole_unit_on_the_tuning_half():
    """Every noise line marked by hand on the tune half's pages is gone as a line of its own (a noise
    piece inside a content line is the aligner's and the scorer's problem, measured by
    bench/page_quality.py)."""
    halves = [line.split("\t") for line in (REAL / "SPLITS.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    left = []
    for name, half, *_ in halves:
        if half != "tune":
            continue
        for lang in ("ru", "az"):
            noise = {l.strip() for l in (REAL / name / f"noise.{lang}.txt").read_text(encoding="utf-8").splitlines()}
            units = texts(article(name, lang))
            left += [(name, lang, t) for t in units if t.strip() in noise and has_content(t)]
    # what is left is what no generic rule can tell from content: a byline alone on its line ("Тимур
    # Рзаев"), an agency's name alone ("ONA"), a line of trending tags taken for the title (03-report)
    # and a same-day teaser's headline under its alt text (42-sputnik-metbuat)
    assert len(left) <= 4, left


@pytest.mark.parametrize("ru, az", [("• 00:22", "/axar.az/"), ("• 16 января, 2026", "- 16 yanvar, 2026"),
                                    ("12:45", "12:45"), ("/APA/", "(APA)"), ("© 2025", "- 0 -")])
def test_a_pair_of_short_junk_strings_is_never_kept(ru, az):
    keep, reason = content_filter(Pair("d", "sentence", (0,), (0,), ru, az, 0.99))
    assert not keep and reason.startswith("content")


def test_a_view_counter_and_a_typo_note_are_noise():
    from align.clean import noise_reason

    assert noise_reason("Просмотров: 1 234") == "counter" and noise_reason("Baxış sayı: 1234") == "counter"
    assert noise_reason("Mətndə səhv var? Onu siçanla seçin və Ctrl+Enter düyməsini basın.") == "advert"


def test_short_real_text_is_content():
    for text in ("Ураган", "Xocavənddə mina partladı - ANAMA əməkdaşı xəsarət aldı", "В 2025 году ВВП вырос на 4,1%"):
        assert has_content(text), text


def _as_html(title_tag: str, h1: str, paragraphs: list[str], og_title: str = "") -> str:
    from html import escape

    og = f'<meta property="og:title" content="{escape(og_title)}">' if og_title else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    heading = f"<h1>{escape(h1)}</h1>" if h1 else ""
    return (f'<html><head><meta charset="utf-8"><title>{escape(title_tag)}</title>{og}</head>'
            f"<body><nav>Ana səhifə</nav><article>{heading}{body}</article></body></html>")


@pytest.mark.parametrize("title_tag, h1, og_title, expected", [
    ("• 08 yanvar, 2026", "", "", None),  # a date line as <title> (issue 13's real example)
    ("Report.az", "", "Report.az", None),  # the site's name
    ("Xəbərlər | Report.az", "", "", None),  # a section name and the site
    ("• 08 yanvar, 2026", "HEADLINE", "", "HEADLINE"),  # junk <title>, the real headline in <h1>
    ("Report.az", "", "HEADLINE", "HEADLINE"),  # junk <title>, the real headline in og:title
    ("HEADLINE - Report.az", "", "", "HEADLINE"),  # the headline with the site's name after it
])
def test_html_title_candidates_junk_never_becomes_the_title(tmp_path, title_tag, h1, og_title, expected):
    """<title>, og:title and <h1> are candidates: the first that looks like a headline is the title, a
    junk one is dropped as noise; the real page's headline and paragraphs around them (02-report, az)."""
    real = article("02-report", "az")
    headline, paragraphs = real.title, real.paragraphs[:4]
    assert headline and len(paragraphs) == 4
    fill = lambda s: s.replace("HEADLINE", headline)  # noqa: E731
    page = tmp_path / "page.html"
    page.write_text(_as_html(fill(title_tag), fill(h1), paragraphs, fill(og_title)), encoding="utf-8")
    art = clean_page(read_page(page), "az")
    assert art.title == (fill(expected) if expected else None)
    assert art.paragraphs == paragraphs  # nothing of the body is lost or taken as the title
    junk = {r.text for r in art.removed if r.reason.startswith("junk-title")}
    assert headline not in junk and (expected or junk)  # no title: the junk is reported as removed
