"""Row filters of the corpus: numbers, length ratio, script, language, duplicates, and the chain."""
from __future__ import annotations

import pytest

from align.filters import (
    DuplicateFilter, FilterSettings, apply_filters, exact_key, extract_numbers, language_filter,
    length_ratio_filter, make_detector, near_key, normalise_number, number_aliases, numbers_filter,
    score_filter, script_filter,
)
from align.types import Pair


def pair(ru: str, az: str, score: float = 0.9, *, ids=((0,), (0,)), keep: bool = True, reason: str = "",
         flags: tuple[str, ...] = ()) -> Pair:
    return Pair("doc", "sentence", ids[0], ids[1], ru, az, score, flags=flags, keep=keep, reason=reason)


RU = "Министр иностранных дел встретился с коллегой из Турции в Баку."
AZ = "Xarici işlər naziri Bakıda türkiyəli həmkarı ilə görüşüb."


# ----------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("raw, expected", [
    ("10 000", "10000"), ("10\u00a0000", "10000"), ("10,000", "10000"), ("1.000.000", "1000000"),
    ("1,5", "1.5"), ("1.5", "1.5"), ("007", "7"), ("0", "0"), ("0,25", "0.25"),
])
def test_normalise_number(raw, expected):
    assert normalise_number(raw) == expected


def test_extract_numbers_splits_times_and_keeps_order():
    assert extract_numbers("В 2018 году в 09:30 пришли 10 000 человек, 1,5 млн") == ["2018", "9", "30", "10000", "1.5"]


def test_number_aliases_understand_written_multipliers():
    assert number_aliases("10 тысяч и 1,5 млн, 3 milyon") == [{"10", "10000"}, {"1.5", "1500000"}, {"3", "3000000"}]


@pytest.mark.parametrize("ru, az, keep", [
    ("В 2023 году 250 человек.", "2023-cü ildə 250 nəfər.", True),         # same numbers (ordinal suffix)
    ("Свинья весом 250 кг.", "550 funtluq donuz.", False),                  # a conflict
    ("Погибли 10 тысяч человек.", "10000 nəfər ölüb.", True),               # written multiplier
    ("Встреча в 08:46.", "Görüş saat 8:46-da.", True),                      # leading zero of a time
    ("Четырнадцать банков.", "14 bank.", True),                             # small number spelled out
    ("Бюджет составил миллиард.", "Büdcə 1000 manat olub.", False),         # a big one-sided number
    ("Без чисел.", "Rəqəmsiz.", True),
])
def test_numbers_filter(ru, az, keep):
    assert numbers_filter(pair(ru, az))[0] is keep


# ----------------------------------------------------------------------------- other filters

def test_score_filter_uses_the_model_threshold_or_a_user_threshold():
    assert score_filter(pair(RU, AZ, 0.9))[0]
    kept, reason = score_filter(pair(RU, AZ, 0.3))
    assert not kept and reason.startswith("score 0.30")
    assert not score_filter(pair(RU, AZ, 0.9), min_score=0.95)[0]
    assert score_filter(pair(RU, AZ, 0.3), min_score=0.2)[0]


def test_length_ratio_filter():
    assert length_ratio_filter(pair(RU, AZ))[0]
    kept, reason = length_ratio_filter(pair(RU * 4, AZ))
    assert not kept and reason.startswith("length-ratio:")
    assert length_ratio_filter(pair("Да.", "Bəli, əlbəttə."))[0]  # short pairs are smoothed


def test_script_filter_tolerates_latin_names_but_not_a_latin_side():
    assert script_filter(pair("Компания Apple и Google представили iPhone.", AZ))[0]
    assert script_filter(pair(RU, AZ))[0]
    assert script_filter(pair("2023", "2023"))[0]
    assert script_filter(pair(AZ, AZ)) == (False, "script:ru=latn")
    assert script_filter(pair(RU, RU)) == (False, "script:az=cyrl")


def test_language_filter_with_a_given_detector_and_stored_detections():
    def detect(text: str) -> str:
        return "ru" if any("а" <= c <= "я" for c in text.lower()) else "tr"

    assert language_filter(pair(RU, AZ), detect) == (False, "language:az=tr")
    assert language_filter(pair(RU, AZ), detect, ru_lang="ru", az_lang="az") == (True, "")
    assert language_filter(pair(RU, "Salam."), detect)[0]  # too short to judge


@pytest.mark.parametrize("name", ["lingua", "rules"])
def test_detectors_tell_azerbaijani_from_turkish_and_russian(name):
    if name == "lingua":
        pytest.importorskip("lingua")
    detect = make_detector(name)
    assert detect("Görüş zamanı tərəflər ikitərəfli əməkdaşlığı müzakirə ediblər.") == "az"
    assert detect("Toplantıda iki ülke arasındaki ticari ilişkiler ele alındı.") == "tr"
    assert detect("Стороны обсудили двустороннее сотрудничество.") == "ru"


# ----------------------------------------------------------------------------- duplicates

def test_keys_ignore_what_they_should():
    assert exact_key("Привет,  мир.", "Salam dünya.") == exact_key("Привет, мир.", "Salam  dünya.")
    assert exact_key("Привет, мир.", "Salam dünya.") != exact_key("привет, мир.", "Salam dünya.")
    assert near_key("Привет, мир 2023!", "Salam, dünya 2023!") == near_key("привет мир 2024", "salam dünya")
    assert near_key("Привет, мир.", "Salam dünya.") != near_key("Привет, мир.", "Sağ ol dünya.")


def test_duplicate_filter_exact_then_near(tmp_path):
    dup = DuplicateFilter(tmp_path / "d.sqlite")
    assert dup(pair("Встреча прошла.", "Görüş keçib.")) == (True, "")
    assert dup(pair("Встреча  прошла.", "Görüş keçib.")) == (False, "duplicate")
    assert dup(pair("встреча прошла!", "görüş keçib")) == (False, "near-duplicate")
    assert dup(pair("Встреча прошла успешно.", "Görüş uğurla keçib.")) == (True, "")
    dup.close()
    again = DuplicateFilter(tmp_path / "d.sqlite")  # a fresh filter starts empty (file replaced)
    assert again(pair("Встреча прошла.", "Görüş keçib.")) == (True, "")


# ----------------------------------------------------------------------------- the chain

def test_apply_filters_records_first_reason_and_all_flags():
    settings = FilterSettings(language=False)
    bad = pair("Свинья весом 250 кг." * 6, "550 funtluq donuz.", 0.3, flags=("numbers-differ",))
    out, failed = apply_filters(bad, settings)
    assert not out.keep and failed == "score" and out.reason.startswith("score")
    assert {"score", "length-ratio", "numbers"} <= set(out.flags) and out.flags[0] == "numbers-differ"
    good, failed = apply_filters(pair(RU, AZ, 0.9, keep=False, reason="ru-wrong-language"), settings)
    assert good.keep and good.reason == "" and failed == ""


def test_apply_filters_null_rows_are_never_kept():
    out, failed = apply_filters(pair(RU, "", 0.0, ids=((0,), ())), FilterSettings())
    assert not out.keep and failed == "unaligned" and out.reason == "unaligned"


def test_apply_filters_duplicates_only_count_clean_rows():
    dup = DuplicateFilter()
    settings = FilterSettings(language=False)
    first, _ = apply_filters(pair(RU, AZ, 0.1), settings, duplicates=dup)   # dropped for its score ...
    second, failed = apply_filters(pair(RU, AZ, 0.9), settings, duplicates=dup)  # ... so this copy is kept
    third, failed3 = apply_filters(pair(RU, AZ, 0.9), settings, duplicates=dup)
    assert not first.keep and second.keep and failed == ""
    assert not third.keep and failed3 == "duplicate"


# ----------------------------------------------------------------------------- dotted numbers (issue 16)

@pytest.mark.parametrize("ru, az", [
    ("Документ подписан 06.12.2024.", "Sənəd imzalanıb."),        # a one-sided date
    ("Вышла версия 1.2.3 программы.", "Proqramın yeni versiyası çıxıb."),  # a version
    ("Рост 1.2.3 млн.", "Artım."),                                    # a dotted number before a multiplier
])
def test_numbers_filter_survives_dotted_numbers(ru, az):
    kept, reason = numbers_filter(pair(ru, az))
    assert kept is False and reason.startswith("numbers:")


def test_trend_page_numbers_do_not_crash():
    from conftest import REPO

    text = (REPO / "tests" / "data" / "clean" / "trend-ru.txt").read_text(encoding="utf-8")
    for line in filter(None, text.splitlines()):
        numbers_filter(pair(line, "Mətn."))
        numbers_filter(pair("Текст.", line))


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    given = None

if given is not None:
    _numberish = st.text(alphabet="0123456789.,: \u00a0-млнтысяч", max_size=30)

    @settings(max_examples=300, deadline=None)
    @given(_numberish, _numberish)
    def test_number_functions_take_any_text(ru, az):
        """Property: number parsing and the numbers filter give a result for any text."""
        extract_numbers(ru), number_aliases(az)
        kept, reason = numbers_filter(pair(ru, az))
        assert isinstance(kept, bool) and isinstance(reason, str)

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=60), st.text(max_size=60))
    def test_filter_chain_takes_any_text(ru, az):
        for check in (numbers_filter, length_ratio_filter, script_filter):
            kept, reason = check(pair(ru or "x", az or "y"))
            assert isinstance(kept, bool)
