"""Statistics of an aligned TSV: counts, keep/drop reasons, score distribution, per-document yield.

    rows ─compute_stats→ dict ─format_stats→ a text table
                              └write_histogram_png→ a PNG (matplotlib, Agg)

Scores are summarised over aligned rows only (both sides present): a null row has no score to speak
of; an empty score cell counts as unscored. (`align.review.read_tsv` refuses a cell that is not a
finite number, ``nan`` and ``inf`` included, with its file and line; `Pair` rows with a non-finite
score are left out of the summary.) A document's *yield* is the share of its units (Russian and Azerbaijani together) that end up in
kept aligned rows. Reasons are counted by filter name, the part before any detail
(``numbers:120|150`` → ``numbers``, ``score<0.5`` → ``score``).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .types import OutputError, Pair

KIND_ORDER = ("title", "caption", "paragraph", "sentence")
QUANTILES = {"q10": 0.10, "q25": 0.25, "median": 0.50, "q75": 0.75, "q90": 0.90}
HISTOGRAM_BINS = 20


def compute_stats(rows: Iterable[Mapping[str, str] | Pair]) -> dict[str, Any]:
    """Summarise TSV rows (dicts of cells as `align.review.read_tsv` returns, or `Pair` objects).

    >>> from align.review import read_tsv
    >>> stats = compute_stats(read_tsv("out/page.tsv"))   # doctest: +SKIP
    >>> stats["rows"], stats["kept"], stats["score"]["median"]  # doctest: +SKIP
    (26, 18, 0.84)
    """
    table = [_as_row(row) for row in rows]
    kept = [row["keep"] == "1" for row in table]
    aligned = [bool(row["ru_ids"]) and bool(row["az_ids"]) for row in table]
    scores = [_score(row) for row, ok in zip(table, aligned) if ok and _score(row) is not None]
    kept_scores = [_score(row) for row, ok, keep in zip(table, aligned, kept) if ok and keep and _score(row) is not None]
    stats: dict[str, Any] = {
        "rows": len(table),
        "kept": sum(kept),
        "dropped": len(table) - sum(kept),
        "aligned": sum(aligned),
        "unaligned": {
            "ru_only": sum(1 for row in table if row["ru_ids"] and not row["az_ids"]),
            "az_only": sum(1 for row in table if row["az_ids"] and not row["ru_ids"]),
        },
        "by_kind": _kept_dropped(table, kept, "kind", order=KIND_ORDER),
        "by_bead": _kept_dropped(table, kept, "bead", key=_bead_order),
        "reasons": _kept_dropped([{"reason": reason_name(row["reason"])} for row in table], kept, "reason"),
        "flags": dict(Counter(f for row in table for f in row["flags"].split(",") if f).most_common()),
        "verdicts": _verdicts(table),
        "score": _summary(scores),
        "histogram": _histogram(scores, kept_scores),
        "documents": _documents(table, kept, aligned),
    }
    units = sum(d["ru_units"] + d["az_units"] for d in stats["documents"])
    used = sum(d["ru_kept"] + d["az_kept"] for d in stats["documents"])
    stats["yield"] = used / units if units else 0.0
    return stats


def _score(row: Mapping[str, str]) -> float | None:
    """The row's score, or None when it has none (an empty cell) or it is not a finite number."""
    try:
        value = float(row["score"])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def reason_name(reason: str) -> str:
    """The filter name of a reason: ``"length-ratio:3.21"`` → ``"length-ratio"``."""
    return re.split(r"[:<>=]", reason, maxsplit=1)[0].strip()


def _as_row(row: Mapping[str, str] | Pair) -> Mapping[str, str]:
    if isinstance(row, Pair):
        from .write import pair_to_row

        return pair_to_row(row)
    return row


def _kept_dropped(table, kept, column, order=(), key=None) -> dict[str, dict[str, int]]:
    """Rows, kept and dropped per value of ``column``; values in ``order`` first, then by ``key``."""
    out: dict[str, dict[str, int]] = {}
    for row, keep in zip(table, kept):
        value = row[column] or "(none)"
        entry = out.setdefault(value, {"rows": 0, "kept": 0, "dropped": 0})
        entry["rows"] += 1
        entry["kept" if keep else "dropped"] += 1
    rank = {value: i for i, value in enumerate(order)}
    sort_key = key or (lambda v: (rank.get(v, len(rank)), -out[v]["rows"], v))
    return {value: out[value] for value in sorted(out, key=sort_key)}


def _bead_order(bead: str) -> tuple:
    """1-1 first, then the other many-to-many beads by size, nulls last."""
    try:
        ru, az = (int(x) for x in bead.split("-"))
    except ValueError:
        return (3, 0, bead)
    return (2 if 0 in (ru, az) else 0 if (ru, az) == (1, 1) else 1, ru + az, bead)


def _verdicts(table) -> dict[str, int] | None:
    if not table or "verdict" not in table[0]:
        return None
    counts = Counter(row.get("verdict") or "unreviewed" for row in table)
    order = ("accepted", "edited", "rejected", "unreviewed")
    return {v: counts[v] for v in order if counts[v]} | {v: n for v, n in counts.items() if v not in order}


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of already sorted values (numpy's default method)."""
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def _summary(scores: Sequence[float]) -> dict[str, float | int | None]:
    values = sorted(scores)
    if not values:
        return {"count": 0, "mean": None, "min": None, **{k: None for k in QUANTILES}, "max": None}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        "min": values[0],
        **{name: quantile(values, q) for name, q in QUANTILES.items()},
        "max": values[-1],
    }


def _histogram(scores: Sequence[float], kept_scores: Sequence[float]) -> dict[str, list]:
    """Counts of scores (and of kept scores) in equal bins over [0, 1], or wider if scores fall outside."""
    if not scores:
        return {"edges": [], "counts": [], "kept": []}
    low = min(0.0, math.floor(min(scores) * 10) / 10)
    high = max(1.0, math.ceil(max(scores) * 10) / 10)
    width = (high - low) / HISTOGRAM_BINS
    edges = [round(low + i * width, 10) for i in range(HISTOGRAM_BINS + 1)]

    def counts(values: Sequence[float]) -> list[int]:
        out = [0] * HISTOGRAM_BINS
        for value in values:
            out[min(int((value - low) / width), HISTOGRAM_BINS - 1)] += 1
        return out

    return {"edges": edges, "counts": counts(scores), "kept": counts(kept_scores)}


def _ids(cell: str) -> set[int]:
    return {int(x) for x in cell.split(",") if x}


def _documents(table, kept, aligned) -> list[dict[str, Any]]:
    """Per document, in order of first appearance: rows, kept rows, units and units in kept pairs."""
    docs: dict[str, dict[str, Any]] = {}
    for row, keep, ok in zip(table, kept, aligned):
        d = docs.setdefault(row["doc"], {"rows": 0, "kept": 0, "ru": set(), "az": set(), "ru_k": set(), "az_k": set()})
        d["rows"] += 1
        d["kept"] += keep
        ru, az = _ids(row["ru_ids"]), _ids(row["az_ids"])
        d["ru"] |= ru
        d["az"] |= az
        if keep and ok:
            d["ru_k"] |= ru
            d["az_k"] |= az
    out = []
    for doc, d in docs.items():
        units = len(d["ru"]) + len(d["az"])
        used = len(d["ru_k"]) + len(d["az_k"])
        out.append({
            "doc": doc, "rows": d["rows"], "kept": d["kept"],
            "ru_units": len(d["ru"]), "az_units": len(d["az"]),
            "ru_kept": len(d["ru_k"]), "az_kept": len(d["az_k"]),
            "yield": used / units if units else 0.0,
        })
    return out


# --------------------------------------------------------------------------- text
def format_stats(stats: Mapping[str, Any], max_docs: int = 50) -> str:
    """A human-readable report of `compute_stats` output: tables and a text histogram."""
    n = stats["rows"]
    out = [
        f"rows {n}   kept {stats['kept']} ({_pct(stats['kept'], n)})   dropped {stats['dropped']}   "
        f"aligned {stats['aligned']}   ru only {stats['unaligned']['ru_only']}   "
        f"az only {stats['unaligned']['az_only']}   yield {stats['yield']:.1%}",
    ]
    for title, table in (("kind", stats["by_kind"]), ("bead", stats["by_bead"]), ("reason", stats["reasons"])):
        out += ["", *_table([title, "rows", "kept", "dropped"],
                            [[k, v["rows"], v["kept"], v["dropped"]] for k, v in table.items()])]
    if stats["flags"]:
        out += ["", "flags     " + "   ".join(f"{f} {c}" for f, c in stats["flags"].items())]
    if stats["verdicts"]:
        out += ["", "verdicts  " + "   ".join(f"{v} {c}" for v, c in stats["verdicts"].items())]
    score = stats["score"]
    out.append("")
    if score["count"]:
        names = ["min", *QUANTILES, "max", "mean"]
        out.append(f"score over {score['count']} aligned rows: "
                   + "  ".join(f"{k} {score[k]:.3f}" for k in names))
        out += ["", *_text_histogram(stats["histogram"])]
    else:
        out.append("score     no aligned rows")
    docs = stats["documents"]
    rows = [[d["doc"], d["rows"], d["kept"], d["ru_units"], d["az_units"], f"{d['yield']:.1%}"]
            for d in docs[:max_docs]]
    out += ["", *_table(["document", "rows", "kept", "ru units", "az units", "yield"], rows)]
    if len(docs) > max_docs:
        out.append(f"… and {len(docs) - max_docs} more documents")
    return "\n".join(out)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "0.0%"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        first = row[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    return lines


def _text_histogram(hist: Mapping[str, list], width: int = 40) -> list[str]:
    counts, kept, edges = hist["counts"], hist["kept"], hist["edges"]
    nonzero = [i for i, c in enumerate(counts) if c]
    if not nonzero:
        return []
    top = max(counts)
    lines = ["score         rows  (█ kept, ░ dropped)"]
    for i in range(nonzero[0], nonzero[-1] + 1):
        k = round(width * kept[i] / top)
        d = round(width * counts[i] / top) - k
        lines.append(f"{edges[i]:.2f}–{edges[i + 1]:.2f}  {counts[i]:5d}  {'█' * k}{'░' * d}")
    return lines


# --------------------------------------------------------------------------- picture
def write_histogram_png(stats: Mapping[str, Any], path: str | Path) -> Path:
    """Draw the score histogram (kept / dropped stacked) and per-document yields into a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from .write import atomic_write

    fig = Figure(figsize=(10, 4), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    hist, score = stats["histogram"], stats["score"]
    if hist["edges"]:
        edges = hist["edges"]
        width = edges[1] - edges[0]
        dropped = [c - k for c, k in zip(hist["counts"], hist["kept"])]
        left.bar(edges[:-1], hist["kept"], width=width, align="edge", color="#2e7d4f", label="kept", edgecolor="white")
        left.bar(edges[:-1], dropped, width=width, align="edge", bottom=hist["kept"], color="#d9534f",
                 label="dropped", edgecolor="white")
        left.axvline(score["median"], color="#1d2330", linestyle="--", linewidth=1,
                     label=f"median {score['median']:.2f}")
        left.set_xlim(edges[0], edges[-1])
        left.legend(frameon=False)
    else:
        left.text(0.5, 0.5, "no aligned rows", ha="center", va="center", transform=left.transAxes)
    left.set_title(f"Score of {score['count']} aligned rows")
    left.set_xlabel("score")
    left.set_ylabel("rows")

    yields = [d["yield"] for d in stats["documents"]]
    if yields:
        right.hist(yields, bins=[i / 10 for i in range(11)], color="#3b6fd8", edgecolor="white")
        right.set_xlim(0, 1)
    right.set_title(f"Yield of {len(yields)} documents (overall {stats['yield']:.0%})")
    right.set_xlabel("share of units in kept pairs")
    right.set_ylabel("documents")
    for axes in (left, right):
        axes.spines[["top", "right"]].set_visible(False)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))

    path = Path(path)
    try:
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format="png")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
