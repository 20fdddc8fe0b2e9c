"""Reading input files into a :class:`RawPage`: format and encoding detection, whitespace normalisation.

Formats:

- ``page``: a scraped page, one block per line (blank lines skipped); ``Block.line`` is the 0-based
  source line.
- ``text``: plain text whose paragraphs are separated by blank lines and hard-wrapped inside; the
  lines of a paragraph are joined and ``Block.line`` is its first line. In ``auto`` mode a text file
  becomes ``text`` when its blank-line groups look hard-wrapped, else ``page``.
- ``html``: trafilatura extracts the title and paragraphs, a stdlib parser adds ``<figcaption>``s
  (and does everything when trafilatura finds nothing). Blocks carry tags; ``line`` is their order.
- ``json``: one article object ``{"title", "captions", "paragraphs", "date", "url", "source"}``.

Tagged blocks: ``"title"``, ``"caption"``, ``"p"`` and ``"meta:<key>"`` (e.g. ``meta:date``).

    >>> page = read_page("samples/sputnik-2023-12-06/ru.txt")
    >>> page.format, page.blocks[0]
    ('page', Block(text='Новости', line=0, tag=''))
"""
from __future__ import annotations

import json
import re
import stat
import unicodedata
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from align.types import Block, InputError, RawPage, UsageError

MAX_BYTES = 50 * 1024 * 1024
FORMATS = ("auto", "page", "text", "html", "json")
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_BINARY_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or .docx/.xlsx)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
)
_LEGACY_CYRILLIC = ("cp1251", "koi8-r")
# A head start for the common code pages: a rare one (mac-cyrillic, say) that reads a short cp1251
# text nearly as well — it only turns capitals into symbols — must beat them clearly to win.
_CODE_PAGE_PRIOR = {"cp1251": 0.2, "koi8-r": 0.1}
_RUSSIAN_ALPHABET = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
# The 60 most frequent Russian letter bigrams: about half of all bigrams inside Russian words.
_FREQUENT_RU_BIGRAMS = frozenset(
    "ст то но ни на ен ко ра по ро ов ре ан ос пр ол ор ли го та от ны не те ер ет ес ль ва во ле "
    "од ть он ом ог ат ка ри об ал ит ти ме ск ел ве де тр ло за ла ак ой мо ас ил да ем ед".split()
)

# Characters that are whitespace in disguise, and characters that are nothing at all.
_LINE_BREAKS = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000 ]+")
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


# ── public API ─────────────────────────────────────────────────────────────────────────────────


def read_page(path: str | Path, fmt: str = "auto") -> RawPage:
    """Read one article file (page text, plain text, HTML or JSON) into a :class:`RawPage`.

    Raises :class:`InputError` for a missing, unreadable, empty, binary or oversized file, and
    :class:`UsageError` for an unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown input format {fmt!r}: expected one of {', '.join(FORMATS)}")
    path = Path(path)
    text, encoding, warnings = decode_with_warnings(read_bytes(path), path)
    if fmt == "auto":
        fmt = sniff_format(path, text)
    if fmt == "json":
        blocks = json_blocks(text, path)
    elif fmt == "html":
        blocks = html_blocks(text)
    else:
        lines = normalize(text).split("\n")
        wrapped = fmt != "page" and looks_hard_wrapped(lines)
        blocks = paragraph_blocks(lines) if wrapped else line_blocks(lines)
        fmt = "text" if wrapped or fmt == "text" else "page"
    if not blocks:
        raise InputError(f"{path}: no text found in the {fmt} input")
    return RawPage(path=str(path), blocks=tuple(blocks), encoding=encoding, format=fmt, warnings=tuple(warnings))


def read_segmented(path: str | Path) -> RawPage:
    """Read a pre-segmented file: one unit per line, unit id = 0-based line number.

    Every line becomes a block, so ``blocks[i].line == i`` always holds; an empty (or
    whitespace-only) line becomes a block with ``text == ""`` that keeps its id and holds nothing
    to align — skip such blocks when embedding but never renumber. Lines end at LF, CRLF or CR
    only (as ``wc -l`` and aligned-corpus tools count them; other separators become spaces); a
    final newline does not start another line. Raises :class:`InputError` when no line has text.
    """
    path = Path(path)
    text, encoding, warnings = decode_with_warnings(read_bytes(path), path)
    text = re.sub(r"[\v\f\x85\u2028\u2029]", " ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = normalize(text).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return RawPage(
        path=str(path),
        blocks=tuple(Block(text=line, line=i) for i, line in enumerate(lines)),
        encoding=encoding,
        format="segmented",
        warnings=tuple(warnings),
    )


# ── bytes and encodings ───────────────────────────────────────────────────────────────────────


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or an :class:`InputError` saying in one line why they cannot be had."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise InputError(f"{path}: not a regular file (a pipe, socket or device), expected a file")
    if st.st_size > MAX_BYTES:
        raise InputError(f"{path}: file too large ({st.st_size / 2**20:.0f} MB; the limit is 50 MB)")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more, even if the file grows meanwhile
    except PermissionError:
        raise InputError(f"{path}: cannot read: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: file too large ({len(data) / 2**20:.0f} MB; the limit is 50 MB)")
    if not data.strip():
        raise InputError(f"{path}: file is empty" if not data else f"{path}: file holds only whitespace")
    return data


def decode(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode ``data``, returning ``(text, encoding)``; :func:`decode_with_warnings` also says what
    was odd about it (bad bytes, repaired mojibake)."""
    text, encoding, _ = decode_with_warnings(data, path)
    return text, encoding


def decode_with_warnings(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str, list[str]]:
    """Decode ``data``, returning ``(text, encoding, warnings)``; each warning is one line naming
    ``path``.

    Order: a BOM (UTF-8/16/32); UTF-16 without BOM (alternating NULs); strict UTF-8; mostly UTF-8
    (valid multi-byte characters outnumber the invalid bytes at least twofold): read as UTF-8, the
    invalid bytes counted and warned about — a long run of them that reads as Russian in cp1251 or
    KOI8-R (a pasted passage) is decoded so, the rest become U+FFFD; otherwise the best of
    charset-normalizer's guess, cp1251 and koi8-r — when one of those reads as Cyrillic, the most
    plausible Russian (frequent letters, mostly lower case; cp1251 and koi8-r get a small head
    start) wins, so short texts that fool the statistical guess are still read right. Then
    mojibake (UTF-8 read in cp1251, KOI8-R or cp1252 and saved again: ``РЎРѕРѕР±С‰РµРЅРёРµ``) is
    repaired, with a warning, when every such word decodes back; when letters were lost on the way
    it raises :class:`InputError`. A stray NUL byte is dropped like other control characters.
    Binary data (magic numbers, many control characters or U+FFFD) raises :class:`InputError`.
    """
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError(f"{path}: binary file ({kind}), expected text")
    warnings: list[str] = []
    text, encoding = _decode(data, path, warnings)
    if not _INVISIBLE.sub("", text).strip():
        raise InputError(f"{path}: file holds only whitespace or invisible characters")
    if _junk_ratio(text) > 0.05:
        raise InputError(f"{path}: binary or garbled file (too many control characters), expected text")
    text = _repair_mojibake(text, path, warnings)
    return text, encoding, warnings


def _decode(data: bytes, path: Path | str, warnings: list[str]) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):  # a few corrupt bytes become U+FFFD; many make it junk (see decode)
            return data[len(bom):].decode(encoding.replace("-sig", ""), errors="replace"), encoding
    if b"\x00" in data:  # never in UTF-8 or 8-bit text: UTF-16 without BOM, binary, or a stray NUL
        utf16 = _utf16_without_bom(data)
        if utf16:
            return utf16
        if len(_CONTROL_BYTES.findall(data)) > 0.05 * len(data):
            raise InputError(f"{path}: binary file (holds NUL bytes), expected text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data, path, warnings)
    if mostly:
        return mostly
    candidates: dict[str, str] = {}
    guess = _charset_normalizer_guess(data)
    for encoding in (*_LEGACY_CYRILLIC, *([guess] if guess else [])):
        try:
            candidates.setdefault(encoding, data.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            continue
    cyrillic = {enc: t for enc, t in candidates.items() if _cyrillic_share(t) >= 0.3}
    if cyrillic:
        encoding = max(cyrillic, key=lambda enc: russian_plausibility(cyrillic[enc]) + _CODE_PAGE_PRIOR.get(enc, 0.0))
        return cyrillic[encoding], encoding
    if guess and guess in candidates:
        return candidates[guess], guess
    raise InputError(f"{path}: cannot decode: not UTF-8 and no known encoding fits (binary file?)")


def _mostly_utf8(data: bytes, path: Path | str, warnings: list[str]) -> tuple[str, str] | None:
    """UTF-8 with some bytes that are not (a flipped byte, a cut last character, a sentence pasted
    from a cp1251 or KOI8-R file): when valid multi-byte characters outnumber the invalid bytes at
    least twofold — legacy code-page text is nearly all invalid bytes instead. Runs of invalid
    bytes that read as Russian in a code page are decoded in it (see :func:`_legacy_runs`); the
    others become U+FFFD. Appends one warning with the count."""
    text = data.decode("utf-8", errors="surrogateescape")  # each invalid byte → U+DC80..U+DCFF
    bad = len(_ESCAPED.findall(text))
    multibyte = sum(1 for ch in text if ch > "\x7f" and not "\udc80" <= ch <= "\udcff")
    if not bad or multibyte < 2 * bad:
        return None
    runs = list(_ESCAPED_RUN.finditer(text))
    codepage, decoded = _legacy_runs([m.group().encode("utf-8", "surrogateescape") for m in runs])
    parts, last, recovered = [], 0, 0
    for match, fixed in zip(runs, decoded):
        parts.append(text[last:match.start()])
        if fixed is None:
            parts.append(_ESCAPED.sub("\ufffd", match.group()))
        else:
            parts.append(fixed)
            recovered += len(_ESCAPED.findall(match.group()))
        last = match.end()
    parts.append(text[last:])
    share = f"{100 * bad / len(data):.1f} %" if bad >= 0.001 * len(data) else "<0.1 %"
    how = []
    if recovered:
        how.append(f"{recovered} decoded as {codepage} (a pasted passage)")
    if bad - recovered:
        how.append(f"{bad - recovered} replaced by U+FFFD")
    warnings.append(f"{path}: {bad} byte{'s' if bad > 1 else ''} ({share}) {'are' if bad > 1 else 'is'} not UTF-8; "
                    f"read as UTF-8 with {' and '.join(how)}")
    encoding = f"utf-8 ({bad} bad byte{'s' if bad > 1 else ''}" + (f", partly {codepage})" if recovered else " replaced)")
    return "".join(parts), encoding


_ESCAPED = re.compile("[\udc80-\udcff]")
# A maximal run of invalid bytes, ASCII allowed between them (a pasted sentence has spaces).
_ESCAPED_RUN = re.compile("[\udc80-\udcff](?:[\x00-\x7f]*[\udc80-\udcff])*")


def _legacy_runs(runs: list[bytes]) -> tuple[str, list[str | None]]:
    """Which runs of invalid UTF-8 bytes are a pasted cp1251/KOI8-R passage: the runs of at least
    4 invalid bytes, 8 in all, that decode to Cyrillic words in one code page reading as Russian
    (:func:`russian_plausibility` at least 2.5; cp1251 and KOI8-R told apart by it). Returns the
    code page and, per run, its text or None (replace it)."""
    long_runs = [i for i, run in enumerate(runs) if sum(b >= 0x80 for b in run) >= 4]
    if sum(sum(b >= 0x80 for b in runs[i]) for i in long_runs) < 8:
        return "", [None] * len(runs)
    best, best_score, best_texts = "", 0.0, {}
    for codepage in _LEGACY_CYRILLIC:
        texts = {i: runs[i].decode(codepage, errors="replace") for i in long_runs}
        joined = " ".join(texts.values())
        if "\ufffd" in joined or _cyrillic_share(joined) < 0.9:
            continue
        score = russian_plausibility(joined) + _CODE_PAGE_PRIOR.get(codepage, 0.0)
        if score > best_score:
            best, best_score, best_texts = codepage, score, texts
    if best_score < 2.5:
        return "", [None] * len(runs)
    return best, [best_texts.get(i) for i in range(len(runs))]


# ── mojibake ─────────────────────────────────────────────────────────────────────────────────

# UTF-8 bytes read in one of these code pages and saved again. "Sloppy" tables: a byte the code
# page leaves undefined (0x98 in cp1251) maps to the C1 control of the same value, as many tools do.
_MOJIBAKE_CODEPAGES = ("cp1251", "koi8-r", "cp1252")


def _sloppy_table(codepage: str) -> dict[str, int]:
    table = {}
    for byte in range(0x80, 0x100):
        try:
            table[bytes([byte]).decode(codepage)] = byte
        except UnicodeDecodeError:
            table[chr(byte)] = byte
    return table


_SLOPPY = {cp: _sloppy_table(cp) for cp in _MOJIBAKE_CODEPAGES}
_SLOPPY_RUN = {cp: re.compile("[" + re.escape("".join(table)) + "]{2,}") for cp, table in _SLOPPY.items()}
# The characters a UTF-8 lead byte becomes in each code page: one of them before U+FFFD or a C1
# control, left in the text after a repair, means letters were lost (e.g. "Р" + U+FFFD for "И").
_MOJIBAKE_LEAD = {
    cp: re.compile("[" + re.escape("".join(ch for ch, b in table.items() if 0xC2 <= b <= 0xF4)) + "](?=[\ufffd\x80-\x9f])")
    for cp, table in _SLOPPY.items()
}


def _repair_mojibake(text: str, path: Path | str, warnings: list[str]) -> str:
    """Undo UTF-8-read-as-a-code-page mojibake: each run of at least two non-ASCII characters of
    the code page whose bytes are valid UTF-8 is replaced by that decoding, when such runs hold at
    least half of the text's non-ASCII characters (a few real words are such runs too: "её" in
    KOI8-R is C5 A3, valid UTF-8; mojibake is nearly all of them). Appends a warning; raises :class:`InputError` when the repaired text still holds many mojibake lead
    characters (letters lost: their bytes had no character in the code page)."""
    best, best_fixes, best_chars = "", [], 0
    for codepage in _MOJIBAKE_CODEPAGES:
        table, fixes, chars = _SLOPPY[codepage], [], 0
        for match in _SLOPPY_RUN[codepage].finditer(text):
            run = match.group()
            try:
                fixed = bytes(table[ch] for ch in run).decode("utf-8")
            except UnicodeDecodeError:
                continue
            fixes.append((match.start(), match.end(), fixed))
            chars += len(run)
        if chars > best_chars:
            best, best_fixes, best_chars = codepage, fixes, chars
    non_ascii = sum(1 for ch in text if ch > "\x7f")
    if best_chars < 4 or best_chars < 0.5 * non_ascii:  # real words: "её" and "ещё" in KOI8-R are valid UTF-8
        return text
    parts, last = [], 0
    for start, end, fixed in best_fixes:
        parts += [text[last:start], fixed]
        last = end
    repaired = "".join(parts) + text[last:]
    left = len(_MOJIBAKE_LEAD[best].findall(repaired))
    if left:
        raise InputError(
            f"{path}: the text is mojibake (UTF-8 read as {best} and saved again) and {left} "
            f"letter{'s' if left > 1 else ''} cannot be recovered; re-save the file from the original"
        )
    warnings.append(f"{path}: the text is mojibake (UTF-8 read as {best} and saved again): repaired "
                    f"{len(best_fixes)} word{'s' if len(best_fixes) > 1 else ''}")
    return repaired


def _charset_normalizer_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding.replace("_", "-").lower() if best is not None else None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without a BOM: its high bytes take few values (0x00 for ASCII, 0x04 for
    Cyrillic, ...), and it decodes to text free of control characters."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    for encoding, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        common = Counter(high).most_common(2)
        if 0 not in dict(common) or sum(n for _, n in common) < 0.9 * half:
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _junk_ratio(text) < 0.01:
            return text, encoding
    return None


def _cyrillic_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum("\u0400" <= ch <= "\u04ff" for ch in letters) / len(letters)


def russian_plausibility(text: str) -> float:
    """How much ``text`` reads like Russian. Text decoded with the wrong Cyrillic code page has
    the wrong letters (few of the frequent bigrams ст, но, то, на, ...; letters outside the Russian
    alphabet) in the wrong case (cp1251 read as koi8-r swaps case, giving words like ``пРИВЕТ``).
    Score: 4 × share of frequent bigrams + share of words cased as lower/Capitalised/UPPER
    + 0.6 × share of lower-case letters (real text is mostly lower case; all-caps text is told by
    its bigrams) − 4 × share of non-Russian Cyrillic letters."""
    words = re.findall(r"[\u0400-\u04ff]+", text)
    if not words:
        return 0.0
    letters = "".join(words)
    bigrams = [w[i : i + 2] for w in (w.lower() for w in words) for i in range(len(w) - 1)]
    frequent = sum(b in _FREQUENT_RU_BIGRAMS for b in bigrams) / max(1, len(bigrams))
    cased = sum(w.islower() or w.isupper() or w[1:].islower() for w in words) / len(words)
    lower = sum(ch.islower() for ch in letters) / len(letters)
    foreign = sum(ch.lower() not in _RUSSIAN_ALPHABET for ch in letters) / len(letters)
    return 4 * frequent + cased + 0.6 * lower - 4 * foreign


def _junk_ratio(text: str) -> float:
    """The share of characters that never occur in text: controls, U+FFFD, unassigned, private use
    (measured on the first 200k characters)."""
    text = text[:200_000]
    junk = len(_CONTROL.findall(text)) + text.count("\ufffd")
    junk += sum(1 for ch in text if ord(ch) > 0x2FF and unicodedata.category(ch) in ("Cn", "Co", "Cs"))
    return junk / max(1, len(text))


# ── normalisation ────────────────────────────────────────────────────────────────────────────


def normalize(text: str) -> str:
    """NFC; CRLF/CR and other line separators to ``\\n``; NBSP, tabs and odd spaces to one space;
    zero-width and control characters removed; each line stripped."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def clean_inline(text: str) -> str:
    """:func:`normalize` for one block: all whitespace, newlines included, becomes single spaces."""
    return " ".join(normalize(text).split())


# ── formats ──────────────────────────────────────────────────────────────────────────────────


def sniff_format(path: Path, text: str) -> str:
    """``html`` or ``json`` by suffix or content; otherwise ``auto`` (page or text, decided later)."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix == ".json":
        return "json"
    head = text.lstrip()[:5000].lower()
    if head.startswith("{"):
        try:
            if isinstance(json.loads(text), dict):
                return "json"
        except (ValueError, RecursionError):
            pass
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head:
        return "html"
    if len(re.findall(r"</(p|div|h[1-6]|span|a)>", head)) >= 3:
        return "html"
    return "auto"


def line_blocks(lines: list[str]) -> list[Block]:
    """One block per non-empty line."""
    return [Block(text=line, line=i) for i, line in enumerate(lines) if line]


def paragraph_blocks(lines: list[str]) -> list[Block]:
    """One block per group of lines between blank lines, its lines joined with spaces."""
    return [Block(text=" ".join(lines[i] for i in group), line=group[0]) for group in _line_groups(lines)]


def _line_groups(lines: list[str]) -> list[list[int]]:
    groups: list[list[int]] = [[]]
    for i, line in enumerate(lines):
        if line:
            groups[-1].append(i)
        elif groups[-1]:
            groups.append([])
    return [g for g in groups if g]


def looks_hard_wrapped(lines: list[str]) -> bool:
    """True when the text's paragraphs were wrapped at a fixed width: at least half of its
    multi-line groups (runs of lines between blank lines) are wrapped — lines of at most 120
    chars whose non-final lines are at least 30 chars long, within ±35% of their median length,
    and mostly do not end a sentence, while the last one does. A scraped page (long blocks, short
    menu items, a header line over a photo credit) is not."""
    multi = [g for g in _line_groups(lines) if len(g) > 1]
    if not multi:
        return False
    wrapped = 0
    for group in multi:
        inner = [lines[i] for i in group[:-1]]
        lengths = sorted(len(line) for line in inner)
        median = lengths[len(lengths) // 2]
        even = all(30 <= n and abs(n - median) <= 0.35 * median for n in lengths)
        short = all(len(lines[i]) <= 120 for i in group)
        enders = sum(line.endswith((".", "!", "?", "…", ":", "»", '"')) for line in inner)
        closes = lines[group[-1]].endswith((".", "!", "?", "…", "»", '"', "”", ")"))  # a paragraph ends a sentence
        wrapped += short and even and enders < 0.5 * len(inner) and closes
    return wrapped >= 0.5 * len(multi)


def json_blocks(text: str, path: Path | str) -> list[Block]:
    """Blocks from one JSON article object; meta fields become ``meta:<key>`` blocks."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: JSON input must be one article object, got {type(data).__name__}")
    if not any(key in data for key in ("title", "captions", "paragraphs")):
        raise InputError(f"{path}: JSON object has none of the keys title, captions, paragraphs")
    blocks: list[Block] = []

    def add(value: object, tag: str, field_name: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise InputError(f"{path}: JSON field {field_name!r} must hold strings")
        cleaned = clean_inline(value)
        if cleaned:
            blocks.append(Block(text=cleaned, line=len(blocks), tag=tag))

    for key in ("date", "url", "source", "lang"):
        add(data.get(key), f"meta:{key}", key)
    add(data.get("title"), "title", "title")
    for key, tag in (("captions", "caption"), ("paragraphs", "p")):
        values = data.get(key)
        if isinstance(values, str):
            values = re.split(r"\n\s*\n", values)
        if values is not None and not isinstance(values, list):
            raise InputError(f"{path}: JSON field {key!r} must be a list of strings")
        for value in values or ():
            add(value, tag, key)
    return blocks


def html_blocks(html: str) -> list[Block]:
    """Blocks from an HTML page: meta, title, figure captions, paragraphs (in that order).

    trafilatura's paragraphs are used unless it found none, or at most half as many as the stdlib
    parser (on small pages its baseline fallback glues the whole body into one block).
    """
    page = _HtmlCollector.collect(html)
    extracted = _trafilatura_extract(html)
    if extracted and extracted["paragraphs"] and len(extracted["paragraphs"]) * 2 > len(page["paragraphs"]):
        title = extracted["title"] or page["title"]
        paragraphs = extracted["paragraphs"]
        captions = page["captions"] or extracted["alts"]
        meta = {**page["meta"], **extracted["meta"]}
    else:
        title, paragraphs, captions, meta = page["title"], page["paragraphs"], page["captions"], page["meta"]
    # <h1>, og:title and <title> are candidates, not facts: the cleaner takes the first that looks like
    # a headline (align.clean.title_problem), so a junk <title> never becomes the article's title
    others = [c for c in dict.fromkeys(clean_inline(c) for c in page["title_candidates"]) if c and c != title]
    blocks: list[Block] = []
    for tag, texts in (
        *((f"meta:{key}", [value]) for key, value in meta.items()),
        ("title", [title] if title else []),
        ("title-candidate", others if title else []),
        ("caption", captions),
        ("p", [p for p in paragraphs if p != title]),
    ):
        for text in texts:
            text = clean_inline(text)
            if text:
                blocks.append(Block(text=text, line=len(blocks), tag=tag))
    return blocks


def _trafilatura_extract(html: str) -> dict | None:
    """Title, paragraphs, image alt texts and meta from trafilatura's XML output, or None."""
    try:
        import trafilatura
        from lxml import etree

        xml = trafilatura.extract(
            html, output_format="xml", include_images=True, include_tables=False,
            include_comments=False, with_metadata=True,
        )
        if not xml:
            return None
        root = etree.fromstring(xml.encode("utf-8"))
    except Exception:  # noqa: BLE001 — any extractor failure means "use the stdlib fallback"
        return None
    blocks = {"p", "head", "item"}
    paragraphs = [
        "".join(el.itertext())
        for el in root.iter(*blocks)
        if el.getparent() is None or el.getparent().tag not in blocks
    ]
    alts = [el.get("alt") or el.get("title") or "" for el in root.iter("graphic")]
    meta = {key: root.get(key) for key in ("date", "url") if root.get(key)}
    if "date" in meta:
        meta["date"] = _iso_to_dotted(meta["date"])
    return {"title": root.get("title") or "", "paragraphs": paragraphs, "alts": [a for a in alts if a], "meta": meta}


def _iso_to_dotted(date: str) -> str:
    """``2023-12-06`` → ``06.12.2023`` (the pages' own date style); anything else unchanged."""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", date)
    return f"{m[3]}.{m[2]}.{m[1]}" if m else date


def _without_site(title: str) -> list[str]:
    """The longest part of a ``<title>`` cut at " | ", " - ", " — " or " – " (the site's name is
    the other part), when it has one."""
    parts = [p.strip() for p in re.split(r"\s+[|\-—–]\s+", title) if p.strip()]
    return [max(parts, key=len)] if len(parts) > 1 else []


class _HtmlCollector(HTMLParser):
    """A small stdlib extraction: ``<title>``/``<h1>``, ``<p>``/``<h2-6>``/``<blockquote>``,
    ``<figcaption>`` and a few ``<meta>`` tags, skipping scripts, navigation, headers and footers."""

    SKIP = {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "form", "svg", "button", "select"}
    BLOCKS = {"title", "h1", "h2", "h3", "h4", "h5", "h6", "p", "figcaption", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_depth = 0
        self.stack: list[tuple[str, list[str]]] = []
        self.found: list[tuple[str, str]] = []
        self.meta: dict[str, str] = {}

    @classmethod
    def collect(cls, html: str) -> dict:
        parser = cls()
        try:
            parser.feed(html)
            parser.close()
        except Exception:  # noqa: BLE001 — html.parser is lenient; keep whatever was collected
            pass
        while parser.stack:
            parser._close_top()
        found = [(tag, clean_inline(text)) for tag, text in parser.found]
        found = [(tag, text) for tag, text in found if text]
        h1 = [t for tag, t in found if tag == "h1"]
        og_title = parser.meta.get("og:title", "")
        titles = [t for tag, t in found if tag == "title"]
        title = h1[0] if h1 else og_title or (titles[0] if titles else "")
        # every title the page offers, best first; a <title> also without its site part ("… | Trend")
        candidates = [*h1[:1], og_title, *((_without_site(titles[0]) or titles[:1]) if titles else [])]
        meta = {k: v for k, v in (("date", parser.meta.get("date", "")), ("url", parser.meta.get("url", ""))) if v}
        return {
            "title": title,
            "title_candidates": [c for c in candidates if c],
            "captions": [t for tag, t in found if tag == "figcaption"],
            "paragraphs": [t for tag, t in found if tag not in ("title", "figcaption") and t != title],
            "meta": meta,
        }

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = a.get("property") or a.get("name") or ""
            if key == "og:title":
                self.meta.setdefault("og:title", a.get("content", ""))
            elif key in ("article:published_time", "date", "pubdate"):
                self.meta.setdefault("date", _iso_to_dotted(a.get("content", "")))
            elif key == "og:url":
                self.meta.setdefault("url", a.get("content", ""))
        elif tag == "link" and a.get("rel") == "canonical":
            self.meta.setdefault("url", a.get("href", ""))
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag in self.BLOCKS and not self.skip_depth:
            if self.stack and self.stack[-1][0] == "p":  # <p> closes implicitly before a new block
                self._close_top()
            self.stack.append((tag, []))
        elif tag == "br" and self.stack:
            self.stack[-1][1].append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.BLOCKS and any(t == tag for t, _ in self.stack):
            while self.stack and self.stack[-1][0] != tag:
                self._close_top()
            self._close_top()

    def handle_data(self, data: str) -> None:
        if self.stack and not self.skip_depth:
            self.stack[-1][1].append(data)

    def _close_top(self) -> None:
        tag, parts = self.stack.pop()
        self.found.append((tag, "".join(parts)))
