"""`align corpus` never serves stale or half-written results: content-keyed resume, damaged work files
rebuilt, dying workers retried then recorded as failed, the output set replaced whole (issue 16)."""
from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from pages import CORPUS_OUTPUTS as OUTPUTS, DyingFactory, FakeFactory, build_fake_pool, differing_outputs  # noqa: E402

from align import cli  # noqa: E402
from align.corpus import run_corpus  # noqa: E402
from align.filters import FilterSettings  # noqa: E402
from align.types import OutputError  # noqa: E402
from align.write import StagedFiles, finish_commit  # noqa: E402

NO_LANGUAGE = FilterSettings(language=False)
POISON = "Ядовитое предложение"


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return build_fake_pool(tmp_path_factory.mktemp("pool"), pairs=5, one_sided=1, templates=2)


def _run(ru: Path, az: Path, out: Path, factory=None, workers: int = 0, **kwargs) -> dict:
    return run_corpus(ru, az, out, encoder_factory=factory or FakeFactory(), workers=workers, filters=NO_LANGUAGE,
                      progress=False, **kwargs)


@pytest.fixture
def inputs(pool, tmp_path):
    """A private copy of the pool's two folders (tests edit them)."""
    ru, az = tmp_path / "ru", tmp_path / "az"
    shutil.copytree(pool.ru_dir, ru)
    shutil.copytree(pool.az_dir, az)
    return ru, az


def _first_pair(pool, ru: Path, az: Path) -> tuple[Path, Path]:
    ru_name, az_name = sorted(pool.gold.items())[0]
    return ru / ru_name, az / az_name


def _temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.tmp")]


def test_an_edited_input_is_aligned_again_and_outputs_show_the_new_text(pool, inputs, tmp_path):
    ru, az = inputs
    out = tmp_path / "out"
    _run(ru, az, out)
    ru_file, _ = _first_pair(pool, ru, az)
    text = ru_file.read_text(encoding="utf-8")
    edited = text.replace("\n\n", "\n\nСовершенно новое предложение о мосте Керимов открыл.\n\n", 1)
    assert edited != text
    stat = ru_file.stat()
    ru_file.write_text(edited, encoding="utf-8")
    # same size and time would fool a (path, size, mtime) key: restore the time
    import os

    os.utime(ru_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = _run(ru, az, out)
    assert again["timing"]["documents_aligned_now"] >= 1
    assert "Совершенно новое предложение" in (out / "corpus.tsv").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    _run(ru, az, clean)
    assert differing_outputs(out, clean) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "rows"])
def test_a_damaged_work_file_is_named_rebuilt_and_never_used(pool, tmp_path, capsys, damage):
    out = tmp_path / "out"
    _run(pool.ru_dir, pool.az_dir, out)
    reference = tmp_path / "reference"
    shutil.copytree(out, reference)
    work = sorted((out / ".work" / "docs").glob("*.json"))[0]
    data = work.read_text(encoding="utf-8")
    if damage == "truncate":
        work.write_text(data[: len(data) // 2], encoding="utf-8")
    elif damage == "garbage":
        work.write_bytes(b"\x00\xff" * 50)
    else:  # valid JSON, checksum no longer matches: a row's text was changed
        record = json.loads(data)
        record["rows"][0]["ru"] = "подменённый текст"
        work.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    again = _run(pool.ru_dir, pool.az_dir, out)
    err = capsys.readouterr().err
    assert str(work) in err and "aligning" in err
    assert again["timing"]["documents_aligned_now"] == 1
    assert differing_outputs(out, reference) == []
    assert "подменённый" not in (out / "corpus.tsv").read_text(encoding="utf-8")


def run_cli(*args) -> int:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(a) for a in args])
    return exit_info.value.code or 0


def _poisoned(pool, inputs) -> Path:
    ru, az = inputs
    ru_file, _ = _first_pair(pool, ru, az)
    ru_file.write_text(ru_file.read_text(encoding="utf-8") + f"\n\n{POISON} в конце статьи.\n", encoding="utf-8")
    return ru_file


def _given_pairs(pool, tmp_path: Path) -> Path:
    pairs = tmp_path / "pairs-given.tsv"
    pairs.write_text("ru\taz\n" + "".join(f"{r}\t{a}\n" for r, a in sorted(pool.gold.items())), encoding="utf-8")
    return pairs


@pytest.mark.slow
def test_a_worker_killed_once_is_retried_and_the_rows_are_those_of_a_clean_run(pool, inputs, tmp_path):
    ru, az = inputs
    _poisoned(pool, inputs)
    pairs = _given_pairs(pool, tmp_path)
    once = tmp_path / "die-once"
    once.write_text("x")
    out = tmp_path / "out"
    report = _run(ru, az, out, DyingFactory(POISON, str(once)), workers=2, pairs_tsv=pairs)
    assert not once.exists(), "the worker should have died once"
    assert report["failed_documents"] == [] or not any(f.get("worker_died") for f in report["failed_documents"])
    clean = tmp_path / "clean"
    _run(ru, az, clean, pairs_tsv=pairs)
    assert differing_outputs(out, clean) == []


def test_a_worker_killed_while_pairing_is_replaced_and_the_outputs_are_those_of_a_clean_run(pool, inputs, tmp_path,
                                                                                            capsys):
    """bench/faults.py found it: a worker dying during the pairing (no --pairs) ended the run (exit 70)."""
    ru, az = inputs
    ru_file, _ = _first_pair(pool, ru, az)
    title = max(ru_file.read_text(encoding="utf-8").splitlines(), key=len)  # a body paragraph
    once = tmp_path / "die-once"
    once.write_text("x")
    out = tmp_path / "out"
    _run(ru, az, out, DyingFactory(title.strip()[:20], str(once)), workers=2)
    assert not once.exists(), "the worker should have died once"
    assert "while pairing" in capsys.readouterr().err
    clean = tmp_path / "clean"
    _run(ru, az, clean)
    assert differing_outputs(out, clean) == []
    assert _temporaries(out) == []


@pytest.mark.slow
def test_a_document_that_always_kills_its_worker_is_recorded_as_failed_and_the_run_goes_on(pool, inputs,
                                                                                          tmp_path, capsys):
    ru, az = inputs
    ru_file = _poisoned(pool, inputs)
    pairs = _given_pairs(pool, tmp_path)
    out = tmp_path / "out"
    report = _run(ru, az, out, DyingFactory(POISON), workers=2, pairs_tsv=pairs)
    died = [f for f in report["failed_documents"] if f.get("worker_died")]
    assert [f["ru"] for f in died] == [ru_file.name] or [Path(f["ru"]).name for f in died] == [ru_file.name]
    assert "died" in capsys.readouterr().err
    docs = {line.split("\t")[0] for line in (out / "corpus.tsv").read_text(encoding="utf-8").splitlines()[1:]}
    assert ru_file.stem not in docs
    assert len(docs) == len(pool.gold) - 1
    assert "failed" in (out / "report.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_exit_code_says_a_worker_died(pool, inputs, tmp_path, monkeypatch, capsys):
    ru, az = inputs
    _poisoned(pool, inputs)
    pairs = _given_pairs(pool, tmp_path)
    monkeypatch.setattr("align.corpus.DefaultModel", lambda model: DyingFactory(POISON))
    code = run_cli("corpus", ru, az, "--out-dir", tmp_path / "out", "--pairs", pairs, "--workers", "2", "-q")
    err = capsys.readouterr().err
    assert code == 3, err
    assert "died" in err


def test_a_kill_between_two_renames_is_completed_at_the_next_start(pool, inputs, tmp_path):
    ru, az = inputs
    out = tmp_path / "out"
    _run(ru, az, out)
    _poisoned(pool, inputs)  # any edit: the next run writes a different set
    clean = tmp_path / "clean"
    _run(ru, az, clean)
    assert differing_outputs(out, clean), "the edit should change the outputs"
    code = (
        "import os, signal, sys; sys.path.insert(0, {bench!r});"
        "import align.write as w; real = w.os.replace; count = [0]\n"
        "def finish(journal):\n"
        "    import json\n"
        "    if not os.path.exists(journal): return\n"
        "    for tmp, target in json.load(open(journal))[:2]: real(tmp, target)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "w.finish_commit = finish\n"
        "from pages import FakeFactory; from align.corpus import run_corpus; from align.filters import FilterSettings\n"
        "run_corpus({ru!r}, {az!r}, {out!r}, encoder_factory=FakeFactory(), workers=0,"
        " filters=FilterSettings(language=False), progress=False)\n"
    ).format(bench=str(REPO / "bench"), ru=str(ru), az=str(az), out=str(out))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    journal = out / ".work" / "commit.json"
    assert journal.exists()
    mixed = differing_outputs(out, clean)
    assert mixed and len(mixed) < len(OUTPUTS), "the kill should leave some files new and some old"
    finish_commit(journal)  # what the next start does first
    assert differing_outputs(out, clean) == []
    assert not journal.exists() and _temporaries(out) == []


def test_a_full_disk_while_writing_the_set_leaves_the_old_set_and_no_temporaries(pool, inputs, tmp_path,
                                                                                 monkeypatch):
    ru, az = inputs
    out = tmp_path / "out"
    _run(ru, az, out)
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    _poisoned(pool, inputs)
    real_open = StagedFiles.open
    opened = []

    def full_disk(self, path, mode="w"):
        opened.append(path)
        if len(opened) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(self, path, mode)

    monkeypatch.setattr(StagedFiles, "open", full_disk)
    with pytest.raises(OutputError, match="No space left"):
        _run(ru, az, out)
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
    assert _temporaries(out) == []


def test_a_work_folder_that_is_a_file_is_an_output_error(pool, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".work").write_text("not a folder")
    with pytest.raises(OutputError, match="not a directory"):
        _run(pool.ru_dir, pool.az_dir, out)
    code = run_cli("corpus", pool.ru_dir, pool.az_dir, "--out-dir", out, "-q")
    assert code == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".work" in err[0]


def test_stale_temporaries_of_a_killed_run_are_removed(pool, tmp_path):
    out = tmp_path / "out"
    _run(pool.ru_dir, pool.az_dir, out)
    assert not (out / ".work" / "vectors").exists()  # pairing's document vectors go once it is done
    (out / ".work" / "vectors").mkdir()  # as a run killed while pairing leaves them
    stale = [out / ".corpus.tsv.abc123.tmp", out / ".work" / "docs" / ".x.json.999.tmp",
             out / ".work" / "vectors" / "ru.f32"]
    for path in stale:
        path.write_text("half")
    _run(pool.ru_dir, pool.az_dir, out)
    assert not any(p.exists() for p in stale) and not (out / ".work" / "vectors").exists()


def test_swapped_documents_are_warned_about_in_the_corpus_report(pool, inputs, tmp_path):
    ru, az = inputs
    ru_file, az_file = _first_pair(pool, ru, az)
    # put real Azerbaijani-looking text (not the fake transliteration) on the ru side and Russian on the az side
    russian = ru_file.read_text(encoding="utf-8")
    azerbaijani = ("Prezident təhsil haqqında yeni fərman imzalayıb. Fərman sentyabrın birindən qüvvəyə "
                   "minəcək.\n\nNazirlik məktəblər üçün yeni qaydalar hazırlayacaq və onları dərc edəcək.\n")
    ru_file.write_text(azerbaijani, encoding="utf-8")
    az_file.write_text(russian, encoding="utf-8")
    report = _run(ru, az, tmp_path / "out", pairs_tsv=_given_pairs(pool, tmp_path))
    swapped = [w for w in report["warnings"] if "swapped" in w["warning"]]
    assert ru_file.stem in [w["doc"] for w in swapped]  # (the fake transliterated pages may add others)
    assert "swapped inputs" in (tmp_path / "out" / "report.txt").read_text(encoding="utf-8")


def test_low_pairing_confidence_across_a_collection_hints_at_pairs():
    from align.documents import PairingResult, Unpaired

    low = PairingResult([], [Unpaired("ru", "a.txt", "no counterpart: best candidate b.txt has confidence 0.04"),
                             Unpaired("az", "b.txt", "no counterpart: best candidate a.txt has confidence 0.04")],
                        ru_count=1, az_count=1)
    assert "--pairs" in low.pairs_hint() and "hint: " in low.summary()
    many = PairingResult([], [Unpaired("ru", f"{i}.txt", "no counterpart: best candidate x.txt has confidence 0.1")
                              for i in range(2)], ru_count=10, az_count=10)
    assert many.pairs_hint() == ""
