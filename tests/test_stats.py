"""`align stats`: counts, score quantiles, histogram, per-document yield, the text report and the PNG."""
from __future__ import annotations

import re
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


# --------------------------------------------------------------------------- bad input: one line, exit 3
from hypothesis import HealthCheck, settings  # noqa: E402

from align.review import COLUMNS  # noqa: E402
from align.types import InputError  # noqa: E402

HEADER = "\t".join(COLUMNS)
ROW = "d1\tsentence\t1-1\t0\t0\tПривет.\tSalam.\t0.9000\t0.9\t0.2\t1.0\t\t1\t"


def stats_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "align", "stats", str(path)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


BAD_TSVS = {
    "nan score": (ROW.replace("0.9000", "nan"), ":3: score 'nan' is not a finite number"),
    "inf score": (ROW.replace("0.9000", "inf"), ":3: score 'inf' is not a finite number"),
    "overflowing score": (ROW.replace("0.9000", "1e999"), ":3: score '1e999' is not a finite number"),
    "-inf margin": (ROW.replace("\t0.2\t", "\t-inf\t"), ":3: margin '-inf' is not a finite number"),
    "garbage score": (ROW.replace("0.9000", "0.9x"), ":3: score '0.9x' is not a number"),
    "ragged row": ("\t".join(ROW.split("\t")[:9]), ":3: expected 14 tab-separated fields, found 9"),
    "huge id": (ROW.replace("\t0\t0\t", "\t" + "9" * 5000 + "\t0\t"), ":3: ru_ids"),
}


@pytest.mark.parametrize("case", sorted(BAD_TSVS))
def test_cli_stats_bad_rows_exit_3_with_file_and_line(tmp_path, case):
    line, message = BAD_TSVS[case]
    path = tmp_path / "bad.tsv"
    path.write_text(f"{HEADER}\n{ROW}\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)):
        read_tsv(path)
    done = stats_cli(path)
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and f"{path}{message}" in done.stderr, done.stderr


def test_cli_stats_missing_columns_and_binary_exit_3(tmp_path):
    missing = tmp_path / "missing.tsv"
    missing.write_text("doc\tkind\tbead\tru\taz\tscore\nd\tsentence\t1-1\tА\tB\t0.5\n", encoding="utf-8")
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 20)
    for path, message in ((missing, "missing column(s) ru_ids, az_ids"), (binary, "not UTF-8")):
        done = stats_cli(path)
        assert done.returncode == 3 and done.stderr.count("\n") == 1, done.stderr
        assert str(path) in done.stderr and message in done.stderr, done.stderr


def test_non_finite_scores_of_pairs_are_left_out_of_the_summary(rows):
    pairs = [row_to_pair(r) for r in rows]
    broken = [pairs[0].__class__(**{**pairs[0].__dict__, "score": float("nan")}), *pairs[1:]]
    stats = compute_stats(broken)
    assert stats["score"]["count"] == compute_stats(pairs)["score"]["count"] - 1
    assert "score over" in format_stats(stats)


CELLS = st.sampled_from(["", "0", "1", "0,1", "1-1", "0-1", "sentence", "title", "0.5", "nan", "inf", "-1e400",
                         "9" * 30, "x", "Привет", "\r", "\ufeff", "1e5", "keep", "verdict", "accepted"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=200),
    st.lists(st.lists(CELLS, min_size=12, max_size=16), max_size=5).map(
        lambda rows: (HEADER + "\n" + "".join("\t".join(r) + "\n" for r in rows)).encode("utf-8")),
    st.lists(st.sampled_from([ROW, ROW.replace("0.9000", ""), ROW.replace("\t0\t0\t", "\t0\t\t"),
                              ROW.replace("1-1", "1-0")]), max_size=6).map(
        lambda rows: (HEADER + "\n" + "\n".join(rows)).encode("utf-8")),
))
def test_stats_reader_gives_a_result_or_an_input_error(tmp_path, data):
    path = tmp_path / "any.tsv"
    path.write_bytes(data)
    try:
        rows = read_tsv(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    stats = compute_stats(rows)
    assert stats["rows"] == len(rows)
    format_stats(stats)
