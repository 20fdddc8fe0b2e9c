import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.clean import clean_page, headline_like, match_dateline, noise_reason, split_credit
from align.read import read_page
from align.types import Block, InputError, RawPage

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "sputnik-2023-12-06"

# Every noise line of the two sample pages (0-based line number → reasons of what was removed).
# Lines 4 and 11 are "© credit" glued to the caption: the credit is removed, and on line 11 the
# caption too, as a repeat. Line 5 is the image alt text of the caption.
EXPECTED_REMOVED = {
    0: ["navigation"],
    4: ["photo-credit"],
    5: ["alt-text"],
    6: ["subscribe"],
    8: ["dateline"],
    11: ["photo-credit", "duplicate-caption"],
    12: ["other-language"],
    13: ["duplicate-caption"],
    19: ["related-news"],
    20: ["navigation"],
    21: ["related-news"],
    22: ["navigation"],
    23: ["counter"],
}
CONTENT_LINES = {7, 8, 9, 10, 14, 15, 16, 17, 18}  # body paragraphs (line 8 after its dateline)


@pytest.fixture(scope="module", params=["ru", "az"])
def sample(request):
    lang = request.param
    path = SAMPLES / f"{lang}.txt"
    return lang, path.read_text(encoding="utf-8").split("\n"), clean_page(read_page(path), lang)


def test_sample_structure(sample):
    lang, lines, article = sample
    assert article.lang == lang
    assert article.title == lines[2]
    assert len(article.captions) == 1
    assert article.captions[0] == lines[13]  # the bare repeat of the caption
    assert len(article.paragraphs) == len(CONTENT_LINES) == 9
    assert article.paragraphs[0] == lines[7]  # the lead stays a paragraph
    assert article.source == str(SAMPLES / f"{lang}.txt")


def test_sample_meta(sample):
    lang, _, article = sample
    assert article.meta["date"] == "06.12.2023"
    assert article.meta["dateline"] == {"ru": "БАКУ, 6 дек - Sputnik.", "az": "BAKI, 6 dekabr - Sputnik."}[lang]
    assert article.meta["source"] == {"ru": "Sputnik Азербайджан", "az": "Sputnik Azərbaycan"}[lang]
    assert article.meta["crosslinks"] == {
        "ru": ("Azərbaycan-Türkiyə arasında hərbi əməkdaşlıq məsələləri müzakirə edilib",),
        "az": ("Азербайджан и Турция углубляют военное сотрудничество",),
    }[lang]


def test_every_noise_line_is_removed_with_its_reason(sample):
    _, _, article = sample
    by_line: dict[int, list[str]] = {}
    for removed in article.removed:
        by_line.setdefault(removed.line, []).append(removed.reason)
    assert by_line == EXPECTED_REMOVED


def test_no_noise_survives_and_nothing_is_lost(sample):
    _, lines, article = sample
    kept = [article.title, *article.captions, *article.paragraphs]
    for line_no, reasons in EXPECTED_REMOVED.items():
        removed_here = [r for r in article.removed if r.line == line_no]
        if line_no not in CONTENT_LINES and "photo-credit" not in reasons:
            # a wholly dropped line: its text is recorded, and appears nowhere in the article
            # (a repeated caption is of course kept once, as the caption)
            assert "".join(r.text for r in removed_here) == lines[line_no]
            if reasons != ["duplicate-caption"]:
                assert not any(lines[line_no] in k for k in kept)
    assert kept.count(article.captions[0]) == 1
    # the glued credit lines: credit removed, caption kept once, the line fully accounted for
    for line_no in (4, 11):
        credit = next(r.text for r in article.removed if r.line == line_no and r.reason == "photo-credit")
        assert credit == "© AR Ministry of Defence"
        assert lines[line_no] == credit + article.captions[0]
        assert not any("Ministry" in k or "©" in k for k in kept)
    # the dateline: removed from the paragraph, the rest kept
    dateline = next(r.text for r in article.removed if r.reason == "dateline")
    assert lines[8] == f"{dateline} {article.paragraphs[1]}"
    for text in kept:
        assert "Sputnik" not in text and "1920" not in text and text not in ("0", "Новости", "Xəbərlər")


def test_both_pages_align_paragraph_for_paragraph():
    ru = clean_page(read_page(SAMPLES / "ru.txt"), "ru")
    az = clean_page(read_page(SAMPLES / "az.txt"), "az")
    assert len(ru.paragraphs) == len(az.paragraphs)
    assert [r.line for r in ru.removed] == [r.line for r in az.removed]


def test_a_page_given_with_the_wrong_language_is_cleaned_as_what_it_is():
    article = clean_page(read_page(SAMPLES / "az.txt"), "ru")
    assert article.lang == "az" and article.meta["declared_lang"] == "ru"
    assert len(article.paragraphs) == 9 and article.title.startswith("Azərbaycan")


def test_language_auto():
    article = clean_page(read_page(SAMPLES / "az.txt"), "auto")
    assert article.lang == "az" and len(article.paragraphs) == 9


# ── rules ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "line, reason",
    [
        ("Новости", "navigation"), ("Лента новостей", "navigation"), ("Все новости", "navigation"),
        ("Xəbərlər", "navigation"), ("Xəbər lenti", "navigation"), ("Bütün xəbərlər", "navigation"),
        ("Подписаться", "subscribe"), ("Abunə ol", "subscribe"),
        ("Подписывайтесь на наш канал в Telegram", "subscribe"),
        ("Sputnik Azərbaycan-ın Telegram kanalına abunə olun", "subscribe"),
        ("Читайте также", "read-also"), ("Читайте также: Алиев встретился с Эрдоганом", "read-also"),
        ("Daha ətraflı", "read-also"), ("Daha ətraflı:", "read-also"), ("Həmçinin oxuyun: Nazir görüşüb", "read-also"),
        ("0", "counter"), ("1 234", "counter"), ("15 просмотров", "counter"), ("1.2K", "counter"),
        ("Поделиться", "social"), ("Paylaş", "social"), ("Telegram", "social"), ("WhatsApp", "social"),
        ("Фото: Sputnik / Мурад Оруджев", "photo-credit"), ("Foto: AZƏRTAC", "photo-credit"),
        ("© Sputnik / Мурад Оруджев", "photo-credit"),
        ("© 2023 Sputnik. Все права защищены", "copyright"), ("Bütün hüquqlar qorunur", "copyright"),
        ("18+", "copyright"), ("Реклама", "advert"), ("12:45", "timestamp"),
        ("06.12.2023, 12:45 (обновлено: 13:10)", "timestamp"), ("Автор: Иван Петров", "byline"),
        ("https://az.sputniknews.ru/20231206/voennoe.html", "url"), ("* * *", "symbols"),
    ],
)
def test_noise_lines(line, reason):
    assert noise_reason(line) == reason


@pytest.mark.parametrize(
    "line",
    [
        "Новости экономики стали главной темой встречи.",
        "Президент подписал указ о назначении.",
        "Daha ətraflı məlumat verən nazir sözünü davam etdirib.",
        "В 2023 году рост составил 5 процентов.",
        "Министр обороны Азербайджана встретился с гостем",
        "Xəbər lentində yeni məlumat yoxdur, deyə o bildirib.",
    ],
)
def test_content_lines_are_not_noise(line):
    assert noise_reason(line) is None


@pytest.mark.parametrize(
    "text, dateline",
    [
        ("БАКУ, 6 дек - Sputnik. Министр обороны встретился с гостем.", "БАКУ, 6 дек - Sputnik."),
        ("BAKI, 6 dekabr - Sputnik. Müdafiə naziri görüşüb.", "BAKI, 6 dekabr - Sputnik."),
        ("МОСКВА, 6 дек — РИА Новости. Глава МИД заявил...", "МОСКВА, 6 дек — РИА Новости."),
        ("БАКУ, 6 дек – Sputnik Азербайджан. Министр прибыл.", "БАКУ, 6 дек – Sputnik Азербайджан."),
        ("Баку /Trend/ - Министр обороны встретился с гостем.", "Баку /Trend/ -"),
        ("Bakı. 6 dekabr. REPORT.AZ/ Müdafiə naziri görüşüb.", "Bakı. 6 dekabr. REPORT.AZ/"),
        ("Bakı, 6 dekabr, AZƏRTAC. Nazir görüşüb.", "Bakı, 6 dekabr, AZƏRTAC."),
        ("БАКУ, 6 дек. /АПА/. Министр прибыл.", "БАКУ, 6 дек. /АПА/."),
    ],
)
def test_datelines(text, dateline):
    found = match_dateline(text)
    assert found is not None and found[0] == dateline
    assert found[1][0].isupper()


@pytest.mark.parametrize(
    "text",
    [
        "Баку является столицей Азербайджана.",
        "В Баку, 6 декабря, прошла встреча.",
        "Sputnik сообщает, что встреча прошла.",
        "Trend отмечает рост цен.",
    ],
)
def test_not_datelines(text):
    assert match_dateline(text) is None


@pytest.mark.parametrize(
    "line, credit, caption",
    [
        ("© AR Ministry of DefenceМинистр обороны встретился", "© AR Ministry of Defence", "Министр обороны встретился"),
        ("© AR Ministry of DefenceMüdafiə naziri görüşüb", "© AR Ministry of Defence", "Müdafiə naziri görüşüb"),
        # unknown credits: the seam where a lower-case letter meets a capital with no space
        ("© Sputnik / Мурад ОруджевВид на Баку", "© Sputnik / Мурад Оруджев", "Вид на Баку"),
        ("© Press Office of GeorgiaMüdafiə naziri görüşüb", "© Press Office of Georgia", "Müdafiə naziri görüşüb"),
        ("© Sputnik / Ron DeSantisBaşqa şəhər", "© Sputnik / Ron DeSantis", "Başqa şəhər"),
        ("© Getty Images/iStockphotoMüdafiə naziri", "© Getty Images/iStockphoto", "Müdafiə naziri"),
        ("© AFPMcDonald's restoranı", "© AFP", "McDonald's restoranı"),
        # spaced: Latin credit, Cyrillic caption
        ("© Press Office Министр обороны", "© Press Office", "Министр обороны"),
        ("© Reuters", "© Reuters", ""),
        ("© Sputnik / Мурад Оруджев", "© Sputnik / Мурад Оруджев", ""),
    ],
)
def test_split_credit(line, credit, caption):
    assert split_credit(line) == (credit, caption)


def test_split_credit_ignores_other_lines():
    assert split_credit("Министр обороны") is None


def test_headline_like():
    assert headline_like("Азербайджан и Турция углубляют военное сотрудничество")
    assert headline_like("Что дальше?")
    assert not headline_like("Министр прибыл.")
    assert not headline_like("Новости")
    assert not headline_like("x " * 200)


# ── structures the samples do not show ────────────────────────────────────────────────────────


def page_of(*lines: str, tags: tuple[str, ...] | None = None) -> RawPage:
    blocks = tuple(Block(text=t, line=i, tag=tags[i] if tags else "") for i, t in enumerate(lines))
    return RawPage(path="mem.txt", blocks=blocks, encoding="utf-8", format="page")


def test_same_day_teaser_after_a_rubric_is_related_news():
    article = clean_page(
        page_of(
            "Главное",
            "Алиев принял делегацию из Турции",
            "© Sputnik / Мурад ОруджевВид на Баку",
            "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023",
            "Президент Азербайджана принял турецкую делегацию, сообщает пресс-служба.",
            "Другая встреча министров - Sputnik Азербайджан, 1920, 06.12.2023",
            "Новости",
            "Министры обсудили сотрудничество в энергетике",
            "Стороны договорились встретиться снова.",
        ),
        "ru",
    )
    assert article.title == "Алиев принял делегацию из Турции"
    assert article.captions == ("Вид на Баку",)
    assert article.paragraphs == (
        "Президент Азербайджана принял турецкую делегацию, сообщает пресс-служба.",
        "Стороны договорились встретиться снова.",
    )
    reasons = {r.line: r.reason for r in article.removed}
    assert reasons == {0: "navigation", 2: "photo-credit", 3: "alt-text", 5: "related-news", 6: "navigation", 7: "related-news"}


def test_alt_text_alone_gives_the_caption_and_drops_only_its_suffix():
    article = clean_page(
        page_of("Заголовок новости дня", "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023", "Текст новости."), "ru"
    )
    assert article.captions == ("Вид на Баку",)
    assert [(r.text, r.reason) for r in article.removed] == [(" - Sputnik Азербайджан, 1920, 06.12.2023", "alt-text")]


def test_repeated_paragraphs_and_title_are_dropped():
    article = clean_page(page_of("Заголовок новости дня", "Абзац один.", "Абзац один.", "Заголовок новости дня."), "ru")
    assert article.paragraphs == ("Абзац один.",)
    assert [r.reason for r in article.removed] == ["duplicate-paragraph", "duplicate-title"]


def test_page_without_title_keeps_paragraphs():
    article = clean_page(page_of("Это первый абзац текста.", "Это второй абзац."), "ru")
    assert article.title is None and len(article.paragraphs) == 2


def test_other_language_paragraph_is_a_crosslink():
    article = clean_page(page_of("Заголовок новости дня", "Müdafiə naziri görüşüb", "Текст новости."), "ru")
    assert article.meta["crosslinks"] == ("Müdafiə naziri görüşüb",)
    assert article.paragraphs == ("Текст новости.",)


def test_only_noise_raises():
    with pytest.raises(InputError, match="nothing left after cleaning: the page is only site noise"):
        clean_page(page_of("Новости", "Подписаться", "Лента новостей", "0", "© Sputnik"), "ru")


def test_only_noise_raises_for_a_real_file(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_text("Xəbərlər\nAbunə ol\nXəbər lenti\n0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"noise\.txt: nothing left after cleaning"):
        clean_page(read_page(path), "az")


def test_tagged_json_trusts_tags(tmp_path):
    data = {
        "title": "Azərbaycan və Türkiyə hərbi əməkdaşlığı dərinləşdirir",
        "captions": [
            "© AR Ministry of DefenceMüdafiə naziri görüşüb",
            "Müdafiə naziri görüşüb - Sputnik Azərbaycan, 1920, 06.12.2023",
        ],
        "paragraphs": ["BAKI, 6 dekabr - Sputnik. Nazir görüşüb.", "Abunə ol", "Qısa abzas"],
        "date": "06.12.2023",
        "url": "https://example.org/x",
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    article = clean_page(read_page(path), "az")
    assert article.title == data["title"]
    assert article.captions == ("Müdafiə naziri görüşüb",)
    assert article.paragraphs == ("Nazir görüşüb.", "Qısa abzas")  # a short headline-like p stays a p
    assert article.meta["date"] == "06.12.2023" and article.meta["url"] == "https://example.org/x"
    assert article.meta["dateline"] == "BAKI, 6 dekabr - Sputnik."
    assert sorted(r.reason for r in article.removed) == [
        "alt-text", "dateline", "duplicate-caption", "photo-credit", "subscribe",
    ]


AZ_HTML = """<html><head><meta property="article:published_time" content="2023-12-06T12:00:00+04:00"></head>
<body><nav><p>Xəbərlər</p></nav><article>
<h1>Azərbaycan və Türkiyə hərbi əməkdaşlığı dərinləşdirir</h1>
<figure><img src="x.jpg"><figcaption>© AR Ministry of DefenceMüdafiə naziri qonaqla görüşüb</figcaption></figure>
<p>BAKI, 6 dekabr - Sputnik. Müdafiə naziri Türkiyə nümayəndə heyəti ilə görüşüb.</p>
<p>Abunə ol</p>
<p>Tərəflər əməkdaşlığın inkişaf edəcəyinə əminliklərini ifadə ediblər.</p>
</article></body></html>"""


def test_html_page_cleans(tmp_path):
    path = tmp_path / "a.html"
    path.write_text(AZ_HTML, encoding="utf-8")
    article = clean_page(read_page(path), "az")
    assert article.title == "Azərbaycan və Türkiyə hərbi əməkdaşlığı dərinləşdirir"
    assert article.captions == ("Müdafiə naziri qonaqla görüşüb",)
    assert article.paragraphs == (
        "Müdafiə naziri Türkiyə nümayəndə heyəti ilə görüşüb.",
        "Tərəflər əməkdaşlığın inkişaf edəcəyinə əminliklərini ifadə ediblər.",
    )
    assert article.meta["date"] == "06.12.2023"
    assert {r.reason for r in article.removed} >= {"photo-credit", "dateline"}
    assert all("Abunə" not in p and "Xəbərlər" not in p for p in article.paragraphs)


# ── property ─────────────────────────────────────────────────────────────────────────────────


LINES = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=80),
        st.sampled_from(["Новости", "© AR Ministry of DefenceМинистр", "0", "БАКУ, 6 дек - Sputnik. Текст.",
                         "Вид - Sputnik Азербайджан, 1920, 06.12.2023", "Xəbərlər", "Abunə ol"]),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=LINES, lang=st.sampled_from(["ru", "az", "tr", "unknown", "auto"]), tagged=st.booleans())
def test_clean_never_raises_anything_but_input_error(lines, lang, tagged):
    tags = tuple(["title", "caption", "p", "meta:date"][i % 4] for i in range(len(lines))) if tagged else None
    try:
        article = clean_page(page_of(*lines, tags=tags), lang)
    except InputError:
        return
    assert article.title or article.paragraphs
    assert all(p for p in article.paragraphs)


def test_a_bare_date_line_is_a_timestamp_not_a_counter():
    assert noise_reason("06.12.2023") == "timestamp"
