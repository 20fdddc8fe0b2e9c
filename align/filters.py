"""Row filters for the parallel corpus: each a small named function returning ``(keep, reason)``.

A filter looks at one scored `Pair` (both sides present) and either keeps it (``(True, "")``) or
drops it with a short reason that ends up in the TSV ``reason`` column and the report:

=================  ==================================================================================
``score``          the score align.score calibrated per model (P(true pair)) below its threshold
                   (align.score.KEEP_THRESHOLD), or below ``min_score`` when the user sets one
``content``        a side is not text: no word of three letters, or mostly digits and signs once web
                   addresses are set aside ("• 00:22", "/axar.az/", "16 января, 2026")
``script``         the Russian side is not mostly Cyrillic, or the Azerbaijani side not mostly Latin
``language``       a language detector does not say ru / az for a side (short texts are not judged)
``length-ratio``   one side is far longer than the other (smoothed character-length ratio)
``numbers``        a number appears on one side only (small numbers that are often spelled out are
                   tolerated)
``duplicate``      the same ru/az pair was already kept (exact: whitespace-normalised; near:
                   case, digits and punctuation ignored) — `DuplicateFilter`, which has state
=================  ==================================================================================

`apply_filters` runs them in that order and records the first failing filter as the reason and every
failing filter's name in ``flags``. Null rows (one side empty) are never kept and not filtered.
Thresholds were chosen on FLORES-200 dev and NTREX dev (bench/corpus_filters.py prints the
false-drop rate of each filter on true translation pairs).
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from .types import Pair, UsageError

FilterResult = tuple[bool, str]
KEEP: FilterResult = (True, "")

# ----------------------------------------------------------------------------- numbers

_THOUSANDS_SPACED = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,]\d)"
_NUMBER = re.compile(rf"{_THOUSANDS_SPACED}|\d+(?:[.,]\d+)*")
_THOUSANDS_MARKED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
# "10 тысяч", "1,5 млн", "3 milyon": the written-out value is an accepted alias of the number
_MULTIPLIERS = (
    (re.compile(r"\s*(?:тыс|тысяч|min)", re.I), 10**3),
    (re.compile(r"\s*(?:млн|миллион|milyon)", re.I), 10**6),
    (re.compile(r"\s*(?:млрд|миллиард|milyard|mlrd)", re.I), 10**9),
)


def normalise_number(token: str) -> str:
    """``"10 000"``/``"10,000"``/``"10.000"`` → ``"10000"``; ``"1,5"`` → ``"1.5"``; ``"007"`` → ``"7"``.

    One ``,``/``.`` before exactly three digits reads as a thousands separator ("1.500" → 1500, the
    common newsroom reading in both languages); any other comma is a decimal comma."""
    token = re.sub(r"[ \u00a0\u202f]", "", token)
    if _THOUSANDS_MARKED.fullmatch(token):
        token = re.sub(r"[.,]", "", token)
    token = token.replace(",", ".")
    if "." in token:
        whole, frac = token.split(".", 1)
        return (whole.lstrip("0") or "0") + "." + frac
    return token.lstrip("0") or "0"


def number_value(number: str) -> float | None:
    """The value of a normalised number, or None for one that is not a single value (a date such as
    ``06.12.2024``, a version ``1.2.3``)."""
    try:
        return float(number)
    except ValueError:
        return None


def extract_numbers(text: str) -> list[str]:
    """The numbers written with digits in ``text``, normalised (see `normalise_number`), in order;
    times and scores split at the colon ("09:30" → "9", "30")."""
    return [normalise_number(m.group()) for m in _NUMBER.finditer(text)]


def number_aliases(text: str) -> list[set[str]]:
    """For each number in ``text``, the set of values it may stand for ("10 тысяч" → {10, 10000})."""
    found = []
    for m in _NUMBER.finditer(text):
        value = normalise_number(m.group())
        aliases = {value}
        for pattern, factor in _MULTIPLIERS:
            if number_value(value) is not None and pattern.match(text, m.end()):
                scaled = float(value) * factor
                aliases.add(str(int(scaled)) if scaled.is_integer() else repr(scaled))
        found.append(aliases)
    return found


def unmatched_numbers(ru: str, az: str) -> tuple[list[str], list[str]]:
    """Numbers of each side that match no number (or alias) of the other side."""
    ru_sets, az_sets = number_aliases(ru), number_aliases(az)
    ru_all = set().union(*ru_sets) if ru_sets else set()
    az_all = set().union(*az_sets) if az_sets else set()
    only_ru = sorted({min(s, key=len) for s in ru_sets if not s & az_all})
    only_az = sorted({min(s, key=len) for s in az_sets if not s & ru_all})
    return only_ru, only_az


def _is_small(number: str, limit: float) -> bool:
    """Numbers often spelled out in one language and written with digits in the other (a date or a
    version, with several dots, is never small)."""
    value = number_value(number)
    return value is not None and value < limit


# ----------------------------------------------------------------------------- the filters
# web addresses, and source tags: "/axar.az/", "/APA/", "(APA)"
_WEB_ADDRESS = re.compile(r"\S*(?:https?://|www\.|\.(?:az|ru|com|org|net|info|news|tv|gov|edu)\b)\S*"
                          r"|/[^/\s]{1,30}/|\([A-ZА-ЯЁƏ]{2,12}\)", re.IGNORECASE)
_WORD3 = re.compile(r"[^\W\d_]{3,}")


def has_content(text: str, min_letter_share: float = 0.5) -> bool:
    """Whether ``text`` reads as text: once web addresses are set aside, a word of three or more
    letters, and letters making at least ``min_letter_share`` of its non-space characters. A date,
    a time, a source tag or a counter does not ("• 00:22", "/axar.az/", "• 16 января, 2026")."""
    rest = _WEB_ADDRESS.sub(" ", text)
    if not _WORD3.search(rest):
        return False
    visible = [ch for ch in rest if not ch.isspace()]
    return sum(ch.isalpha() for ch in visible) >= min_letter_share * len(visible)


def content_filter(pair: Pair) -> FilterResult:
    """Drop a pair a side of which is not text (`has_content`): site furniture paired with furniture."""
    for side, text in (("ru", pair.ru), ("az", pair.az)):
        if not has_content(text):
            return False, f"content:{side}"
    return KEEP


def model_threshold() -> float:
    """The keep threshold on align.score's calibrated score (P(true pair)); 0.5 if unavailable."""
    try:
        from .score import KEEP_THRESHOLD
    except ImportError:
        return 0.5
    return float(KEEP_THRESHOLD)


def score_filter(pair: Pair, min_score: float | None = None) -> FilterResult:
    """``pair.score`` (align.score's model-calibrated probability) against align.score's threshold, or
    against the user's ``min_score``. align.score's other blocking flags are re-decided here by the
    script and language filters (they stay in ``flags``)."""
    threshold = model_threshold() if min_score is None else min_score
    return KEEP if pair.score >= threshold else (False, f"score {pair.score:.2f} < {threshold:.2f}")


def script_filter(pair: Pair, script_of: Callable[[str], str] | None = None) -> FilterResult:
    """Drop a pair whose ru side is Latin or az side Cyrillic (align.lang.script_of: ≥ 90% of its letters);
    mixed text (Latin names in a Russian sentence) and text without letters pass."""
    if script_of is None:
        from .lang import script_of
    ru, az = script_of(pair.ru), script_of(pair.az)
    if ru == "latn":
        return False, f"script:ru={ru}"
    if az == "cyrl":
        return False, f"script:az={az}"
    return KEEP


def length_ratio(ru: str, az: str, smoothing: int = 10) -> float:
    """Smoothed character-length ratio ru/az (``smoothing`` keeps short pairs from extreme values)."""
    return (len(ru) + smoothing) / (len(az) + smoothing)


def length_ratio_filter(pair: Pair, low: float = 0.45, high: float = 2.2) -> FilterResult:
    """Drop pairs whose smoothed length ratio ru/az lies outside ``[low, high]``."""
    ratio = length_ratio(pair.ru, pair.az)
    return KEEP if low <= ratio <= high else (False, f"length-ratio:{ratio:.2f}")


def numbers_filter(pair: Pair, one_sided_from: float = 100) -> FilterResult:
    """Drop pairs whose numbers differ: each side has a number the other lacks (e.g. 250 vs 550), or
    one side has a number ≥ ``one_sided_from`` the other lacks (smaller ones are often spelled out)."""
    only_ru, only_az = unmatched_numbers(pair.ru, pair.az)
    if not only_ru and not only_az:
        return KEEP
    conflict = bool(only_ru and only_az)
    if not conflict and all(_is_small(n, one_sided_from) for n in only_ru + only_az):
        return KEEP
    return False, f"numbers:{','.join(only_ru[:2])}|{','.join(only_az[:2])}"


# language detection -------------------------------------------------------------------------

LINGUA_LANGUAGES = ("RUSSIAN", "AZERBAIJANI", "TURKISH", "ENGLISH", "UKRAINIAN", "KAZAKH")
_LINGUA_CODES = {"RUSSIAN": "ru", "AZERBAIJANI": "az", "TURKISH": "tr", "ENGLISH": "en",
                 "UKRAINIAN": "uk", "KAZAKH": "kk"}


class LinguaDetector:
    """lingua-language-detector restricted to the languages we meet; ``detect(text)`` → ru/az/tr/en/uk/kk
    or "unknown". Model files load lazily on first use (about 200 MB per process)."""

    name = "lingua"

    def __init__(self, preload: bool = False) -> None:
        from lingua import Language, LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in LINGUA_LANGUAGES))
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()

    def __call__(self, text: str) -> str:
        found = self._detector.detect_language_of(text)
        return _LINGUA_CODES.get(found.name, "unknown") if found is not None else "unknown"


def rule_detector() -> Callable[[str], str]:
    """align.lang.detect_language (rule-based, no dependencies)."""
    from .lang import detect_language

    return detect_language


def make_detector(name: str = "auto") -> Callable[[str], str]:
    """"lingua", "rules", or "auto" (lingua when installed, else the rule-based detector)."""
    if name in ("lingua", "auto"):
        try:
            return LinguaDetector()
        except ImportError:
            if name == "lingua":
                raise
    return rule_detector()


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def language_filter(pair: Pair, detect: Callable[[str], str], min_letters: int = 20,
                    ru_lang: str | None = None, az_lang: str | None = None) -> FilterResult:
    """Drop pairs where a side of at least ``min_letters`` letters is detected as another language.

    ``ru_lang``/``az_lang`` may carry detections made earlier (e.g. in a worker process)."""
    for side, text, want, known in (("ru", pair.ru, "ru", ru_lang), ("az", pair.az, "az", az_lang)):
        if _letters(text) < min_letters:
            continue
        got = known if known is not None else detect(text)
        if got != want:
            return False, f"language:{side}={got}"
    return KEEP


# duplicates ----------------------------------------------------------------------------------


def _spaces(text: str) -> str:
    return " ".join(text.split())


def exact_key(ru: str, az: str) -> str:
    """Hash of the whitespace-normalised pair."""
    return hashlib.sha1(f"{_spaces(ru)}\t{_spaces(az)}".encode("utf-8")).hexdigest()[:20]


def _near_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalpha())


def near_key(ru: str, az: str) -> str:
    """Hash of the pair with case, digits, punctuation and spaces removed (letters only)."""
    return hashlib.sha1(f"{_near_text(ru)}\t{_near_text(az)}".encode("utf-8")).hexdigest()[:20]


class DuplicateFilter:
    """Remembers kept pairs; a later exact or near copy is dropped. Keys live in SQLite (``path``, or
    in memory), so memory does not grow with the corpus. Deterministic given the order of calls."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is not None:
            Path(path).unlink(missing_ok=True)
        self._db = sqlite3.connect(str(path) if path is not None else ":memory:")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (k TEXT PRIMARY KEY)")

    def _add(self, key: str) -> bool:
        """True when ``key`` is new."""
        return self._db.execute("INSERT OR IGNORE INTO seen (k) VALUES (?)", (key,)).rowcount == 1

    def __call__(self, pair: Pair) -> FilterResult:
        exact, near = "e" + exact_key(pair.ru, pair.az), "n" + near_key(pair.ru, pair.az)
        if not self._add(exact):
            return False, "duplicate"
        if not self._add(near):
            return False, "near-duplicate"
        return KEEP

    def close(self) -> None:
        self._db.close()


# ----------------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class FilterSettings:
    """Which filters run and their thresholds (defaults: all on)."""

    min_score: float | None = None  # None: trust the aligner's calibrated keep decision
    content: bool = True
    script: bool = True
    language: bool = True
    min_language_letters: int = 20
    length_ratio: tuple[float, float] | None = (0.45, 2.2)
    numbers: bool = True
    duplicates: bool = True

    def describe(self) -> dict:
        return {
            "score": f"score >= {model_threshold() if self.min_score is None else self.min_score}",
            "content": self.content, "script": self.script, "language": self.language,
            "min_language_letters": self.min_language_letters,
            "length_ratio": list(self.length_ratio) if self.length_ratio else None,
            "numbers": self.numbers, "duplicates": self.duplicates,
        }


FILTER_ORDER = ("score", "content", "script", "language", "length-ratio", "numbers", "duplicate")
ALLOWABLE = ("content", "script", "language", "length-ratio", "numbers", "duplicate")  # what --allow NAME turns off


def settings_from_options(min_score: float | None = None, allow: Sequence[str] = ()) -> FilterSettings:
    """The filter settings of the CLI's ``--min-score`` and ``--allow NAME`` (repeatable) options.

    ``--allow numbers`` keeps rows whose numbers differ, ``--allow length-ratio`` rows of unusual
    length ratio, and so on (`ALLOWABLE`); the score threshold is relaxed with ``--min-score``."""
    unknown = [name for name in allow if name not in ALLOWABLE]
    if unknown:
        raise UsageError(f"--allow {unknown[0]!r}: not a filter name (one of {', '.join(ALLOWABLE)})")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise UsageError(f"--min-score {min_score}: must lie between 0 and 1")
    allowed = set(allow)
    return FilterSettings(min_score=min_score, content="content" not in allowed, script="script" not in allowed, language="language" not in allowed,
                          length_ratio=None if "length-ratio" in allowed else FilterSettings.length_ratio,
                          numbers="numbers" not in allowed, duplicates="duplicate" not in allowed)


def filter_rows(pairs: Sequence[Pair], settings: FilterSettings,
                detect: Callable[[str], str] | None = None) -> list[Pair]:
    """Every pair through `apply_filters` with one duplicate table for the sequence — the keep
    decision `align corpus` makes, for the rows of one `align pair` run. ``detect``: a language
    detector (default: `make_detector`, built on first need)."""
    duplicates = DuplicateFilter() if settings.duplicates else None
    detector: list[Callable[[str], str]] = [detect] if detect is not None else []

    def lazy(text: str) -> str:
        if not detector:
            detector.append(make_detector())
        return detector[0](text)

    try:
        return [apply_filters(p, settings, detect=lazy if settings.language else None, duplicates=duplicates)[0]
                for p in pairs]
    finally:
        if duplicates is not None:
            duplicates.close()


def row_failures(pair: Pair, settings: FilterSettings, detect: Callable[[str], str] | None = None,
                 ru_lang: str | None = None, az_lang: str | None = None) -> list[tuple[str, str]]:
    """``(filter name, reason)`` for every stateless filter the pair fails, in `FILTER_ORDER`."""
    checks: list[tuple[str, FilterResult]] = [("score", score_filter(pair, settings.min_score))]
    if settings.content:
        checks.append(("content", content_filter(pair)))
    if settings.script:
        checks.append(("script", script_filter(pair)))
    if settings.language and (detect is not None or (ru_lang is not None and az_lang is not None)):
        checks.append(("language", language_filter(pair, detect or (lambda _: "unknown"),
                                                   settings.min_language_letters, ru_lang, az_lang)))
    if settings.length_ratio:
        checks.append(("length-ratio", length_ratio_filter(pair, *settings.length_ratio)))
    if settings.numbers:
        checks.append(("numbers", numbers_filter(pair)))
    return [(name, reason) for name, (keep, reason) in checks if not keep]


def apply_filters(pair: Pair, settings: FilterSettings, *, detect: Callable[[str], str] | None = None,
                  duplicates: DuplicateFilter | None = None, ru_lang: str | None = None,
                  az_lang: str | None = None) -> tuple[Pair, str]:
    """The pair with ``keep``/``reason``/``flags`` set by the filter chain, and the name of the filter
    that dropped it ("" when kept, "unaligned" for a null row).

    Null rows come back never kept. Duplicates are only checked for rows that pass every other
    filter, so the first clean copy of a sentence pair is the one kept."""
    if not (pair.ru_ids and pair.az_ids):
        return replace(pair, keep=False, reason=pair.reason or "unaligned"), "unaligned"
    failures = row_failures(pair, settings, detect, ru_lang, az_lang)
    if not failures and settings.duplicates and duplicates is not None:
        keep, reason = duplicates(pair)
        if not keep:
            failures.append(("duplicate", reason))
    flags = tuple(dict.fromkeys([*pair.flags, *(name for name, _ in failures)]))
    if failures:
        return replace(pair, keep=False, reason=failures[0][1], flags=flags), failures[0][0]
    return replace(pair, keep=True, reason="", flags=flags), ""
