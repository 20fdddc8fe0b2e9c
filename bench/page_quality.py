"""Page-level alignment quality, end to end: raw page text in, TSV out, pairs scored against gold.

    .venv/bin/python bench/page_quality.py                         # dev + held-out + the real sample
    .venv/bin/python bench/page_quality.py --sets dev --examples 5  # tuning view (NTREX docs 1–62)
    .venv/bin/python bench/page_quality.py --sets sample --out /tmp/pq   # keep pages, gold and TSVs

**Sets.** ``dev`` (NTREX documents 1–62: tune here) and ``heldout`` (63–123: report only) come from
`bench/devset.py` (sentences merged/split/dropped/inserted on one side, captions, regrouped and moved
paragraphs; exact gold links), rendered as raw page text with `bench/pages.render_site_page` in one
of two site styles, both languages: Sputnik Azərbaycan (section line, "© credit<caption>", "<caption>
- Sputnik Азербайджан, 1920, 06.12.2023" alt text, "Подписаться", "БАКУ, 6 дек - Sputnik." dateline,
cross-link to the other language's headline, related-news teasers of other stories, counter) or
Report.az-like (rubric, "6 декабря 2023, 12:47" or "06.12.2023, 12:47" timestamp, "Автор: …" bylines
that differ between the languages, captions with a "Фото: Report" line, "Баку. 6 декабря. REPORT.AZ/"
dateline, a "Читайте также" teaser on one or two lines, a "- ФОТО" marker glued to one side's
headline, subscribe/share/counter/copyright lines). On top of the dev set's own perturbations a page
pair may have an az headline shortened to its first clause, and an az page that drops a whole body
paragraph (partial translation). ``dev-nulls`` / ``heldout-nulls`` add, per document, what issue 12
names (`bench/devset.with_nulls`): another document's sentence glued next to up to two true merges on
one side (a one-sided sentence beside a merge), and one sentence of another document on both sides in
different places (a gold pair across the order). ``real-tune`` / ``real-report``: the real page pairs
of bench/data/real (found among stored public pages, gold and noise lines marked by hand; tune on the
first half only, report the second). ``sample`` is the real page pair samples/sputnik-2023-12-06 (ru.txt
real, az.txt written by us) with hand-made gold tests/data/sputnik-2023-12-06.gold.tsv.

**Gold** = the sentence pairs the two articles truly share, as text: for each gold link of the dev set
with two sides, its ru unit texts joined by a space and its az unit texts likewise; the headline pair
is the two headlines as printed without site markers (" - ФОТО"); caption pairs are gold; teasers,
cross-links, bylines and every other noise item are not. Sentences of a dropped az paragraph have no pair.

**Pipeline** = what ``align pair RU AZ`` does, in-process: `align.pipeline.align_articles` on the two
page files, with the default keep policy (`align.filters`; ``--keep-policy scorer``: the scorer's own decision) (read → clean → segment → embed → align → score) with the default model (`Embedder`,
embeddings cached in .cache/embeddings), then `align.write.write_pairs` writes the TSV, which is read
back and scored.

**How a TSV row matches a gold pair** (only rows and gold pairs with two non-empty sides count; texts are
compared after collapsing whitespace and case-folding; "A lies in B" = A occurs in B starting and ending
at word boundaries):

* ``cover`` (`align.eval.score_pairs_cover`, the figure held against the targets): blank out of a row's
  two texts the gold pairs lying whole in it (both sides); the row is correct when nothing with a letter
  or digit is left (it unites whole gold pairs), or what is left on each side lies in one and the same
  gold pair and takes a similar share of its two texts (shares of characters within 0.3: a piece finer
  than the gold, e.g. one sentence of an NTREX line holding two). A gold pair is found when a correct
  row holds it whole or the pieces of correct rows lying in it cover both of its texts. A row carrying
  any extra text — a glued dateline, a teaser, an unpaired sentence — is wrong.
* ``strict`` (`align.eval.score_pairs`, the definition `align eval --page` and `score_page_tsv` use for
  text gold): the row's two texts equal a gold pair's two texts.
* ``lax`` (the same function): for some gold pair, on each side one text lies in the other (substring, not
  word-bounded); this accepts a row whose az text is a gold text plus glued noise.

Precision = correct rows / rows, recall = found gold pairs / gold pairs, pooled over the documents of a
set; ``kept`` scores rows with keep = 1 only (what a user takes away), ``all`` every two-sided row.

**Noise leaks**: every noise line (or glued piece: dateline, alt-text stamp, credit) the renderer wrote is
looked for in the TSV's rows of its side (word-bounded, normalised; also a piece of it the segmenter cut
off at the start or end of a row) unless that text is also in the page's content; printed per kind as
items written / leaked into any row / leaked into a kept pair. For the real
sample the noise items are its lines that share no text with its gold.

**Misses** (kept rows, cover): a gold pair not found is ``keep-threshold`` when found among all rows;
``cleaner-leak`` when a unit overlapping it carries a noise item; ``cleaner-drop`` when its text is not
in the units of a side at all (removed or altered by the cleaner); ``segmentation`` when a unit overlaps
it and reaches outside it; else ``aligner``. A wrong kept row is ``cleaner-leak`` (holds noise),
``one-sided`` (pairs text that has no counterpart: a dropped paragraph, an inserted sentence),
``segmentation`` (a unit reaching across gold pairs) or ``aligner`` (a wrong pairing of gold texts).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.eval import (  # noqa: E402
    _contains, _rest, _word_spans, match_pairs_cover, page_text_key, read_gold_pairs, read_tsv_rows, score_pairs,
)
from align.filters import FilterSettings  # noqa: E402
from align.pipeline import align_articles  # noqa: E402
from align.write import write_pairs  # noqa: E402
from devset import DevDoc, make_docs, make_docs_with_nulls  # noqa: E402
from pages import (  # noqa: E402
    AUTHORS, CITIES, CREDITS, RUBRICS, PageContent, SiteNoise, SitePage, _headline, render_site_page,
)

CACHE = ROOT / ".cache" / "embeddings"
SAMPLE = ROOT / "samples" / "sputnik-2023-12-06"
SAMPLE_GOLD = ROOT / "tests" / "data" / "sputnik-2023-12-06.gold.tsv"
REAL = ROOT / "bench" / "data" / "real"  # real ru/az page pairs with hand gold (bench/data/real/README.md)
TARGET = {"precision": 0.97, "recall": 0.93}
TextPair = tuple[str, str]


# --------------------------------------------------------------------------- page pairs with gold
@dataclass
class PageDoc:
    """One page pair: raw page text per language, the noise written into it, and the gold pairs."""

    name: str
    ru: SitePage
    az: SitePage
    gold: list[TextPair]
    content: tuple[list[str], list[str]] = ([], [])  # what each page says (title, captions, paragraphs)
    notes: list[str] = field(default_factory=list)  # page-level perturbations applied
    ru_path: Path | None = None  # pages that already exist on disk (the real sample)
    az_path: Path | None = None


def _headline_text(text: str) -> str:
    """A headline as sites print it: no final period."""
    return text[:-1] if text.endswith(".") and not text.endswith("...") else text


def visible(text: str) -> str:
    """``text`` without invisible format characters (zero-width space, soft hyphen …), as the reader
    (`align.read`) delivers it: gold is what the page shows."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def shorten_title(title: str) -> str | None:
    """The headline cut to its first clause (at ": ", " - ", " – " or ", "), if 4+ words remain."""
    for sep in (": ", " - ", " – ", " — ", ", "):
        if sep in title:
            head = title.split(sep)[0].strip()
            if len(head.split()) >= 4 and len(head) < len(title) - 8:
                return head
    return None


def _content(units, dropped: set[int], title: str) -> PageContent:
    captions = [u.text for u in units if u.kind == "caption" and u.id not in dropped]
    paragraphs: dict[int, list[str]] = {}
    for u in units:
        if u.kind == "sentence" and u.id not in dropped:
            paragraphs.setdefault(u.paragraph, []).append(u.text)
    return PageContent(title, captions, [" ".join(p) for p in paragraphs.values()])


def _teasers(rng: random.Random, others: Sequence[tuple[str, str, str, str]], day: date, count: int,
             avoid: set[str]) -> list[tuple[int, date]]:
    """``count`` other stories (indices into ``others``) with their dates: same day or up to 9 days before."""
    choices = [i for i, o in enumerate(others) if o[0] not in avoid and o[2] not in avoid]
    picked = rng.sample(choices, min(count, len(choices)))
    return [(i, day if rng.random() < 0.3 else day - timedelta(days=rng.randint(1, 9))) for i in picked]


def make_page_doc(doc: DevDoc, others: Sequence[tuple[str, str, str, str]], seed: int = 13) -> PageDoc:
    """Render a dev-set document as a ru and an az page with site noise; gold = the shared pairs.

    ``others``: (ru headline, ru teaser alt, az headline, az teaser alt) of the other documents of the split.
    """
    rng = random.Random(f"page:{seed}:{doc.name}")
    notes: list[str] = []
    ru_title = _headline_text(doc.ru_units[0].text)
    az_title = _headline_text(doc.az_units[0].text)
    # partial translation: the az page drops one whole body paragraph (not the first)
    dropped: set[int] = set()
    az_paras = sorted({u.paragraph for u in doc.az_units if u.kind == "sentence"})
    if len(az_paras) >= 3 and rng.random() < 0.3:
        gone = rng.choice(az_paras[1:])
        dropped = {u.id for u in doc.az_units if u.kind == "sentence" and u.paragraph == gone}
        notes.append(f"az-drops-paragraph({len(dropped)} sentences)")
    if rng.random() < 0.2 and (short := shorten_title(az_title)):
        az_title = short
        notes.append("az-title-shortened")
    gold: list[TextPair] = []
    for ru_ids, az_ids in doc.gold:
        az_ids = tuple(j for j in az_ids if j not in dropped)
        if not (ru_ids and az_ids):
            continue
        if ru_ids == (0,) and az_ids == (0,):
            gold.append((visible(ru_title), visible(az_title)))
            continue
        gold.append((visible(" ".join(doc.ru_units[i].text for i in ru_ids)),
                     visible(" ".join(doc.az_units[j].text for j in az_ids))))
    ru_content = _content(doc.ru_units, set(), ru_title)
    az_content = _content(doc.az_units, dropped, az_title)

    day = date(2023, 12, 1) + timedelta(days=rng.randrange(20))
    az_day = day + timedelta(days=1 if rng.random() < 0.15 else 0)
    style = "sputnik" if rng.random() < 0.6 else "report"
    common = dict(style=style, city=rng.randrange(len(CITIES)), credit=rng.randrange(len(CREDITS)),
                  rubric=rng.randrange(len(RUBRICS)), insert_at=rng.randint(2, 4), views=rng.randint(0, 9000))
    avoid = {ru_title, az_title, *ru_content.captions, *az_content.captions}
    ru_teasers = _teasers(rng, others, day, rng.randint(1, 2), avoid)
    az_teasers = ru_teasers if rng.random() < 0.6 else _teasers(rng, others, az_day, rng.randint(0, 2), avoid)
    ru_noise = SiteNoise(day=day, teasers=[(others[i][1], others[i][0], d) for i, d in ru_teasers], **common)
    az_noise = SiteNoise(day=az_day, teasers=[(others[i][3], others[i][2], d) for i, d in az_teasers], **common)
    if style == "sputnik":
        repeat = rng.random() < 0.5
        ru_noise.repeat_caption = az_noise.repeat_caption = repeat
        ru_noise.crosslink = az_title if rng.random() < 0.5 else None
        az_noise.crosslink = ru_title if rng.random() < 0.5 else None
        ru_noise.dateline = az_noise.dateline = rng.random() < 0.9
    else:
        ru_noise.dateline = az_noise.dateline = rng.random() < 0.5
        ru_noise.timestamp = az_noise.timestamp = "words" if rng.random() < 0.5 else "numeric"
        ru_noise.teaser_lines = az_noise.teaser_lines = 2 if rng.random() < 0.3 else 1
        author = rng.randrange(len(AUTHORS))
        other = (author + 1) % len(AUTHORS)
        r = rng.random()
        ru_author, az_author = ((author, author) if r < 0.3 else (author, None) if r < 0.6
                                else (None, author) if r < 0.8 else (author, other))
        if ru_author is not None:
            ru_noise.byline = f"Автор: {AUTHORS[ru_author][0]}"
        if az_author is not None:
            az_noise.byline = f"Müəllif: {AUTHORS[az_author][1]}"
        if ru_author != az_author:
            notes.append("bylines-differ")
        if rng.random() < 0.25:
            marker = rng.choice([(" - ФОТО", " - FOTO"), (" - ВИДЕО", " - VİDEO")])
            if rng.random() < 0.5:
                ru_noise.title_marker = marker[0]
            else:
                az_noise.title_marker = marker[1]
            notes.append("title-marker")
    texts = lambda c: [c.title, *c.captions, *c.paragraphs]  # noqa: E731
    return PageDoc(doc.name, render_site_page(ru_content, "ru", ru_noise),
                   render_site_page(az_content, "az", az_noise), gold, (texts(ru_content), texts(az_content)), notes)


def page_docs(split: str, seed: int = 13, limit: int | None = None) -> list[PageDoc]:
    """The page pairs of a dev-set split (``dev``: NTREX 1–62, ``heldout``: 63–123; ``dev-nulls`` /
    ``heldout-nulls``: the same with `devset.with_nulls` on top)."""
    base, _, nulls = split.partition("-")
    docs = make_docs_with_nulls(base, seed) if nulls else make_docs(base, seed)
    others_all = [(_headline_text(d.ru_units[0].text), _headline(_first_body(d.ru_units)),
                   _headline_text(d.az_units[0].text), _headline(_first_body(d.az_units))) for d in docs]
    out = []
    for k, doc in enumerate(docs[:limit] if limit else docs):
        others = others_all[:k] + others_all[k + 1:]
        out.append(make_page_doc(doc, others, seed))
    return out


def _first_body(units) -> str:
    return next((u.text for u in units if u.kind == "sentence"), units[0].text)


def sample_doc(folder: Path = SAMPLE, gold_path: Path = SAMPLE_GOLD) -> PageDoc:
    """The real page pair with its hand-made gold; noise = page lines sharing no text with the gold."""
    gold = read_gold_pairs(gold_path)
    pages = []
    for side, lang in ((0, "ru"), (1, "az")):
        text = (folder / f"{lang}.txt").read_text(encoding="utf-8")
        golds = [page_text_key(g[side]) for g in gold]
        noise = [("line", line) for line in text.splitlines() if line.strip() and not any(
            _contains(page_text_key(line), g) or _contains(g, page_text_key(line)) for g in golds)]
        pages.append(SitePage(text, noise))
    content = ([g[0] for g in gold], [g[1] for g in gold])
    return PageDoc(folder.name, pages[0], pages[1], gold, content, ["real page pair"],
                   folder / "ru.txt", folder / "az.txt")


def real_docs(split: str, root: Path = REAL) -> list[PageDoc]:
    """The real page pairs of one half (``tune`` or ``report``, bench/data/real/SPLITS.tsv): raw pages as
    stored, hand gold (gold.tsv) and hand-marked noise lines (noise.ru.txt, noise.az.txt)."""
    rows = [line.split("\t") for line in (root / "SPLITS.tsv").read_text(encoding="utf-8").splitlines()[1:] if line]
    docs = []
    for name, half, kind, *_ in rows:
        if half != split:
            continue
        folder = root / name
        pages = []
        for lang in ("ru", "az"):
            text = (folder / f"{lang}.txt").read_text(encoding="utf-8")
            noise_file = folder / f"noise.{lang}.txt"
            noise = [("line", line.strip()) for line in noise_file.read_text(encoding="utf-8").splitlines()
                     if line.strip()] if noise_file.exists() else []
            pages.append(SitePage(text, noise))
        gold = read_gold_pairs(folder / "gold.tsv")
        docs.append(PageDoc(name, pages[0], pages[1], gold, ([g[0] for g in gold], [g[1] for g in gold]),
                            [f"real {kind} pair"], folder / "ru.txt", folder / "az.txt"))
    return docs


# --------------------------------------------------------------------------- running the pipeline
@dataclass
class DocRun:
    doc: PageDoc
    rows: list[dict[str, str]]
    ru_units: list[str]
    az_units: list[str]
    seconds: float


def run_doc(doc: PageDoc, encoder, out_dir: Path, filters: FilterSettings | None = None) -> DocRun:
    """Write the pages (unless on disk already), align them as ``align pair`` does, write and read the TSV."""
    ru_path, az_path = doc.ru_path, doc.az_path
    if ru_path is None or az_path is None:
        ru_path, az_path = out_dir / f"{doc.name}.ru.txt", out_dir / f"{doc.name}.az.txt"
        ru_path.write_text(doc.ru.text, encoding="utf-8")
        az_path.write_text(doc.az.text, encoding="utf-8")
        (out_dir / f"{doc.name}.gold.tsv").write_text(
            "ru\taz\n" + "".join(f"{r}\t{a}\n" for r, a in doc.gold), encoding="utf-8")
    started = time.perf_counter()
    result = align_articles(ru_path, az_path, encoder, doc=doc.name, filters=filters)
    seconds = time.perf_counter() - started
    tsv = out_dir / f"{doc.name}.tsv"
    write_pairs(result.pairs, tsv, "tsv")
    return DocRun(doc, read_tsv_rows(tsv), [u.text for u in result.ru_units], [u.text for u in result.az_units],
                  seconds)


# --------------------------------------------------------------------------- scoring
def _pairs(rows: Sequence[dict[str, str]], kept_only: bool) -> list[TextPair]:
    return [(r["ru"], r["az"]) for r in rows if r["ru"] and r["az"] and (not kept_only or r["keep"] == "1")]


def score_runs(runs: Sequence[DocRun], kept_only: bool) -> dict:
    """Pooled cover, strict and lax precision/recall over the documents of a set."""
    n = Counter()
    for run in runs:
        test = _pairs(run.rows, kept_only)
        correct, found = match_pairs_cover(test, run.doc.gold)
        s = score_pairs(test, run.doc.gold)
        n["test"] += s["test_pairs"]
        n["gold"] += s["gold_pairs"]
        n["correct"] += sum(correct)
        n["found"] += sum(found)
        for key in ("precision_strict", "precision_lax"):
            n[key] += round(s[key] * s["test_pairs"])
        for key in ("recall_strict", "recall_lax"):
            n[key] += round(s[key] * s["gold_pairs"])
    ratio = lambda a, b: a / b if b else 0.0  # noqa: E731
    out = {"docs": len(runs), "rows": n["test"], "gold": n["gold"],
           "precision": ratio(n["correct"], n["test"]), "recall": ratio(n["found"], n["gold"])}
    for key in ("precision_strict", "precision_lax"):
        out[key] = ratio(n[key], n["test"])
    for key in ("recall_strict", "recall_lax"):
        out[key] = ratio(n[key], n["gold"])
    p, r = out["precision"], out["recall"]
    out["f1"] = 2 * p * r / (p + r) if p + r else 0.0
    return out


def _noise_items(page: SitePage, content: Sequence[str]) -> list[tuple[str, str]]:
    """Distinct noise items of a page (kind, key) whose text is not also part of the page's content."""
    texts = [page_text_key(c) for c in content]
    items = []
    for kind, text in dict.fromkeys(page.noise):
        key = page_text_key(text)
        if key and not any(_contains(c, key) for c in texts):
            items.append((kind, key))
    return items


def noise_leaks(runs: Sequence[DocRun]) -> dict[str, list[int]]:
    """Per noise kind: [items written, leaked into a TSV row, leaked into a kept two-sided row].

    An item leaked into a row when the row holds it whole, or a cut piece of it and no other item of
    the page has a longer piece there (`_holds_noise`)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for run in runs:
        for k, (side, page) in enumerate((("ru", run.doc.ru), ("az", run.doc.az))):
            items = _noise_items(page, run.doc.content[k])
            texts = [(page_text_key(r[side]), bool(r["keep"] == "1" and r["ru"] and r["az"]))
                     for r in run.rows if r[side]]
            best = [_holds_noise(text, items) for text, _ in texts]
            for kind, key in items:
                hits = [kept for (text, kept), top in zip(texts, best) if _contains(text, key) or top == key]
                out[kind][0] += 1
                out[kind][1] += bool(hits)
                out[kind][2] += any(hits)
    return dict(out)


def _straddles(unit: str, text: str, least: int = 15) -> bool:
    """The unit holds ``text`` and more, or starts with an end of ``text`` / ends with a start of it
    (at least ``least`` characters) and reaches outside it: units and gold disagree on a boundary."""
    if _contains(text, unit):
        return False
    if _contains(unit, text):
        return True
    for k in range(least, min(len(unit), len(text))):
        if text.endswith(unit[:k]) or text.startswith(unit[-k:]):
            return True
    return False


def _noise_in(text: str, key: str, least: int = 6) -> int:
    """How much of a noise key ``text`` holds: all of it (word-bounded), or a piece the segmenter cut off
    (``text`` starts with an end of the key or ends with a start of it, at a word boundary, at least
    ``least`` characters: "REPORT.AZ/ 20 milyondan…" from "Bakı. 2 dekabr. REPORT.AZ/"); 0 when none."""
    if _contains(text, key):
        return len(key)
    found = 0
    for cut in (m.start() for m in re.finditer(r"(?<=\s)\S", key)):
        tail, head = key[cut:], key[:cut].rstrip()
        if len(tail) >= least and text.startswith(tail) and _contains(text, tail):
            found = max(found, len(tail))
        if len(head) >= least and text.endswith(head) and _contains(text, head):
            found = max(found, len(head))
    return found


def _holds_noise(text: str, noise: Sequence[tuple[str, str]]) -> str | None:
    """The noise key of which ``text`` holds the longest stretch (`_noise_in`), or None."""
    best, best_len = None, 0
    for _, key in noise:
        found = _noise_in(text, key)
        if found > best_len:
            best, best_len = key, found
    return best


def _orphans(gold: Sequence[TextPair], units: dict[str, list[str]]) -> dict[str, set[str]]:
    """Gold texts found more often in one side's units than their counterparts in the other's: one copy
    lost its partner (e.g. the cleaner dropped a paragraph on one side as a repeat of a caption)."""
    joined = {side: " ".join(us) for side, us in units.items()}
    out: dict[str, set[str]] = {"ru": set(), "az": set()}
    for ru, az in gold:
        ru, az = page_text_key(ru), page_text_key(az)
        n_ru, n_az = len(_word_spans(ru, joined["ru"])), len(_word_spans(az, joined["az"]))
        if n_ru > n_az:
            out["ru"].add(ru)
        elif n_az > n_ru:
            out["az"].add(az)
    return out


def classify(run: DocRun) -> list[tuple[str, str, str]]:
    """The misses of one document (kept rows, cover): (category, "FN"/"FP", example). See the module docstring."""
    gold = [(page_text_key(r), page_text_key(a)) for r, a in run.doc.gold]
    noise = {"ru": _noise_items(run.doc.ru, run.doc.content[0]), "az": _noise_items(run.doc.az, run.doc.content[1])}
    units = {"ru": [page_text_key(u) for u in run.ru_units], "az": [page_text_key(u) for u in run.az_units]}
    orphans = _orphans(run.doc.gold, units)
    two_sided = [r for r in run.rows if r["ru"] and r["az"]]
    kept = [r for r in two_sided if r["keep"] == "1"]
    correct, found = match_pairs_cover([(r["ru"], r["az"]) for r in kept], run.doc.gold)
    _, found_all = match_pairs_cover([(r["ru"], r["az"]) for r in two_sided], run.doc.gold)
    misses = []
    for g, shown, hit, hit_all in zip(gold, run.doc.gold, found, found_all):
        if hit:
            continue
        example = f"{run.doc.name}: {_short(shown[0])} | {_short(shown[1])}"
        if hit_all:
            row = next((r for r in two_sided if r["keep"] != "1" and _contains(g[0], page_text_key(r["ru"]))), None)
            misses.append(("keep-threshold", "FN", example + (f"  [{row['reason']}]" if row else "")))
            continue
        touching = {side: [u for u in units[side] if _contains(g[k], u) or _straddles(u, g[k])]
                    for k, side in enumerate(("ru", "az"))}
        rows_with_g = [r for r in two_sided if _contains(page_text_key(r["ru"]), g[0][:60])
                       or _contains(page_text_key(r["az"]), g[1][:60])]
        category, detail = "aligner", ""
        leak = [(side, n) for side in ("ru", "az") for u in touching[side]
                if not _contains(g[0 if side == "ru" else 1], u) and (n := _holds_noise(u, noise[side]))]
        missing = [side for k, side in enumerate(("ru", "az")) if not _contains(" ".join(units[side]), g[k])]
        lost = [(side, o) for r in rows_with_g for side in ("ru", "az") for o in orphans[side]
                if o not in (g[0], g[1]) and _contains(page_text_key(r[side]), o)]
        if leak:
            category, detail = "cleaner-leak", f"{leak[0][0]} unit holds noise {leak[0][1]!r}"
        elif missing:
            category, detail = "cleaner-drop", f"{missing[0]} text not in the units"
        elif lost:
            category, detail = "cleaner-drop", f"its row holds {lost[0][0]} text whose counterpart the cleaner dropped"
        elif any(_straddles(u, g[k]) for k, side in enumerate(("ru", "az")) for u in touching[side]):
            category, detail = "segmentation", "a unit reaches outside the gold pair"
        misses.append((category, "FN", example + (f"  [{detail}]" if detail else "")))
    for row, ok in zip(kept, correct):
        if ok:
            continue
        example = f"{run.doc.name}: {_short(row['ru'])} | {_short(row['az'])}"
        category, detail = "aligner", ""
        sides = (("ru", 0, row["ru_ids"]), ("az", 1, row["az_ids"]))
        leak = [(side, n) for side, _, _ in sides if (n := _holds_noise(page_text_key(row[side]), noise[side]))]
        rests = {}
        for side, k, _ in sides:
            text = page_text_key(row[side])
            rests[side] = _rest(text, [g[k] for g in gold if _contains(text, g[k])])
        outside = [side for side, k, _ in sides if rests[side] and not any(_contains(g[k], rests[side]) for g in gold)]
        straddle = [side for side, k, ids in sides for i in ids.split(",") if i
                    and any(_straddles(units[side][int(i)], g[k]) for g in gold)]
        lost = [side for side, _, _ in sides if any(_contains(page_text_key(row[side]), o) for o in orphans[side])]
        if leak:
            category, detail = "cleaner-leak", f"{leak[0][0]} holds noise {leak[0][1]!r}"
        elif lost:
            category, detail = "cleaner-drop", f"{lost[0]} text whose counterpart the cleaner dropped"
        elif straddle:
            category, detail = "segmentation", f"a {straddle[0]} unit reaches across gold pairs"
        elif outside:
            category, detail = "one-sided", f"{outside[0]} text that has no counterpart"
        misses.append((category, "FP", example + (f"  [{detail}]" if detail else "")))
    return misses


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------- report
def _line(name: str, kind: str, s: dict) -> str:
    return (f"{name:8} {kind:4} {s['docs']:4d} {s['gold']:5d} {s['rows']:5d}  "
            f"{s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f}   "
            f"{s['precision_strict']:6.3f} {s['recall_strict']:6.3f}   {s['precision_lax']:6.3f} {s['recall_lax']:6.3f}")


def report(name: str, runs: Sequence[DocRun]) -> dict:
    """Print the two score lines of a set (kept rows, all rows); returns the kept-rows scores."""
    kept, every = score_runs(runs, True), score_runs(runs, False)
    print(_line(name, "kept", kept))
    print(_line(name, "all", every))
    return kept


def print_details(name: str, runs: Sequence[DocRun], examples: int) -> None:
    leaks = noise_leaks(runs)
    print(f"\n[{name}] noise items written / leaked into a TSV row / into a kept pair:")
    print("  " + "  ".join(f"{kind} {v[0]}/{v[1]}/{v[2]}" for kind, v in sorted(leaks.items())))
    misses = [m for run in runs for m in classify(run)]
    counts = Counter((c, t) for c, t, _ in misses)
    print(f"[{name}] misses (kept rows, cover): "
          + (", ".join(f"{t} {c} {n}" for (c, t), n in counts.most_common()) or "none"))
    shown: Counter = Counter()
    for category, kind, example in misses:
        if shown[(category, kind)] < examples:
            shown[(category, kind)] += 1
            print(f"  {kind} {category}: {example}")
    notes = Counter(note.split("(")[0] for run in runs for note in run.doc.notes)
    if notes:
        print(f"[{name}] page perturbations: " + ", ".join(f"{k} {v}" for k, v in sorted(notes.items())))


def load_set(name: str, limit: int | None, seed: int) -> list[PageDoc]:
    if name == "sample":
        return [sample_doc()]
    if name.startswith("real-"):
        return real_docs(name[len("real-"):])[:limit]
    return page_docs(name, seed, limit)


def code_state() -> str:
    """The commit the figures come from and the align/ files that differ from it (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True,
                                  text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown (not a git checkout)"
    changed = [line[3:] for line in git("status", "--porcelain", "--", "align").splitlines()]
    return f"code: {head}" + (f" + uncommitted changes in {', '.join(changed)}" if changed else " (align/ clean)")


def make_encoder(model: str | None, cache_dir: Path | None):
    from align.embed import Embedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return Embedder(model, cache_dir=cache_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+",
                        default=["dev", "heldout", "dev-nulls", "heldout-nulls", "sample", "real-tune", "real-report"],
                        choices=["dev", "heldout", "dev-nulls", "heldout-nulls", "sample", "real-tune", "real-report"])
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents of dev/heldout")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--model", default=None, help="model dir or name (default: the built-in e5)")
    parser.add_argument("--cache-dir", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, help="keep pages, gold and TSVs here (default: a temp folder)")
    parser.add_argument("--examples", type=int, default=3, help="examples printed per miss category")
    parser.add_argument("--keep-policy", choices=["filters", "scorer"], default="filters",
                        help="filters: align pair's keep decision (align.filters, the default filter chain); "
                             "scorer: align.score's own decision alone (the figures before the one keep policy)")
    args = parser.parse_args(argv)
    filters = FilterSettings() if args.keep_policy == "filters" else None
    encoder = make_encoder(args.model, args.cache_dir)
    with tempfile.TemporaryDirectory(prefix="page-quality-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        results, all_runs = {}, {}
        for name in args.sets:
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            docs = load_set(name, args.limit, args.seed)
            started = time.perf_counter()
            all_runs[name] = [run_doc(d, encoder, folder, filters) for d in docs]
            print(f"{name}: {len(docs)} page pairs aligned in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print(code_state())
        print(f"keep policy: {args.keep_policy}")
        print(f"model {encoder.name}; targets: cover precision ≥ {TARGET['precision']}, recall ≥ {TARGET['recall']}")
        print(f"{'set':8} {'rows':4} {'docs':>4} {'gold':>5} {'test':>5}  {'P':>6} {'R':>6} {'F1':>6}   "
              f"{'P str':>6} {'R str':>6}   {'P lax':>6} {'R lax':>6}")
        for name, runs in all_runs.items():
            results[name] = report(name, runs)
        print("targets (kept rows, cover): " + "; ".join(
            f"{name} P {'met' if s['precision'] >= TARGET['precision'] else 'MISSED'}, "
            f"R {'met' if s['recall'] >= TARGET['recall'] else 'MISSED'}" for name, s in results.items()))
        for name, runs in all_runs.items():
            print_details(name, runs, args.examples)
        if args.out:
            print(f"\npages, gold and TSVs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
