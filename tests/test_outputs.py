"""Outputs never destroy inputs, stay where they are asked to go and are written whole (issue 16)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE
from test_cli import assert_one_line_error, run_align

from align.types import Pair
from align.write import format_bitext, write_pairs


def _pair(ru: str, az: str, keep: bool = True, score: float = 0.9) -> Pair:
    return Pair(doc="d", kind="sentence", ru_ids=(0,) if ru else (), az_ids=(0,) if az else (), ru=ru, az=az,
                score=score, similarity=0.8, margin=0.1, length_ratio=1.0, flags=(), keep=keep, reason="")


def _copy_sample(tmp_path: Path) -> tuple[Path, Path]:
    ru, az = tmp_path / "ru.txt", tmp_path / "az.txt"
    ru.write_bytes((SAMPLE / "ru.txt").read_bytes())
    az.write_bytes((SAMPLE / "az.txt").read_bytes())
    return ru, az


@pytest.mark.parametrize("which", ["ru", "az"])
def test_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, which):
    ru, az = _copy_sample(tmp_path)
    target = ru if which == "ru" else az
    before = target.read_bytes()
    proc = run_align("pair", ru, az, "-o", target)
    assert_one_line_error(proc, 5, "is the input")
    assert target.read_bytes() == before


def test_output_through_a_link_to_an_input_is_refused(tmp_path):
    ru, az = _copy_sample(tmp_path)
    (tmp_path / "soft.tsv").symlink_to(az)
    os.link(az, tmp_path / "hard.tsv")
    for link in ("soft.tsv", "hard.tsv"):
        proc = run_align("pair", ru, az, "-o", tmp_path / link)
        assert_one_line_error(proc, 5, "is the input")
    assert az.read_bytes() == (SAMPLE / "az.txt").read_bytes()


def test_moses_base_whose_file_is_an_input_is_refused(tmp_path):
    ru = tmp_path / "article.ru"
    az = tmp_path / "article.az"
    ru.write_bytes((SAMPLE / "ru.txt").read_bytes())
    az.write_bytes((SAMPLE / "az.txt").read_bytes())
    proc = run_align("pair", ru, az, "--format", "moses", "-o", tmp_path / "article")
    assert_one_line_error(proc, 5, "is the input")
    assert ru.read_bytes() == (SAMPLE / "ru.txt").read_bytes()


def test_moses_without_output_is_refused_before_any_work(tmp_path):
    # A model that does not exist would fail with exit 4 if the model were loaded first.
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "--format", "moses",
                     "--model", tmp_path / "no-model")
    assert_one_line_error(proc, 2, "-o BASE")


def test_docs_output_inside_an_input_folder_is_refused(tmp_path):
    ru_dir, az_dir = tmp_path / "ru", tmp_path / "az"
    ru_dir.mkdir(), az_dir.mkdir()
    (ru_dir / "a.txt").write_bytes((SAMPLE / "ru.txt").read_bytes())
    (az_dir / "a.txt").write_bytes((SAMPLE / "az.txt").read_bytes())
    proc = run_align("docs", ru_dir, az_dir, "-o", az_dir / "pairs.tsv")
    assert_one_line_error(proc, 5, "inside the input folder")
    assert sorted(p.name for p in az_dir.iterdir()) == ["a.txt"]


@pytest.mark.parametrize("name", ["../escaped", "a/../../escaped", "/tmp/abs-escaped", "..", "x/"])
def test_manifest_names_stay_inside_out_dir(tmp_path, name):
    from align.cli import read_manifest

    manifest = tmp_path / "m.tsv"
    manifest.write_text(f"{SAMPLE / 'ru.txt'}\t{SAMPLE / 'az.txt'}\tgood\n"
                        f"{SAMPLE / 'ru.txt'}\t{SAMPLE / 'az.txt'}\t{name}\n", encoding="utf-8")
    jobs, bad = read_manifest(manifest)
    assert [j[2] for j in jobs] == ["good"]
    assert len(bad) == 1 and bad[0].startswith(f"{manifest}:2: name") and "skipped" in bad[0]


def test_manifest_summary_counts_every_line():
    from align.cli import manifest_summary

    assert manifest_summary(5, 3, 0, 1.0).startswith("2 of 5 manifest lines aligned (3 skipped: bad lines)")
    assert manifest_summary(4, 1, 1, 1.0).startswith("2 of 4 manifest lines aligned (1 skipped: bad lines; 1 failed)")
    assert manifest_summary(2, 0, 0, 1.0).startswith("2 of 2 manifest lines aligned in")


def test_bitext_is_headerless_kept_parallel_rows():
    pairs = [_pair("Один.", "Bir."), _pair("Два.", "", keep=False), _pair("Три.", "Üç.", keep=False),
             _pair("Тab\tв тексте", "Tab\tmətndə", score=0.51234)]
    assert list(format_bitext(pairs)) == ["Один.\tBir.\t0.9000\n", "Тab в тексте\tTab mətndə\t0.5123\n"]


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from align.types import Pair, OutputError
from align.write import write_pairs
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
pairs = [Pair(doc="d", kind="sentence", ru_ids=(i,), az_ids=(i,), ru="р" * 30, az="a" * 400, score=0.9,
              similarity=0.9, margin=0.1, length_ratio=1.0, flags=(), keep=True, reason="") for i in range(50)]
try:
    write_pairs(pairs, Path({base!r}), "moses")
except OutputError as exc:
    print("refused:", exc)
    sys.exit(5)
"""


def test_moses_pair_on_a_full_disk_keeps_both_old_files(tmp_path):
    base = tmp_path / "corpus"
    old_ru, old_az = "старое\n", "köhnə\n"
    (tmp_path / "corpus.ru").write_text(old_ru, encoding="utf-8")
    (tmp_path / "corpus.az").write_text(old_az, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK.format(repo=str(REPO), base=str(base))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 5, proc.stderr
    assert (tmp_path / "corpus.ru").read_text(encoding="utf-8") == old_ru  # .ru fits, but is not replaced alone
    assert (tmp_path / "corpus.az").read_text(encoding="utf-8") == old_az
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.az", "corpus.ru"]


_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from align.types import Pair
from align import write
renames = []
real_replace = os.replace
def replace_then_die(src, dst):
    if str(dst).endswith(".az"):  # the .ru file is in place, the .az one not yet: the worst moment
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
write.os.replace = replace_then_die
pairs = [Pair(doc="d", kind="sentence", ru_ids=(0,), az_ids=(0,), ru="новое", az="yeni", score=0.9,
              similarity=0.9, margin=0.1, length_ratio=1.0, flags=(), keep=True, reason="")]
write.write_pairs(pairs, Path({base!r}), "moses")
"""


def test_moses_pair_killed_between_its_renames_is_completed_by_the_next_write(tmp_path):
    from align.write import finish_commit, moses_journal
    base = tmp_path / "corpus"
    (tmp_path / "corpus.ru").write_text("старое\n", encoding="utf-8")
    (tmp_path / "corpus.az").write_text("köhnə\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_RENAMES.format(repo=str(REPO), base=str(base))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert (tmp_path / "corpus.ru").read_text(encoding="utf-8") == "новое\n"
    assert (tmp_path / "corpus.az").read_text(encoding="utf-8") == "köhnə\n"  # mixed: the journal says so
    assert moses_journal(base).exists()
    finish_commit(moses_journal(base))  # what the next write (or export) to this base does first
    assert (tmp_path / "corpus.az").read_text(encoding="utf-8") == "yeni\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.az", "corpus.ru"]


def test_next_moses_write_completes_a_killed_one_before_writing(tmp_path):
    from align.write import moses_journal
    base = tmp_path / "corpus"
    subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_RENAMES.format(repo=str(REPO), base=str(base))],
                   capture_output=True, text=True, timeout=60)
    assert moses_journal(base).exists()
    write_pairs([_pair("Один.", "Bir.")], base, "moses")
    assert (tmp_path / "corpus.ru").read_text(encoding="utf-8") == "Один.\n"
    assert (tmp_path / "corpus.az").read_text(encoding="utf-8") == "Bir.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.az", "corpus.ru"]


def test_moses_pair_is_written_whole(tmp_path):
    written = write_pairs([_pair("Один.", "Bir."), _pair("Два.", "")], tmp_path / "x.ru", "moses")
    assert [p.name for p in written] == ["x.ru", "x.az"]
    assert (tmp_path / "x.ru").read_text(encoding="utf-8") == "Один.\n"
    assert (tmp_path / "x.az").read_text(encoding="utf-8") == "Bir.\n"


def test_tsv_reads_back_unquoted_with_every_row(tmp_path):
    """Cells that start with a quote are why readers must not apply CSV quoting (README)."""
    pairs = [_pair('"Цитата," — сказал он.', '"Sitat," dedi.'), _pair('Обычный "текст"', 'Adi "mətn"'),
             _pair('"', '"')]
    path = tmp_path / "q.tsv"
    write_pairs(pairs, path, "tsv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert [(r["ru"], r["az"]) for r in rows] == [(p.ru, p.az) for p in pairs]
    with path.open(encoding="utf-8", newline="") as handle:  # default quoting loses rows
        default = list(csv.DictReader(handle, delimiter="\t"))
    assert len(default) != len(pairs) or [r["ru"] for r in default] != [p.ru for p in pairs]


# --------------------------------------------------------------------------- align export
REVIEW_SAMPLE = REPO / "tests" / "data" / "review" / "sample.tsv"


def _reviewed_copy(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    """The review sample with verdicts: row 0 accepted, row 1 edited (new text), row 2 rejected, rest unreviewed."""
    from align.review.tsv import read_tsv, write_reviewed_tsv

    rows = read_tsv(REVIEW_SAMPLE)
    two_sided = [i for i, r in enumerate(rows) if r["ru"] and r["az"]]
    verdicts = ["unreviewed"] * len(rows)
    verdicts[two_sided[0]], verdicts[two_sided[1]], verdicts[two_sided[2]] = "accepted", "edited", "rejected"
    rows[two_sided[1]] = {**rows[two_sided[1]], "az": "Düzəldilmiş mətn."}
    path = write_reviewed_tsv(rows, verdicts, tmp_path / "sample.reviewed.tsv")
    return path, [rows[two_sided[0]], rows[two_sided[1]]]


def test_export_of_a_reviewed_tsv_has_accepted_and_edited_rows(tmp_path):
    path, expected = _reviewed_copy(tmp_path)
    proc = run_align("export", path, "--format", "bitext")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [[r["ru"], r["az"]] for r in expected]
    assert "Düzəldilmiş mətn." in lines[1] and "1 rejected" in proc.stderr


@pytest.mark.parametrize("fmt", ["moses", "tmx", "jsonl"])
def test_export_formats(tmp_path, fmt):
    path, expected = _reviewed_copy(tmp_path)
    out = tmp_path / ("out" if fmt == "moses" else f"out.{fmt}")
    proc = run_align("export", path, "--format", fmt, "-o", out, "-q")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    if fmt == "moses":
        assert (tmp_path / "out.az").read_text(encoding="utf-8").splitlines() == [r["az"] for r in expected]
    else:
        text = out.read_text(encoding="utf-8")
        assert "Düzəldilmiş mətn." in text and text.count(expected[0]["ru"].split()[0]) >= 1


def test_export_of_a_plain_tsv_has_its_kept_rows(tmp_path):
    from align.export import export_tsv
    from align.review.tsv import read_tsv

    rows = read_tsv(REVIEW_SAMPLE)
    kept = [(r["ru"], r["az"]) for r in rows if r["keep"] == "1" and r["ru"] and r["az"]]
    assert [(p.ru, p.az) for p in export_tsv(REVIEW_SAMPLE).pairs] == kept


def test_export_of_a_malformed_tsv_is_one_line_with_its_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    lines = REVIEW_SAMPLE.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join(lines[:2] + ["only\ttwo"]) + "\n", encoding="utf-8")
    proc = run_align("export", bad, "--format", "bitext")
    assert_one_line_error(proc, 3, f"{bad}:3")


def test_export_over_its_input_is_refused(tmp_path):
    path, _ = _reviewed_copy(tmp_path)
    before = path.read_bytes()
    proc = run_align("export", path, "--format", "jsonl", "-o", path)
    assert_one_line_error(proc, 5, "is the input")
    assert path.read_bytes() == before
