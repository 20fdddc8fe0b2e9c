"""Export: a reviewed TSV (or a plain one) → Moses, TMX, JSONL or bitext of the rows a person kept.

Which rows go out:
* a **reviewed** TSV (it has the ``verdict`` column written by the review page): rows marked
  ``accepted`` or ``edited`` (an edited row with its corrected text); ``rejected`` and ``unreviewed``
  rows stay out;
* a **plain** TSV (no review yet): the rows the aligner kept (``keep`` = 1).
Only rows with text on both sides are exported.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .review.tsv import VERDICT, read_tsv, verdict_of
from .types import Pair
from .write import row_to_pair

EXPORT_FORMATS = ("moses", "tmx", "jsonl", "bitext")
EXPORTED_VERDICTS = ("accepted", "edited")


@dataclass(frozen=True)
class Export:
    """The exported rows and how many of each kind were left out."""

    pairs: list[Pair]
    reviewed: bool
    left_out: dict[str, int]

    def summary(self, source: str | Path) -> str:
        kind = "reviewed" if self.reviewed else "plain (not reviewed: kept rows)"
        out = ", ".join(f"{n} {why}" for why, n in self.left_out.items() if n) or "none"
        return f"{source}: {len(self.pairs)} rows exported from a {kind} TSV; left out: {out}"


def select_rows(rows: list[dict[str, str]]) -> Export:
    """The rows to export (as kept `Pair`s) and the counts of those left out, by reason."""
    reviewed = any(VERDICT in row for row in rows)
    left_out = {"rejected": 0, "unreviewed": 0, "not kept": 0, "one-sided": 0}
    pairs = []
    for row in rows:
        if reviewed:
            verdict = verdict_of(row)
            if verdict not in EXPORTED_VERDICTS:
                left_out[verdict] += 1
                continue
        elif row["keep"] != "1":
            left_out["not kept"] += 1
            continue
        if not (row["ru"].strip() and row["az"].strip()):
            left_out["one-sided"] += 1
            continue
        pairs.append(replace(row_to_pair(row), keep=True))
    return Export(pairs, reviewed, left_out)


def export_tsv(path: str | Path) -> Export:
    """Read a plain or reviewed align TSV (InputError with file:line when malformed) and select its rows."""
    return select_rows(read_tsv(path))
