"""Decoding (issue 16): mostly-UTF-8 stays UTF-8 — bad bytes are counted, warned about and, when
they are a pasted cp1251/KOI8-R passage, read in that code page; mojibake (UTF-8 read as a code
page and saved again) is repaired with a warning, or refused with one line when it cannot be."""
from __future__ import annotations

from pathlib import Path

import pytest

from align import cli
from align.pipeline import align_articles
from align.read import decode, decode_with_warnings, read_page
from align.types import InputError

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sputnik-2023-12-06"
AZ_PAGE = SAMPLE / "az.txt"

RU_ARTICLE = """\
Новости
В Баку открылась международная выставка строительных технологий
Выставка, которая проходит в Бакинском экспоциентре уже в шестнадцатый раз, собрала более трёхсот компаний из двадцати пяти стран мира.
По словам организаторов, в этом году особое внимание уделено энергосберегающим материалам и цифровому проектированию зданий.
Среди участников — производители стекла, металлоконструкций, кровельных покрытий и систем отопления.
Впервые свои стенды представили компании из Казахстана, Узбекистана и Грузии, которые рассчитывают найти здесь новых партнёров.
Министр экономики отметил на открытии, что строительный сектор остаётся одним из главных двигателей роста ненефтяной экономики страны.
Он напомнил, что за последние пять лет объём частных инвестиций в жилищное строительство вырос почти вдвое.
Выставка продлится до пятницы, вход для посетителей свободный, а деловая программа включает более сорока семинаров и круглых столов.
Организаторы ожидают, что за четыре дня выставку посетят не менее пятнадцати тысяч человек.
"""
PASTED = "Особый интерес у гостей вызвали новые отечественные разработки в области сейсмостойкого строительства."
AZ_ARTICLE = (
    "Bakıda beynəlxalq tikinti texnologiyaları sərgisi açılıb.\n"
    "Sərgidə iyirmi beş ölkədən üç yüzdən çox şirkət iştirak edir.\n"
    "Təşkilatçıların sözlərinə görə, bu il enerjiyə qənaət edən materiallara xüsusi diqqət yetirilib.\n"
    "Nazir bildirib ki, tikinti sektoru ölkə iqtisadiyyatının əsas hərəkətverici qüvvələrindən biri olaraq qalır.\n"
    "Sərgi cümə gününə qədər davam edəcək, giriş pulsuzdur.\n"
    "Təşkilatçılar bunu böyük uğur adlandırıblar.\n"
)


def with_pasted(encoding: str) -> bytes:
    """The UTF-8 article with one sentence pasted in ``encoding`` after its fourth line."""
    lines = RU_ARTICLE.encode("utf-8").split(b"\n")
    lines.insert(4, PASTED.encode(encoding))
    return b"\n".join(lines)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ── mostly UTF-8 ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_utf8_with_one_pasted_legacy_sentence_stays_utf8_and_the_sentence_is_read(encoding):
    data = with_pasted(encoding)
    bad = sum(b >= 0x80 for b in PASTED.encode(encoding))
    text, used, warnings = decode_with_warnings(data, "ru.txt")
    assert used.startswith("utf-8")
    lines = text.split("\n")
    assert lines[:4] + lines[5:] == RU_ARTICLE.split("\n")  # the rest intact
    assert lines[4] == PASTED  # the pasted sentence read in its own code page
    assert len(warnings) == 1
    message = warnings[0]
    assert message.startswith("ru.txt: ") and "\n" not in message
    assert f"{bad} bytes ({100 * bad / len(data):.1f} %) are not UTF-8" in message and encoding in message


def test_a_pasted_sentence_is_about_the_issue_share_of_bad_bytes():
    data = with_pasted("cp1251")
    share = sum(b >= 0x80 for b in PASTED.encode("cp1251")) / len(data)
    assert 0.01 < share < 0.1  # the issue's case: a few per cent, far more than "a few bytes"


def test_decode_keeps_its_two_value_form():
    text, used = decode(with_pasted("cp1251"), "ru.txt")
    assert used.startswith("utf-8") and PASTED in text


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_pure_legacy_code_pages_are_still_read_as_such(encoding):
    article = (RU_ARTICLE + PASTED).replace("—", "-")  # KOI8-R has no dash
    text, used, warnings = decode_with_warnings(article.encode(encoding), "ru.txt")
    assert (text, used, warnings) == (article, encoding, [])


def test_strict_utf8_gives_no_warning():
    assert decode_with_warnings(RU_ARTICLE.encode("utf-8"), "ru.txt") == (RU_ARTICLE, "utf-8", [])
    assert decode_with_warnings(AZ_ARTICLE.encode("utf-8"), "az.txt") == (AZ_ARTICLE, "utf-8", [])


def test_azerbaijani_utf8_with_a_few_bad_bytes_stays_utf8_with_them_replaced():
    data = bytearray(AZ_ARTICLE.encode("utf-8"))
    spots = [data.index("ə".encode("utf-8")), data.index(" ölkədən".encode("utf-8")),
             data.index(b"pulsuzdur") + 1]
    for at in spots:
        data[at] = 0xFF
    text, used, warnings = decode_with_warnings(bytes(data), "az.txt")
    assert used.startswith("utf-8")
    assert text.count("\ufffd") == 4  # one per bad byte: ə's lead byte leaves a stray continuation byte
    kept = [line for line in AZ_ARTICLE.split("\n") if line in text.split("\n")]
    assert len(kept) >= len(AZ_ARTICLE.split("\n")) - 3
    assert "ş" in text and "ğ" in text and "ı" in text and "ç" in text and "ü" in text
    assert len(warnings) == 1 and warnings[0].startswith("az.txt: 4 bytes") and "replaced" in warnings[0]


def test_a_single_flipped_byte_is_replaced_not_read_as_a_code_page():
    data = bytearray(RU_ARTICLE.encode("utf-8"))
    data[200] = 0xE9
    text, used, warnings = decode_with_warnings(bytes(data), "ru.txt")
    assert used.startswith("utf-8") and "\ufffd" in text
    assert len(warnings) == 1 and "replaced" in warnings[0] and "cp1251" not in warnings[0]


# ── mojibake ─────────────────────────────────────────────────────────────────────────────────


def mojibake(text: str, codepage: str) -> str:
    """``text`` as UTF-8 bytes read in ``codepage`` (what a wrong "open as" then "save" leaves)."""
    return text.encode("utf-8").decode(codepage)


# Avoids "И" (UTF-8 D0 98: 0x98 has no cp1251 character, so such mojibake loses it).
MOJIBAKE_SAFE = RU_ARTICLE.replace("И", "Е")


@pytest.mark.parametrize("codepage", ["cp1251", "koi8-r"])
def test_utf8_file_holding_cyrillic_mojibake_is_repaired_with_a_warning(tmp_path, codepage):
    bad = mojibake(MOJIBAKE_SAFE, codepage)
    assert "Р" in bad or "п" in bad
    text, used, warnings = decode_with_warnings(bad.encode("utf-8"), "ru.txt")
    assert text == MOJIBAKE_SAFE
    assert used == "utf-8"
    assert len(warnings) == 1 and warnings[0].startswith("ru.txt: ") and "mojibake" in warnings[0]
    assert codepage in warnings[0] and "repaired" in warnings[0]
    page = read_page(write(tmp_path, "ru.txt", bad.encode("utf-8")))
    assert page.blocks[1].text == "В Баку открылась международная выставка строительных технологий"
    assert page.warnings and "mojibake" in page.warnings[0]


def test_azerbaijani_mojibake_via_cp1252_is_repaired():
    text, _, warnings = decode_with_warnings(mojibake(AZ_ARTICLE, "cp1252").encode("utf-8"), "az.txt")
    assert text == AZ_ARTICLE
    assert len(warnings) == 1 and "mojibake" in warnings[0] and "cp1252" in warnings[0]


def test_mojibake_that_lost_letters_is_refused_in_one_line(tmp_path):
    """Python's cp1251 has no character for 0x98, so "И" was lost ("Р" + U+FFFD): repairing would
    silently drop letters, so the file is refused naming it."""
    damaged = RU_ARTICLE.replace("Министр", "ИИИ Министр").replace("Выставка", "Итоги Выставка")
    bad = damaged.encode("utf-8").decode("cp1251", errors="replace")
    path = write(tmp_path, "ru.txt", bad.encode("utf-8"))
    with pytest.raises(InputError) as info:
        read_page(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "mojibake" in message and "\n" not in message


def test_a_few_mojibake_like_letters_in_real_text_are_left_alone():
    text = RU_ARTICLE + "Агентство «ТАСС» и газета «РБК» сообщили об этом в среду.\n"
    assert decode_with_warnings(text.encode("utf-8"), "ru.txt") == (text, "utf-8", [])


# ── the warning reaches the user ─────────────────────────────────────────────────────────────


def test_decoding_warnings_reach_the_alignment(tmp_path, hash_embedder):
    ru = write(tmp_path, "ru.txt", with_pasted("cp1251"))
    az = write(tmp_path, "az.txt", AZ_ARTICLE.encode("utf-8"))
    result = align_articles(ru, az, hash_embedder, doc="d")
    assert [w for w in result.warnings if "not UTF-8" in w] == [w for w in result.warnings if str(ru) in w]
    assert len([w for w in result.warnings if "not UTF-8" in w]) == 1
    assert any(PASTED[:40] in u.text for u in result.ru_units)


def test_decoding_warning_is_one_line_on_the_cli(tmp_path, monkeypatch, capsys, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    ru = write(tmp_path, "ru.txt", with_pasted("cp1251"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["pair", str(ru), str(AZ_PAGE), "-o", str(tmp_path / "out.tsv"), "-q"])
    err = capsys.readouterr().err
    assert (exit_info.value.code or 0) == 0
    lines = [line for line in err.splitlines() if "not UTF-8" in line]
    assert len(lines) == 1 and lines[0].startswith(f"align: warning: {ru}: ")
    assert "cp1251" in lines[0]


def test_segmented_input_warns_too(tmp_path, monkeypatch, capsys, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    ru = write(tmp_path, "ru.txt", with_pasted("koi8-r"))
    az = write(tmp_path, "az.txt", AZ_ARTICLE.encode("utf-8"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["pair", "--segmented", str(ru), str(az), "-o", str(tmp_path / "out.tsv"), "-q"])
    err = capsys.readouterr().err
    assert (exit_info.value.code or 0) == 0
    assert [line for line in err.splitlines() if "not UTF-8" in line and "koi8-r" in line]


def test_irreparable_mojibake_is_a_one_line_cli_error_exit_3(tmp_path, monkeypatch, capsys, hash_embedder):
    monkeypatch.setattr(cli, "_make_encoder", lambda model, cache_dir=None: hash_embedder)
    damaged = RU_ARTICLE.replace("Министр", "ИИИ Министр").replace("Выставка", "Итоги Выставка")
    ru = write(tmp_path, "ru.txt", damaged.encode("utf-8").decode("cp1251", errors="replace").encode("utf-8"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["pair", str(ru), str(AZ_PAGE), "-o", str(tmp_path / "out.tsv")])
    err = capsys.readouterr().err
    assert exit_info.value.code == InputError.exit_code
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("align: error: ") and "mojibake" in lines[0]


def test_real_russian_with_words_whose_koi8_bytes_are_valid_utf8_is_left_alone():
    """"её", "ещё" in KOI8-R are C5 A3, D3 DD A3 …: two-letter runs that happen to be valid UTF-8."""
    text = RU_ARTICLE + "Её ждали давно, и всё же она пришла неожиданно: её ещё никто не видел.\n" * 3
    assert decode_with_warnings(text.encode("utf-8"), "ru.txt") == (text, "utf-8", [])


def test_azerbaijani_mojibake_that_lost_letters_is_refused():
    """"Ə" is C6 8F in UTF-8 and 0x8F has no cp1252 character: such mojibake lost every "Ə"."""
    text = AZ_ARTICLE + "Əməkdaşlıq haqqında Ədliyyə Nazirliyi də məlumat verib.\n"
    bad = text.encode("utf-8").decode("cp1252", errors="replace")
    with pytest.raises(InputError, match="mojibake .*cp1252.* cannot be recovered"):
        decode_with_warnings(bad.encode("utf-8"), "az.txt")
