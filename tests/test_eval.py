"""Evaluation: Vecalign's strict/lax precision/recall on a hand-computed case, link I/O, page mode."""
from __future__ import annotations

import pytest

from align.eval import format_links, read_links, score_alignment, score_page_tsv, score_pairs
from align.types import Link

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
    with pytest.raises(ValueError, match="line 2"):
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
    text = HEADER + "".join(f"d\tsentence\tx\t{r}\t{a}\t{rt}\t{at}\t0.9\t0.9\t0.1\t1.0\t\t{k}\t\n"
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
