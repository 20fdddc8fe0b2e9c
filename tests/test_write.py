"""Writers: TSV, links, Moses, JSONL, TMX — all from the same pairs, all atomic."""
from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest

from align.types import OutputError, Pair
from align.write import (
    TSV_HEADER, atomic_write, clean_cell, format_links, parse_ids, row_to_pair, pair_to_row, write_pairs,
)

PAIRS = [
    Pair("d1", "title", (0,), (0,), "Заголовок\tс табом", "Başlıq\nsətirlə", 0.91, 0.93, 0.1, 1.05),
    Pair("d1", "sentence", (1, 2), (1,), "Первое. Второе.", "Birinci və ikinci.", 0.8, 0.88, 0.07, 1.1,
         ("numbers-differ",), False, "numbers-differ"),
    Pair("d1", "sentence", (3,), (), "Лишнее.", "", 0.0, keep=False, reason="unaligned"),
    Pair("d1", "sentence", (), (2,), "", "Artıq <cümlə> & \"dırnaq\".", 0.0, keep=False, reason="unaligned"),
    Pair("d1", "sentence", (4,), (3,), "Ещё & <одно>.", "Daha <bir> & \x01.", 0.85, 0.9, 0.08, 0.9),
]


def test_clean_cell_removes_tabs_and_newlines():
    assert clean_cell("a\tb\nc\r\n  d") == "a b c d"


def test_tsv_has_header_and_one_row_per_pair(tmp_path):
    path = write_pairs(PAIRS, tmp_path / "x.tsv", "tsv")[0]
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert tuple(rows[0].keys()) == TSV_HEADER
    assert len(rows) == len(PAIRS)
    assert rows[0]["ru"] == "Заголовок с табом" and rows[0]["az"] == "Başlıq sətirlə"
    assert rows[1]["ru_ids"] == "1,2" and rows[1]["bead"] == "2-1" and rows[1]["keep"] == "0"
    assert rows[2]["az_ids"] == "" and rows[3]["ru_ids"] == ""


def test_tsv_round_trips_through_row_to_pair():
    for pair in PAIRS:
        back = row_to_pair(pair_to_row(pair))
        assert back.ru_ids == pair.ru_ids and back.az_ids == pair.az_ids
        assert back.keep == pair.keep and back.flags == pair.flags


def test_links_use_vecalign_convention():
    assert list(format_links(PAIRS)) == ["[0]:[0]\n", "[1, 2]:[1]\n", "[3]:[]\n", "[]:[2]\n", "[4]:[3]\n"]
    assert parse_ids("1,2") == (1, 2) and parse_ids("") == ()


def test_moses_writes_kept_parallel_rows_only(tmp_path):
    ru, az = write_pairs(PAIRS, tmp_path / "corpus", "moses")
    assert ru.name == "corpus.ru" and az.name == "corpus.az"
    ru_lines, az_lines = ru.read_text().splitlines(), az.read_text().splitlines()
    assert ru_lines == ["Заголовок с табом", "Ещё & <одно>."]
    assert len(ru_lines) == len(az_lines)


def test_jsonl_is_one_object_per_pair(tmp_path):
    path = write_pairs(PAIRS, tmp_path / "x.jsonl", "jsonl")[0]
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(PAIRS)
    assert records[1]["ru_ids"] == [1, 2] and records[1]["flags"] == ["numbers-differ"]


def test_tmx_parses_back_with_ru_and_az(tmp_path):
    path = write_pairs(PAIRS, tmp_path / "x.tmx", "tmx")[0]
    root = ET.parse(path).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    units = root.findall("./body/tu")
    assert len(units) == 2
    langs = [tuv.get("{http://www.w3.org/XML/1998/namespace}lang") for tuv in units[1].findall("tuv")]
    assert langs == ["ru", "az"]
    assert units[1].find("tuv/seg").text == "Ещё & <одно>."
    assert "\x01" not in (units[1].findall("tuv/seg")[1].text or "")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]


def test_unwritable_target_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_pairs(PAIRS, blocker / "sub" / "x.tsv", "tsv")
