"""Language and script identification from letter statistics — pure, fast, no dependencies.

Only the languages this project meets are told apart: Russian, Azerbaijani (Latin or Cyrillic),
Turkish and English; everything else is ``"unknown"``.

    >>> detect_language("Министр обороны встретился с гостем.")
    'ru'
    >>> detect_language("Müdafiə naziri qonaqla görüşüb.")
    'az'
"""
from __future__ import annotations

import re
from typing import Literal

Script = Literal["cyrl", "latn", "mixed", "none"]

# Letters only Azerbaijani Cyrillic uses among the languages we tell apart (ә ғ ҹ ј ү һ ө).
AZ_CYRILLIC = frozenset("әғҹјүһөӘҒҸЈҮҺӨ")
# Ukrainian/Belarusian letters that Russian lacks: a Cyrillic text full of them is not Russian.
NOT_RUSSIAN_CYRILLIC = frozenset("іїєґўІЇЄҐЎ")
# Letters of the Turkic Latin alphabets that no other language here has (ö, ü, ç are German/French too).
TURKIC_LATIN = frozenset("ğışĞİŞ")
# Latin letters with diacritics of other European languages (German, French, Spanish, ...).
OTHER_LATIN_DIACRITICS = frozenset("äßéèêàáâíìóòúùñøåæœëïÿčřžšěůłńśźżőűãõ")

# Frequent words of one language that the others do not use (lower case).
_AZ_WORDS = frozenset(
    "və ilə üçün edib olub bildirib deyil isə həm kimi qədər görə sonra artıq hələ çox bəzi "
    "hər bütün onun onların bunu olan olaraq edilib edir etdi idi idik hamı hamımız necə nə "
    "niyə harada indi yenə lakin amma ancaq əgər həmçinin xeyli arasında"
    .split()
)
_TR_WORDS = frozenset(
    "ve ile için değil gibi kadar göre olarak çok şey hepsi hepimiz nasıl neden nerede şimdi "
    "yine ama fakat eğer ayrıca arasında bunu olan oldu etti ediyor diyor değildir"
    .split()
)
AZ_WORDS = _AZ_WORDS - _TR_WORDS
TR_WORDS = _TR_WORDS - _AZ_WORDS
EN_WORDS = frozenset(
    "the and of to in is are was were that this with for on as by from at it be have has not "
    "an or which their they he she we you his her its will would said but can all more one "
    "there been also who what when into than them then these after about only other some such"
    .split()
)

_WORD = re.compile(r"[^\W\d_]+")
_AZ_CYRILLIC_RE = re.compile(f"[{''.join(sorted(AZ_CYRILLIC))}]+")
_NOT_RUSSIAN_RE = re.compile(f"[{''.join(sorted(NOT_RUSSIAN_CYRILLIC))}]+")
_TURKIC_RE = re.compile(f"[{''.join(sorted(TURKIC_LATIN))}]+")
_FOREIGN_RE = re.compile(f"[{''.join(sorted(OTHER_LATIN_DIACRITICS))}]+")
# Suffixes on acronyms and names: Azerbaijani hyphenates them (ABŞ-ın), Turkish uses an apostrophe.
_AZ_SUFFIX = re.compile(r"[^\W\d_]-[^\W\d_A-Z]")
_TR_SUFFIX = re.compile(r"[^\W\d_]['’][^\W\d_A-Z]")


def _letter_runs(codes: range | list[int]) -> re.Pattern[str]:
    """A regex matching runs of the letters (``str.isalpha``) among ``codes``."""
    letters = [chr(c) for c in codes if chr(c).isalpha()]
    return re.compile("[" + "".join(re.escape(ch) for ch in letters) + "]+")


_CYRILLIC_LETTERS = _letter_runs(range(0x0400, 0x0530))
_LATIN_LETTERS = _letter_runs([*range(0x0250), *range(0x1E00, 0x1F00)])
_IPA_GREEK_LETTERS = _letter_runs(range(0x0250, 0x0400))  # "other" letters, ə among them
# beyond: word characters that are not digits, "_", or in the ranges above (mostly letters)
_FAR_WORD_CHARS = re.compile(r"[^\W\d_\u0000-\u052f\u1e00-\u1eff]+")


def _count(runs: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` fall in the runs ``runs`` matches — done in C, so counting
    stays fast on megabyte-long paragraphs."""
    return len(text) - len(runs.sub("", text))


def _letter_counts(text: str) -> tuple[int, int, int]:
    """Counts of Cyrillic, Latin and other letters (``str.isalpha``) in ``text``.

    Latin is U+0000–U+024F and U+1E00–U+1EFF, so ``ə`` (U+0259) counts as an "other" letter."""
    far = sum(len(run) if run.isalpha() else sum(ch.isalpha() for ch in run)  # not "²", "Ⅻ"
              for run in _FAR_WORD_CHARS.findall(text))
    other = _count(_IPA_GREEK_LETTERS, text) + far
    return _count(_CYRILLIC_LETTERS, text), _count(_LATIN_LETTERS, text), other


def script_of(text: str) -> Script:
    """The script of ``text``: ``"cyrl"`` or ``"latn"`` when one holds at least 90% of its Cyrillic
    and Latin letters, ``"mixed"`` when both are present below that, ``"none"`` without either."""
    cyr, lat, _ = _letter_counts(text)
    total = cyr + lat
    if total == 0:
        return "none"
    if cyr >= 0.9 * total:
        return "cyrl"
    if lat >= 0.9 * total:
        return "latn"
    return "mixed"


def detect_language(text: str) -> str:
    """``"ru"``, ``"az"``, ``"tr"``, ``"en"`` or ``"unknown"`` for ``text``, by script and letters.

    The majority script decides the branch. Cyrillic: any Azerbaijani-only letter (ә ғ ҹ ј ү һ ө)
    makes it ``"az"``, many Ukrainian/Belarusian letters ``"unknown"``, else ``"ru"``. Latin: ``ə``
    makes it ``"az"``; English function words make it ``"en"``; Turkic letters (ğ ı ş) without ``ə``
    are weighed — ``x``/``q`` and Azerbaijani words against Turkish words, the Turkish ``-yor`` and
    the text's length (``ə`` is ~8% of Azerbaijani letters, so its absence in a long text is telling).
    """
    cyr, lat, other = _letter_counts(text)
    if cyr == 0 and lat == 0:
        return "unknown"
    if cyr > lat and cyr >= other:
        return _cyrillic_language(text, cyr)
    if lat > cyr and lat >= other:
        return _latin_language(text, lat)
    return "unknown"


def _cyrillic_language(text: str, n_letters: int) -> str:
    az = _count(_AZ_CYRILLIC_RE, text)
    other = _count(_NOT_RUSSIAN_RE, text)
    if az and az >= other:
        return "az"
    if other >= max(1, 0.01 * n_letters):
        return "unknown"
    return "ru"


def _latin_language(text: str, n_letters: int) -> str:
    lower = text.lower()
    if "ə" in lower:
        return "az"
    words = _WORD.findall(lower)
    turkic = _count(_TURKIC_RE, text)
    foreign = _count(_FOREIGN_RE, lower)
    en_hits = sum(w in EN_WORDS for w in words)
    if en_hits >= max(1, 0.1 * len(words)) and turkic + foreign <= 0.03 * n_letters:
        return "en"
    if turkic and turkic >= foreign:
        az_score = (
            sum(w in AZ_WORDS for w in words)
            + sum(w.count("x") + w.count("q") for w in words)
            + len(_AZ_SUFFIX.findall(text))
        )
        # a long Azerbaijani text without a single ə is rare: its absence is evidence for Turkish
        tr_score = (
            sum(w in TR_WORDS for w in words)
            + sum("yor" in w for w in words)
            + len(_TR_SUFFIX.findall(text))
            + max(0.0, (n_letters - 30) / 60)
        )
        return "tr" if tr_score > az_score else "az"
    if foreign or not en_hits:
        return "unknown"
    return "en"
