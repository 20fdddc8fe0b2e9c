import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.clean import (
    article_date, clean_page, headline_like, headline_with_period, match_dateline, noise_reason, parse_date,
    split_credit, split_title_marker, split_title_stamp,
)
from align.read import read_page
from align.types import Block, InputError, RawPage

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "sputnik-2023-12-06"
FIXTURES = ROOT / "tests" / "data" / "clean"  # synthetic pages written for these tests

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


# ── the title: with a period, or only on a date line ─────────────────────────────────────────


@pytest.mark.parametrize("after", [
    "© Sputnik / Мурад ОруджевВид на Баку",  # a credit and caption
    "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023",  # an alt text
    "06.12.2023, 12:45",  # a timestamp
    "Подписаться",  # a subscribe button
    "БАКУ, 6 дек - Sputnik. Президент встретился с коллегой в Баку.",  # the dateline paragraph
])
def test_a_headline_ending_with_a_period_is_the_title_when_page_furniture_follows(after):
    article = clean_page(page_of("Новости", "Алиев встретился с Эрдоганом.", after,
                                 "Президент встретился с коллегой в Баку.", "Стороны обсудили сотрудничество."), "ru")
    assert article.title == "Алиев встретился с Эрдоганом."
    assert "Алиев встретился с Эрдоганом." not in article.paragraphs


def test_a_one_sentence_first_paragraph_followed_by_text_is_not_a_title():
    article = clean_page(
        page_of("Алиев встретился с Эрдоганом.", "Стороны обсудили сотрудничество в энергетике."), "ru")
    assert article.title is None and article.paragraphs[0] == "Алиев встретился с Эрдоганом."


def test_headline_with_period():
    assert headline_with_period("Алиев встретился с Эрдоганом.")
    assert headline_with_period("Prezident İ. Əliyev Türkiyəyə səfər edib.")  # an initial is no sentence end
    assert not headline_with_period("Алиев встретился с Эрдоганом")  # no period: headline_like's case
    assert not headline_with_period("Встреча прошла. Стороны довольны.")  # two sentences
    assert not headline_with_period("Ждем продолжения...")
    assert not headline_with_period(" ".join(["слово"] * 17) + ".")  # too long for a headline


@pytest.mark.parametrize("line, title, stamp", [
    ("Алиев встретился с Эрдоганом - 06.12.2023, Sputnik Азербайджан", "Алиев встретился с Эрдоганом",
     " - 06.12.2023, Sputnik Азербайджан"),  # Sputnik's page title
    ("Əliyev Ərdoğanla görüşüb, 06.12.2023", "Əliyev Ərdoğanla görüşüb", ", 06.12.2023"),
    ("Алиев встретился с Эрдоганом | 6 декабря 2023, 12:47", "Алиев встретился с Эрдоганом",
     " | 6 декабря 2023, 12:47"),
    ("Əliyev Ərdoğanla görüşüb (06.12.2023)", "Əliyev Ərdoğanla görüşüb", " (06.12.2023)"),
])
def test_the_title_is_taken_from_a_title_and_date_line(line, title, stamp):
    assert split_title_stamp(line) == (title, stamp, "06.12.2023")
    az = "ə" in line
    nav, body = (("Xəbərlər", "Prezident həmkarı ilə Bakıda görüşüb.") if az
                 else ("Новости", "Президент встретился с коллегой."))
    article = clean_page(page_of(nav, line, body), "auto")
    assert article.title == title and article.meta["date"] == "06.12.2023" and article.paragraphs == (body,)
    assert [(r.text, r.reason) for r in article.removed] == [(nav, "navigation"), (stamp, "timestamp")]


def test_split_title_stamp_needs_a_headline_and_a_date():
    assert split_title_stamp("Новости, 06.12.2023") is None  # one word is no headline
    assert split_title_stamp("Встреча пройдет в Баку") is None
    assert split_title_stamp("Встреча пройдет 06.12.2024 в Баку.") is None


def test_a_date_line_below_the_title_stays_a_paragraph():
    article = clean_page(page_of("Заголовок новости дня", "Встреча министров пройдет в Баку, 06.12.2024"), "ru")
    assert article.title == "Заголовок новости дня"
    assert article.paragraphs == ("Встреча министров пройдет в Баку, 06.12.2024",)


def test_the_title_is_taken_from_the_alt_text_line_when_the_page_has_no_title_line():
    article = clean_page(page_of(
        "Новости",
        "Алиев и Эрдоган провели телефонный разговор - Sputnik Азербайджан, 1920, 06.12.2023",
        "Подписаться",
        "БАКУ, 6 дек - Sputnik. Президент провел телефонный разговор с коллегой.",
    ), "ru")
    assert article.title == "Алиев и Эрдоган провели телефонный разговор" and article.captions == ()
    assert article.meta["date"] == "06.12.2023" and article.meta["source"] == "Sputnik Азербайджан"
    removed = [(r.line, r.text, r.reason) for r in article.removed]
    assert (1, " - Sputnik Азербайджан, 1920, 06.12.2023", "alt-text") in removed


def test_an_alt_text_of_a_credited_photo_stays_a_caption_when_there_is_no_title():
    article = clean_page(page_of(
        "© Sputnik / Мурад ОруджевВид на Баку", "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023",
        "Президент провел телефонный разговор с коллегой.",
    ), "ru")
    assert article.title is None and article.captions == ("Вид на Баку",)


def test_a_title_repeated_as_the_alt_text_stays_the_title():
    """Sputnik gives a photo without a caption the headline as alt text: the headline line must not
    turn into a caption (leaving the page without a title)."""
    article = clean_page(page_of(
        "Новости", "Алиев встретился с Эрдоганом",
        "Алиев встретился с Эрдоганом - Sputnik Азербайджан, 1920, 06.12.2023",
        "Подписаться", "Президент встретился с коллегой в Баку.",
    ), "ru")
    assert article.title == "Алиев встретился с Эрдоганом" and article.captions == ()
    assert {r.line: r.reason for r in article.removed} == {0: "navigation", 2: "alt-text", 3: "subscribe"}


# ── the article's date, not a teaser's ──────────────────────────────────────────────────────


def test_a_teaser_above_the_title_does_not_give_the_date():
    article = clean_page(page_of(
        "Новости",
        "Другая новость дня - Sputnik Азербайджан, 1920, 05.12.2023", "Главное", "Министры обсудили энергетику",
        "Алиев встретился с Эрдоганом",
        "© Sputnik / Мурад ОруджевВид на Баку", "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023",
        "БАКУ, 6 дек - Sputnik. Президент встретился с коллегой.",
    ), "ru")
    assert article.meta["date"] == "06.12.2023"
    assert article.title == "Алиев встретился с Эрдоганом" and article.captions == ("Вид на Баку",)
    assert {r.line: r.reason for r in article.removed if r.line < 4} == {
        0: "navigation", 1: "related-news", 2: "navigation", 3: "related-news"}


def test_a_teaser_below_the_article_does_not_give_the_date_nor_a_caption():
    article = clean_page(page_of(
        "Алиев встретился с Эрдоганом", "06.12.2023, 12:45",
        "Президент встретился с коллегой.", "Стороны обсудили сотрудничество.",
        "Другая встреча министров - Sputnik Азербайджан, 1920, 27.11.2023", "Новости", "Министры обсудили энергетику",
    ), "ru")
    assert article.meta["date"] == "06.12.2023"
    assert article.captions == ()
    assert article.paragraphs == ("Президент встретился с коллегой.", "Стороны обсудили сотрудничество.")
    assert [r.reason for r in article.removed] == ["timestamp", "related-news", "navigation", "related-news"]


def test_the_date_that_agrees_with_the_dateline_wins():
    """A teaser above the title with no rubric after it looks like the article's image; the dateline
    ("6 дек") tells the article's date."""
    blocks = page_of(
        "Другая новость дня - Sputnik Азербайджан, 1920, 05.12.2023",
        "Алиев встретился с Эрдоганом",
        "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023",
        "БАКУ, 6 дек - Sputnik. Президент встретился с коллегой.",
    ).blocks
    assert article_date(blocks) == "06.12.2023"
    assert article_date(blocks[:3]) == "05.12.2023"  # without the dateline: the first date line


@pytest.mark.parametrize("lines, date", [
    (("Заголовок новости дня", "Обновлено: 07.12.2023 10:00", "6 декабря 2023, 12:47", "Текст."), "06.12.2023"),
    (("Заголовок новости дня", "Текст.", "Читайте также", "Другая новость", "05.12.2023, 18:20"), None),
    (("Заголовок новости дня", "Siyasət | 6 dekabr 2023 12:45 (UTC +04:00)", "Mətn."), "06.12.2023"),
    (("Заголовок новости дня", "Текст о событиях 06.12.2023 в Баку."), None),  # a date in a sentence
])
def test_article_date(lines, date):
    assert article_date(page_of(*lines).blocks) == date


@pytest.mark.parametrize("text, date", [
    ("06.12.2023", "06.12.2023"), ("6.12.2023, 12:45", "06.12.2023"), ("2023-12-06T12:00", "06.12.2023"),
    ("6 декабря 2023", "06.12.2023"), ("06 Dekabr 2023 12:45", "06.12.2023"), ("14:26 / 23-11-2024", "23.11.2024"),
    ("6 дек. 2023", "06.12.2023"), ("32.12.2023", None), ("Новости", None),
])
def test_parse_date(text, date):
    assert parse_date(text) == date


# ── site furniture of az/ru news sites ──────────────────────────────────────────────────────


@pytest.mark.parametrize("line, reason", [
    ("👁 1234", "counter"), ("👁️ 2 345", "counter"), ("1 234 👁", "counter"), ("Baxış sayı: 1234", "counter"),
    ("Просмотров: 1 234", "counter"),
    ("6 декабря 2023, 12:47", "timestamp"), ("06 dekabr 2023 12:45", "timestamp"),
    ("Siyasət | 6 dekabr 2023 12:45 (UTC +04:00)", "timestamp"), ("Политика, 6 декабря 2023, 12:47", "timestamp"),
    ("14:26 / 23-11-2024", "timestamp"), ("Tarix: 10-05-2019 13:10 | Bölmə: Müsahibə", "timestamp"),
    ("Сегодня, 12:45", "timestamp"),
    ("Oxşar xəbərlər", "navigation"), ("Digər xəbərlər", "navigation"), ("Другие новости", "navigation"),
    ("Mövzuya aid xəbərlər", "navigation"), ("Xarici siyasət", "navigation"), ("Ardını oxu...", "navigation"),
    ("Читайте также:", "read-also"), ("Həmçinin oxuyun", "read-also"),
    ("Xəbəri paylaş", "social"), ("Paylaş:", "social"), ("Поделиться", "social"),
    ("Abunə ol", "subscribe"), ("Report-un Telegram kanalına abunə olun", "subscribe"), ("Bizi izləyin", "subscribe"),
    ("- Sputnik Azərbaycan, 1920, 06.12.2023", "alt-text"), ("Sputnik Азербайджан, 1920, 06.12.2023", "alt-text"),
    ("© 2014–2023 Report.az. Bütün hüquqlar qorunur.", "copyright"),
])
def test_az_and_ru_site_noise_lines(line, reason):
    assert noise_reason(line) == reason


@pytest.mark.parametrize("line", [
    "Как сообщает Trend, документы были подписаны в Астане.",
    "Trend-in məlumatına görə, sənədlər Astanada imzalanıb.",
    "APA-nın məlumatına görə, konfransda 40-dan çox ölkənin nümayəndələri iştirak edir.",
    "\"Report\" xəbər verir ki, görüşdə yükdaşımalar müzakirə olunub.",
    "Документы подписаны 6 декабря 2023 года в Астане.",
    "6 декабря 2023 года в Баку прошла встреча министров.",
    "Встреча пройдет 06.12.2024 в Баку.",
    "Konfrans 8 dekabr 2023-cü il tarixinədək davam edəcək.",
    "Политика и экономика тесно связаны, отметил эксперт.",
    "Baxış bucağı dəyişib, deyə nazir bildirib.",
])
def test_sentences_naming_an_agency_or_a_date_are_not_noise_nor_datelines(line):
    assert noise_reason(line) is None
    assert match_dateline(line) is None
    article = clean_page(page_of("Заголовок новости дня" if "а" in line else "Günün xəbəri başlıq", line), "auto")
    assert article.paragraphs == (line,)


@pytest.mark.parametrize("text, dateline, rest", [
    ("Bakı. Trend:", "Bakı. Trend:", ""),
    ("Баку. Trend:", "Баку. Trend:", ""),
    ("Bakı, 28 may AZƏRTAC", "Bakı, 28 may AZƏRTAC", ""),
    ("Azərbaycan, Bakı, 28 dekabr /Trend, müxbir E.Mehdiyev/",
     "Azərbaycan, Bakı, 28 dekabr /Trend, müxbir E.Mehdiyev/", ""),
    ("БАКУ/ Trend/ - Министр прибыл.", "БАКУ/ Trend/ -", "Министр прибыл."),
    ("Баку. 6 декабря. REPORT/ Министры встретились.", "Баку. 6 декабря. REPORT/", "Министры встретились."),
    ("Bakı. Trend: Nazir görüşüb.", "Bakı. Trend:", "Nazir görüşüb."),
])
def test_datelines_of_az_agencies(text, dateline, rest):
    assert match_dateline(text) == (dateline, rest)


def test_a_dateline_alone_on_its_line_is_removed():
    article = clean_page(page_of("Заголовок новости дня", "Баку. Trend:", "Министр прибыл в Баку."), "ru")
    assert article.paragraphs == ("Министр прибыл в Баку.",) and article.meta["dateline"] == "Баку. Trend:"
    assert [(r.text, r.reason) for r in article.removed] == [("Баку. Trend:", "dateline")]


def test_teaser_headlines_after_a_teaser_heading_are_related_news_up_to_the_next_paragraph():
    article = clean_page(page_of(
        "Заголовок новости дня", "Первый абзац текста.",
        "Читайте также", "Другая новость о министрах", "Второй абзац текста.",
        "Похожие новости", "Одна новость", "05.12.2023, 18:20", "Вторая новость", "Третий абзац текста.",
    ), "ru")
    assert article.paragraphs == ("Первый абзац текста.", "Второй абзац текста.", "Третий абзац текста.")
    assert [r.reason for r in article.removed] == [
        "read-also", "related-news", "navigation", "related-news", "timestamp", "related-news"]


def test_a_read_also_label_takes_one_teaser_not_the_subheading_after_it():
    article = clean_page(page_of(
        "Заголовок новости дня", "Первый абзац текста.", "Читайте также", "Другая новость о министрах",
        "Что известно о встрече", "Второй абзац текста.",
    ), "ru")
    assert article.paragraphs == ("Первый абзац текста.", "Что известно о встрече", "Второй абзац текста.")


def test_an_alt_text_above_the_title_line_stays_a_caption():
    article = clean_page(page_of(
        "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023", "Алиев встретился с Эрдоганом",
        "Президент встретился с коллегой.",
    ), "ru")
    assert article.title == "Алиев встретился с Эрдоганом" and article.captions == ("Вид на Баку",)


def test_a_teaser_heading_above_the_title_does_not_take_the_title():
    article = clean_page(page_of("Последние новости", "Заголовок новости дня", "Текст новости."), "ru")
    assert article.title == "Заголовок новости дня" and article.paragraphs == ("Текст новости.",)


# Synthetic pages in the layouts of Sputnik Azərbaycan, Report.az, Trend and APA (tests/data/clean):
# file → (title, date, dateline, 0-based content lines, removed reasons by line).
SITE_PAGES = {
    "sputnik-az-period-title.txt": (
        "Əliyev Ərdoğanla telefonla danışıb.", "06.12.2023", "BAKI, 6 dekabr - Sputnik.", [10, 11, 12, 13, 14],
        {0: ["navigation"], 1: ["related-news"], 2: ["navigation"], 3: ["related-news"], 7: ["photo-credit"],
         8: ["alt-text"], 9: ["subscribe"], 11: ["dateline"], 15: ["related-news"], 16: ["navigation"],
         17: ["related-news"], 18: ["navigation"], 19: ["counter"]},
    ),
    "sputnik-ru-title-on-stamp.txt": (
        "Алиев и Эрдоган провели телефонный разговор", "06.12.2023", "БАКУ, 6 дек - Sputnik.", [6, 7, 8, 9],
        {0: ["navigation"], 1: ["related-news"], 2: ["navigation"], 3: ["related-news"], 4: ["alt-text"],
         5: ["subscribe"], 7: ["dateline"], 10: ["related-news"], 11: ["navigation"], 12: ["related-news"],
         13: ["navigation"], 14: ["counter"]},
    ),
    "report-az.txt": (
        "Azərbaycan və Gürcüstan nəqliyyat dəhlizini müzakirə edib", "06.12.2023", "Bakı. 6 dekabr. REPORT.AZ/",
        [4, 5, 8, 9],
        {0: ["navigation"], 2: ["timestamp"], 3: ["byline"], 4: ["dateline"], 6: ["read-also"], 7: ["related-news"],
         10: ["social"], 11: ["subscribe"], 12: ["counter"], 13: ["navigation"], 14: ["related-news"],
         15: ["timestamp"], 16: ["related-news"], 17: ["timestamp"], 18: ["copyright"]},
    ),
    "report-ru.txt": (
        "Азербайджан и Грузия обсудили транспортный коридор", "06.12.2023", "Баку. 6 декабря. REPORT/", [4, 5, 7],
        {0: ["navigation"], 2: ["timestamp"], 3: ["byline"], 4: ["dateline"], 6: ["read-also"], 8: ["subscribe"],
         9: ["social"], 10: ["counter"], 11: ["navigation"], 12: ["related-news"], 13: ["timestamp"],
         14: ["copyright"]},
    ),
    "trend-az.txt": (
        "Azərbaycan və Qazaxıstan enerji əməkdaşlığını genişləndirir", "06.12.2023", "Bakı. Trend:", [3, 4, 5],
        {0: ["timestamp"], 2: ["dateline"], 6: ["navigation"], 7: ["related-news"], 8: ["related-news"],
         9: ["social"], 10: ["subscribe"], 11: ["counter"]},
    ),
    "trend-ru.txt": (
        "Азербайджан и Казахстан расширяют энергетическое сотрудничество", "06.12.2023", "Баку. Trend:",
        [4, 5, 6, 9],
        {0: ["navigation"], 2: ["timestamp"], 3: ["dateline"], 7: ["read-also"], 8: ["related-news"],
         10: ["social"], 11: ["counter"], 12: ["navigation"], 13: ["related-news"], 14: ["related-news"]},
    ),
    # a same-day teaser on a page without credit lines, a "- ВИДЕО" title, a dateline before a number
    "sputnik-ru-same-day-teaser.txt": (
        "Суд в Вашингтоне вынес приговор", "17.12.2023", "ВАШИНГТОН, 17 дек - Sputnik.", [4, 5, 6, 7],
        {0: ["navigation"], 1: ["title-marker"], 2: ["alt-text"], 3: ["subscribe"], 5: ["dateline"],
         8: ["related-news"], 9: ["navigation"], 10: ["related-news"], 11: ["navigation"], 12: ["navigation"],
         13: ["counter"]},
    ),
    "report-az-number-dateline.txt": (
        "Ali Məhkəmənin namizədinin dinləməsini milyonlar izləyib", "02.12.2023", "Bakı. 2 dekabr. REPORT.AZ/",
        [4, 5, 7],
        {0: ["navigation"], 1: ["title-marker"], 2: ["timestamp"], 3: ["byline"], 4: ["dateline"],
         6: ["read-also"], 8: ["social"], 9: ["subscribe"], 10: ["counter"], 11: ["copyright"]},
    ),
    "apa-az.txt": (
        "Bakıda beynəlxalq iqlim konfransı başlayıb", "06.12.2023", None, [5, 6, 7],
        {0: ["navigation"], 1: ["timestamp"], 3: ["counter"], 4: ["social"], 8: ["navigation"],
         9: ["related-news"], 10: ["navigation"], 11: ["related-news"]},
    ),
}


@pytest.mark.parametrize("name", sorted(SITE_PAGES))
def test_site_pages_lose_their_furniture_and_keep_every_sentence(name):
    title, date, dateline, content, removed = SITE_PAGES[name]
    path = FIXTURES / name
    lines = path.read_text(encoding="utf-8").split("\n")
    article = clean_page(read_page(path), "auto")
    assert article.lang == ("ru" if "-ru" in name else "az")
    assert (article.title, article.meta.get("date"), article.meta.get("dateline")) == (title, date, dateline)
    expected = [lines[i].removeprefix(f"{dateline} ") if dateline else lines[i] for i in content]
    assert list(article.paragraphs) == expected
    by_line: dict[int, list[str]] = {}
    for r in article.removed:
        by_line.setdefault(r.line, []).append(r.reason)
    assert by_line == removed
    kept = [article.title, *article.captions]
    for line_no in set(removed) - set(content):  # each line is recorded whole, or all but its title/caption
        gone = "".join(r.text for r in article.removed if r.line == line_no)
        assert gone in lines[line_no]
        assert lines[line_no].replace(gone, "", 1).strip() in ("", *kept)


# ── same-day teasers, title markers, datelines before a number ───────────────────────────────


def test_a_same_day_teaser_below_the_article_is_related_news_without_a_credit_caption():
    """A teaser for another story of the same day (its alt text has the page's date), laid out as alt
    text, rubric, headline, on a page whose photos carry no "©" credit line."""
    article = clean_page(page_of(
        "Новости",
        "Алиев встретился с Эрдоганом",
        "Алиев встретился с Эрдоганом - Sputnik Азербайджан, 1920, 06.12.2023",
        "Подписаться",
        "БАКУ, 6 дек - Sputnik. Президент встретился с коллегой в Баку.",
        "Стороны обсудили сотрудничество.",
        "Новый курс в университете помог студентам - Sputnik Азербайджан, 1920, 06.12.2023",
        "Новости",
        "Студенты учатся отдыхать на специальных курсах",
        "Лента новостей",
    ), "ru")
    assert article.title == "Алиев встретился с Эрдоганом" and article.captions == ()
    assert article.paragraphs == ("Президент встретился с коллегой в Баку.", "Стороны обсудили сотрудничество.")
    assert {r.line: r.reason for r in article.removed if r.line >= 6} == {
        6: "related-news", 7: "navigation", 8: "related-news", 9: "navigation"}


def test_an_alt_text_of_the_articles_own_photo_below_the_title_stays_a_caption():
    """The same alt text, not followed by a rubric and a headline, is the article's photo."""
    article = clean_page(page_of(
        "Новости", "Алиев встретился с Эрдоганом",
        "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023", "Подписаться",
        "БАКУ, 6 дек - Sputnik. Президент встретился с коллегой в Баку.",
        "Президенты на встрече в Баку - Sputnik Азербайджан, 1920, 06.12.2023",
        "Стороны обсудили сотрудничество.",
    ), "ru")
    assert article.captions == ("Вид на Баку", "Президенты на встрече в Баку")
    assert article.paragraphs == ("Президент встретился с коллегой в Баку.", "Стороны обсудили сотрудничество.")
    assert "related-news" not in {r.reason for r in article.removed}


def test_a_same_day_alt_text_above_a_rubric_and_the_title_is_still_the_photo():
    """Where the title is still due, an alt text with the page's date, then a rubric and a headline,
    may be the article's own photo above its title: no credit line tells it is a teaser, so it stays."""
    article = clean_page(page_of(
        "06.12.2023, 12:45",
        "Вид на Баку - Sputnik Азербайджан, 1920, 06.12.2023", "Главное", "Алиев встретился с Эрдоганом",
        "Президент встретился с коллегой в Баку.",
    ), "ru")
    assert article.title == "Алиев встретился с Эрдоганом" and article.captions == ("Вид на Баку",)


@pytest.mark.parametrize("line, title, marker", [
    ("Беспорядки в тюрьме: ранены полицейские - ВИДЕО", "Беспорядки в тюрьме: ранены полицейские", " - ВИДЕО"),
    ("Алиев встретился с Эрдоганом – ФОТО", "Алиев встретился с Эрдоганом", " – ФОТО"),
    ("Ayr 38 - 17 Melrouz: Ayr zirvəyə qalxır - VİDEO", "Ayr 38 - 17 Melrouz: Ayr zirvəyə qalxır", " - VİDEO"),
    ("Trampın mitinqi, YouTube kanalı - FOTO", "Trampın mitinqi, YouTube kanalı", " - FOTO"),
    ("В Баку открыли новый мост (ФОТО)", "В Баку открыли новый мост", " (ФОТО)"),
    ("В Баку открыли новый мост | VIDEO", "В Баку открыли новый мост", " | VIDEO"),
    ("В Баку открыли новый мост +ФОТО", "В Баку открыли новый мост", " +ФОТО"),
    ("Bakıda yeni körpü açılıb - FOTO/VİDEO", "Bakıda yeni körpü açılıb", " - FOTO/VİDEO"),
    ("Bakıda yeni körpü açılıb (FOTO, VİDEO)", "Bakıda yeni körpü açılıb", " (FOTO, VİDEO)"),
    ("В Баку открыли новый мост - ФОТО - ВИДЕО", "В Баку открыли новый мост", " - ФОТО - ВИДЕО"),
    ("Bakıda yeni körpü açılıb - YENİLƏNİB", "Bakıda yeni körpü açılıb", " - YENİLƏNİB"),
])
def test_split_title_marker(line, title, marker):
    assert split_title_marker(line) == (title, marker)


@pytest.mark.parametrize("line", [
    "Фото дня: новый мост в Баку",  # a marker word inside the headline is its text
    "Как снять хорошее фото",
    "Выставка «Фото и видео» открылась в Баку",
    "Ayr 38 - 17 Melrouz: məğlub olmamış Ayr zirvəyə qalxır",
    "Конкурс фото-видео",  # no separated marker
    "ФОТО",  # nothing would be left
])
def test_a_headline_without_a_marker_is_left_alone(line):
    assert split_title_marker(line) is None


@pytest.mark.parametrize("lines, title, marker", [
    (("Экономика", "Беспорядки в тюрьме: ранены шесть полицейских - ВИДЕО", "20 декабря 2023, 12:47",
      "Полицейские получили легкие травмы."), "Беспорядки в тюрьме: ранены шесть полицейских", " - ВИДЕО"),
    (("Mədəniyyət", "Ayr 38 - 17 Melrouz: Ayr zirvəyə qalxır - VİDEO", "3 dekabr 2023, 12:47",
      "Ev sahibi klub qalib gəlib."), "Ayr 38 - 17 Melrouz: Ayr zirvəyə qalxır", " - VİDEO"),
    (("Новости", "Алиев встретился с Эрдоганом (ФОТО) - 06.12.2023, Sputnik Азербайджан",
      "Президент встретился с коллегой."), "Алиев встретился с Эрдоганом", " (ФОТО)"),
    (("Новости", "Алиев и Эрдоган провели переговоры - ВИДЕО - Sputnik Азербайджан, 1920, 06.12.2023",
      "Подписаться", "БАКУ, 6 дек - Sputnik. Президент провел переговоры с коллегой."),
     "Алиев и Эрдоган провели переговоры", " - ВИДЕО"),
])
def test_a_media_marker_is_stripped_from_the_title_with_its_reason(lines, title, marker):
    article = clean_page(page_of(*lines), "auto")
    assert article.title == title
    assert [(r.line, r.text) for r in article.removed if r.reason == "title-marker"] == [(1, marker)]
    assert not any(marker.strip(" -()") in p for p in article.paragraphs)


def test_a_tagged_title_loses_its_marker_too():
    article = clean_page(page_of("Алиев встретился с Эрдоганом | VIDEO", "Президент встретился с коллегой.",
                                 tags=("title", "p")), "ru")
    assert article.title == "Алиев встретился с Эрдоганом"
    assert [(r.text, r.reason) for r in article.removed] == [(" | VIDEO", "title-marker")]


def test_a_marker_in_a_paragraph_is_left_alone():
    """Only the title is stripped: a body line ending in "- ВИДЕО" keeps its text."""
    article = clean_page(page_of("Заголовок новости дня", "Первый абзац текста.", "Как это было - ВИДЕО"), "ru")
    assert article.paragraphs == ("Первый абзац текста.", "Как это было - ВИДЕО")


@pytest.mark.parametrize("text, dateline, rest", [
    ("ВАШИНГТОН, 17 дек - Sputnik. 20-летний Симс стал чемпионом.", "ВАШИНГТОН, 17 дек - Sputnik.",
     "20-летний Симс стал чемпионом."),
    ("Bakı. 2 dekabr. REPORT.AZ/ 20 milyondan çox insan baxıb.", "Bakı. 2 dekabr. REPORT.AZ/",
     "20 milyondan çox insan baxıb."),
    ("Баку /Trend/ - 15 человек пострадали.", "Баку /Trend/ -", "15 человек пострадали."),
    ("Bakı. Trend: 2023-cü ildə ixrac artıb.", "Bakı. Trend:", "2023-cü ildə ixrac artıb."),
    ("БАКУ, 6 дек. /АПА/. 40 стран участвуют в конференции.", "БАКУ, 6 дек. /АПА/.",
     "40 стран участвуют в конференции."),
])
def test_a_dateline_before_a_number_is_removed(text, dateline, rest):
    assert match_dateline(text) == (dateline, rest)


@pytest.mark.parametrize("text", [
    "Агентство Trend 20 лет пишет о нефти.",  # no punctuation closes a dateline
    "Агентство Trend, 20 лет назад открытое, выросло.",
    "Источник Report 5 декабря сообщил о встрече.",
    "БАКУ, 6 дек - Sputnik 20 лет в Азербайджане.",  # a dateline ends with its period
])
def test_a_sentence_opening_with_an_agency_and_a_number_is_not_a_dateline(text):
    assert match_dateline(text) is None


def test_a_paragraph_after_a_dateline_keeps_its_number():
    article = clean_page(page_of(
        "Заголовок новости дня", "ВАШИНГТОН, 17 дек - Sputnik. 20-летний Симс стал чемпионом.", "Второй абзац.",
    ), "ru")
    assert article.paragraphs == ("20-летний Симс стал чемпионом.", "Второй абзац.")
    assert article.meta["dateline"] == "ВАШИНГТОН, 17 дек - Sputnik."
