"""Which per-bead cues separate real merges from over-merged neighbours (tuning sets only).

    python bench/merge_cues.py

For the merged beads of the gold (``GOLD``) and the merged beads our aligner predicts that the gold
does not have (``FALSE``), on Bleualign de-fr dev and the NTREX dev set (seeds 13, 14, 15), prints
the quartiles of:

* 2-2 beads — ``diag``: the mean cosine of the diagonal 1-1 pairs minus the mean of the crossing
  pairs (how much the bead looks like two 1-1 pairs by meaning);
* 2-2 beads — ``length``: the worst diagonal pair's |log char ratio − centre| (centre: the median of
  the document's gold 1-1 pairs) — the cue behind the aligner's diagonal penalty;
* 1-2 / 2-1 beads — ``member ŝ``: the lowest rescaled margin (0 = typical wrong pair, 1 = typical
  right pair) of a unit of the many side against the one side (does every unit belong?).
"""
from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality import default_encoder, load_set  # noqa: E402

from align import dp  # noqa: E402
from align.aligner import DEFAULT, _as_unit_rows, align_units, prepare  # noqa: E402
from align.eval import as_id_links  # noqa: E402


def _quartiles(values: list[float]) -> str:
    if not values:
        return "—"
    q = np.quantile(values, [0.25, 0.5, 0.75])
    return f"{q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}"


def doc_cues(ru, az, gold, encoder) -> dict[tuple[str, str], list[float]]:
    """Cue values of one document's merged beads, keyed by (cue, GOLD|FALSE)."""
    R = _as_unit_rows(encoder.encode([u.text for u in ru]))
    A = _as_unit_rows(encoder.encode([u.text for u in az]))
    ru_len = np.array([len(u.text) for u in ru], float)
    az_len = np.array([len(u.text) for u in az], float)
    doc = prepare(R, A, DEFAULT, None, None, ru_len, az_len)
    x, sc = doc.inputs, doc.scoring
    gold_set = {(tuple(a), tuple(b)) for a, b in gold}
    test = {(tuple(a), tuple(b)) for a, b in as_id_links(align_units(ru, az, encoder))}
    ones = [math.log((ru_len[a[0]] + 1) / (az_len[b[0]] + 1)) for a, b in gold_set if len(a) == len(b) == 1]
    centre = float(np.median(ones)) if ones else 0.0
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a, b in gold_set | test:
        tag = "GOLD" if (a, b) in gold_set else "FALSE"
        if len(a) == 2 and len(b) == 2:
            C = R[list(a)] @ A[list(b)].T
            out[("2-2 diag", tag)].append(float((C[0, 0] + C[1, 1] - C[0, 1] - C[1, 0]) / 2))
            out[("2-2 length", tag)].append(max(abs(math.log((ru_len[a[k]] + 1) / (az_len[b[k]] + 1)) - centre)
                                                for k in range(2)))
        elif a and b and len(a) + len(b) == 3:
            one, many, ru_many = (a, b, False) if len(a) == 1 else (b, a, True)
            beads = [(k, k + 1, one[0], one[0] + 1) if ru_many else (one[0], one[0] + 1, k, k + 1) for k in many]
            margins = dp.bead_values(x, sc, beads)[:, 1]
            out[("1-n member ŝ", tag)].append(float(((margins - sc.floor) * sc.scale).min()))
    return out


def main() -> int:
    encoder = default_encoder()
    print(f"{'set':14} {'cue':14} {'GOLD n':>6} {'GOLD quartiles':>20} {'FALSE n':>7} {'FALSE quartiles':>20}")
    for name, seeds in (("bleualign-dev", (13,)), ("dev", (13, 14, 15))):
        cues: dict[tuple[str, str], list[float]] = defaultdict(list)
        for _, ru, az, gold in load_set(name, seeds):
            for key, values in doc_cues(ru, az, gold, encoder).items():
                cues[key] += values
        for cue in ("2-2 diag", "2-2 length", "1-n member ŝ"):
            g, f = cues[(cue, "GOLD")], cues[(cue, "FALSE")]
            print(f"{name:14} {cue:14} {len(g):6d} {_quartiles(g):>20} {len(f):7d} {_quartiles(f):>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
