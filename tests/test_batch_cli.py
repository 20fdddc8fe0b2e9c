"""Batch habits (issue 16): -q everywhere, plain progress lines in logs, --online after the subcommand,
an unreachable hub in one line within seconds."""
from __future__ import annotations

import io
import os
import time

from conftest import SAMPLE
from test_cli import assert_one_line_error, run_align

from align.progress import PlainProgress, progress_bar


def test_progress_in_a_log_is_plain_lines():
    stream = io.StringIO()
    with progress_bar(200, "aligning documents", stream=stream) as bar:
        assert isinstance(bar, PlainProgress)
        for _ in range(200):
            bar.update()
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert 5 <= len(lines) <= 12, lines
    assert lines[-1].startswith("align: aligning documents: 200/200 (100%)")


def test_no_progress_when_disabled():
    stream = io.StringIO()
    with progress_bar(10, "x", enabled=False, stream=stream) as bar:
        bar.update(10)
    assert stream.getvalue() == ""


def _collections(tmp_path):
    ru_dir, az_dir = tmp_path / "ru", tmp_path / "az"
    ru_dir.mkdir(), az_dir.mkdir()
    (ru_dir / "a.txt").write_bytes((SAMPLE / "ru.txt").read_bytes())
    (az_dir / "a.txt").write_bytes((SAMPLE / "az.txt").read_bytes())
    return ru_dir, az_dir


def test_docs_quiet_and_plain_progress(tmp_path, default_model_path):
    ru_dir, az_dir = _collections(tmp_path)
    quiet = run_align("docs", ru_dir, az_dir, "-o", tmp_path / "p.tsv", "-q")
    assert quiet.returncode == 0 and quiet.stderr.strip() == "", quiet.stderr
    loud = run_align("docs", ru_dir, az_dir, "-o", tmp_path / "p2.tsv")
    assert loud.returncode == 0 and "\r" not in loud.stderr and loud.stderr.strip()


def test_corpus_refuses_an_out_dir_inside_an_input_folder(tmp_path):
    ru_dir, az_dir = _collections(tmp_path)
    proc = run_align("corpus", ru_dir, az_dir, "--out-dir", ru_dir / "out", "-q")
    assert_one_line_error(proc, 5, "inside the input folder")
    assert sorted(p.name for p in ru_dir.iterdir()) == ["a.txt"]


def _closed_network_env() -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # loopback, nothing listens: every request is refused at once
    return {"HTTP_PROXY": closed, "HTTPS_PROXY": closed, "http_proxy": closed, "https_proxy": closed,
            "HF_ENDPOINT": closed, "HF_HUB_OFFLINE": "0", "NO_PROXY": "", "no_proxy": ""}


def test_online_after_the_subcommand_and_an_unreachable_hub_fails_fast(tmp_path, monkeypatch):
    for name, value in _closed_network_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    started = time.perf_counter()
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "--online", "--model", "someorg/some-model")
    assert time.perf_counter() - started < 20
    assert_one_line_error(proc, 4, "cannot reach the model hub")


def test_hub_name_without_online_still_refused_at_once():
    proc = run_align("pair", SAMPLE / "ru.txt", SAMPLE / "az.txt", "--model", "someorg/some-model")
    assert_one_line_error(proc, 4, "--online")
