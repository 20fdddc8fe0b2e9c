"""Document pairing on the real pool (bench/data/real): precision and recall per half.

    .venv/bin/python bench/real_pairing.py            # the whole pool, figures per half
    .venv/bin/python bench/real_pairing.py --errors   # also list the wrong and missed pairs

The pool is what a user's two folders would hold: the ru and az page of every real pair (45), plus
every page of `unpaired/` (49: pages without a counterpart and groups of near-identical releases
carried by other outlets or on other days, some of them copies of the very releases in the pairs).
`align.documents.pair_documents` pairs the whole pool at once, exactly as `align docs` does (reader,
cleaner, segmenter, the default model, the pairing's confidence and one-to-one matching).

Gold: the 45 folder pairs, and the true pairs later found among the unpaired pages
(`unpaired/pairs.tsv`, checked by hand). A returned pair is right when it is one of them. Per half (`tune`,
`report` in SPLITS.tsv): recall over that half's gold pairs; precision over the returned pairs whose
ru page belongs to that half's pairs, plus (in both halves) those whose ru page is an unpaired page.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.documents import load_for_pairing, pair_documents  # noqa: E402

REAL = ROOT / "bench" / "data" / "real"


def pool(root: Path = REAL) -> tuple[list[Path], list[Path], dict[Path, Path], dict[Path, str]]:
    """(ru pages, az pages, gold ru → az, half of each pair's ru page)."""
    rows = [line.split("\t") for line in (root / "SPLITS.tsv").read_text(encoding="utf-8").splitlines()[1:] if line]
    ru, az, gold, half = [], [], {}, {}
    for name, split, *_ in rows:
        r, a = root / name / "ru.txt", root / name / "az.txt"
        ru.append(r)
        az.append(a)
        gold[r] = a
        half[r] = split
    sources = [line.split("\t") for line in (root / "unpaired" / "sources.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    for file, _url, lang, *_ in sources:
        (ru if lang == "ru" else az).append(root / "unpaired" / file)
    extra = root / "unpaired" / "pairs.tsv"  # true pairs found among the unpaired pages later
    for line in (extra.read_text(encoding="utf-8").splitlines()[1:] if extra.exists() else []):
        r, a, *_ = line.split("\t")
        gold[root / "unpaired" / r] = root / "unpaired" / a
    return ru, az, gold, half


def scores(pairs: list[tuple[Path, Path]], gold: dict[Path, Path], half: dict[Path, str], which: str) -> dict:
    mine = [(r, a) for r, a in pairs if half.get(r, which) == which]
    right = sum(gold.get(r) == a for r, a in mine)
    wanted = [r for r, h in half.items() if h == which]
    found = sum((r, gold[r]) in set(pairs) for r in wanted)
    return {"returned": len(mine), "right": right, "gold": len(wanted), "found": found,
            "precision": right / len(mine) if mine else 0.0, "recall": found / len(wanted) if wanted else 0.0}


def main(argv: list[str] | None = None) -> int:
    from quality import default_encoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list wrong and missed pairs")
    args = parser.parse_args(argv)
    ru, az, gold, half = pool()
    result = pair_documents(ru, az, default_encoder())
    pairs = [(Path(p.ru), Path(p.az)) for p in result.pairs]
    print(f"pool: {len(ru)} ru / {len(az)} az pages, {len(gold)} gold pairs; {len(pairs)} pairs returned")
    for which in ("tune", "report"):
        s = scores(pairs, gold, half, which)
        print(f"{which:6s}  precision {s['precision']:.3f} ({s['right']}/{s['returned']})   "
              f"recall {s['recall']:.3f} ({s['found']}/{s['gold']})")
    for which in ("tune", "report"):  # how often the date signal is there at all
        wanted = [(r, a) for r, a in gold.items() if half.get(r) == which]
        dated = [(bool(load_for_pairing(r, "ru").meta.get("date")), bool(load_for_pairing(a, "az").meta.get("date")))
                 for r, a in wanted]
        print(f"{which:6s}  pairs with both pages dated {sum(a and b for a, b in dated)}/{len(wanted)}, "
              f"neither {sum(not a and not b for a, b in dated)}/{len(wanted)}")
    if args.errors:
        returned = set(pairs)
        for p in result.pairs:
            r, a = Path(p.ru), Path(p.az)
            if gold.get(r) != a:
                print(f"  wrong  {r.relative_to(REAL)} ↔ {a.relative_to(REAL)}  confidence {p.score:.2f}")
        reasons = {Path(u.path): u.reason for u in result.unpaired}
        for r, a in gold.items():
            if (r, a) not in returned:
                print(f"  missed {r.relative_to(REAL)}: {reasons.get(r, 'paired elsewhere')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
