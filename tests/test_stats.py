"""`align stats`: counts, score quantiles, histogram, per-document yield, the text report and the PNG."""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from align.review import read_tsv, write_reviewed_tsv
from align.stats import compute_stats, format_stats, quantile, reason_name, write_histogram_png
from align.types import OutputError
from align.write import row_to_pair

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "data" / "review" / "sample.tsv"


@pytest.fixture(scope="module")
def rows():
    return read_tsv(SAMPLE)


@pytest.fixture(scope="module")
def stats(rows):
    return compute_stats(rows)


def test_counts(stats):
    assert stats["rows"] == 26
    assert (stats["kept"], stats["dropped"]) == (16, 10)
    assert stats["aligned"] == 23
    assert stats["unaligned"] == {"ru_only": 1, "az_only": 2}
    assert list(stats["by_kind"]) == ["title", "caption", "paragraph", "sentence"]
    assert stats["by_kind"]["caption"] == {"rows": 4, "kept": 3, "dropped": 1}
    assert list(stats["by_bead"]) == ["1-1", "1-2", "2-1", "0-1", "1-0"]
    assert stats["by_bead"]["1-1"]["rows"] == 21
    assert stats["reasons"]["low-score"] == {"rows": 3, "kept": 0, "dropped": 3}
    assert stats["reasons"]["numbers"] == {"rows": 2, "kept": 0, "dropped": 2}  # "numbers:120|150", "numbers:7|8"
    assert stats["reasons"]["(none)"] == {"rows": 16, "kept": 16, "dropped": 0}
    assert stats["flags"] == {"score": 3, "numbers": 2, "length-ratio": 2, "language": 1}
    assert stats["verdicts"] is None


def test_score_summary_matches_numpy(rows, stats):
    scores = np.array([float(r["score"]) for r in rows if r["ru_ids"] and r["az_ids"]])
    summary = stats["score"]
    assert summary["count"] == len(scores) == 23
    for name, q in (("q10", 0.1), ("q25", 0.25), ("median", 0.5), ("q75", 0.75), ("q90", 0.9)):
        assert summary[name] == pytest.approx(np.quantile(scores, q))
    assert summary["min"] == pytest.approx(0.312) and summary["max"] == pytest.approx(0.9112)
    assert summary["mean"] == pytest.approx(scores.mean())


def test_histogram(stats):
    hist = stats["histogram"]
    assert len(hist["edges"]) == len(hist["counts"]) + 1 == 21
    assert hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
    assert sum(hist["counts"]) == 23
    assert sum(hist["kept"]) == 16  # every kept row in the sample is aligned
    assert all(k <= c for k, c in zip(hist["kept"], hist["counts"]))
    assert hist["counts"][6] == 1  # the 0.3120 row: bin [0.30, 0.35)


def test_per_document_yield(stats):
    docs = {d["doc"]: d for d in stats["documents"]}
    assert list(docs) == ["news-2024-03-11-metro", "news-2024-03-12-caspian", "news-2024-03-14-chess"]
    metro = docs["news-2024-03-11-metro"]
    # by hand: ru ids 0-9, az ids 0-8; kept aligned rows hold ru {0,1,2,3,4,7} and az {0,1,3,4,6}
    assert (metro["rows"], metro["kept"], metro["ru_units"], metro["az_units"]) == (10, 5, 10, 9)
    assert (metro["ru_kept"], metro["az_kept"]) == (6, 5)
    assert metro["yield"] == pytest.approx(11 / 19)
    units = sum(d["ru_units"] + d["az_units"] for d in docs.values())
    used = sum(d["ru_kept"] + d["az_kept"] for d in docs.values())
    assert stats["yield"] == pytest.approx(used / units)


def test_pairs_give_the_same_stats(rows, stats):
    assert compute_stats([row_to_pair(r) for r in rows]) == stats


def test_verdicts_of_a_reviewed_file(rows, tmp_path):
    verdicts = ["accepted"] * 20 + ["rejected"] * 4 + ["edited", "unreviewed"]
    reviewed = read_tsv(write_reviewed_tsv(rows, verdicts, tmp_path / "r.tsv"))
    assert compute_stats(reviewed)["verdicts"] == {"accepted": 20, "edited": 1, "rejected": 4, "unreviewed": 1}


def test_empty_and_all_null_inputs():
    empty = compute_stats([])
    assert empty["rows"] == 0 and empty["score"]["count"] == 0 and empty["histogram"]["edges"] == []
    assert "no aligned rows" in format_stats(empty)
    null = {"doc": "d", "kind": "sentence", "bead": "1-0", "ru_ids": "0", "az_ids": "", "ru": "Да.", "az": "",
            "score": "0.0000", "similarity": "0", "margin": "0", "length_ratio": "0", "flags": "", "keep": "0",
            "reason": "null"}
    stats = compute_stats([null])
    assert stats["score"]["count"] == 0 and stats["documents"][0]["yield"] == 0.0


def test_scores_outside_unit_range_widen_the_histogram():
    row = {"doc": "d", "kind": "sentence", "bead": "1-1", "ru_ids": "0", "az_ids": "0", "ru": "a", "az": "b",
           "similarity": "0", "margin": "0", "length_ratio": "1", "flags": "", "keep": "1", "reason": ""}
    stats = compute_stats([dict(row, score="-0.25"), dict(row, score="1.3")])
    hist = stats["histogram"]
    assert hist["edges"][0] == pytest.approx(-0.3) and hist["edges"][-1] == pytest.approx(1.3)
    assert sum(hist["counts"]) == 2 and hist["counts"][-1] == 1


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=50), st.floats(0, 1))
def test_quantile_matches_numpy(values, q):
    assert quantile(sorted(values), q) == pytest.approx(float(np.quantile(values, q)), abs=1e-9)


def test_format_stats_is_a_readable_table(stats):
    text = format_stats(stats)
    lines = text.splitlines()
    assert lines[0].startswith("rows 26   kept 16 (61.5%)   dropped 10")
    assert any(line.split() == ["title", "3", "3", "0"] for line in lines)
    assert any(line.split() == ["low-score", "3", "0", "3"] for line in lines)
    assert "median" in text and "0.842" in text
    assert any(line.startswith("0.85–0.90") and line.split()[1] == "8" for line in lines)
    metro = next(line for line in lines if line.startswith("news-2024-03-11-metro"))
    assert metro.split() == ["news-2024-03-11-metro", "10", "5", "10", "9", "57.9%"]
    assert "… and 2 more documents" in format_stats(stats, max_docs=1)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_histogram_png(stats, tmp_path):
    out = write_histogram_png(stats, tmp_path / "sub" / "hist.png")
    assert png_size(out) == (1100, 440)
    assert out.stat().st_size > 10_000
    empty = write_histogram_png(compute_stats([]), tmp_path / "empty.png")
    assert png_size(empty) == (1100, 440)


def test_histogram_png_unwritable(stats, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_histogram_png(stats, blocker / "hist.png")


def test_cli_stats(tmp_path):
    png = tmp_path / "h.png"
    done = subprocess.run(
        [sys.executable, "-m", "align", "stats", str(SAMPLE), "--png", str(png)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rows 26   kept 16")
    assert png_size(png) == (1100, 440)


@pytest.mark.parametrize("reason, name", [
    ("", ""), ("low-score", "low-score"), ("score<0.5", "score"), ("numbers:120|150", "numbers"),
    ("language:az=en", "language"), ("length-ratio:3.21", "length-ratio"),
])
def test_reason_name(reason, name):
    assert reason_name(reason) == name
