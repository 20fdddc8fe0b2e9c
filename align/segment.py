"""Segmenting an :class:`Article` into alignable :class:`Unit`s: title, captions, body sentences.

Russian sentences come from razdel, plus two fixes: an all-caps acronym before a period, as in
"…в ВС. Стороны…", ends a sentence (razdel takes "ВС." for the name abbreviation "Вс."), and so does
a Latin place or company abbreviation before a capitalised Cyrillic word, as in "…Washington, D.C. В
пятницу…" (razdel takes "D.C." for initials; :data:`LATIN_FINAL_ABBREVIATIONS`).
Azerbaijani (and any other language) uses :func:`split_rule_based`, a small splitter with
Azerbaijani abbreviations, initials, numbers and quotes.

    >>> split_sentences("Z. Həsənov prof. Əliyevlə görüşüb. Görüş 6.12.2023 tarixində olub.", "az")
    ['Z. Həsənov prof. Əliyevlə görüşüb.', 'Görüş 6.12.2023 tarixində olub.']
"""
from __future__ import annotations

import re

from razdel import sentenize

from align.types import Article, Unit, UsageError

LEVELS = ("sentence", "paragraph")

# Abbreviations after which a sentence never ends (titles, addresses, units before a name/number).
NEVER_FINAL = frozenset(
    "prof dos akad dr gen gen.-may gen.-leyt gen.-polk polk leyt kap cən xan mr mrs ms st "
    "küç pr prosp ş r k q səh məs müq bax yen no № tel fak red vs cf jr sr şək cədv "
    # scientific degrees before a name: t.e.d. = texnika elmləri doktoru, f.-r.e.n., ...
    "t.e.d t.e.n f.-r.e.d f.-r.e.n i.e.d i.e.n k.t.e.d k.t.e.n h.e.d h.e.n tar.e.d tar.e.n "
    "fil.e.d fil.e.n s.e.d s.e.n b.e.d b.e.n ped.e.d ped.e.n"
    .split()
)
# Abbreviations that may end a sentence: a sentence ends after them only before a capitalised word.
MAY_BE_FINAL = frozenset(
    "s b ilx e.ə b.e b.e.ə t.e i.e e.g etc mln mlrd min km m sm mm kq q.m ha il may san dəq"
    .split()
)
# Latin abbreviations that end a sentence in Russian text when a capitalised Cyrillic word follows:
# places and company forms, never initials ("J.K. Роулинг" stays one sentence).
LATIN_FINAL_ABBREVIATIONS: tuple[str, ...] = (
    "D.C.", "U.S.A.", "U.S.", "U.K.", "U.N.", "E.U.", "N.Y.", "Inc.", "Ltd.", "Corp.", "Co.", "Jr.", "Sr.",
)
_UPPER = "A-ZА-ЯЁƏÖÜĞİŞÇҸҒӘҮҺӨЈ"
_BOUNDARY = re.compile(r"(?P<end>[.!?…]+)(?P<close>[»”\"'’)\]]*)\s+")
_OPENERS = "«“„\"'([—–-"
_INITIALS = re.compile(rf"(?:[{_UPPER}]\.)*[{_UPPER}]")
_ROMAN = re.compile(r"[IVXLCM]+")
_ACRONYM_END = re.compile(rf"(?<![\w.])[{_UPPER}]{{2,}}\.\s+(?=[«\"“„(]?[{_UPPER}][^\W\d_]*[a-zа-яёəöüğışç])")
_LATIN_FINAL_END = re.compile(
    r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in sorted(LATIN_FINAL_ABBREVIATIONS, key=len, reverse=True))
    + r")\s+(?=[«\"“„(]?[А-ЯЁ])"
)
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_NEXT_WORD = re.compile(rf"[^{re.escape(_OPENERS)} ]")  # the first character after the openers
_WINDOW = 200  # characters of context a boundary decision looks at on each side
RAZDEL_WINDOW = 10_000  # characters given to razdel at once (see _razdel_sentences)


def split_sentences(text: str, lang: str) -> list[str]:
    """Split one paragraph into sentences. Newlines are hard breaks. Joining the result with
    whitespace removed gives ``text`` with whitespace removed: nothing is lost or added."""
    sentences: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        pieces = _split_russian(line) if lang == "ru" else split_rule_based(line)
        sentences.extend(_merge_letterless(pieces))
    return sentences


def _split_russian(text: str) -> list[str]:
    pieces = []
    for sentence in _razdel_sentences(text):
        start = 0
        for end in _ends_razdel_misses(sentence):
            pieces.append(sentence[start:end].strip())
            start = end
        pieces.append(sentence[start:].strip())
    return [p for p in pieces if p]


def _ends_razdel_misses(sentence: str) -> list[int]:
    """Offsets inside one of razdel's sentences where a sentence ends all the same: after an
    all-caps acronym with a period ("…в ВС. Стороны…"), and after a Latin abbreviation of
    :data:`LATIN_FINAL_ABBREVIATIONS` before a capitalised Cyrillic word, unless it opens the sentence."""
    ends = {m.end() for m in _ACRONYM_END.finditer(sentence)}
    ends |= {m.end() for m in _LATIN_FINAL_END.finditer(sentence) if sentence[: m.start()].strip()}
    return sorted(ends)


def _razdel_sentences(text: str, window: int = RAZDEL_WINDOW) -> list[str]:
    """razdel's sentences of ``text``, fed to it ``window`` characters at a time.

    razdel is quadratic in the length of a "sentence" it cannot split (a run of thousands of "т.е."
    or quotes). So each window's last two sentences — the last may be cut by the window — are read
    again with the next window, and a "sentence" longer than half a window is cut at a space. On
    ordinary text this gives the sentences of one call; the cost stays linear in any case.
    """
    out: list[str] = []
    start = 0
    while start < len(text):
        chunk = text[start : start + window]
        if not _LETTER_OR_DIGIT.search(chunk):  # punctuation only: nothing to split, and slow in razdel
            out.append(chunk)
            start += window
            continue
        sentences = list(sentenize(chunk))
        if start + window >= len(text):
            out += [s.text for s in sentences]
            break
        long = next((k for k, s in enumerate(sentences) if s.stop - s.start > window // 2), None)
        if long is not None:
            out += [s.text for s in sentences[:long]]
            head = sentences[long].start
            cut = chunk.rfind(" ", head + 1, head + window // 2)
            cut = cut if cut > head else head + window // 2
            out.append(chunk[head:cut])
            start += cut
            continue
        back = sentences[-2].start if len(sentences) > 2 else sentences[-1].start
        back = back or sentences[0].stop  # one short sentence, then only spaces
        out += [s.text for s in sentences if s.stop <= back]
        start += back
    return out


def split_rule_based(text: str) -> list[str]:
    """Rule-based splitting (Azerbaijani abbreviations; also fine for Turkish and English).

    A boundary is ``. ! ? …`` (any run, e.g. ``?!`` or ``...``) plus closing quotes/brackets,
    then whitespace. It is a sentence end unless the next word starts in lower case, or — after a
    period — the word before is an initial (``Z.``, ``Z.Ə.``), a title abbreviation
    (``prof.``, ``dr.``, ``gen.-may.``; :data:`NEVER_FINAL`), a list number opening the sentence
    (``1.``), or a may-be-final abbreviation (``və s.``, ``e.ə.``, ``mln.``; :data:`MAY_BE_FINAL`)
    not followed by a capitalised word (a Roman numeral does not count: ``e.ə. V əsr``).
    Numbers such as ``1.5``, ``6.12.2023`` and ``Az.R`` hold no space and are never split.
    """
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        # bounded look-around windows keep the split linear in the length of the text
        left = text[max(start, m.start() - _WINDOW) : m.start()]
        next_word = _NEXT_WORD.search(text, m.end())
        right = text[next_word.start() : next_word.start() + _WINDOW] if next_word else ""
        if _is_sentence_end(left, m["end"], right, whole_left=m.start() - start <= _WINDOW):
            pieces.append(text[start : m.end()].strip())
            start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _is_sentence_end(left: str, end: str, right: str, whole_left: bool = True) -> bool:
    """Does the boundary ``end`` between ``left`` and ``right`` end a sentence? ``whole_left``
    says ``left`` is the whole sentence so far (not just its last :data:`_WINDOW` characters)."""
    nxt = right.lstrip(_OPENERS + " ")
    if not nxt:
        return True
    first = nxt[0]
    if first.islower():
        return False
    if not (first.isupper() or first.isdigit() or not first.isalnum()):
        return True
    if end != ".":
        return True
    words = left.split()
    if not words:
        return False  # nothing before the period
    word = words[-1].lstrip(_OPENERS).rstrip("»”\"'’)]")
    next_word = re.match(r"\S+", nxt)
    next_word = next_word.group() if next_word else ""
    lower = word.lower()
    if _INITIALS.fullmatch(word) and first.isupper():
        return False
    if lower in NEVER_FINAL:
        return False
    if whole_left and len(words) == 1 and (word.isdigit() or _ROMAN.fullmatch(word) or len(word) == 1):
        return False  # "1. Birinci", "IV. Fəsil", "a) ..." — a list label, not a sentence
    if lower in MAY_BE_FINAL or (re.fullmatch(r"[^\W\d_]+(\.[^\W\d_]+)+", word) and lower == word):
        # a dotted lower-case abbreviation (t.e., b.e.ə.) or a known one: ends only before a word
        return first.isupper() and not _ROMAN.fullmatch(next_word.rstrip(".,;:"))
    return True


def _merge_letterless(pieces: list[str]) -> list[str]:
    """Attach pieces without letters or digits (a stray "..." or "»") to a neighbour."""
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        if not _LETTER_OR_DIGIT.search(piece):
            if merged:
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                carry = f"{carry} {piece}".strip()
            continue
        merged.append(f"{carry} {piece}".strip() if carry else piece)
        carry = ""
    if carry:
        merged.append(carry)
    return merged


def segment_article(article: Article, level: str = "sentence") -> list[Unit]:
    """The article's units in order: the title, the captions, then the body — one unit per
    sentence (``level="sentence"``) or per paragraph (``level="paragraph"``). ``Unit.id`` is the
    position in the returned list; body units carry their paragraph index and their index in it,
    captions ``paragraph=-1`` and their caption number as ``index``.

    Titles and captions are never split (they are one line each on the page).
    """
    if level not in LEVELS:
        raise UsageError(f"unknown segmentation level {level!r}: expected one of {', '.join(LEVELS)}")
    units: list[Unit] = []

    def add(kind: str, text: str, paragraph: int = -1, index: int = 0) -> None:
        units.append(Unit(id=len(units), kind=kind, text=text, paragraph=paragraph, index=index))

    if article.title:
        add("title", article.title)
    for i, caption in enumerate(article.captions):
        add("caption", caption, index=i)
    for p, paragraph in enumerate(article.paragraphs):
        if level == "paragraph":
            add("paragraph", paragraph, paragraph=p)
            continue
        for i, sentence in enumerate(split_sentences(paragraph, article.lang)):
            add("sentence", sentence, paragraph=p, index=i)
    return units
