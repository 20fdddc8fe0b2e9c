"""The per-pair pipeline: read → clean → segment → embed → align → score, as one function.

`align_articles` is what the CLI, the corpus engine and the Python API all call for one article pair.
"""
from __future__ import annotations

import bisect
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .aligner import align_embedded, align_units, embed_units, group_margin, unit_vector
from .clean import clean_page
from .embed import TextEncoder
from .filters import FilterSettings, filter_rows
from .lang import detect_language
from .read import read_page, read_segmented
from .score import calibration_for, score_links
from .segment import segment_article
from .types import Article, Link, Pair, Unit

LEVELS = ("sentence", "paragraph")


@dataclass
class Alignment:
    """Everything known about one aligned article pair."""

    doc: str
    ru_units: list[Unit]
    az_units: list[Unit]
    links: list[Link]
    pairs: list[Pair]
    ru_article: Article | None = None
    az_article: Article | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def aligned(self) -> list[Pair]:
        return [p for p in self.pairs if p.ru_ids and p.az_ids]

    @property
    def unaligned(self) -> list[Pair]:
        return [p for p in self.pairs if not (p.ru_ids and p.az_ids)]


def load_article(path: str | Path, lang: str, fmt: str = "auto") -> Article:
    """Read and clean one page into an `Article`."""
    return clean_page(read_page(path, fmt), lang)


def load_segmented_units(path: str | Path, warnings: list[str] | None = None) -> list[Unit]:
    """Pre-segmented input: each line is one unit; ids are 0-based line numbers. The reader's
    warnings (bad bytes, repaired mojibake) go to ``warnings`` when given."""
    page = read_segmented(path)
    if warnings is not None:
        warnings += page.warnings
    return [Unit(id=b.line, kind="sentence", text=b.text, paragraph=0, index=b.line) for b in page.blocks]


def article_language(article: Article) -> str:
    """The dominant language of an article's text ("ru", "az", … or "unknown")."""
    text = " ".join([article.title or "", *article.paragraphs[:5]])
    return detect_language(text)


def language_warning(ru_lang: str, az_lang: str, ru_name: str, az_name: str) -> tuple[bool, str]:
    """``(swap, warning)`` for the detected languages of the two inputs: swapped when RU reads as
    Azerbaijani and AZ as Russian; a warning (no swap) when both read as one language or one side as
    a third language; ``(False, "")`` when they look right (or are too short to tell)."""
    if ru_lang == "az" and az_lang == "ru":
        return True, (f"the files look swapped ({ru_name} is Azerbaijani, {az_name} is Russian): "
                      "aligned them swapped back")
    if ru_lang == az_lang and ru_lang != "unknown":
        return False, (f"both files look {LANGUAGE_NAMES.get(ru_lang, ru_lang)} ({ru_name}, {az_name}): "
                       "the rows are probably not a translation pair")
    for name, got, want in ((ru_name, ru_lang, "ru"), (az_name, az_lang, "az")):
        if got not in (want, "unknown", "ru", "az"):
            return False, (f"{name} looks {LANGUAGE_NAMES.get(got, got)}, not "
                           f"{LANGUAGE_NAMES[want]}: check the input")
    return False, ""


LANGUAGE_NAMES = {"ru": "Russian", "az": "Azerbaijani", "tr": "Turkish", "en": "English", "uk": "Ukrainian",
                  "kk": "Kazakh"}


def order_by_language(ru: Article, az: Article, warnings: list[str]) -> tuple[Article, Article]:
    """Swap the two articles (with a warning) when they were clearly given in the wrong order; warn
    when both are in one language or one is in a third."""
    swap, warning = language_warning(article_language(ru), article_language(az), str(ru.source), str(az.source))
    if warning:
        warnings.append(warning)
    return (az, ru) if swap else (ru, az)


def units_language(units: Sequence[Unit]) -> str:
    """The dominant language of pre-segmented units (their first lines with text)."""
    return detect_language(" ".join(u.text for u in units if u.text)[:2000])


def align_articles(
    ru: Article | str | Path,
    az: Article | str | Path,
    encoder: TextEncoder,
    *,
    level: str = "sentence",
    doc: str = "",
    fmt: str = "auto",
    filters: FilterSettings | None = None,
) -> Alignment:
    """Align a Russian and an Azerbaijani article (objects or paths) and score every pair.

    >>> result = align_articles("ru.txt", "az.txt", Embedder())
    >>> [(p.ru, p.az, p.score) for p in result.aligned]

    Every unit of both articles ends up in exactly one `Pair` (unaligned ones with an empty side).
    ``filters``: the keep policy of `align pair`/`align corpus` (`align.filters`); None keeps the
    scorer's own decision (score threshold and blocking flags).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    started = time.perf_counter()
    warnings: list[str] = []
    ru_article = ru if isinstance(ru, Article) else load_article(ru, "ru", fmt)
    az_article = az if isinstance(az, Article) else load_article(az, "az", fmt)
    warnings += [*ru_article.warnings, *az_article.warnings]
    ru_article, az_article = order_by_language(ru_article, az_article, warnings)
    doc = doc or document_name(ru_article.source)
    ru_units, az_units = segment_article(ru_article), segment_article(az_article)
    ru_vecs, az_vecs = embed_units(ru_units, encoder), embed_units(az_units, encoder)
    links = align_embedded(ru_units, az_units, ru_vecs, az_vecs, encoder)
    if level == "paragraph":
        ru_units, az_units, links = to_paragraph_level(ru_article, az_article, ru_units, az_units, links,
                                                       ru_vecs, az_vecs)
    pairs = score_links(links, ru_units, az_units, doc, calibration_for(getattr(encoder, "name", None)))
    if filters is not None:
        pairs = filter_rows(pairs, filters)
    return Alignment(doc, ru_units, az_units, links, pairs, ru_article, az_article,
                     time.perf_counter() - started, warnings)


def align_segmented(
    ru_path: str | Path, az_path: str | Path, encoder: TextEncoder, *, doc: str = "",
    filters: FilterSettings | None = None,
) -> Alignment:
    """Align two pre-segmented files (one unit per line, no cleaning, ids = line numbers).

    Empty lines keep their ids but are neither embedded nor aligned: each becomes a null row
    (``keep=0``, reason ``empty line``) placed after the row holding the line before it.
    """
    started = time.perf_counter()
    doc = doc or document_name(ru_path)
    warnings: list[str] = []
    ru_units, az_units = load_segmented_units(ru_path, warnings), load_segmented_units(az_path, warnings)
    swap, warning = language_warning(units_language(ru_units), units_language(az_units), str(ru_path), str(az_path))
    if warning:
        warnings.append(warning)
    if swap:
        ru_units, az_units = az_units, ru_units
    ru_text, az_text = [u for u in ru_units if u.text], [u for u in az_units if u.text]
    links = align_units(ru_text, az_text, encoder)
    pairs = score_links(links, ru_units, az_units, doc, calibration_for(getattr(encoder, "name", None)))
    ru_empty = [u.id for u in ru_units if not u.text]
    az_empty = [u.id for u in az_units if not u.text]
    if ru_empty or az_empty:
        links = with_empty_lines(links, ru_empty, az_empty, lambda ru, az: Link(ru, az))
        pairs = with_empty_lines(pairs, ru_empty, az_empty, lambda ru, az: Pair(
            doc, "sentence", ru, az, "", "", 0.0, flags=("unaligned-ru" if ru else "unaligned-az", "empty-line"),
            keep=False, reason="empty line"))
    if filters is not None:
        pairs = filter_rows(pairs, filters)
    return Alignment(doc, ru_units, az_units, links, pairs, seconds=time.perf_counter() - started,
                     warnings=warnings)


def with_empty_lines(rows: Sequence, ru_empty: Sequence[int], az_empty: Sequence[int], make) -> list:
    """Insert one null row ``make(ru_ids, az_ids)`` per empty line into ``rows`` (links or pairs).

    An empty line goes right after the row holding the nearest earlier id of its side (ru lines
    before az lines there, each in line order), or first when no earlier id is in any row."""
    keyed = [((k, 0, 0, 0), row) for k, row in enumerate(rows)]
    for side, empty in (("ru", ru_empty), ("az", az_empty)):
        holder = {i: k for k, row in enumerate(rows) for i in _side_ids(row, side)}
        anchors = sorted(holder)
        for line in empty:
            before = bisect.bisect_left(anchors, line)
            anchor = holder[anchors[before - 1]] if before else -1
            row = make((line,), ()) if side == "ru" else make((), (line,))
            keyed.append(((anchor, 1, 0 if side == "ru" else 1, line), row))
    return [row for _, row in sorted(keyed, key=lambda item: item[0])]


def _side_ids(row: Link | Pair, side: str) -> tuple[int, ...]:
    if isinstance(row, Link):
        return row.ru if side == "ru" else row.az
    return row.ru_ids if side == "ru" else row.az_ids


def document_name(path: str | Path) -> str:
    """A document id from a path: the file stem, or the folder name for files named like ``ru.txt``."""
    path = Path(path)
    if path.stem.lower() in ("ru", "rus", "russian", "az", "aze", "azerbaijani", "") and path.parent.name:
        return path.parent.name
    return path.stem or "doc"


def to_paragraph_level(
    ru_article: Article, az_article: Article,
    ru_units: Sequence[Unit], az_units: Sequence[Unit], links: Sequence[Link],
    ru_vecs: np.ndarray | None = None, az_vecs: np.ndarray | None = None, hub_k: int = 4,
) -> tuple[list[Unit], list[Unit], list[Link]]:
    """Turn sentence links into n-m paragraph groups consistent with them.

    Title and caption links keep their shape; body paragraphs joined by any sentence link fall into
    one group (connected components), so no sentence link crosses a group boundary. With the sentence
    vectors, a group's similarity and margin are those of its summed vectors, the margin against the
    other side's single paragraphs (`align.aligner.group_margin`), as sentences are scored; without
    them, the similarity is the mean of its sentence links' and the margin that of their margins.
    """
    ru_para, az_para = segment_article(ru_article, "paragraph"), segment_article(az_article, "paragraph")
    ru_map = _sentence_to_paragraph_unit(ru_units, ru_para)
    az_map = _sentence_to_paragraph_unit(az_units, az_para)
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    head_links: list[Link] = []
    sentence_links: dict[tuple[str, int], list[Link]] = {}
    for link in links:
        nodes = [("ru", ru_map[i]) for i in link.ru] + [("az", az_map[i]) for i in link.az]
        if any(_is_head(u) for u in (*[ru_units[i] for i in link.ru], *[az_units[i] for i in link.az])):
            head_links.append(Link(tuple(ru_map[i] for i in link.ru), tuple(az_map[i] for i in link.az),
                                   link.similarity, link.margin))
            continue
        for node in nodes:
            find(node)
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        if link.ru and link.az:
            sentence_links.setdefault(nodes[0], []).append(link)
    groups: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)
    members: dict[tuple[str, int], list[Link]] = {}
    for node, found in sentence_links.items():
        members.setdefault(find(node), []).extend(found)
    vectors = None
    if ru_vecs is not None and az_vecs is not None:
        vectors = (_paragraph_vectors(ru_units, ru_map, ru_vecs), _paragraph_vectors(az_units, az_map, az_vecs))
    body_links = []
    for root, nodes in groups.items():
        ru_ids = tuple(sorted(i for side, i in nodes if side == "ru"))
        az_ids = tuple(sorted(i for side, i in nodes if side == "az"))
        found = members.get(root, [])
        if not (ru_ids and az_ids and found):
            body_links.append(Link(ru_ids, az_ids))
        elif vectors is not None:
            body_links.append(Link(ru_ids, az_ids, *_group_scores(ru_ids, az_ids, *vectors, hub_k)))
        else:
            body_links.append(Link(ru_ids, az_ids, float(np.mean([l.similarity for l in found])),
                                   float(np.mean([l.margin for l in found]))))
    body_links.sort(key=lambda l: (min(l.ru) if l.ru else _az_anchor(l, body_links), min(l.az, default=-1)))
    return ru_para, az_para, [*_dedupe_head(head_links), *body_links]


def _paragraph_vectors(units: Sequence[Unit], mapping: dict[int, int], vecs: np.ndarray) -> dict[int, np.ndarray]:
    """Body paragraph-unit id → the sum of its sentences' vectors."""
    sums: dict[int, np.ndarray] = {}
    for k, unit in enumerate(units):
        if not _is_head(unit):
            pid = mapping[unit.id]
            sums[pid] = sums[pid] + vecs[k] if pid in sums else vecs[k].astype(np.float64)
    return sums


def _group_scores(ru_ids, az_ids, ru_sums, az_sums, hub_k: int) -> tuple[float, float]:
    """(cosine, margin) of a paragraph group from its summed vectors, against the single paragraphs of
    the other side outside it."""
    u = unit_vector(sum(ru_sums[i] for i in ru_ids))
    v = unit_vector(sum(az_sums[j] for j in az_ids))
    ru_rivals = np.array([unit_vector(x) for i, x in ru_sums.items() if i not in ru_ids]).reshape(-1, len(u))
    az_rivals = np.array([unit_vector(x) for j, x in az_sums.items() if j not in az_ids]).reshape(-1, len(v))
    return group_margin(u, v, ru_rivals, az_rivals, hub_k)


def _is_head(unit: Unit) -> bool:
    return unit.kind in ("title", "caption")


def _dedupe_head(links: list[Link]) -> list[Link]:
    seen, out = set(), []
    for link in links:
        key = (link.ru, link.az)
        if key not in seen:
            seen.add(key)
            out.append(link)
    return out


def _az_anchor(link: Link, links: Sequence[Link]) -> float:
    """Sort key for an az-only group: just after the ru group that precedes its az paragraph."""
    before = [min(l.ru) for l in links if l.ru and l.az and max(l.az) < min(link.az)]
    return (max(before) + 0.5) if before else -0.5


def _sentence_to_paragraph_unit(units: Sequence[Unit], para_units: Sequence[Unit]) -> dict[int, int]:
    """Map each sentence-level unit id to the id of its unit in the paragraph-level list."""
    title_caption = [u for u in para_units if _is_head(u)]
    by_paragraph = {u.paragraph: u.id for u in para_units if not _is_head(u)}
    heads = iter(title_caption)
    mapping = {}
    for unit in units:
        mapping[unit.id] = next(heads).id if _is_head(unit) else by_paragraph[unit.paragraph]
    return mapping


def summary_line(result: Alignment) -> str:
    """A one-line human summary of an alignment."""
    ru_unaligned = sum(len(p.ru_ids) for p in result.unaligned)
    az_unaligned = sum(len(p.az_ids) for p in result.unaligned)
    kept = sum(1 for p in result.aligned if p.keep)
    return (
        f"{result.doc}: {len(result.aligned)} pairs ({kept} kept) from {len(result.ru_units)} ru / "
        f"{len(result.az_units)} az units; unaligned: {ru_unaligned} ru, {az_unaligned} az; "
        f"{result.seconds:.1f} s"
    )


def warn(message: str) -> None:
    print(f"align: warning: {message}", file=sys.stderr)
