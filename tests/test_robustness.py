"""Robustness: bad input fails with one line and an exit code; odd input just works; every unit is
accounted for; outputs are deterministic and atomic; nothing touches the network at run time.

Most tests run in-process (`align.cli.main` with a fake embedder) to stay fast; a few run the real
`python -m align` to prove there is no traceback, and a few use the real model. docs/robustness.md
describes the guarantees tested here.
"""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from align import cli
from align.clean import clean_page
from align.lang import detect_language
from align.pipeline import Alignment, align_articles, align_segmented
from align.read import decode, normalize, read_page
from align.segment import segment_article, split_rule_based, split_sentences
from align.types import Block, InputError, RawPage
from align.write import atomic_write, write_pairs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "sputnik-2023-12-06"
RU_PAGE, AZ_PAGE = SAMPLE / "ru.txt", SAMPLE / "az.txt"
ALIGN = [sys.executable, "-m", "align"]
# ALIGN_PROPERTY_EXAMPLES=2000 for a thorough run (the default keeps the file fast)
PROPERTY = settings(deadline=None, suppress_health_check=list(HealthCheck),
                    max_examples=int(os.environ.get("ALIGN_PROPERTY_EXAMPLES", "150")))

# ── realistic fragments for property tests ───────────────────────────────────────────────────
RU_WORDS = ("Министр обороны Азербайджана встретился с начальником Генштаба Турции в Баку сообщили "
            "стороны обсудили сотрудничество военное ведомство визит заседании Гасанов Закир "
            "генерал-полковник ещё объявили").split()
AZ_WORDS = ("Azərbaycan Müdafiə naziri Türkiyə Baş Qərargah rəisi ilə görüşüb Bakıda tərəflər "
            "əməkdaşlığı müzakirə ediblər hərbi nazirlik səfər iclasında Həsənov Zakir ABŞ-ın İlham").split()
AZ_CYRILLIC = "Азәрбајҹан вә Түркијә һәрби әмәкдашлыг ҝөрүш Бакыда".split()
OTHER_WORDS = "the meeting was held today Türkiye'nin Genelkurmay Başkanı ile görüştü".split()
ABBREVIATIONS = ["т.е.", "т.д.", "г.", "гг.", "им.", "ул.", "prof.", "dr.", "və s.", "e.ə.", "mln.", "Z.",
                 "Z.Ə.", "А.С.", "ВС.", "США", "№5", "т.к.", "gen.-may.", "t.e.d.", "Mr.", "и др.", "s."]
NUMBERS = ["6.12.2023", "1.5", "1920", "2023-cü", "15%", "12:45", "3,5", "I", "IV", "1.", "2)", "100 000", "−5"]
PUNCTUATION = [".", ",", "!", "?", "...", "?!", "…", "«", "»", '"', "—", "-", "(", ")", ":", ";", "“", "”", "„"]
ODD_SPACES = [" ", "  ", "\u00a0", "\t", "\u200b", "\u2009", "\u00ad", "\u202f", "\ufeff", "\u3000"]
NOISE_LINES = [
    "Новости", "Подписаться", "Abunə ol", "12:45", "06.12.2023, 14:30", "© Sputnik / Имя Фамилия",
    "Поделиться", "Telegram", "Читайте также: Что-то случилось", "Фото: Sputnik", "https://sputnik.az/news/1",
    "1234", "***", "Реклама", "© 2023 Sputnik. Все права защищены", "Xəbər lenti", "Лента новостей", "18+",
    "Главы МО АР и Турции - Sputnik Азербайджан, 1920, 06.12.2023",
    "© AR Ministry of DefenceМинистр обороны встретился с гостем",
    "БАКУ, 6 дек - Sputnik. Министр прибыл в столицу.", "Bakı. 6 dekabr. REPORT.AZ/ Nazir gəlib.",
]
TOKEN = st.one_of(
    st.sampled_from(RU_WORDS), st.sampled_from(AZ_WORDS), st.sampled_from(AZ_CYRILLIC),
    st.sampled_from(OTHER_WORDS), st.sampled_from(ABBREVIATIONS), st.sampled_from(NUMBERS),
    st.sampled_from(PUNCTUATION), st.text(min_size=1, max_size=3),
)


@st.composite
def text_lines(draw) -> str:
    """A line of words, abbreviations, numbers and punctuation, with odd whitespace between."""
    tokens = draw(st.lists(TOKEN, min_size=1, max_size=25))
    gaps = draw(st.lists(st.sampled_from(ODD_SPACES), min_size=len(tokens), max_size=len(tokens)))
    return "".join(t + g for t, g in zip(tokens, gaps)).strip(" ")


PAGE_LINES = st.lists(st.one_of(text_lines(), text_lines(), st.sampled_from(NOISE_LINES)), min_size=1, max_size=25)
RUSSIAN_LINES = st.lists(
    st.tuples(st.lists(st.sampled_from(RU_WORDS), min_size=2, max_size=5),
              st.lists(st.one_of(st.sampled_from(RU_WORDS), st.sampled_from(PUNCTUATION),
                                 st.sampled_from(["т.е.", "г.", "США", "ВС.", "6.12.2023", "15%"])), max_size=15))
    .map(lambda parts: " ".join(parts[0] + parts[1])),
    min_size=1, max_size=10,
)


def letters_and_digits(*texts: str) -> Counter:
    return Counter(ch for text in texts for ch in text if ch.isalnum())


def no_space(text: str) -> str:
    return "".join(text.split())


# ── properties of the front end ──────────────────────────────────────────────────────────────
@PROPERTY
@given(data=st.binary(max_size=3000))
def test_decode_any_bytes_gives_text_or_input_error(data):
    try:
        text, encoding = decode(data)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(text, str) and text.strip() and encoding


@PROPERTY
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("\t\n\r")),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]),
       fmt=st.sampled_from(["page", "text"]))
def test_any_unicode_text_reads_whole_or_raises_input_error(tmp_path_factory, text, encoding, fmt):
    path = tmp_path_factory.mktemp("read") / "any.txt"
    path.write_bytes(text.encode(encoding))
    try:
        page = read_page(path, fmt)
    except InputError:
        return
    assert all(block.text and block.text == block.text.strip() for block in page.blocks)
    assert no_space("".join(b.text for b in page.blocks)) == no_space(normalize(text))


@PROPERTY
@given(lines=RUSSIAN_LINES,
       encoding=st.sampled_from(["cp1251", "koi8-r", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"]),
       newline=st.sampled_from(["\n", "\r\n", "\r"]), nbsp=st.booleans())
def test_russian_text_reads_the_same_in_every_encoding(tmp_path_factory, lines, encoding, newline, nbsp):
    text = newline.join(lines)
    if nbsp:
        text = text.replace(" ", "\u00a0")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    path = tmp_path_factory.mktemp("enc") / "ru.txt"
    path.write_bytes(data)
    page = read_page(path, "page")
    assert [b.text for b in page.blocks] == [line for line in normalize(text).split("\n") if line]


@PROPERTY
@given(page=st.sampled_from([RU_PAGE, AZ_PAGE]), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0x80, 0xFF)),
                                                             min_size=1, max_size=3))
def test_a_few_corrupt_bytes_in_utf8_never_turn_the_page_into_mojibake(page, flips):
    """A flipped byte or a cut last character must not make the whole page read as cp1251/KOI8-R."""
    data = bytearray(page.read_bytes())
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    text, encoding = decode(bytes(data))
    assert encoding.startswith("utf-8")
    original, decoded = page.read_text(encoding="utf-8").split("\n"), set(text.split("\n"))
    assert sum(line in decoded for line in original) >= len(original) - 2 * len(flips)


@PROPERTY
@given(lines=PAGE_LINES, lang=st.sampled_from(["ru", "az", "auto", "tr", "unknown"]))
def test_cleaning_accounts_for_every_letter_and_units_cover_the_body(lines, lang):
    """Each letter and digit of the page is kept or recorded as removed (with a reason), and the
    sentences of each paragraph are exactly that paragraph."""
    blocks = tuple(Block(text=t, line=i) for i, t in enumerate(normalize("\n".join(lines)).split("\n")) if t)
    assume(blocks)
    try:
        article = clean_page(RawPage("page.txt", blocks, "utf-8", "page"), lang)
    except InputError as exc:
        assert "site noise" in str(exc)
        return
    kept = [article.title or "", *article.captions, *article.paragraphs]
    assert letters_and_digits(*kept, *(r.text for r in article.removed)) == \
        letters_and_digits(*(b.text for b in blocks))
    assert all(r.reason for r in article.removed)
    units = segment_article(article)
    assert [u.id for u in units] == list(range(len(units)))
    assert all(u.text.strip() for u in units)
    for p, paragraph in enumerate(article.paragraphs):
        assert no_space("".join(u.text for u in units if u.paragraph == p)) == no_space(paragraph)


@PROPERTY
@given(text=st.one_of(st.text(), text_lines().map(lambda s: s * 3)), lang=st.sampled_from(["ru", "az", "en"]))
def test_sentences_cover_any_text(text, lang):
    sentences = split_sentences(text, lang)
    assert all(s.strip() for s in sentences)
    assert no_space("".join(sentences)) == no_space(text)


@PROPERTY
@given(text=st.one_of(st.text(), text_lines()))
def test_language_detection_is_total(text):
    assert detect_language(text) in ("ru", "az", "tr", "en", "unknown")


# ── helpers for pipeline tests ──────────────────────────────────────────────────────────────
def assert_every_unit_once(result: Alignment) -> None:
    """Each unit id of both sides is in exactly one row, and each row has a reason or is kept."""
    for side, units in (("ru", result.ru_units), ("az", result.az_units)):
        ids = [i for p in result.pairs for i in (p.ru_ids if side == "ru" else p.az_ids)]
        assert sorted(ids) == [u.id for u in units], side
    for pair in result.pairs:
        assert pair.ru_ids or pair.az_ids
        assert pair.keep or pair.reason, pair


def tsv_bytes(result: Alignment, tmp_path: Path, name: str = "out.tsv") -> bytes:
    write_pairs(result.pairs, tmp_path / name, "tsv")
    return (tmp_path / name).read_bytes()


class RecordingEmbedder:
    """Wraps an embedder and remembers every text it was asked to encode."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.seen = inner, inner.name, []

    def encode(self, texts):
        self.seen.extend(texts)
        return self.inner.encode(texts)


SEED_CYRILLIC = "\n".join(line for line in RU_PAGE.read_text(encoding="utf-8").split("\n") if "ə" not in line)


# ── odd input that must simply work ─────────────────────────────────────────────────────────
@pytest.mark.parametrize("encoding, newline, space", [
    ("cp1251", "\n", " "), ("koi8-r", "\r\n", " "), ("utf-16", "\n", "\u00a0"), ("utf-16-le", "\r\n", " "),
    ("utf-8-sig", "\r\n", "\u00a0"), ("utf-8", "\r", "\u2009"),
])
def test_encodings_line_ends_and_spaces_give_the_same_alignment(tmp_path, hash_embedder, encoding, newline, space):
    plain = tmp_path / "plain.txt"
    plain.write_text(SEED_CYRILLIC, encoding="utf-8")
    odd = tmp_path / "odd.txt"
    odd.write_bytes(SEED_CYRILLIC.replace("\n", newline).replace(" ", space).encode(encoding))
    expected = align_articles(plain, AZ_PAGE, hash_embedder, doc="d")
    got = align_articles(odd, AZ_PAGE, hash_embedder, doc="d")
    assert [u.text for u in got.ru_units] == [u.text for u in expected.ru_units]
    assert tsv_bytes(got, tmp_path, "a.tsv") == tsv_bytes(expected, tmp_path, "b.tsv")


def test_html_and_json_inputs_align(tmp_path, hash_embedder):
    article = clean_page(read_page(RU_PAGE), "ru")
    html = tmp_path / "ru.html"
    html.write_text("<html><body><h1>{}</h1><figure><figcaption>{}</figcaption></figure>{}</body></html>".format(
        article.title, article.captions[0], "".join(f"<p>{p}</p>" for p in article.paragraphs)), encoding="utf-8")
    doc = tmp_path / "ru.json"
    doc.write_text(json.dumps({"title": article.title, "captions": list(article.captions),
                               "paragraphs": list(article.paragraphs)}, ensure_ascii=False), encoding="utf-8")
    for path in (html, doc):
        result = align_articles(path, AZ_PAGE, hash_embedder)
        assert result.ru_article.title == article.title
        assert result.ru_article.paragraphs == article.paragraphs
        assert_every_unit_once(result)


def test_files_given_in_the_wrong_order_are_swapped_back_with_a_warning(tmp_path, hash_embedder):
    right = align_articles(RU_PAGE, AZ_PAGE, hash_embedder, doc="d")
    swapped = align_articles(AZ_PAGE, RU_PAGE, hash_embedder, doc="d")
    assert not right.warnings
    assert len(swapped.warnings) == 1 and "swapped" in swapped.warnings[0]
    assert swapped.ru_article.lang == "ru" and swapped.ru_article.source == str(RU_PAGE)
    assert tsv_bytes(swapped, tmp_path, "a.tsv") == tsv_bytes(right, tmp_path, "b.tsv")


def test_swap_warning_reaches_the_cli(tmp_path, monkeypatch, capsys, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    code, _, err = run_cli(capsys, "pair", AZ_PAGE, RU_PAGE, "-o", tmp_path / "out.tsv")
    assert code == 0 and "align: warning: the files look swapped" in err
    rows = (tmp_path / "out.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[1].split("\t")[5].startswith("Азербайджан и Турция")  # the ru column holds Russian


def test_azerbaijani_partly_in_cyrillic_and_mixed_blocks(tmp_path, hash_embedder):
    az_lines = AZ_PAGE.read_text(encoding="utf-8").split("\n")
    az_lines.insert(9, "Азәрбајҹан вә Түркијә арасында һәрби әмәкдашлыг мәсәләләри мүзакирә едилиб.")
    az_lines.insert(11, "Nazir bildirib ki, görüş uğurlu olub. Министр сказал, что встреча прошла успешно.")
    az = tmp_path / "az.txt"
    az.write_text("\n".join(az_lines), encoding="utf-8")
    ru_lines = RU_PAGE.read_text(encoding="utf-8").split("\n")
    ru_lines.insert(9, "Стороны договорились. Tərəflər razılaşıblar. Встреча продолжится завтра.")
    ru = tmp_path / "ru.txt"
    ru.write_text("\n".join(ru_lines), encoding="utf-8")
    result = align_articles(ru, az, hash_embedder)
    assert not result.warnings
    assert any("Азәрбајҹан" in u.text for u in result.az_units)
    assert any("Tərəflər" in u.text for u in result.ru_units)
    assert_every_unit_once(result)


def test_articles_without_counterpart_sentences(tmp_path, offline_model):
    az = tmp_path / "az.txt"
    az.write_text("Hava proqnozu\n\nSabah Bakıda hava yağmurlu olacaq. Küləyin sürəti saniyədə 15 metrə çatacaq.\n"
                  "Gecə temperatur 3-5 dərəcə isti olacaq. Rayonlarda qar yağacağı gözlənilir.\n", encoding="utf-8")
    result = align_articles(RU_PAGE, az, offline_model[0])
    assert_every_unit_once(result)
    assert not result.pairs[0].keep and result.pairs[0].kind == "title"
    assert sum(1 for p in result.pairs if not p.az_ids) >= 5  # most ru sentences: no counterpart


def test_segmented_empty_lines_are_null_rows_and_never_embedded(tmp_path, hash_embedder):
    ru, az = tmp_path / "ru.txt", tmp_path / "az.txt"
    ru.write_text("Первая строка.\n\nВторая строка.\n \t\nТретья.\n\n", encoding="utf-8")
    az.write_text("\nBirinci sətir.\nİkinci sətir.\n\n\u00a0\nÜçüncü.\n", encoding="utf-8")
    encoder = RecordingEmbedder(hash_embedder)
    result = align_segmented(ru, az, encoder)
    assert all(text.strip() for text in encoder.seen)
    assert [u.id for u in result.ru_units] == list(range(6)) and [u.id for u in result.az_units] == list(range(6))
    assert_every_unit_once(result)
    empty = [p for p in result.pairs if p.reason == "empty line"]
    assert sorted(i for p in empty for i in p.ru_ids) == [1, 3, 5]
    assert sorted(i for p in empty for i in p.az_ids) == [0, 3, 4]
    assert all(not p.keep and not (p.ru_ids and p.az_ids) and "empty-line" in p.flags for p in empty)
    rows = [(p.ru_ids, p.az_ids) for p in result.pairs]
    assert rows.index(((1,), ())) > rows.index(((0,), (1,)))  # after the row holding the line before it
    assert [l.bead for l in result.links] == [p.bead for p in result.pairs]


@pytest.mark.parametrize("level", ["sentence", "paragraph"])
def test_every_unit_is_in_exactly_one_row(hash_embedder, level):
    result = align_articles(RU_PAGE, AZ_PAGE, hash_embedder, level=level)
    assert_every_unit_once(result)
    assert result.ru_units and result.az_units


def best_time(fn, *args, repeat: int = 2) -> float:
    """The best of ``repeat`` wall times of ``fn(*args)`` (robust to a busy machine)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def test_one_huge_paragraph_stays_linear(tmp_path):
    """A 2 MB single-line paragraph reads, cleans and splits; the az splitter's time grows
    linearly (it used to copy the rest of the text at each boundary: 40k sentences took 22 s)."""
    sentence = "Nazir bildirib ki, prof. Z. Əliyev 6.12.2023 tarixində Bakıda olub və s. "
    path = tmp_path / "az.txt"
    path.write_text("Uzun məqalənin başlığı burada\n" + sentence * (2_000_000 // len(sentence)), encoding="utf-8")
    assert len(segment_article(clean_page(read_page(path), "az"))) > 20_000
    assert len(split_rule_based(sentence * 40_000)) == 40_000
    small, large = best_time(split_rule_based, sentence * 5_000), best_time(split_rule_based, sentence * 20_000)
    assert large < 8 * small  # linear: ~4×; quadratic: ~16×


def test_razdel_is_fed_in_windows():
    """razdel is quadratic on one long unsplittable "sentence"; windows keep it linear and give
    the same sentences as one call on ordinary text."""
    from razdel import sentenize

    from align.segment import _razdel_sentences

    small, large = "т.е. " * 8_000, "т.е. " * 32_000
    assert best_time(_razdel_sentences, large, repeat=1) < 8 * best_time(_razdel_sentences, small)  # 4× vs 16×
    assert no_space("".join(_razdel_sentences(large))) == no_space(large)
    paragraph = " ".join(clean_page(read_page(RU_PAGE), "ru").paragraphs) * 40  # ~40k characters
    assert _razdel_sentences(paragraph) == [s.text for s in sentenize(paragraph)]


# ── guarantees: determinism and atomic output ────────────────────────────────────────────────
def test_the_same_run_gives_byte_identical_output(tmp_path, hash_embedder):
    for fmt in ("tsv", "links", "jsonl", "tmx", "moses"):
        first = align_articles(RU_PAGE, AZ_PAGE, hash_embedder)
        second = align_articles(RU_PAGE, AZ_PAGE, hash_embedder)
        a = write_pairs(first.pairs, tmp_path / f"a.{fmt}", fmt)
        b = write_pairs(second.pairs, tmp_path / f"b.{fmt}", fmt)
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "out.tsv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half of the new")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tsv"]


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.tsv") as handle:
            handle.write("x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.tsv").stat().st_mode) == 0o644


# ── the CLI: one line, one exit code ────────────────────────────────────────────────────────
def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`align ARGS` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def assert_one_error_line(err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("align: error: "), err
    assert fragment in lines[0], lines[0]


def unreadable_file(tmp_path: Path) -> Path:
    """A file this process cannot read: chmod 000, or for root a write-only /proc file."""
    if os.geteuid() != 0:
        path = tmp_path / "locked.txt"
        path.write_text("Текст.", encoding="utf-8")
        path.chmod(0)
        return path
    for candidate in ("/proc/sys/vm/compact_memory", "/proc/sys/vm/drop_caches"):
        path = Path(candidate)
        try:
            path.open("rb").close()
        except PermissionError:
            return path
        except OSError:
            continue
    pytest.skip("root can read every file here: no permission error can be staged")


INPUT_CASES = {
    "missing": (lambda d: d / "nope.txt", "no such file"),
    "directory": (lambda d: d, "is a directory"),
    "empty": (lambda d: _write(d / "empty.txt", b""), "file is empty"),
    "whitespace": (lambda d: _write(d / "ws.txt", " \n\t\r\n\u00a0\u200b\n".encode()), "only whitespace"),
    "binary": (lambda d: _write(d / "junk.bin", bytes(range(256)) * 20), "binary"),
    "random bytes": (lambda d: _write(d / "random.bin", bytes((i * 7919 + 13) % 251 for i in range(5000))),
                     "binary"),
    "pdf": (lambda d: _write(d / "doc.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "binary file (PDF)"),
    "noise only": (lambda d: _write(d / "noise.txt", "Новости\nПодписаться\n12:45\nПоделиться\nTelegram\n"
                                    "© Sputnik\nЛента новостей\n0\n".encode()), "only site noise"),
    "fifo": (lambda d: _fifo(d / "pipe"), "not a regular file"),
    "deep json": (lambda d: _write(d / "deep.json", b"{\"title\": " + b"[" * 100_000 + b"]" * 100_000 + b"}"),
                  "nested too deeply"),
    "name too long": (lambda d: d / ("x" * 300), "cannot read"),
    "unreadable": (unreadable_file, "permission denied"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("case", list(INPUT_CASES))
@pytest.mark.parametrize("side", ["ru", "az"])
def test_bad_input_is_one_line_and_exit_3(tmp_path, capsys, monkeypatch, hash_embedder, case, side):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    make, fragment = INPUT_CASES[case]
    bad = make(tmp_path)
    args = ("pair", bad, AZ_PAGE) if side == "ru" else ("pair", RU_PAGE, bad)
    code, out, err = run_cli(capsys, *args, "-o", tmp_path / "out.tsv")
    assert code == 3
    assert_one_error_line(err, fragment)
    assert not (tmp_path / "out.tsv").exists()


def test_bad_segmented_input_is_exit_3(tmp_path, capsys, monkeypatch, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    blank = _write(tmp_path / "blank.txt", b"\n\n  \n")
    code, _, err = run_cli(capsys, "pair", "--segmented", blank, AZ_PAGE)
    assert code == 3
    assert_one_error_line(err, "only whitespace")


@pytest.mark.parametrize("target", ["under a file", "a directory", "proc", "sys"])
def test_unwritable_output_is_exit_5_before_any_work(tmp_path, capsys, monkeypatch, target):
    def no_encoder(*args, **kwargs):
        raise AssertionError("the output check must come before the model is touched")

    monkeypatch.setattr(cli, "_make_encoder", no_encoder)
    a_file = _write(tmp_path / "a_file", b"x")
    path = {"under a file": a_file / "out.tsv", "a directory": tmp_path, "proc": Path("/proc/align-out.tsv"),
            "sys": Path("/sys/align-out.tsv")}[target]
    if target in ("proc", "sys") and not path.parent.is_dir():
        pytest.skip(f"{path.parent} is not mounted here")
    code, _, err = run_cli(capsys, "pair", RU_PAGE, AZ_PAGE, "-o", path)
    assert code == 5
    assert_one_error_line(err, "cannot write")


def test_unwritable_out_dir_and_full_stdout(tmp_path, capsys, monkeypatch, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    manifest = tmp_path / "m.tsv"
    manifest.write_text(f"{RU_PAGE}\t{AZ_PAGE}\tone\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "pair", "--manifest", manifest, "--out-dir", _write(tmp_path / "f", b"x"))
    assert code == 5
    assert_one_error_line(err, "not a directory")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys.stdout, "writelines", full)
    code, _, err = run_cli(capsys, "pair", RU_PAGE, AZ_PAGE)
    assert code == 5
    assert_one_error_line(err, "No space left on device")


@pytest.mark.parametrize("command", ["docs", "corpus", "stats", "review"])
def test_other_commands_fail_on_unwritable_output_with_exit_5(tmp_path, capsys, command):
    a_file = _write(tmp_path / "a_file", b"x")
    tsv = tmp_path / "in.tsv"
    write_pairs([], tsv, "tsv")
    args = {"docs": ("docs", SAMPLE, SAMPLE, "-o", a_file / "pairs.tsv"),
            "corpus": ("corpus", SAMPLE, SAMPLE, "--out-dir", a_file),
            "stats": ("stats", tsv, "--png", a_file / "x.png"),
            "review": ("review", tsv, "--html", a_file / "x.html")}[command]
    code, _, err = run_cli(capsys, *args)
    assert code == 5
    assert_one_error_line(err, "cannot write")


@pytest.mark.parametrize("args, fragment", [
    (("pair", RU_PAGE, AZ_PAGE, "--format", "docx"), "'--format'"),
    (("pair", RU_PAGE, AZ_PAGE, "--level", "word"), "'--level'"),
    (("pair", RU_PAGE, AZ_PAGE, "--no-such-option"), "No such option"),
    (("pair", RU_PAGE), "give two files"),
    (("pair",), "give two files"),
    (("pair", RU_PAGE, AZ_PAGE, "--manifest", RU_PAGE), "not both"),
    (("pair", "--manifest", RU_PAGE), "needs --out-dir"),
    (("pair", RU_PAGE, AZ_PAGE, "--format", "moses"), "--format moses writes two files"),
    (("no-such-command",), "No such command"),
    (("corpus", SAMPLE, SAMPLE, "--out-dir", "/tmp/x", "--workers", "0"), "--workers"),
])
def test_invalid_options_are_exit_2(capsys, monkeypatch, hash_embedder, args, fragment):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert_one_error_line(err, fragment)


def test_manifest_bad_lines_are_reported_by_number_and_good_lines_still_run(tmp_path, capsys, monkeypatch,
                                                                            hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    empty = _write(tmp_path / "empty.txt", b"")
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("\n".join([
        "# a comment", f"{RU_PAGE}\t{AZ_PAGE}\tgood", "only one cell", f"{RU_PAGE}\t{tmp_path / 'nope.txt'}\tmissing",
        f"{RU_PAGE}\t{AZ_PAGE}\tgood", f"{empty}\t{AZ_PAGE}\tempty", "", f"{AZ_PAGE}\t{RU_PAGE}\tswapped",
    ]) + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code, _, err = run_cli(capsys, "pair", "--manifest", manifest, "--out-dir", out_dir)
    assert code == 3
    assert "Traceback" not in err
    assert f"{manifest}:3:" in err and f"{manifest}:4:" in err and f"{manifest}:5:" in err  # 5: duplicate name
    assert "empty: " in err and "file is empty" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["good.tsv", "swapped.tsv"]
    assert "2 of 6 manifest lines aligned (3 skipped: bad lines; 1 failed)" in err


def test_a_manifest_that_is_not_text(tmp_path, capsys):
    manifest = _write(tmp_path / "m.tsv", b"\xff\xfe\x00garbage\x00")
    code, _, err = run_cli(capsys, "pair", "--manifest", manifest, "--out-dir", tmp_path / "o")
    assert code == 3
    assert_one_error_line(err, "manifest")


@pytest.mark.parametrize("model, fragment", [
    ("{tmp}/no-model", "not found"), ("{tmp}", "not a sentence-transformers model"), ("", "empty model name"),
    ("no-such-org/no-such-model", "hub is off"), ("{tmp}/broken", "cannot load model"),
])
def test_bad_model_is_exit_4(tmp_path, capsys, model, fragment):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"not json', encoding="utf-8")
    code, _, err = run_cli(capsys, "pair", RU_PAGE, AZ_PAGE, "--model", model.format(tmp=tmp_path))
    assert code == 4
    assert_one_error_line(err, fragment)


def test_interrupt_is_130_and_a_bug_is_70_with_one_line(capsys, monkeypatch, hash_embedder):
    import align.pipeline

    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    for exc, code, fragment in ((KeyboardInterrupt(), 130, "interrupted"),
                                (ZeroDivisionError("boom"), 70, "internal error: ZeroDivisionError: boom")):
        def fail(*args, exc=exc, **kwargs):
            raise exc

        monkeypatch.setattr(align.pipeline, "align_articles", fail)
        got, _, err = run_cli(capsys, "pair", RU_PAGE, AZ_PAGE)
        assert got == code
        assert_one_error_line(err, fragment)


# ── the real process: no traceback, no network ─────────────────────────────────────────────
NOWHERE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "HF_ENDPOINT": "http://127.0.0.1:9",
           "NO_PROXY": ""}


def run_align(*args, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    environment.update({"PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run([*ALIGN, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=environment)


@pytest.mark.parametrize("offline", ["", "0"])
def test_hub_model_name_fails_fast_without_network(offline):
    started = time.perf_counter()
    env = {**NOWHERE, **({"HF_HUB_OFFLINE": offline} if offline else {})}
    proc = run_align("pair", RU_PAGE, AZ_PAGE, "--model", "no-such-org/no-such-model", env=env, timeout=60)
    assert time.perf_counter() - started < 10
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert_one_error_line(proc.stderr, "hub is off")


def test_real_process_errors_have_no_traceback(tmp_path):
    junk = _write(tmp_path / "junk.bin", bytes(range(256)) * 20)
    for args, code in (((junk, AZ_PAGE), 3), ((RU_PAGE, AZ_PAGE, "-o", junk / "x.tsv"), 5),
                       ((RU_PAGE, AZ_PAGE, "--format", "docx"), 2)):
        proc = run_align("pair", *args, timeout=60)
        assert proc.returncode == code and "Traceback" not in proc.stderr
        assert_one_error_line(proc.stderr, "")


def refuse_network(patch, attempts: list) -> None:
    """Make every way out to the network fail (and be recorded) through ``patch.setattr``."""
    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during an offline run")

    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket, "create_connection", refuse)
    patch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def offline_model(default_model_path):
    """The real model, loaded afresh with the network refused: (embedder, network attempts)."""
    from align.embed import Embedder

    attempts: list = []
    with pytest.MonkeyPatch.context() as patch:
        refuse_network(patch, attempts)
        embedder = Embedder(default_model_path)
        embedder.encode(["Проверка."])  # loads the model
    return embedder, attempts


def test_a_run_with_the_real_model_opens_no_socket(monkeypatch, offline_model):
    embedder, attempts = offline_model
    refuse_network(monkeypatch, attempts)
    result = align_articles(RU_PAGE, AZ_PAGE, embedder)
    assert attempts == []
    assert_every_unit_once(result)
    assert sum(p.keep for p in result.pairs) >= 8


# ── slow: the CLI end to end twice, and a small fuzz sample ─────────────────────────────────
@pytest.mark.slow
def test_cli_twice_with_network_pointing_nowhere_is_byte_identical(tmp_path, default_model_path):
    outputs = []
    for name in ("a.tsv", "b.tsv"):
        proc = run_align("pair", RU_PAGE, AZ_PAGE, "-o", tmp_path / name, env=NOWHERE, timeout=600)
        assert proc.returncode == 0, proc.stderr
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") > 10


@pytest.mark.slow
def test_fuzz_sample(real_embedder):
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import fuzz_pair
    finally:
        sys.path.remove(str(REPO / "bench"))
    report = fuzz_pair.run_fuzz(cases=20, seed=7, encoder=real_embedder, cli_runs=2, sample_only=True)
    assert report["ran"] == 20 and report["failed"] == 0, report["failures"][:3]
    assert report["aligned"] >= 5 and report["cli_ran"] == 2 and report["cli_failed"] == 0, report["cli_failures"]
