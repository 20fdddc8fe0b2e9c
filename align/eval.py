"""Evaluation: strict and lax precision/recall/F1 of an alignment against gold links.

The definitions are those of Vecalign's ``score.py`` (Thompson & Koehn 2019, after Véronis & Langlais):

* a link is a pair of id tuples ``([ru ids], [az ids])``; links empty on both sides are ignored and
  duplicates count once;
* **precision** is over the *test* links, nulls included. A test link is a strict true positive when
  the identical link is in the gold; otherwise it is a lax true positive when some gold link joins one
  of its ru ids to one of its az ids (so a test null link is lax-correct only if it is strictly correct);
* **recall** is the same computation with test and gold swapped and all null links (1-0, 0-1) removed
  from both: the share of gold non-null links found exactly (strict) or overlapped (lax);
* F1 is the harmonic mean; any 0/0 is 0.

Link files use Vecalign's format, one link per line: ``[0]:[0,1]``, ``[2]:[]``.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from .types import InputError

IdLink = tuple[tuple[int, ...], tuple[int, ...]]
_LINK = re.compile(r"^\s*\[([\d,\s]*)\]\s*:\s*\[([\d,\s]*)\]")
MAX_ID_DIGITS = 9  # unit ids are positions in a document: more digits than this is not an id


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of an evaluation input (a BOM dropped), or an `InputError` naming the file
    (and the line of the first bad byte): missing, unreadable, empty, binary or not UTF-8."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data:
        raise InputError(f"{path}: empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise InputError(f"{path}:{line}: binary file (NUL byte), expected text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (bad byte at offset {exc.start})") from None


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, line) of every line that is neither blank nor a ``#`` comment."""
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]


def read_links(path_or_text: str | Path) -> list[IdLink]:
    """Read links in ``[i,j]:[k]`` format from a file path or from the text itself.

    Blank lines and ``#`` comment lines are skipped; anything after a link on its line (Vecalign
    writes a cost there) is ignored. Raises `InputError` ``FILE:LINE: …`` on a line that is not a
    link, an id of more than `MAX_ID_DIGITS` digits, or a file with no link at all.
    """
    text = str(path_or_text)
    source = "<links>"
    if isinstance(path_or_text, Path) or "[" not in text:
        source = str(path_or_text)
        text = read_text_file(path_or_text)
    links = parse_links(text, source)
    if not links:
        raise InputError(f"{source}: no links in [i,j]:[k] format found")
    return links


def parse_links(text: str, source: str = "<links>") -> list[IdLink]:
    """The links of ``text`` (see `read_links`); an empty list when it has none."""
    links: list[IdLink] = []
    for number, line in _content_lines(text):
        match = _LINK.match(line)
        if not match:
            raise InputError(f"{source}:{number}: not a link in [i,j]:[k] format: {line.strip()[:60]!r}")
        links.append((_ids(match.group(1), f"{source}:{number}"), _ids(match.group(2), f"{source}:{number}")))
    return links


def _ids(text: str, where: str = "<links>") -> tuple[int, ...]:
    cells = [x for x in text.replace(" ", "").replace("\t", "").split(",") if x]
    for cell in cells:
        if len(cell) > MAX_ID_DIGITS:
            raise InputError(f"{where}: id {cell[:12]}… has {len(cell)} digits, more than any unit id")
    return tuple(int(x) for x in cells)


def format_links(links: Iterable) -> str:
    """Links (``Link`` objects or id-tuple pairs) as ``[i,j]:[k]`` lines."""
    lines = []
    for link in links:
        ru, az = (link.ru, link.az) if hasattr(link, "ru") else link
        lines.append(f"[{','.join(map(str, ru))}]:[{','.join(map(str, az))}]")
    return "\n".join(lines) + ("\n" if lines else "")


def as_id_links(links: Iterable) -> list[IdLink]:
    """Normalise ``Link`` objects or id pairs into tuples of ints."""
    out = []
    for link in links:
        ru, az = (link.ru, link.az) if hasattr(link, "ru") else link
        out.append((tuple(int(i) for i in ru), tuple(int(i) for i in az)))
    return out


def _counts(gold: Sequence[IdLink], test: Sequence[IdLink]) -> tuple[int, int, int, int]:
    """(strict hits, strict misses, lax hits, lax misses) of the test links against the gold."""
    gold_set = {l for l in gold if l[0] or l[1]}
    test_set = {l for l in test if l[0] or l[1]}
    targets: dict[int, set[int]] = defaultdict(set)
    for ru, az in gold_set:
        for i in ru:
            targets[i].update(az)
    strict_hit = strict_miss = lax_hit = lax_miss = 0
    for ru, az in test_set:
        if (ru, az) in gold_set:
            strict_hit += 1
            lax_hit += 1
            continue
        strict_miss += 1
        reachable = set().union(*(targets[i] for i in ru)) if ru else set()
        if reachable.intersection(az):
            lax_hit += 1
        else:
            lax_miss += 1
    return strict_hit, strict_miss, lax_hit, lax_miss


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_alignment(test, gold) -> dict:
    """Strict/lax P/R/F1 of one document (two link lists) or several (two lists of link lists).

    Returns ``precision_strict``, ``recall_strict``, ``f1_strict``, the same ``*_lax``, the raw
    ``counts`` and ``by_bead``: for each gold bead type, ``recall_strict``/``recall_lax`` (share of gold
    links of that type found) and for each test bead type ``precision_strict``/``precision_lax``.
    """
    tests, golds = _as_documents(test), _as_documents(gold)
    if len(tests) != len(golds):
        raise ValueError(f"{len(tests)} test documents but {len(golds)} gold documents")
    p = [0, 0, 0, 0]
    r = [0, 0, 0, 0]
    by_bead: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"p": [0, 0, 0, 0], "r": [0, 0, 0, 0]})
    for t, g in zip(tests, golds):
        p = [a + b for a, b in zip(p, _counts(g, t))]
        t_full = [l for l in t if l[0] and l[1]]
        g_full = [l for l in g if l[0] and l[1]]
        r = [a + b for a, b in zip(r, _counts(t_full, g_full))]
        for link in {l for l in t if l[0] or l[1]}:
            c = _counts(g, [link])
            by_bead[_bead(link)]["p"] = [a + b for a, b in zip(by_bead[_bead(link)]["p"], c)]
        for link in {l for l in g_full}:
            c = _counts(t_full, [link])
            by_bead[_bead(link)]["r"] = [a + b for a, b in zip(by_bead[_bead(link)]["r"], c)]
        for link in {l for l in g if (l[0] or l[1]) and not (l[0] and l[1])}:  # gold nulls: were they found?
            found = link in set(t)
            entry = by_bead[_bead(link)]["r"]
            entry[0] += found
            entry[1] += not found
            entry[2] += found
            entry[3] += not found
    result = {
        "precision_strict": _ratio(p[0], p[0] + p[1]),
        "recall_strict": _ratio(r[0], r[0] + r[1]),
        "precision_lax": _ratio(p[2], p[2] + p[3]),
        "recall_lax": _ratio(r[2], r[2] + r[3]),
        "counts": {"precision": p, "recall": r},
    }
    result["f1_strict"] = _f1(result["precision_strict"], result["recall_strict"])
    result["f1_lax"] = _f1(result["precision_lax"], result["recall_lax"])
    result["by_bead"] = {
        bead: {
            "gold": v["r"][0] + v["r"][1],
            "test": v["p"][0] + v["p"][1],
            "recall_strict": _ratio(v["r"][0], v["r"][0] + v["r"][1]),
            "recall_lax": _ratio(v["r"][2], v["r"][2] + v["r"][3]),
            "precision_strict": _ratio(v["p"][0], v["p"][0] + v["p"][1]),
            "precision_lax": _ratio(v["p"][2], v["p"][2] + v["p"][3]),
        }
        for bead, v in sorted(by_bead.items(), key=lambda kv: _bead_order(kv[0]))
    }
    return result


def _bead(link: IdLink) -> str:
    return f"{len(link[0])}-{len(link[1])}"


def _bead_order(bead: str) -> tuple[int, int, int]:
    a, b = (int(x) for x in bead.split("-"))
    return (a == 0 or b == 0, a + b, a)


def _as_documents(links) -> list[list[IdLink]]:
    """Accept one document's links or a list of documents' links."""
    links = list(links)
    if links and isinstance(links[0], (list,)) and (not links[0] or not isinstance(links[0][0], int)) \
            and _looks_like_document(links[0]):
        return [as_id_links(doc) for doc in links]
    return [as_id_links(links)]


def _looks_like_document(item) -> bool:
    """A document is a list of links; a link is a 2-tuple of id sequences (or a Link)."""
    if not item:
        return True
    first = item[0]
    return hasattr(first, "ru") or (isinstance(first, (tuple, list)) and len(first) == 2
                                    and all(isinstance(x, (tuple, list)) for x in first))


def score_links_files(test_paths: Sequence[str | Path], gold_paths: Sequence[str | Path]) -> dict:
    """Score link files pairwise (test i against gold i), pooling counts as Vecalign does."""
    if len(test_paths) != len(gold_paths):
        raise ValueError("give as many test files as gold files")
    return score_alignment([read_links(Path(p)) for p in test_paths], [read_links(Path(p)) for p in gold_paths])


def format_scores(result: dict, title: str = "") -> str:
    """A small human-readable table of a `score_alignment` result."""
    lines = [title] if title else []
    lines.append(f"{'':10} {'strict':>7} {'lax':>7}")
    for name in ("precision", "recall", "f1"):
        lines.append(f"{name:10} {result[f'{name}_strict']:7.3f} {result[f'{name}_lax']:7.3f}")
    if result.get("by_bead"):
        lines.append(f"{'bead':6} {'gold':>5} {'R strict':>8} {'test':>5} {'P strict':>8}")
        for bead, v in result["by_bead"].items():
            lines.append(f"{bead:6} {v['gold']:5d} {v['recall_strict']:8.3f} {v['test']:5d} {v['precision_strict']:8.3f}")
    if result.get("cover"):
        c = result["cover"]
        lines.append(f"cover      precision {c['precision']:.3f}  recall {c['recall']:.3f}  f1 {c['f1']:.3f}"
                     f"  ({c['correct']} of {c['test_pairs']} rows right, {c['found']} of {c['gold_pairs']} gold pairs found)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- page level
def read_tsv_rows(tsv_path: str | Path) -> list[dict[str, str]]:
    """Rows of an aligner TSV (header ``doc kind bead ru_ids az_ids ru az score … keep reason``),
    checked as `align.review.read_tsv` checks them (`InputError` ``FILE:LINE: …`` otherwise)."""
    from .review.tsv import read_tsv

    return read_tsv(tsv_path)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def score_pairs(test_pairs: Sequence[tuple[str, str]], gold_pairs: Sequence[tuple[str, str]]) -> dict:
    """Page-level pair precision/recall from texts alone (segmentations may differ from the gold's).

    A test pair is a strict hit when its (whitespace/case-normalised) ru and az texts equal those of a
    gold pair; a lax hit when, for some gold pair, each side's text contains the other's (a merge or a
    part of one). Recall is the share of gold pairs hit the same way. Only non-empty pairs count.
    """
    test = [(_norm(r), _norm(a)) for r, a in test_pairs if r.strip() and a.strip()]
    gold = [(_norm(r), _norm(a)) for r, a in gold_pairs if r.strip() and a.strip()]
    gold_set, test_set = set(gold), set(test)

    def overlaps(x: tuple[str, str], y: tuple[str, str]) -> bool:
        return all(u in v or v in u for u, v in zip(x, y))

    p_strict = sum(t in gold_set for t in test)
    p_lax = sum(t in gold_set or any(overlaps(t, g) for g in gold) for t in test)
    r_strict = sum(g in test_set for g in gold)
    r_lax = sum(g in test_set or any(overlaps(g, t) for t in test) for g in gold)
    out = {
        "precision_strict": _ratio(p_strict, len(test)), "recall_strict": _ratio(r_strict, len(gold)),
        "precision_lax": _ratio(p_lax, len(test)), "recall_lax": _ratio(r_lax, len(gold)),
        "test_pairs": len(test), "gold_pairs": len(gold),
    }
    out["f1_strict"] = _f1(out["precision_strict"], out["recall_strict"])
    out["f1_lax"] = _f1(out["precision_lax"], out["recall_lax"])
    return out


def score_page_tsv(tsv_path: str | Path, gold, *, kept_only: bool = True) -> dict:
    """Score an aligner TSV against gold.

    ``gold`` is either a links file / link list over the same unit ids (then the TSV's ``ru_ids``/
    ``az_ids`` are scored with `score_alignment`, null rows included), or a list of (ru text, az text)
    gold pairs (then `score_pairs` compares texts: use it for end-to-end runs from raw pages, where our
    segmentation need not match the gold's). With ``kept_only`` rows with ``keep`` = 0 are left out
    (their units count as unaligned).
    """
    rows = read_tsv_rows(tsv_path)
    if _is_text_pairs(gold):
        pairs = [(r["ru"], r["az"]) for r in rows if not kept_only or r.get("keep", "1") == "1"]
        return score_pairs(pairs, gold)
    gold_links = read_links(gold) if isinstance(gold, (str, Path)) else as_id_links(gold)
    test: list[IdLink] = []
    for row in rows:
        ru, az = _ids(row["ru_ids"]), _ids(row["az_ids"])
        if kept_only and row.get("keep", "1") != "1" and ru and az:
            test.extend([((i,), ()) for i in ru] + [((), (j,)) for j in az])
        else:
            test.append((ru, az))
    return score_alignment(test, gold_links)


def _is_text_pairs(gold) -> bool:
    if isinstance(gold, (str, Path)):
        return False
    gold = list(gold)
    return bool(gold) and all(isinstance(x, str) for x in gold[0])


def read_gold_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Gold text pairs from a two-column TSV: ``ru<TAB>az`` per line; blank lines, ``#`` comment
    lines and a header line ``ru<TAB>az`` are skipped. Raises `InputError` ``FILE:LINE: …`` on a
    line without exactly two columns, or a file without a pair."""
    pairs = []
    for number, line in _content_lines(read_text_file(path)):
        cells = line.rstrip("\r").split("\t")
        if len(cells) != 2:
            raise InputError(f"{path}:{number}: expected 2 tab-separated columns (ru, az), found {len(cells)}")
        if (cells[0].strip(), cells[1].strip()) != ("ru", "az"):
            pairs.append((cells[0], cells[1]))
    if not pairs:
        raise InputError(f"{path}: no gold pairs (expected lines 'ru<TAB>az')")
    return pairs


def read_page_gold(path: str | Path) -> list[IdLink] | list[tuple[str, str]]:
    """The gold of ``align eval --page``: links (``[i,j]:[k]`` lines, over our unit ids) when its
    first line that is not blank or a comment is a link, else text pairs (`read_gold_pairs`)."""
    content = _content_lines(read_text_file(path))
    if content and _LINK.match(content[0][1]):
        return read_links(Path(path))
    return read_gold_pairs(path)


def score_page_file(tsv_path: str | Path, gold_path: str | Path) -> dict:
    """``align eval --page``: our TSV (kept rows) against a gold file (`read_page_gold`). With
    text-pair gold the result holds `score_pairs`'s strict/lax figures plus ``cover``, the
    `score_pairs_cover` figures the page benchmark reports."""
    gold = read_page_gold(gold_path)
    result = score_page_tsv(tsv_path, gold)
    if _is_text_pairs(gold):
        result["cover"] = score_page_tsv_cover(tsv_path, gold)
    return result


# --------------------------------------------------------------------------- page level, by text cover
def _word_spans(needle: str, hay: str) -> list[int]:
    """Start offsets of ``needle`` in ``hay`` where it begins and ends at word boundaries."""
    spots, start = [], hay.find(needle) if needle else -1
    while start >= 0:
        end = start + len(needle)
        if (start == 0 or not hay[start - 1].isalnum()) and (end == len(hay) or not hay[end].isalnum()):
            spots.append(start)
        start = hay.find(needle, start + 1)
    return spots


def _contains(hay: str, needle: str) -> bool:
    return bool(needle) and bool(_word_spans(needle, hay))


def _leftover(text: str, pieces: Sequence[str]) -> str:
    """``text`` with one word-bounded occurrence of each piece (longest first) blanked out."""
    for piece in sorted(pieces, key=len, reverse=True):
        spots = _word_spans(piece, text)
        if spots:
            text = text[: spots[0]] + " " * len(piece) + text[spots[0] + len(piece):]
    return text


def _has_content(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


PIECE_SHARE_GAP = 0.3  # a piece of a gold pair: its two sides take similar shares of the gold texts


def _rest(text: str, pieces: Sequence[str]) -> str:
    """What is left of ``text`` once ``pieces`` are blanked out (`_leftover`): single-spaced, or ``""``
    when no letter or digit is left."""
    left = " ".join(_leftover(text, pieces).split())
    return left if _has_content(left) else ""


def page_text_key(text: str) -> str:
    """Texts as the page-level cover match compares them: invisible format characters (zero-width
    space, soft hyphen, BOM: Unicode category Cf) removed, whitespace collapsed, case folded."""
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Cf").split()).casefold()


def match_pairs_cover(test_pairs: Sequence[tuple[str, str]], gold_pairs: Sequence[tuple[str, str]]
                      ) -> tuple[list[bool], list[bool]]:
    """Which test pairs are correct and which gold pairs are found, by text cover (`score_pairs_cover`).

    Returns two lists parallel to the inputs; pairs with an empty side are ``False`` on both lists.
    """
    test = [(page_text_key(r), page_text_key(a)) for r, a in test_pairs]
    gold = [(page_text_key(r), page_text_key(a)) for r, a in gold_pairs]
    full = lambda p: bool(p[0] and p[1])  # noqa: E731
    parts: dict[int, list[tuple[str, str]]] = defaultdict(list)  # gold index → parts of correct rows in it
    whole_in_row: set[int] = set()  # gold pairs held whole by a correct row
    correct = []

    def homes_of(ru: str, az: str) -> list[int]:
        """Gold pairs that hold both texts as a piece (similar shares of their two sides)."""
        return [k for k, g in enumerate(gold) if full(g) and _contains(g[0], ru) and _contains(g[1], az)
                and abs(len(ru) / len(g[0]) - len(az) / len(g[1])) <= PIECE_SHARE_GAP]

    for t in test:
        if not full(t):
            correct.append(False)
            continue
        whole = [k for k, g in enumerate(gold) if full(g) and _contains(t[0], g[0]) and _contains(t[1], g[1])]
        ru_left = _rest(t[0], [gold[k][0] for k in whole])
        az_left = _rest(t[1], [gold[k][1] for k in whole])
        homes = homes_of(ru_left, az_left) if ru_left and az_left else []
        ok = (not ru_left and not az_left) or bool(homes)
        if ok:
            whole_in_row.update(whole)
            for k in homes:
                parts[k].append((ru_left, az_left))
            for k in homes_of(*t) if whole else []:  # a row equal to one gold pair may be a piece of another
                parts[k].append(t)
        correct.append(ok)
    found = []
    for k, g in enumerate(gold):
        if not full(g):
            found.append(False)
            continue
        pieces = parts.get(k, [])
        covered = bool(pieces) and not _rest(g[0], [p[0] for p in pieces]) and not _rest(g[1], [p[1] for p in pieces])
        found.append(k in whole_in_row or covered)
    return correct, found


def score_pairs_cover(test_pairs: Sequence[tuple[str, str]], gold_pairs: Sequence[tuple[str, str]]) -> dict:
    """Page-level pair precision/recall by text cover: rows finer or coarser than the gold's pairs are
    right, rows carrying any text from outside (site noise, an unpaired sentence) are wrong.

    Texts are compared as `page_text_key` gives them; "A lies in B" means A occurs in B starting and ending at
    word boundaries. Only pairs with two non-empty sides count.

    * A test row is **correct** when, once the gold pairs lying whole in it (both texts) are blanked
      out of its two texts, either no letter or digit is left on either side (the row unites whole
      gold pairs), or what is left on each side lies in one and the same gold pair (the row, or its
      rest, is a finer piece of that pair: NTREX lines holding two sentences, a merged gold pair the
      aligner split back) and takes similar shares of its two texts (the shares of characters differ
      by at most `PIECE_SHARE_GAP`, 0.3). Pieces of one gold pair are otherwise trusted to be paired
      right (finer gold does not exist).
    * A gold pair is **found** when a correct row holds it whole, or the pieces of correct rows that
      lie in it cover both of its texts (blanked out, they leave no letter or digit). A row equal to one
      gold pair is also a piece of any other it lies in (a caption repeating a body sentence).

    Unlike the lax match of `score_pairs`, a row whose ru is a gold text while its az holds that
    gold text plus a glued dateline or teaser is wrong here.
    """
    correct, found = match_pairs_cover(test_pairs, gold_pairs)
    n_test = sum(1 for r, a in test_pairs if page_text_key(r) and page_text_key(a))
    n_gold = sum(1 for r, a in gold_pairs if page_text_key(r) and page_text_key(a))
    out = {"precision": _ratio(sum(correct), n_test), "recall": _ratio(sum(found), n_gold),
           "test_pairs": n_test, "gold_pairs": n_gold, "correct": sum(correct), "found": sum(found)}
    out["f1"] = _f1(out["precision"], out["recall"])
    return out


def score_page_tsv_cover(tsv_path: str | Path, gold_pairs: Sequence[tuple[str, str]], *,
                         kept_only: bool = True) -> dict:
    """`score_pairs_cover` of an aligner TSV's rows (``keep`` = 1 only, unless ``kept_only`` is False)."""
    rows = read_tsv_rows(tsv_path)
    pairs = [(r["ru"], r["az"]) for r in rows if not kept_only or r.get("keep", "1") == "1"]
    return score_pairs_cover(pairs, gold_pairs)
