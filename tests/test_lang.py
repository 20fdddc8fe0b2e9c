from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.lang import detect_language, script_of

FLORES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "flores200"


def flores_dev(name: str) -> list[str]:
    path = FLORES / f"{name}.dev"
    if not path.exists():
        pytest.skip(f"../shared not present: {path}")
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name, lang", [("rus_Cyrl", "ru"), ("azj_Latn", "az")])
def test_flores_dev_accuracy(name, lang):
    lines = flores_dev(name)
    correct = sum(detect_language(line) == lang for line in lines)
    assert correct / len(lines) >= 0.99


def test_flores_dev_english_is_not_taken_for_ru_or_az():
    lines = flores_dev("eng_Latn")
    assert sum(detect_language(line) in ("ru", "az") for line in lines) / len(lines) <= 0.01


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Министр обороны встретился с делегацией.", "ru"),
        ("Подписаться", "ru"),
        ("Müdafiə naziri nümayəndə heyəti ilə görüşüb.", "az"),
        ("Xəbər lenti", "az"),
        ("Yaxşı gün!", "az"),  # no ə, but x and ş
        ("Biz hamımız şokda idik, dedi ana.", "az"),  # no ə: Azerbaijani words decide
        ("ABŞ-ın Dövlət Departamenti", "az"),  # hyphenated suffix on an acronym
        ("Азәрбајҹан Республикасынын пајтахты Бакыдыр.", "az"),  # Azerbaijani in Cyrillic
        ("Türkiye ile Azerbaycan arasında askeri işbirliği konuşuldu.", "tr"),
        ("Bugün hava çok güzel ve herkes dışarıda geziyor.", "tr"),
        ("Türkiye'nin başkenti Ankara'dır.", "tr"),
        ("The minister of defence met the delegation in Baku.", "en"),
        ("It was followed by the singers Fatih Erkoç and Müslüm Gürses.", "en"),
        ("Guten Tag, wie geht es Ihnen? Schön.", "unknown"),
        ("Ми працюємо у Києві, і це важливо.", "unknown"),
        ("12345 — 67", "unknown"),
        ("", "unknown"),
        ("Sputnik", "unknown"),
    ],
)
def test_short_examples(text, lang):
    assert detect_language(text) == lang


def test_mixed_line_goes_by_majority_script():
    assert detect_language("© AR Ministry of DefenceМинистр обороны Азербайджана встретился с гостем") == "ru"
    assert detect_language("Азербайджан и Турция - Sputnik Azərbaycan, 1920, 06.12.2023") == "ru"


@pytest.mark.parametrize(
    "text, script",
    [
        ("Министр обороны", "cyrl"),
        ("Müdafiə naziri", "latn"),
        ("© AR Ministry of DefenceМинистр", "mixed"),
        ("Sputnik Азербайджан", "mixed"),
        ("Министр обороны Азербайджана встретился с турецкой делегацией в Баку, сообщает Sputnik", "cyrl"),
        ("1920, 06.12.2023 —", "none"),
        ("", "none"),
    ],
)
def test_script_of(text, script):
    assert script_of(text) == script


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_answers_from_the_fixed_sets(text):
    assert detect_language(text) in {"ru", "az", "tr", "en", "unknown"}
    assert script_of(text) in {"cyrl", "latn", "mixed", "none"}
