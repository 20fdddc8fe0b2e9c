"""The command line end to end: `align pair` on the sample with the real model, and its error paths."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE

ALIGN = [sys.executable, "-m", "align"]


def run_align(*args: str, cwd: Path = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([*ALIGN, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("align: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_missing_file(tmp_path):
    proc = run_align("pair", tmp_path / "nope.txt", SAMPLE / "az.txt")
    assert_one_line_error(proc, 3, "no such file")


def test_directory_instead_of_file(tmp_path):
    proc = run_align("pair", tmp_path, SAMPLE / "az.txt")
    assert_one_line_error(proc, 3, "is a directory")


def test_empty_file(tmp_path, default_model_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n")
    proc = run_align("pair", empty, SAMPLE / "az.txt")
    assert_one_line_error(proc, 3, "empty")


def test_binary_garbage_is_unreadable(tmp_path, default_model_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    proc = run_align("pair", junk, SAMPLE / "az.txt")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file, so a permission error cannot be staged")
def test_unreadable_file(tmp_path):
    locked = tmp_path / "locked.txt"
    locked.write_text("Текст.")
    locked.chmod(0)
    proc = run_align("pair", locked, SAMPLE / "az.txt")
    assert_one_line_error(proc, 3, "permission denied")


def test_missing_model(tmp_path):
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "--model", tmp_path / "no-model")
    assert_one_line_error(proc, 4, "model")


def test_bad_option_is_a_usage_error():
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "--format", "docx")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_pair_on_the_sample_aligns_title_caption_and_body(tmp_path, default_model_path):
    out = tmp_path / "sample.tsv"
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "-o", out)
    assert proc.returncode == 0, proc.stderr
    rows = read_tsv(out)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("title") == 1 and kinds.count("caption") == 1
    title = rows[kinds.index("title")]
    assert title["ru"].startswith("Азербайджан и Турция") and title["az"]
    caption = rows[kinds.index("caption")]
    assert caption["ru"] and caption["az"] and "©" not in caption["ru"] + caption["az"]
    unaligned = [r for r in rows if not (r["ru_ids"] and r["az_ids"])]
    assert not unaligned, unaligned
    noise = ("Подписаться", "Abunə ol", "Лента новостей", "Xəbər lenti", "Sputnik Азербайджан, 1920",
             "Sputnik Azərbaycan, 1920", "БАКУ, 6 дек", "BAKI, 6 dekabr", "Главы МО АР")
    text = "\n".join(r["ru"] + "\t" + r["az"] for r in rows)
    for line in noise:
        assert line not in text
    assert all(float(r["score"]) > 0 for r in rows)
    assert "pairs" in proc.stderr
    expected = read_tsv(SAMPLE / "expected.tsv")
    columns = ("doc", "kind", "bead", "ru_ids", "az_ids", "ru", "az", "keep")
    assert [tuple(r[c] for c in columns) for r in rows] == [tuple(r[c] for c in columns) for r in expected]


def test_pair_segmented_links_and_manifest(tmp_path, default_model_path):
    ru = tmp_path / "ru.txt"
    az = tmp_path / "az.txt"
    ru.write_text("Сегодня в Баку прошла встреча министров.\nСтороны обсудили сотрудничество.\n"
                  "Погода была солнечной.\n", encoding="utf-8")
    az.write_text("Bu gün Bakıda nazirlərin görüşü keçirilib.\nTərəflər əməkdaşlığı müzakirə ediblər.\n"
                  "Hava günəşli idi.\n", encoding="utf-8")
    proc = run_align("pair", ru, az, "--segmented", "--format", "links")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[0]:[0]", "[1]:[1]", "[2]:[2]"]
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text(f"{ru}\t{az}\tfirst\nthis line is broken\n{ru}\t{az}\tsecond\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    proc = run_align("pair", "--manifest", manifest, "--out-dir", out_dir, "--segmented", "--format", "links")
    assert proc.returncode == 3  # one bad manifest line: reported, the good lines still processed
    assert "manifest.tsv:2" in proc.stderr and "Traceback" not in proc.stderr
    assert (out_dir / "first.links").read_text().splitlines() == ["[0]:[0]", "[1]:[1]", "[2]:[2]"]
    assert (out_dir / "second.links").exists()
