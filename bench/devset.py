"""A seeded generator of realistic ru/az article pairs with exact gold links, built from NTREX.

NTREX-128 (newstest2019 references) has line-aligned Russian and Azerbaijani translations of 123 news
documents; line 1 of each document is its headline. `make_docs` turns each document into an article
pair that looks like what a news site publishes in two languages:

* sentences merged or split on one side (1-2, 2-1, 1-3, 3-1), clauses moved into the next sentence
  (2-2), sentences dropped on one side or foreign sentences inserted (1-0, 0-1);
* photo captions and "read also" teasers in a different order on each side, sometimes on one side only;
* paragraphs grouped differently on each side, and sometimes a whole paragraph moved.

Two versions exist and must stay apart: ``dev`` (documents 1–62: tune on it) and ``heldout``
(documents 63–123: report on it only, never tune).

    python bench/devset.py --split dev --out /tmp/devset     # writes units, page text and gold per doc
    python bench/devset.py --split heldout --stats           # prints bead counts only
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from align.types import Unit  # noqa: E402

NTREX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ntrex"
SPLITS = {"dev": range(1, 63), "heldout": range(63, 124)}
GoldLink = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass
class DevDoc:
    """One generated article pair: units on each side and the gold links over unit ids."""

    name: str
    ru_units: list[Unit]
    az_units: list[Unit]
    gold: list[GoldLink]


@dataclass
class _Bead:
    ru: list[str]
    az: list[str]


def load_ntrex(root: Path = NTREX) -> list[tuple[str, list[str], list[str]]]:
    """NTREX documents in order: (document id, ru lines, az lines)."""
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    ru = (root / "newstest2019-ref.rus.txt").read_text(encoding="utf-8").splitlines()
    az = (root / "newstest2019-ref.aze-Latn.txt").read_text(encoding="utf-8").splitlines()
    docs: list[tuple[str, list[str], list[str]]] = []
    for doc_id, r, a in zip(ids, ru, az):
        if not docs or docs[-1][0] != doc_id:
            docs.append((doc_id, [], []))
        docs[-1][1].append(r.strip())
        docs[-1][2].append(a.strip())
    return docs


def _capitalise(text: str, lang: str) -> str:
    if not text:
        return text
    first = "İ" if (lang == "az" and text[0] == "i") else text[0].upper()
    return first + text[1:]


def split_sentence(text: str, lang: str) -> tuple[str, str] | None:
    """Split a sentence into two at the clause boundary (comma, semicolon, colon, dash) nearest its middle."""
    spots = [m.start() for m in re.finditer(r"(,|;|:| —| –) ", text)]
    spots = [p for p in spots if p >= 30 and len(text) - p >= 30]
    if not spots:
        return None
    pos = min(spots, key=lambda p: abs(p - len(text) / 2))
    left = text[:pos].rstrip(" ,;:—–") + "."
    right = text[pos:].lstrip(" ,;:—–")
    return left, _capitalise(right, lang)


def _perturb_body(rng: random.Random, body: list[_Bead], foreign: dict[str, list[str]]) -> list[_Bead]:
    """Apply merges, splits, clause shifts, drops and insertions; every output bead is exact gold."""
    out: list[_Bead] = []
    k = 0
    while k < len(body):
        cur, nxt = body[k], body[k + 1] if k + 1 < len(body) else None
        nxt2 = body[k + 2] if k + 2 < len(body) else None
        side = rng.choice(("ru", "az"))
        other = "az" if side == "ru" else "ru"
        r = rng.random()
        if r < 0.06 and nxt:  # two sentences joined into one on one side: 1-2 / 2-1
            bead = _Bead(cur.ru + nxt.ru, cur.az + nxt.az)
            setattr(bead, side, [" ".join(getattr(cur, side) + getattr(nxt, side))])
            out.append(bead)
            k += 2
            continue
        if r < 0.12 and (parts := split_sentence(getattr(cur, side)[0], side)):  # one split: 2-1 / 1-2
            bead = _Bead(list(cur.ru), list(cur.az))
            setattr(bead, side, list(parts))
            out.append(bead)
        elif r < 0.15 and nxt and (parts := split_sentence(getattr(cur, side)[0], side)):  # clause shift: 2-2
            bead = _Bead(cur.ru + nxt.ru, cur.az + nxt.az)
            setattr(bead, side, [parts[0], parts[1].rstrip(".") + "; " + getattr(nxt, side)[0]])
            out.append(bead)
            k += 2
            continue
        elif r < 0.17 and nxt and nxt2:  # three sentences joined on one side: 1-3 / 3-1
            bead = _Bead(cur.ru + nxt.ru + nxt2.ru, cur.az + nxt.az + nxt2.az)
            setattr(bead, side, [" ".join(getattr(cur, side) + getattr(nxt, side) + getattr(nxt2, side))])
            out.append(bead)
            k += 3
            continue
        elif r < 0.19 and nxt and (parts := split_sentence(getattr(cur, other)[0], other)):  # join + split: 1-3
            bead = _Bead([], [])
            setattr(bead, side, [" ".join(getattr(cur, side) + getattr(nxt, side))])
            setattr(bead, other, [*parts, *getattr(nxt, other)])
            out.append(bead)
            k += 2
            continue
        elif r < 0.23:  # dropped on one side: 1-0 / 0-1
            bead = _Bead(list(cur.ru), list(cur.az))
            setattr(bead, side, [])
            out.append(bead)
        elif r < 0.26 and nxt:  # both sides joined: a long 1-1
            out.append(_Bead([" ".join(cur.ru + nxt.ru)], [" ".join(cur.az + nxt.az)]))
            k += 2
            continue
        else:
            out.append(_Bead(list(cur.ru), list(cur.az)))
        r = rng.random()
        if r < 0.03:  # a sentence that only one side has
            bead = _Bead([], [])
            setattr(bead, side, [rng.choice(foreign[side])])
            out.append(bead)
        elif r < 0.04:  # unrelated sentences at the same place on both sides
            out.append(_Bead([rng.choice(foreign["ru"])], []))
            out.append(_Bead([], [rng.choice(foreign["az"])]))
        k += 1
    return out


def _paragraphs(rng: random.Random, n: int) -> list[int]:
    """Paragraph index for each of ``n`` beads: paragraphs of 1–4 beads."""
    para, index, left = [], 0, rng.randint(1, 4)
    for _ in range(n):
        if left == 0:
            index, left = index + 1, rng.randint(1, 4)
        para.append(index)
        left -= 1
    return para


def _regroup(rng: random.Random, para: list[int]) -> list[int]:
    """The other side's paragraphs: the same boundaries, with some moved, removed or added."""
    starts = {i for i in range(1, len(para)) if para[i] != para[i - 1]}
    changed = set(starts)
    for i in range(1, len(para)):
        r = rng.random()
        if i in starts and r < 0.15:
            changed.discard(i)
            if rng.random() < 0.5 and i + 1 < len(para):
                changed.add(i + 1)
        elif i not in starts and r < 0.06:
            changed.add(i)
    out, index = [], 0
    for i in range(len(para)):
        if i in changed:
            index += 1
        out.append(index)
    return out


def _move_paragraph(rng: random.Random, order: list[int], para: list[int]) -> list[int]:
    """Reorder beads so that one whole paragraph (not the first) moves elsewhere."""
    groups: dict[int, list[int]] = {}
    for bead, p in zip(order, para):
        groups.setdefault(p, []).append(bead)
    keys = list(groups)
    if len(keys) < 3:
        return order
    moved = rng.choice(keys[1:])
    rest = [k for k in keys if k != moved]
    target = rng.choice([i for i in range(1, len(rest) + 1) if rest[i - 1 : i] != [moved - 1]] or [len(rest)])
    new_keys = rest[:target] + [moved] + rest[target:]
    return [b for key in new_keys for b in groups[key]]


def make_doc(rng: random.Random, name: str, ru: list[str], az: list[str],
             foreign: dict[str, list[str]], teasers: list[tuple[str, str]]) -> DevDoc:
    """Build one article pair from line-aligned ru/az lines (line 0 = headline)."""
    body = _perturb_body(rng, [_Bead([r], [a]) for r, a in zip(ru[1:], az[1:])], foreign)
    # captions: body sentences reused as photo captions, and other documents' headlines as teasers
    captions: list[_Bead] = []
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        if rng.random() < 0.5 and len(ru) > 2:
            line = rng.randrange(1, len(ru))
            captions.append(_Bead([ru[line]], [az[line]]))
        else:
            t_ru, t_az = rng.choice(teasers)
            captions.append(_Bead([t_ru], [t_az]))
    if captions and rng.random() < 0.2:
        one_sided = rng.randrange(len(captions))
        setattr(captions[one_sided], rng.choice(("ru", "az")), [])
    ru_para = _paragraphs(rng, len(body))
    az_para = _regroup(rng, ru_para)
    ru_order, az_order = list(range(len(body))), list(range(len(body)))
    if rng.random() < 0.3:
        if rng.random() < 0.5:
            az_order = _move_paragraph(rng, az_order, az_para)
        else:
            ru_order = _move_paragraph(rng, ru_order, ru_para)
    sides: dict[str, list[Unit]] = {}
    ids: dict[str, dict[tuple[str, int], list[int]]] = {}
    for lang, order, para, title in (("ru", ru_order, ru_para, ru[0]), ("az", az_order, az_para, az[0])):
        units = [Unit(0, "title", title, -1, 0)]
        where: dict[tuple[str, int], list[int]] = {}
        cap_order = list(range(len(captions)))
        rng.shuffle(cap_order)
        for c in cap_order:
            for text in getattr(captions[c], lang):
                where.setdefault(("c", c), []).append(len(units))
                units.append(Unit(len(units), "caption", text, -1, len(units) - 1))
        paragraph, last, sentence = -1, None, 0
        for b in order:
            if not getattr(body[b], lang):
                continue
            if para[b] != last:
                paragraph, last = paragraph + 1, para[b]
            for text in getattr(body[b], lang):
                where.setdefault(("b", b), []).append(len(units))
                units.append(Unit(len(units), "sentence", text, paragraph, sentence))
                sentence += 1
        sides[lang], ids[lang] = units, where
    gold: list[GoldLink] = [((0,), (0,))]
    for key in [("c", c) for c in range(len(captions))] + [("b", b) for b in range(len(body))]:
        link = (tuple(ids["ru"].get(key, [])), tuple(ids["az"].get(key, [])))
        if link[0] or link[1]:
            gold.append(link)
    return DevDoc(name, sides["ru"], sides["az"], gold)


def make_docs(split: str = "dev", seed: int = 13, root: Path = NTREX) -> list[DevDoc]:
    """All article pairs of one split (``dev``: documents 1–62, ``heldout``: 63–123), deterministic."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}")
    all_docs = load_ntrex(root)
    chosen = [all_docs[i - 1] for i in SPLITS[split]]
    # foreign material (insertions, teasers) comes from the same split only, so the two never mix
    foreign = {"ru": [l for _, r, _ in chosen for l in r[1:]], "az": [l for _, _, a in chosen for l in a[1:]]}
    teasers = [(r[0], a[0]) for _, r, a in chosen]
    docs = []
    for number, (doc_id, ru, az) in zip(SPLITS[split], chosen):
        rng = random.Random(f"{seed}:{split}:{doc_id}")
        own = {lang: [l for l in foreign[lang] if l not in set(side)] for lang, side in (("ru", ru), ("az", az))}
        own_teasers = [t for t in teasers if t[0] != ru[0]]
        docs.append(make_doc(rng, f"{number:03d}-{doc_id}", ru, az, own, own_teasers))
    return docs


def with_nulls(doc: DevDoc, rng: random.Random, foreign: list[tuple[str, str]], merges: int = 2) -> DevDoc:
    """The article pair with the cases issue 12 names planted on top: a sentence of another document
    glued next to up to ``merges`` true merges (2-1 / 1-2 …) on one side (a one-sided sentence next to
    a merge: gold null), and one sentence of another document on both sides (ru and its az translation)
    in different places, at least two sentences apart (gold: a 1-1 link across the order).

    ``foreign``: (ru, az) line pairs of other documents of the same split. Ids are renumbered."""
    ru, az = list(doc.ru_units), list(doc.az_units)
    gold = list(doc.gold)
    inserts: dict[str, list[tuple[int, str, str]]] = {"ru": [], "az": []}  # side → (after unit id, text, tag)
    body = {"ru": {u.id for u in ru if u.kind == "sentence"}, "az": {u.id for u in az if u.kind == "sentence"}}
    merged = [l for l in gold if l[0] and l[1] and len(l[0]) + len(l[1]) > 2
              and all(i in body["ru"] for i in l[0]) and all(j in body["az"] for j in l[1])]
    for k, link in enumerate(rng.sample(merged, min(merges, len(merged)))):
        side = rng.choice(("ru", "az"))
        ids = link[0] if side == "ru" else link[1]
        text = rng.choice(foreign)[0 if side == "ru" else 1]
        inserts[side].append((max(ids) if rng.random() < 0.5 else min(ids) - 1, text, f"null{k}"))
    ru_body, az_body = sorted(body["ru"]), sorted(body["az"])
    if len(ru_body) >= 6 and len(az_body) >= 6:
        pair = rng.choice(foreign)
        p = rng.randrange(1, len(ru_body) - 1)
        q_choices = [q for q in range(1, len(az_body) - 1) if abs(q * len(ru_body) / len(az_body) - p) >= 2]
        if q_choices:
            q = rng.choice(q_choices)
            inserts["ru"].append((ru_body[p], pair[0], "both"))
            inserts["az"].append((az_body[q], pair[1], "both"))
    new_ids: dict[str, dict] = {}
    sides: dict[str, list[Unit]] = {}
    for lang, units in (("ru", ru), ("az", az)):
        after: dict[int, list[tuple[str, str]]] = {}
        for anchor, text, tag in inserts[lang]:
            after.setdefault(anchor, []).append((text, tag))
        out: list[Unit] = []
        mapping: dict = {}

        def put(text: str, tag: str, paragraph: int) -> None:
            mapping[tag] = len(out)
            out.append(Unit(len(out), "sentence", text, paragraph, 0))

        first_body = min(body[lang])
        for unit in units:
            if unit.id == first_body:
                for text, tag in after.pop(first_body - 1, []):  # glued before the first body sentence
                    put(text, tag, unit.paragraph)
            mapping[unit.id] = len(out)
            out.append(Unit(len(out), unit.kind, unit.text, unit.paragraph, unit.index))
            for text, tag in after.pop(unit.id, []) if unit.kind == "sentence" else []:
                put(text, tag, unit.paragraph)
        for anchor in sorted(after):  # "before" an id that is not a body sentence: put after it instead
            for text, tag in after[anchor]:
                put(text, tag, out[-1].paragraph)
        sentence = 0
        for k, unit in enumerate(out):
            if unit.kind == "sentence":
                out[k] = Unit(unit.id, unit.kind, unit.text, unit.paragraph, sentence)
                sentence += 1
        new_ids[lang], sides[lang] = mapping, out
    new_gold = [(tuple(new_ids["ru"][i] for i in r), tuple(new_ids["az"][j] for j in a)) for r, a in gold]
    for tag in {tag for side in inserts.values() for _, _, tag in side}:
        r, a = new_ids["ru"].get(tag), new_ids["az"].get(tag)
        new_gold.append(((r,) if r is not None else (), (a,) if a is not None else ()))
    return DevDoc(doc.name, sides["ru"], sides["az"], new_gold)


def make_docs_with_nulls(split: str = "dev", seed: int = 13, root: Path = NTREX) -> list[DevDoc]:
    """`make_docs` with `with_nulls` applied to every document (foreign lines from the same split)."""
    docs = make_docs(split, seed, root)
    chosen = [d for i, d in enumerate(load_ntrex(root)) if i + 1 in SPLITS[split]]
    out = []
    for doc, (_, ru, az) in zip(docs, chosen):
        rng = random.Random(f"{seed}:{split}:nulls:{doc.name}")
        foreign = [(r, a) for _, r_lines, a_lines in chosen if r_lines != ru  # not line 1: pages quote it as a teaser
                   for r, a in zip(r_lines[2:], a_lines[2:])]
        out.append(with_nulls(doc, rng, foreign))
    return out


def bead_counts(docs: list[DevDoc]) -> Counter:
    return Counter(f"{len(r)}-{len(a)}" for d in docs for r, a in d.gold)


def write_doc(doc: DevDoc, out: Path) -> None:
    """Write ``NAME.ru.tsv``/``NAME.az.tsv`` (id, kind, paragraph, text), ``NAME.ru.txt``/``.az.txt``
    (a page: title, captions, then paragraphs separated by blank lines) and ``NAME.gold`` (links)."""
    for lang, units in (("ru", doc.ru_units), ("az", doc.az_units)):
        rows = [f"{u.id}\t{u.kind}\t{u.paragraph}\t{u.text}" for u in units]
        (out / f"{doc.name}.{lang}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        blocks = [u.text for u in units if u.kind != "sentence"]
        paragraphs: dict[int, list[str]] = {}
        for u in units:
            if u.kind == "sentence":
                paragraphs.setdefault(u.paragraph, []).append(u.text)
        blocks += [" ".join(p) for p in paragraphs.values()]
        (out / f"{doc.name}.{lang}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    lines = [f"[{','.join(map(str, r))}]:[{','.join(map(str, a))}]" for r, a in doc.gold]
    (out / f"{doc.name}.gold").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, help="write the documents to this folder")
    parser.add_argument("--stats", action="store_true", help="print bead counts")
    args = parser.parse_args(argv)
    docs = make_docs(args.split, args.seed)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            write_doc(doc, args.out)
    counts = bead_counts(docs)
    units = sum(len(d.ru_units) + len(d.az_units) for d in docs)
    moved = sum(1 for d in docs if _has_move(d))
    print(f"{args.split}: {len(docs)} documents, {units} units, {sum(counts.values())} gold links, "
          f"{moved} with a moved paragraph")
    if args.stats:
        print("  " + "  ".join(f"{k} {v}" for k, v in counts.most_common()))
    return 0


def _has_move(doc: DevDoc) -> bool:
    pairs = sorted((min(r), min(a)) for r, a in doc.gold if r and a)
    return any(b[1] < a[1] for a, b in zip(pairs, pairs[1:]))


if __name__ == "__main__":
    sys.exit(main())
