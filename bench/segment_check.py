"""Sentence-splitter check on FLORES dev (parallel ru/az lines, each one or more full sentences).

No gold sentence boundaries exist, so the proxy is agreement in piece counts between the two sides:
- az over-split: lines the az splitter cuts into more pieces than razdel cuts the ru line;
- az under-split: lines it cuts into fewer pieces.
- suspicious splits: cuts right after an abbreviation-shaped token (≤ 3 chars before the ".", and
  capitalised, dotted or a single letter: "Jr.", "Şək.", "St.", "Z.", "s."),
  the usual signature of an abbreviation mistaken for a sentence end (most over-splits above are
  the translator's own choice, not splitter errors; these are the ones worth reading).
Printed for our rule-based az splitter and, for comparison, for razdel run on the az text.
The same lines also give the accuracy of align.lang.detect_language (ru, az, and en lines).

    .venv/bin/python bench/segment_check.py [--split dev]
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from razdel import sentenize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align.lang import detect_language  # noqa: E402
from align.segment import split_sentences  # noqa: E402

FLORES = ROOT.parent / "shared" / "data" / "flores200"


SHORT_END = re.compile(r"(?:^|[\s(«\"])(?:[^\W\d_]|[A-ZƏÖÜĞİŞÇ]\S{0,2}|\S?\.\S?)\.$")


def compare(ru_lines: list[str], az_lines: list[str], split_az) -> tuple[int, int, int, int, list[tuple[str, list[str]]]]:
    over = under = multi = suspicious = 0
    examples = []
    for ru, az in zip(ru_lines, az_lines):
        n_ru = len(split_sentences(ru, "ru"))
        pieces = split_az(az)
        multi += n_ru > 1
        suspicious += sum(bool(SHORT_END.search(p)) for p in pieces[:-1])
        if len(pieces) > n_ru:
            over += 1
            examples.append((ru, pieces))
        elif len(pieces) < n_ru:
            under += 1
    return over, under, multi, suspicious, examples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", help="FLORES split (tune on dev; devtest is held out)")
    parser.add_argument("--examples", type=int, default=5)
    args = parser.parse_args()
    if not FLORES.is_dir():
        print(f"{FLORES} not present: nothing to measure")
        return 1
    ru = (FLORES / f"rus_Cyrl.{args.split}").read_text(encoding="utf-8").splitlines()
    az = (FLORES / f"azj_Latn.{args.split}").read_text(encoding="utf-8").splitlines()
    print(f"FLORES {args.split}: {len(az)} line pairs")
    for name, split_az in (
        ("rule-based az splitter", lambda t: split_sentences(t, "az")),
        ("razdel on az (comparison)", lambda t: [s.text for s in sentenize(t)]),
    ):
        t0 = time.perf_counter()
        over, under, multi, suspicious, examples = compare(ru, az, split_az)
        ms = (time.perf_counter() - t0) * 1000
        n = len(az)
        print(
            f"{name:28s} over-split {over:3d} ({over / n:.1%})  under-split {under:3d} ({under / n:.1%})  "
            f"agree {(n - over - under) / n:.1%}  suspicious splits {suspicious}  "
            f"[ru lines with >1 sentence: {multi}]  {ms:.0f} ms"
        )
        for ru_line, pieces in examples[: args.examples]:
            print(f"    ru: {ru_line[:110]}")
            print(f"    az: {' ‖ '.join(pieces)[:200]}")
    for name, lang in (("rus_Cyrl", "ru"), ("azj_Latn", "az"), ("eng_Latn", "en")):
        lines = (FLORES / f"{name}.{args.split}").read_text(encoding="utf-8").splitlines()
        t0 = time.perf_counter()
        correct = sum(detect_language(line) == lang for line in lines)
        ms = (time.perf_counter() - t0) * 1000
        print(f"detect_language on {name}.{args.split}: {correct}/{len(lines)} = {correct / len(lines):.3f} '{lang}'  {ms:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
