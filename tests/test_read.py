import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import align.read as read_module
from align.read import decode, normalize, read_page, read_segmented, russian_plausibility
from align.types import InputError, UsageError

ROOT = Path(__file__).resolve().parents[1]
RU_PAGE = ROOT / "samples" / "sputnik-2023-12-06" / "ru.txt"
AZ_PAGE = ROOT / "samples" / "sputnik-2023-12-06" / "az.txt"
SEED = RU_PAGE.read_text(encoding="utf-8")
# the seed without its one Azerbaijani line, so that it fits the Cyrillic code pages
SEED_CYRILLIC = "\n".join(line for line in SEED.split("\n") if "ə" not in line)

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8">
<title>Азербайджан и Турция углубляют военное сотрудничество - 06.12.2023, Sputnik Азербайджан</title>
<meta property="og:title" content="Азербайджан и Турция углубляют военное сотрудничество">
<meta property="article:published_time" content="2023-12-06T12:00:00+04:00">
<link rel="canonical" href="https://az.sputniknews.ru/20231206/voennoe.html">
</head><body>
<nav><a href="/">Новости</a> <a href="/politics">Политика</a></nav>
<article>
<h1>Азербайджан и Турция углубляют военное сотрудничество</h1>
<figure><img src="x.jpg" alt="Министр обороны - Sputnik Азербайджан, 1920, 06.12.2023">
<figcaption>© AR Ministry of Defence Министр обороны Азербайджана встретился с гостем</figcaption></figure>
<p>На встрече были обсуждены перспективы развития взаимодействия между двумя странами.</p>
<p><strong>БАКУ, 6 дек - Sputnik.</strong> Министр обороны Азербайджана генерал-полковник Закир Гасанов
встретился с начальником Генштаба, сообщили в Минобороны АР.</p>
<p>В ведомстве отметили, что он находится с официальным визитом в стране для участия в заседании.</p>
<p>Стороны выразили уверенность, что двустороннее сотрудничество будет и впредь развиваться.</p>
</article>
<footer>© 2023 Sputnik. Все права защищены</footer>
</body></html>"""


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ── the seed page and plain text ────────────────────────────────────────────────────────────


def test_seed_page_one_block_per_line_with_source_line_numbers():
    page = read_page(RU_PAGE)
    assert page.format == "page" and page.encoding == "utf-8"
    source_lines = SEED.split("\n")
    assert len(page.blocks) == sum(1 for line in source_lines if line.strip()) == 22
    for block in page.blocks:
        assert block.text == source_lines[block.line].strip() and block.tag == ""
    assert [b.line for b in page.blocks[:3]] == [0, 2, 4]


def test_az_sample_page_reads_like_the_ru_one():
    ru, az = read_page(RU_PAGE), read_page(AZ_PAGE)
    assert az.format == "page"
    assert [b.line for b in az.blocks] == [b.line for b in ru.blocks]


def test_hard_wrapped_paragraphs_are_joined(tmp_path):
    text = (
        "Заголовок статьи\n\n"
        "Первая строка абзаца, который был перенесён\nпо ширине в сорок пять символов, как это\nделают.\n\n"
        "Второй абзац тоже перенесён по ширине, и его\nстроки примерно одной длины.\n"
    )
    page = read_page(write(tmp_path, "a.txt", text))
    assert page.format == "text"
    assert [b.text for b in page.blocks] == [
        "Заголовок статьи",
        "Первая строка абзаца, который был перенесён по ширине в сорок пять символов, как это делают.",
        "Второй абзац тоже перенесён по ширине, и его строки примерно одной длины.",
    ]
    assert [b.line for b in page.blocks] == [0, 2, 6]


def test_one_paragraph_per_line_is_not_joined(tmp_path):
    text = "Заголовок\n\nПервое предложение абзаца.\nВторой абзац, тоже целиком.\nТретий абзац.\n"
    page = read_page(write(tmp_path, "a.txt", text), fmt="text")
    assert page.format == "text"
    assert [b.text for b in page.blocks] == [
        "Заголовок", "Первое предложение абзаца.", "Второй абзац, тоже целиком.", "Третий абзац.",
    ]


def test_explicit_page_format_never_joins(tmp_path):
    text = "Первая строка абзаца, перенесённая по ширине\nвторая строка того же абзаца, и конец.\n"
    assert len(read_page(write(tmp_path, "a.txt", text), fmt="page").blocks) == 2
    assert len(read_page(write(tmp_path, "b.txt", text)).blocks) == 1  # auto: looks wrapped


def test_short_menu_lines_are_not_taken_for_wrapped_text(tmp_path):
    page = read_page(write(tmp_path, "a.txt", "Xəbərlər\nAbunə ol\nXəbər lenti\n0\n"))
    assert page.format == "page" and len(page.blocks) == 4


def test_crlf_cr_nbsp_odd_spaces_and_invisible_characters(tmp_path):
    raw = "Заго\u00adловок\u200b статьи\r\nПервый\u00a0абзац\tс\u2009пробелами  .\rВторой\u202fабзац\ufeff\u2060.\r\n"
    page = read_page(write(tmp_path, "a.txt", raw))
    assert [b.text for b in page.blocks] == ["Заголовок статьи", "Первый абзац с пробелами .", "Второй абзац."]
    assert [b.line for b in page.blocks] == [0, 1, 2]


def test_normalize_composes_decomposed_letters():
    assert normalize("mu\u0308dafiə naziri") == "müdafiə naziri"
    assert normalize("Гос. Ё") == normalize("Гос. Е\u0308") == "Гос. Ё"


# ── encodings ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "encoding, expected",
    [
        ("cp1251", "cp1251"),
        ("koi8-r", "koi8-r"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16-le"),  # Python writes a little-endian BOM
        ("utf-16-be-bom", "utf-16-be"),
        ("utf-16-le-nobom", "utf-16-le"),
    ],
)
def test_encodings_of_the_seed(tmp_path, encoding, expected):
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + SEED_CYRILLIC.encode("utf-16-be")
    elif encoding == "utf-16-le-nobom":
        data = SEED_CYRILLIC.encode("utf-16-le")
    else:
        data = SEED_CYRILLIC.encode(encoding)
    page = read_page(write(tmp_path, "p.txt", data))
    assert page.encoding == expected
    assert page.blocks[0].text == "Новости"
    assert page.blocks[1].text == "Азербайджан и Турция углубляют военное сотрудничество"
    assert len(page.blocks) == 21


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
@pytest.mark.parametrize(
    "text",
    ["Привет, мир!", "Подписаться", "Лента новостей", "Министр обороны встретился с гостем.", "Он пришёл ко мне вчера."],
)
def test_short_russian_texts_in_legacy_code_pages(tmp_path, encoding, text):
    page = read_page(write(tmp_path, "s.txt", text.encode(encoding)))
    assert (page.blocks[0].text, page.encoding) == (text, encoding)


def test_plausibility_prefers_real_russian():
    good = "Министр обороны встретился с делегацией"
    wrong = good.encode("cp1251").decode("koi8-r")
    assert russian_plausibility(good) > russian_plausibility(wrong)
    assert russian_plausibility("Hello") == 0.0


def test_utf8_azerbaijani_and_western_legacy_text(tmp_path):
    assert read_page(AZ_PAGE).encoding == "utf-8"
    page = read_page(write(tmp_path, "de.txt", "Schöne Grüße über die Straße hinweg.".encode("cp1252")))
    assert page.blocks[0].text == "Schöne Grüße über die Straße hinweg."


# ── HTML and JSON ─────────────────────────────────────────────────────────────────────────────


def test_html_with_trafilatura(tmp_path):
    page = read_page(write(tmp_path, "a.html", ARTICLE_HTML))
    assert page.format == "html"
    tags = {}
    for block in page.blocks:
        tags.setdefault(block.tag, []).append(block.text)
    assert tags["title"] == ["Азербайджан и Турция углубляют военное сотрудничество"]
    assert tags["caption"] == ["© AR Ministry of Defence Министр обороны Азербайджана встретился с гостем"]
    assert tags["meta:date"] == ["06.12.2023"]
    assert tags["meta:url"] == ["https://az.sputniknews.ru/20231206/voennoe.html"]
    assert len(tags["p"]) == 4
    assert tags["p"][1].startswith("БАКУ, 6 дек - Sputnik. Министр обороны") and "\n" not in tags["p"][1]
    assert not any("Политика" in t or "права защищены" in t for t in tags["p"])
    assert [b.line for b in page.blocks] == list(range(len(page.blocks)))


def test_html_detected_by_content_without_suffix(tmp_path):
    assert read_page(write(tmp_path, "page.txt", ARTICLE_HTML)).format == "html"


def test_html_stdlib_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "_trafilatura_extract", lambda html: None)
    page = read_page(write(tmp_path, "a.html", ARTICLE_HTML))
    texts = {(b.tag, b.text) for b in page.blocks}
    assert ("title", "Азербайджан и Турция углубляют военное сотрудничество") in texts
    assert ("caption", "© AR Ministry of Defence Министр обороны Азербайджана встретился с гостем") in texts
    assert sum(b.tag == "p" for b in page.blocks) == 4
    assert not any("Политика" in b.text or "права защищены" in b.text for b in page.blocks)


def test_tiny_html_that_trafilatura_skips_still_reads(tmp_path):
    html = "<html><body><h1>Короткий заголовок</h1><p>Один абзац<br>текста.<p>Второй абзац.</body></html>"
    page = read_page(write(tmp_path, "t.htm", html))
    assert [(b.tag, b.text) for b in page.blocks] == [
        ("title", "Короткий заголовок"), ("p", "Один абзац текста."), ("p", "Второй абзац."),
    ]


def test_json_article(tmp_path):
    data = {
        "title": "Заголовок",
        "captions": ["Подпись к фото"],
        "paragraphs": ["Первый абзац.", "Второй\nабзац."],
        "date": "06.12.2023",
        "url": "https://example.org/a",
    }
    page = read_page(write(tmp_path, "a.json", json.dumps(data, ensure_ascii=False)))
    assert page.format == "json"
    assert [(b.tag, b.text) for b in page.blocks] == [
        ("meta:date", "06.12.2023"), ("meta:url", "https://example.org/a"), ("title", "Заголовок"),
        ("caption", "Подпись к фото"), ("p", "Первый абзац."), ("p", "Второй абзац."),
    ]


def test_json_detected_by_content(tmp_path):
    assert read_page(write(tmp_path, "a.txt", '{"title": "Заголовок", "paragraphs": ["Абзац."]}')).format == "json"


@pytest.mark.parametrize(
    "content, message",
    [
        ('[{"title": "a"}]', "one article object, got list"),
        ('{"title": "a", ', "not valid JSON"),
        ('{"headline": "a"}', "none of the keys"),
        ('{"title": "a", "paragraphs": "x", "captions": 5}', "'captions' must be a list"),
        ('{"title": "a", "paragraphs": [1, 2]}', "'paragraphs' must hold strings"),
    ],
)
def test_json_errors(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_page(write(tmp_path, "a.json", content))


# ── errors ────────────────────────────────────────────────────────────────────────────────────


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_page(tmp_path / "nope.txt")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_page(tmp_path)


def test_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path, "a.txt", "Текст.")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InputError, match="permission denied"):
        read_page(path)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "file is empty"),
        (b"  \n\t\r\n  ", "only whitespace"),
        ("\u200b\ufeff\u200b\n".encode("utf-8"), "only whitespace or invisible"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
        (bytes(range(256)) * 4, "NUL"),
        (bytes(range(1, 32)) * 20 + b"abc", "control characters"),
    ],
)
def test_unusable_files(tmp_path, data, message):
    with pytest.raises(InputError, match=message) as info:
        read_page(write(tmp_path, "x.txt", data))
    assert "\n" not in str(info.value)


def test_too_large_file(tmp_path):
    path = tmp_path / "big.txt"
    with path.open("wb") as fh:
        fh.truncate(read_module.MAX_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InputError, match="too large.*50 MB"):
        read_page(path)


def test_unknown_format(tmp_path):
    with pytest.raises(UsageError, match="unknown input format"):
        read_page(write(tmp_path, "a.txt", "Текст."), fmt="docx")


def test_decode_accepts_bytes_directly():
    assert decode("Текст".encode("utf-8")) == ("Текст", "utf-8")


# ── pre-segmented files ──────────────────────────────────────────────────────────────────────


def test_read_segmented_keeps_line_numbers_for_empty_lines(tmp_path):
    page = read_segmented(write(tmp_path, "s.txt", "Первое.\r\n\r\n  Третье\u00a0предложение. \n\nПятое.\n"))
    assert page.format == "segmented"
    assert [(b.line, b.text) for b in page.blocks] == [
        (0, "Первое."), (1, ""), (2, "Третье предложение."), (3, ""), (4, "Пятое."),
    ]


def test_read_segmented_counts_only_newlines_as_line_ends(tmp_path):
    page = read_segmented(write(tmp_path, "s.txt", "Один\u2028два\fтри\rчетыре\n"))
    assert [(b.line, b.text) for b in page.blocks] == [(0, "Один два три"), (1, "четыре")]


def test_read_segmented_without_final_newline_and_errors(tmp_path):
    assert len(read_segmented(write(tmp_path, "a.txt", "a\nb")).blocks) == 2
    with pytest.raises(InputError, match="only whitespace"):
        read_segmented(write(tmp_path, "b.txt", "\n\n\n"))
    with pytest.raises(InputError, match="no such file"):
        read_segmented(tmp_path / "missing.txt")


# ── properties ───────────────────────────────────────────────────────────────────────────────


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(), name=st.sampled_from(["a.txt", "a.html", "a.json"]))
def test_any_unicode_text_reads_or_raises_input_error(tmp_path, text, name):
    path = write(tmp_path, name, text)
    try:
        page = read_page(path)
    except InputError:
        return
    assert page.blocks and all(b.text.strip() for b in page.blocks)
    assert all("\n" not in b.text for b in page.blocks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_any_bytes_read_or_raise_input_error(tmp_path, data):
    path = write(tmp_path, "b.txt", data)
    for reader in (read_page, read_segmented):
        try:
            reader(path)
        except InputError:
            pass
