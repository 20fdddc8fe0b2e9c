"""Corpus mode: outputs and their formats, the report, reruns, resume after SIGKILL, --pairs."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from pages import CORPUS_OUTPUTS as OUTPUTS, FakeEncoder, FakeFactory, build_fake_pool, differing_outputs  # noqa: E402

from align.corpus import CachedEncoder, guided_chunks, process_pair, run_corpus  # noqa: E402
from align.filters import FilterSettings  # noqa: E402
from align.types import InputError, UsageError  # noqa: E402

NO_LANGUAGE = FilterSettings(language=False)  # the fake "Azerbaijani" is transliterated Russian


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return build_fake_pool(tmp_path_factory.mktemp("pool"), pairs=6, one_sided=1, templates=3)


@pytest.fixture(scope="module")
def first_run(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    report = run_corpus(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=0,
                        filters=NO_LANGUAGE, progress=False)
    return out, report


def _tsv(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def test_outputs_are_consistent(pool, first_run):
    out, report = first_run
    for name in (*OUTPUTS, "report.json", "report.txt"):
        assert (out / name).is_file(), name
    rows = _tsv(out / "corpus.tsv")
    header = (out / "corpus.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "doc\tkind\tbead\tru_ids\taz_ids\tru\taz\tscore\tsimilarity\tmargin\tlength_ratio\tflags\tkeep\treason"
    kept = [r for r in rows if r["keep"] == "1"]
    assert all(r["ru_ids"] and r["az_ids"] for r in kept)
    assert all(r["reason"] for r in rows if r["keep"] == "0")
    ru_lines = (out / "corpus.ru").read_text(encoding="utf-8").splitlines()
    az_lines = (out / "corpus.az").read_text(encoding="utf-8").splitlines()
    assert ru_lines == [r["ru"] for r in kept] and az_lines == [r["az"] for r in kept]
    jsonl = [json.loads(line) for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(jsonl) == len(rows) and [j["keep"] for j in jsonl] == [r["keep"] == "1" for r in rows]
    # every document pair, in sorted order, with all its units accounted for
    docs = list(dict.fromkeys(r["doc"] for r in rows))
    assert docs == sorted(docs) and len(docs) == len(pool.gold) == report["pairs"]
    assert report["rows"]["total"] == len(rows) and report["rows"]["kept"] == len(kept)
    assert report["rows"]["kept"] + sum(report["rows"]["dropped"].values()) == len(rows)
    assert sum(report["score_histogram"]["aligned"]) == report["rows"]["aligned"]
    assert report["unpaired"]["ru"] == len(pool.ru_only) and report["unpaired"]["az"] == len(pool.az_only)
    assert "kept" in report["summary"] and (out / "report.txt").read_text(encoding="utf-8").startswith("documents:")


def test_tmx_is_valid_and_matches_moses(first_run):
    out, _ = first_run
    root = ET.parse(out / "corpus.tmx").getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    assert root.find("header").get("srclang") == "ru"
    units = root.find("body").findall("tu")
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert all([tuv.get(xml_lang) for tuv in tu.findall("tuv")] == ["ru", "az"] for tu in units)
    ru_lines = (out / "corpus.ru").read_text(encoding="utf-8").splitlines()
    assert [tu.findall("tuv")[0].find("seg").text for tu in units] == ru_lines


def test_duplicates_across_documents_are_dropped(first_run):
    out, report = first_run
    rows = _tsv(out / "corpus.tsv")
    # the template press releases share sentences ("Встреча прошла в дружественной атмосфере.")
    repeated = [r for r in rows if r["ru"] == "Встреча прошла в дружественной атмосфере."]
    assert len(repeated) >= 2
    assert sum(r["keep"] == "1" for r in repeated) <= 1
    assert report["rows"]["dropped"].get("duplicate", 0) >= 1


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    return copy


def test_rerun_reuses_work_and_new_filters_do_not_realign(pool, first_run, tmp_path):
    out, report = first_run
    out = _copy(out, tmp_path)
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    again = run_corpus(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=0,
                       filters=NO_LANGUAGE, progress=False)
    assert again["timing"]["documents_aligned_now"] == 0
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
    strict = run_corpus(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=0,
                        filters=FilterSettings(language=False, min_score=0.99), progress=False)
    assert strict["timing"]["documents_aligned_now"] == 0
    assert strict["rows"]["kept"] < report["rows"]["kept"]
    assert strict["rows"]["total"] == report["rows"]["total"]


def test_pool_workers_give_the_same_bytes_as_in_process(pool, first_run, tmp_path):
    out, _ = first_run
    other = tmp_path / "out2"
    report = run_corpus(pool.ru_dir, pool.az_dir, other, encoder_factory=FakeFactory(), workers=2,
                        filters=NO_LANGUAGE, progress=False)
    assert report["timing"]["documents_aligned_now"] == report["pairs"]
    assert differing_outputs(other, out) == []


def test_given_pairs_are_used(pool, tmp_path):
    pairs = tmp_path / "given.tsv"
    first_ru, first_az = sorted(pool.gold.items())[0]
    pairs.write_text(f"ru\taz\n{first_ru}\t{first_az}\n", encoding="utf-8")
    out = tmp_path / "out"
    report = run_corpus(pool.ru_dir, pool.az_dir, out, pairs_tsv=pairs, encoder_factory=FakeFactory(),
                        workers=0, filters=NO_LANGUAGE, progress=False)
    assert report["pairs"] == 1
    assert {r["doc"] for r in _tsv(out / "corpus.tsv")} == {Path(first_ru).stem}
    assert (out / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1].split("\t")[:2] == [first_ru, first_az]
    assert report["unpaired"]["ru"] == len(pool.gold) + len(pool.ru_only) - 1


def test_given_pairs_do_not_pass_for_the_automatic_pairing_later(pool, first_run, tmp_path):
    """--pairs over an automatic run's folder, then no --pairs: the documents are paired again (the
    given pairs.tsv must not be taken for the cached pairing of these inputs)."""
    out = _copy(first_run[0], tmp_path)
    pairs = tmp_path / "given.tsv"
    pairs.write_text("ru\taz\n{}\t{}\n".format(*sorted(pool.gold.items())[0]), encoding="utf-8")
    kwargs = dict(encoder_factory=FakeFactory(), workers=0, filters=NO_LANGUAGE, progress=False)
    assert run_corpus(pool.ru_dir, pool.az_dir, out, pairs_tsv=pairs, **kwargs)["pairs"] == 1
    again = run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs)
    assert again["pairs"] == first_run[1]["pairs"] and again["timing"]["pairing_seconds"] > 0
    assert differing_outputs(out, first_run[0]) == []


@pytest.mark.parametrize("count,workers", [(124, 2), (62, 1), (9, 4), (1, 2), (0, 2), (500, 3)])
def test_guided_chunks_cover_the_pages_in_order_and_shrink(count, workers):
    items = list(range(count))
    chunks = guided_chunks(items, workers, smallest=4, largest=32)
    assert [i for chunk in chunks for i in chunk] == items
    sizes = [len(c) for c in chunks]
    assert all(1 <= n <= 32 for n in sizes) and all(n >= 4 for n in sizes[:-1])
    assert sizes == sorted(sizes, reverse=True)
    if count >= 4 * 32 * workers:
        assert sizes[0] == 32  # big batches while there is plenty of work


def test_language_filter_drops_fake_azerbaijani(pool, first_run, tmp_path):
    out = _copy(first_run[0], tmp_path)
    report = run_corpus(pool.ru_dir, pool.az_dir, out, encoder_factory=FakeFactory(), workers=0,
                        detector="rules", progress=False)
    assert report["rows"]["dropped"].get("language", 0) > 0
    assert report["language_detector"] == "detect_language"


def test_bad_arguments(pool, tmp_path):
    with pytest.raises(InputError):
        run_corpus(tmp_path / "missing", pool.az_dir, tmp_path / "o", encoder_factory=FakeFactory(), progress=False)
    with pytest.raises(UsageError):
        run_corpus(pool.ru_dir, pool.az_dir, tmp_path / "o", level="word", encoder_factory=FakeFactory(), progress=False)


def test_cached_encoder_is_batch_independent_and_caches(tmp_path):
    enc = CachedEncoder(FakeEncoder(), tmp_path / "cache")
    texts = ["Первый текст.", "Второй текст.", "Первый текст."]
    first = enc.encode(texts)
    assert enc.texts_encoded == 2 and np.allclose(first[0], first[2])
    again = CachedEncoder(FakeEncoder(), tmp_path / "cache")
    assert np.array_equal(again.encode(texts[::-1])[::-1], first) and again.texts_encoded == 0


def test_process_pair_reports_an_unusable_document(pool, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("Новости\nПодписаться\n", encoding="utf-8")
    az = pool.az_dir / sorted(pool.gold.values())[0]
    record = process_pair(empty, az, "x", CachedEncoder(FakeEncoder()))
    assert record["rows"] == [] and record["error"]


def _corpus_command(pool, out: Path, delay: float, pairs: Path) -> list[str]:
    code = (
        "import sys; sys.path.insert(0, {bench!r});"
        "from pages import FakeFactory; from align.corpus import run_corpus;"
        "from align.filters import FilterSettings;"
        "run_corpus({ru!r}, {az!r}, {out!r}, pairs_tsv={pairs!r}, encoder_factory=FakeFactory(delay={delay}),"
        " workers=2, filters=FilterSettings(language=False), progress=False)"
    ).format(bench=str(REPO / "bench"), ru=str(pool.ru_dir), az=str(pool.az_dir), out=str(out), delay=delay,
             pairs=str(pairs))
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_sigkill_then_rerun_gives_exactly_the_uninterrupted_rows(pool, first_run, tmp_path):
    reference, _ = first_run
    # the pairs are given, so that the (slowed) embedding happens while aligning: with automatic
    # pairing every vector is cached before the first record and all records land within ~50 ms
    pairs = tmp_path / "pairs.tsv"
    shutil.copy(reference / "pairs.tsv", pairs)
    out = tmp_path / "killed"
    proc = subprocess.Popen(_corpus_command(pool, out, delay=0.05, pairs=pairs), cwd=REPO)
    docs = out / ".work" / "docs"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(docs.glob("*.json"))) < 2:
        time.sleep(0.05)
    done_before_kill = len(list(docs.glob("*.json")))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= done_before_kill < len(pool.gold), "the run should be killed mid-way"
    assert not (out / "corpus.tsv").exists()
    time.sleep(0.5)  # let the orphaned workers notice (PR_SET_PDEATHSIG kills them)
    rerun = subprocess.run(_corpus_command(pool, out, delay=0.0, pairs=pairs), cwd=REPO, capture_output=True,
                           text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["timing"]["documents_aligned_now"] <= len(pool.gold) - done_before_kill
    # pairs.unpaired.tsv differs: its reasons say "not in the given pairs file"
    assert differing_outputs(out, reference, [n for n in OUTPUTS if n != "pairs.unpaired.tsv"]) == []
    assert not list(docs.glob(".*.tmp"))


@pytest.mark.model
def test_real_model_corpus_on_ntrex_pages(tmp_path):
    """Three NTREX dev stories as pages, the default model, two workers: a clean corpus comes out."""
    if not (REPO.parent / "shared" / "data" / "ntrex").is_dir():
        pytest.skip("../shared not present: NTREX data is only in the dev checkout")
    from align.models import default_model_path, is_built

    if not is_built(default_model_path()):
        pytest.skip(f"the default model is not built ({default_model_path()}): run `make install` or "
                    "`align models build`")
    from pages import build_pool

    pool = build_pool(tmp_path / "pool", "dev", ntrex_numbers=range(1, 4), one_sided_ntrex=0, templates=0,
                      flores_distractors=0, undated_rate=0.0)
    out = tmp_path / "out"
    report = run_corpus(pool.ru_dir, pool.az_dir, out, workers=2, progress=False)
    assert report["pairs"] == 3 and report["unpaired"] == {"ru": 0, "az": 0, "reasons": {}}
    rows = _tsv(out / "corpus.tsv")
    kept = [r for r in rows if r["keep"] == "1"]
    assert len(kept) >= 0.6 * report["rows"]["aligned"]
    assert report["language_detector"] in ("lingua", "detect_language")
    ru_lines = (out / "corpus.ru").read_text(encoding="utf-8").splitlines()
    assert len(ru_lines) == len(kept) == len((out / "corpus.az").read_text(encoding="utf-8").splitlines())
