"""Evaluation: Vecalign's strict/lax precision/recall on a hand-computed case, link I/O, page mode."""
from __future__ import annotations

import json
import re

import pytest

from align.eval import format_links, read_links, score_alignment, score_page_tsv, score_pairs
from align.types import InputError, Link

GOLD = "[0]:[0]\n[1]:[1,2]\n[2]:[]\n[3, 4]:[3]\n[]:[4]\n"
TEST = "[0]:[0]\n[1]:[1]\n[]:[2]\n[2]:[]\n[3]:[3]\n[4]:[]\n[]:[4]\n"


def test_read_and_format_links_round_trip(tmp_path):
    links = read_links(GOLD)
    assert links == [((0,), (0,)), ((1,), (1, 2)), ((2,), ()), ((3, 4), (3,)), ((), (4,))]
    path = tmp_path / "gold.txt"
    path.write_text(format_links(links))
    assert read_links(path) == links
    assert read_links(str(path)) == links
    assert format_links([Link((1, 2), ())]) == "[1,2]:[]\n"


def test_read_links_rejects_garbage():
    with pytest.raises(InputError, match="<links>:2: not a link"):
        read_links("[0]:[0]\nnonsense [\n")


def test_hand_computed_vecalign_definition():
    # precision over 7 test links: strict hits [0]:[0], [2]:[], []:[4] → 3/7;
    # lax adds [1]:[1] (gold 1→{1,2}) and [3]:[3] (gold 3→{3}) → 5/7; []:[2] and [4]:[] are lax misses.
    # recall over the 3 non-null gold links vs non-null test links: strict only [0]:[0] → 1/3;
    # lax: [1]:[1,2] overlaps [1]:[1], [3,4]:[3] overlaps [3]:[3] → 3/3.
    r = score_alignment(read_links(TEST), read_links(GOLD))
    assert r["precision_strict"] == pytest.approx(3 / 7)
    assert r["precision_lax"] == pytest.approx(5 / 7)
    assert r["recall_strict"] == pytest.approx(1 / 3)
    assert r["recall_lax"] == pytest.approx(1.0)
    assert r["f1_strict"] == pytest.approx(0.375)
    assert r["f1_lax"] == pytest.approx(10 / 12)
    beads = r["by_bead"]
    assert beads["1-2"]["gold"] == 1 and beads["1-2"]["recall_strict"] == 0.0
    assert beads["1-1"]["test"] == 3 and beads["1-1"]["precision_strict"] == pytest.approx(1 / 3)
    assert beads["0-1"]["gold"] == 1 and beads["0-1"]["recall_strict"] == 1.0


def test_perfect_and_multi_document_pooling():
    gold = read_links(GOLD)
    assert score_alignment(gold, gold)["f1_strict"] == 1.0
    # two documents pool their counts: (3+5)/(7+5) strict precision
    pooled = score_alignment([read_links(TEST), gold], [gold, gold])
    assert pooled["precision_strict"] == pytest.approx(8 / 12)
    assert pooled["recall_strict"] == pytest.approx(4 / 6)


def test_duplicates_and_empty_links_are_ignored():
    gold = [((0,), (0,))]
    assert score_alignment([((0,), (0,)), ((0,), (0,)), ((), ())], gold)["precision_strict"] == 1.0
    assert score_alignment([], gold)["f1_strict"] == 0.0


HEADER = "doc\tkind\tbead\tru_ids\taz_ids\tru\taz\tscore\tsimilarity\tmargin\tlength_ratio\tflags\tkeep\treason\n"


def test_page_tsv_against_gold_links(tmp_path):
    rows = [("0", "0", "Заголовок", "Başlıq", "1"), ("1", "1,2", "А.", "B. C.", "1"), ("2", "", "Б.", "", "0"),
            ("3", "3", "В.", "D.", "0")]
    bead = lambda r, a: f"{len(r.split(',')) if r else 0}-{len(a.split(',')) if a else 0}"  # noqa: E731
    text = HEADER + "".join(f"d\tsentence\t{bead(r, a)}\t{r}\t{a}\t{rt}\t{at}\t0.9\t0.9\t0.1\t1.0\t\t{k}\t\n"
                            for r, a, rt, at, k in rows)
    path = tmp_path / "out.tsv"
    path.write_text(text)
    gold = "[0]:[0]\n[1]:[1,2]\n[2]:[]\n[3]:[3]\n"
    kept = score_page_tsv(path, gold)
    # the dropped [3]:[3] row counts as two nulls: precision 3/5; recall (non-null gold) 2/3
    assert kept["precision_strict"] == pytest.approx(3 / 5)
    assert kept["recall_strict"] == pytest.approx(2 / 3)
    assert score_page_tsv(path, gold, kept_only=False)["f1_strict"] == 1.0


def test_page_text_pairs_strict_and_lax(tmp_path):
    gold = [("Один.", "Bir."), ("Два.", "İki."), ("Три.", "Üç.")]
    test = [("Один.", "Bir."), ("Два. Три.", "İki. Üç."), ("Лишнее.", "Artıq.")]
    r = score_pairs(test, gold)
    assert r["precision_strict"] == pytest.approx(1 / 3)
    assert r["precision_lax"] == pytest.approx(2 / 3)
    assert r["recall_strict"] == pytest.approx(1 / 3)
    assert r["recall_lax"] == pytest.approx(1.0)
    path = tmp_path / "out.tsv"
    path.write_text(HEADER + "".join(f"d\tsentence\t1-1\t0\t0\t{a}\t{b}\t0.9\t0.9\t0.1\t1.0\t\t1\t\n" for a, b in test))
    assert score_page_tsv(path, gold)["precision_lax"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- malformed input: one line, exit 3
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from align.eval import read_page_gold  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TSV = REPO / "samples" / "sputnik-2023-12-06" / "expected.tsv"
SAMPLE_GOLD = REPO / "tests" / "data" / "sputnik-2023-12-06.gold.tsv"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "align", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


MALFORMED_LINKS = {
    "syntax": (b"[0]:[0]\n[1]:[1\n", ":2: not a link"),
    "columns": (HEADER.encode() + b"d\tsentence\t1-1\t0\t0\ta\tb\t0.9\t0.9\t0.1\t1.0\t\t1\t\n", ":1: not a link"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary"),
    "empty": (b"", "empty"),
    "blank": (b"\n\n  \n", "no links"),
    "huge id": (b"[0]:[0]\n[" + b"9" * 5000 + b"]:[1]\n", ":2: id"),
    "non-utf8": (b"[0]:[0]\n[1]:[1] \xff\xfe\n", ":2: not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_LINKS))
def test_read_links_malformed_file_is_an_input_error_with_file_and_line(tmp_path, case):
    data, message = MALFORMED_LINKS[case]
    path = tmp_path / "links.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        read_links(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_cli_eval_malformed_files_exit_3_with_one_line(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOLD)
    for case, (data, message) in MALFORMED_LINKS.items():
        bad = tmp_path / f"{case.replace(' ', '-')}.txt"
        bad.write_bytes(data)
        for args in ((bad, good), (good, bad)):
            done = run_cli("eval", *args)
            assert done.returncode == 3, (case, done.stderr)
            assert done.stderr.count("\n") == 1 and done.stderr.startswith("align: error: "), (case, done.stderr)
            assert str(bad) in done.stderr and message.split(":")[-1].strip() in done.stderr, (case, done.stderr)


def test_cli_eval_page_malformed_files_exit_3(tmp_path):
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text(HEADER + "d\tsentence\t1-1\t0\t0\tА.\n", encoding="utf-8")
    bad_gold = tmp_path / "gold.tsv"
    bad_gold.write_text("ru\taz\nОдин.\tBir.\nтолько одна колонка\n", encoding="utf-8")
    binary = tmp_path / "bin.tsv"
    binary.write_bytes(b"\x00\x01\x02\xff" * 50)
    for args, where in (((ragged, SAMPLE_GOLD), f"{ragged}:2"), ((SAMPLE_TSV, bad_gold), f"{bad_gold}:3"),
                        ((binary, SAMPLE_GOLD), str(binary)), ((SAMPLE_TSV, binary), str(binary))):
        done = run_cli("eval", "--page", *args)
        assert done.returncode == 3, done.stderr
        assert done.stderr.count("\n") == 1 and where in done.stderr, done.stderr


def test_read_page_gold_reads_the_repos_gold_tsv():
    gold = read_page_gold(SAMPLE_GOLD)
    assert isinstance(gold, list) and len(gold) == 11
    assert gold[0] == ("Азербайджан и Турция углубляют военное сотрудничество",
                       "Azərbaycan və Türkiyə hərbi əməkdaşlığı dərinləşdirir")
    assert all(not ru.startswith("#") for ru, _ in gold)


def test_read_page_gold_reads_links_gold_too(tmp_path):
    path = tmp_path / "gold.links"
    path.write_text("# a comment\n" + GOLD)
    assert read_page_gold(path) == read_links(GOLD)


def test_cli_eval_page_scores_the_sample_against_the_repos_gold():
    done = run_cli("eval", "--page", "--json", SAMPLE_TSV, SAMPLE_GOLD)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["gold_pairs"] == 11
    assert result["cover"]["precision"] == 1.0 and result["cover"]["recall"] == 1.0
    assert 0.5 < result["f1_lax"] <= 1.0
    text = run_cli("eval", "--page", SAMPLE_TSV, SAMPLE_GOLD)
    assert text.returncode == 0 and "cover" in text.stdout


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300),
                      st.text(alphabet="[]:,0123456789 \t\n#aру\r", max_size=120).map(str.encode)))
def test_eval_readers_give_a_result_or_an_input_error(tmp_path, data):
    path = tmp_path / "any.txt"
    path.write_bytes(data)
    for reader in (read_links, read_page_gold):
        try:
            reader(path)
        except InputError as exc:
            assert "\n" not in str(exc)
    try:
        score_page_tsv(path, [("а", "b")])
    except InputError:
        pass
