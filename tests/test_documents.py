"""Document pairing: features, neighbour search, confidence, one-to-one assignment, files, and (with
../shared and the built model) the real thing on NTREX pages."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from pages import FakeEncoder, build_fake_pool, build_pool  # noqa: E402

from align import documents as D  # noqa: E402
from align.types import Article, InputError  # noqa: E402


# ----------------------------------------------------------------------------- small pieces

def test_headline_key_and_dates():
    assert D.headline_key("  Азербайджан и Турция: «углубляют» сотрудничество! ") == "азербайджан и турция углубляют сотрудничество"
    assert D.parse_date("06.12.2023") == date(2023, 12, 6).toordinal()
    assert D.parse_date("31.02.2023") is None and D.parse_date("") is None and D.parse_date(None) is None


@pytest.mark.parametrize("ru, az", [
    ("Байрамова", "Bayramovun"), ("Фидан", "Fidanın"), ("Джейхун", "Ceyhun"), ("Чавушоглу", "Çavuşoğlu"),
    ("Хакан", "Hakan"), ("Гасымов", "Qasımov"), ("Сийярто", "Siyyarto"), ("Ивица", "İvitsa"),
])
def test_name_keys_match_across_scripts(ru, az):
    assert D.name_key(ru) == D.name_key(az) != ""


def test_name_keys_differ_for_different_names():
    assert D.name_key("Фидан") != D.name_key("Сийярто")
    assert D.name_key("Бланар") != D.name_key("Дачич")


def test_extract_names_skips_sentence_starts():
    names = D.extract_names(["Вчера Байрамов встретился с Фиданом. Стороны обсудили «Газпром»."])
    assert {D.name_key("Байрамов"), D.name_key("Фидан")} <= names
    assert D.name_key("Вчера") not in names and D.name_key("Стороны") not in names


def test_nearest_both_is_exact_both_ways():
    rng = np.random.default_rng(3)
    ru = rng.standard_normal((70, 12)).astype(np.float32)
    az = rng.standard_normal((50, 12)).astype(np.float32)
    ru_idx, ru_sim, az_idx, az_sim = D.nearest_both(ru, az, 4, block=16)
    sims = ru @ az.T
    assert (ru_idx == np.argsort(-sims, axis=1)[:, :4]).all()
    assert (az_idx == np.argsort(-sims.T, axis=1)[:, :4]).all()
    assert np.allclose(az_sim, -np.sort(-sims.T, axis=1)[:, :4], atol=1e-5)
    small = D.nearest_both(ru[:2], az, 8)
    assert small[2].shape == (50, 2)  # k capped by the other side's size


def test_weighted_overlap():
    idf = {"a": 1.0, "b": 1.0, "c": 3.0}
    assert D.weighted_overlap(frozenset("ab"), frozenset("ab"), idf) == 1.0
    assert D.weighted_overlap(frozenset("ac"), frozenset("ab"), idf) == pytest.approx(1 / 5)
    assert D.weighted_overlap(frozenset(), frozenset("ab"), idf) is None


# ----------------------------------------------------------------------------- matching features

def _doc(path, lang, vec, day=None, numbers=(), names=(), title="", crosslinks=()) -> D.DocFeatures:
    v = np.asarray(vec, np.float32)
    v = v / np.linalg.norm(v)
    return D.DocFeatures(path=path, lang=lang, head=v, body=v, day=day, numbers=frozenset(numbers),
                         names=frozenset(names), title_key=D.headline_key(title),
                         crosslink_keys=tuple(D.headline_key(c) for c in crosslinks), units=5)


def _story_vectors(n, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, dim))
    return base, base + 0.15 * rng.standard_normal((n, dim))


def test_match_features_pairs_stories_and_leaves_distractors_unpaired():
    ru_v, az_v = _story_vectors(12)
    rng = np.random.default_rng(9)
    ru = [_doc(f"ru{i}", "ru", ru_v[i], day=100 + i % 3) for i in range(10)]
    az = [_doc(f"az{i}", "az", az_v[i], day=100 + i % 3) for i in range(10)]
    ru += [_doc("ru-extra", "ru", rng.standard_normal(32), day=101)]
    az += [_doc("az-extra", "az", rng.standard_normal(32), day=101)]
    result = D.match_features(ru, az)
    assert [(p.ru, p.az) for p in result.pairs] == sorted((f"ru{i}", f"az{i}") for i in range(10))
    assert all(0.5 <= p.score <= 1 for p in result.pairs)
    assert {u.path for u in result.unpaired} == {"ru-extra", "az-extra"}
    assert all(u.reason.startswith("no counterpart") for u in result.unpaired)
    assert "10 pairs" in result.summary()


def test_template_twins_are_told_apart_by_date_numbers_and_names():
    """Two press releases with the same text vector: dates, numbers and names decide."""
    ru_v, az_v = _story_vectors(8, seed=1)
    twin = ru_v[0]
    ru = [_doc("ru-fidan", "ru", twin, day=10, numbers={"605", "17"}, names={"fdn", "brm"}),
          _doc("ru-sijarto", "ru", twin, day=12, numbers={"340", "5"}, names={"srt", "brm"})]
    az = [_doc("az-sijarto", "az", twin, day=12, numbers={"340", "5"}, names={"srt", "brm"}),
          _doc("az-fidan", "az", twin, day=10, numbers={"605", "17"}, names={"fdn", "brm"})]
    ru += [_doc(f"ru{i}", "ru", ru_v[i], day=11) for i in range(1, 8)]
    az += [_doc(f"az{i}", "az", az_v[i], day=11) for i in range(1, 8)]
    pairs = {p.ru: p.az for p in D.match_features(ru, az).pairs}
    assert pairs["ru-fidan"] == "az-fidan" and pairs["ru-sijarto"] == "az-sijarto"


def test_one_sided_template_twin_stays_unpaired():
    ru_v, az_v = _story_vectors(8, seed=2)
    twin = ru_v[0]
    ru = [_doc("ru-fidan", "ru", twin, day=10, numbers={"605", "17"}, names={"fdn"}),
          _doc("ru-sijarto", "ru", twin, day=12, numbers={"340", "5"}, names={"srt"})]
    az = [_doc("az-sijarto", "az", twin, day=12, numbers={"340", "5"}, names={"srt"})]
    ru += [_doc(f"ru{i}", "ru", ru_v[i], day=11) for i in range(1, 8)]
    az += [_doc(f"az{i}", "az", az_v[i], day=11) for i in range(1, 8)]
    result = D.match_features(ru, az)
    assert ("ru-sijarto", "az-sijarto") in [(p.ru, p.az) for p in result.pairs]
    lonely = [u for u in result.unpaired if u.path == "ru-fidan"]
    assert lonely and lonely[0].reason.split(":")[0] in ("no counterpart", "counterpart taken")


def test_crosslink_adds_a_candidate_and_evidence():
    ru_v, az_v = _story_vectors(6, seed=4)
    ru = [_doc(f"ru{i}", "ru", ru_v[i], title=f"Заголовок {i}", crosslinks=[f"Başlıq {i}"]) for i in range(6)]
    az = [_doc(f"az{i}", "az", az_v[i], title=f"Başlıq {i}") for i in range(6)]
    result = D.match_features(ru, az)
    assert len(result.pairs) == 6 and all(p.features["crosslink"] == 1.0 for p in result.pairs)


def test_errors_and_empty_sides_are_reported_not_raised():
    ru = [D.DocFeatures(path="bad", lang="ru", error="unreadable: boom")]
    az = [_doc("az0", "az", [1.0, 0.0])]
    result = D.match_features(ru, az)
    assert result.pairs == []
    assert {(u.path, u.reason) for u in result.unpaired} == {("bad", "unreadable: boom"),
                                                           ("az0", "no ru documents to pair with")}


# ----------------------------------------------------------------------------- pages, files

def test_spilled_vectors_pair_exactly_as_vectors_in_memory(tmp_path):
    """Corpus mode keeps document vectors on disk (`VectorSpill`), in arrival order: pairing reads them
    memory-mapped and must give the in-memory result, pairs, scores, signals and reasons alike."""
    ru_v, az_v = _story_vectors(40, seed=5)
    rng = np.random.default_rng(6)
    ru = [_doc(f"ru{i:02d}", "ru", ru_v[i], day=100 + i % 4, numbers={str(i)}) for i in range(36)]
    az = [_doc(f"az{i:02d}", "az", az_v[i], day=100 + i % 4, numbers={str(i)}) for i in range(36)]
    ru += [_doc("ru-extra", "ru", rng.standard_normal(32), day=101)]
    az += [D.DocFeatures(path="az-broken", lang="az", error="unreadable: boom")]
    settings = D.PairingSettings()
    in_memory = D.match_features(ru, az, settings)
    spill = D.VectorSpill(tmp_path / "vectors", settings.head_weight)
    arrival = [*az[::-1], *ru[::2], *ru[1::2]]  # features arrive in any order from the workers
    spilled = {(f.lang, f.path): spill.add(f) for f in arrival}
    assert all(f.head is None and f.row >= 0 for f in spilled.values() if not f.error)
    assert sorted(p.name for p in (tmp_path / "vectors").iterdir()) == ["az.f32", "ru.f32"]
    on_disk = D.match_features([spilled[("ru", d.path)] for d in ru], [spilled[("az", d.path)] for d in az],
                               settings, spill)
    spill.close()
    assert not (tmp_path / "vectors").exists()
    assert len(in_memory.pairs) == 36 and on_disk.pairs == in_memory.pairs
    assert [p.features for p in on_disk.pairs] == [p.features for p in in_memory.pairs]
    assert on_disk.unpaired == in_memory.unpaired and on_disk.candidates == in_memory.candidates


def test_candidates_are_arrays_with_the_signals_of_pair_signals():
    ru_v, az_v = _story_vectors(10, seed=7)
    ru = [_doc(f"ru{i}", "ru", ru_v[i], day=50, names={"abc"}) for i in range(10)]
    az = [_doc(f"az{i}", "az", az_v[i], day=51 if i else 60, names={"abc"}) for i in range(10)]
    settings = D.PairingSettings(k=3)
    cands = D.candidate_pairs(ru, az, settings)
    assert cands.values.shape == (len(cands), len(D.SIGNALS)) and cands.i.dtype == np.int64
    assert len(set(zip(cands.i.tolist(), cands.j.tolist()))) == len(cands) >= 10 * 3
    first = cands.signals(0)
    assert list(first) == list(D.SIGNALS)
    assert cands.confidences(settings)[0] == D.confidence(first, settings)
    far = [cands.signals(c)["far_dates"] for c in range(len(cands)) if cands.j[c] == 0]
    assert far and all(f == 1.0 for f in far)  # az0 is dated 10 days after every ru page


def test_article_features_from_an_article():
    article = Article(lang="ru", title="Байрамов встретился с Фиданом", captions=("Фото встречи",),
                      paragraphs=("Встреча прошла 6 декабря. Обсудили 15 вопросов.", "Второй абзац."),
                      meta={"date": "06.12.2023", "crosslinks": ("Bayramov Fidanla görüşüb",)})
    texts, head = D.unit_texts(article)
    assert texts[0] == article.title and head[:2] == [True, True] and head[-1] is False
    vectors = FakeEncoder().encode(texts)
    f = D.article_features(article, "x.txt", "ru", vectors, head)
    assert f.day == date(2023, 12, 6).toordinal() and f.numbers == frozenset({"15"})
    assert f.crosslink_keys == ("bayramov fidanla görüşüb",) and D.name_key("Фидан") in f.names
    assert abs(np.linalg.norm(f.head) - 1) < 1e-5 and abs(np.linalg.norm(f.body) - 1) < 1e-5


def test_pair_directories_on_a_fake_pool(tmp_path):
    pool = build_fake_pool(tmp_path / "pool")
    (pool.ru_dir / "empty.txt").write_text("", encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    result = D.pair_directories(pool.ru_dir, pool.az_dir, FakeEncoder(), output=out, progress=False)
    gold = {(str(pool.ru_dir / r), str(pool.az_dir / a)) for r, a in pool.gold.items()}
    assert {(p.ru, p.az) for p in result.pairs} == gold
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ru\taz\tscore" and len(lines) == len(gold) + 1
    assert lines[1:] == sorted(lines[1:])
    name, az_name, score = lines[1].split("\t")
    assert pool.gold[name] == az_name and 0.5 <= float(score) <= 1
    side = D.unpaired_path(out).read_text(encoding="utf-8").splitlines()
    assert side[0] == "lang\tfile\treason"
    listed = {tuple(line.split("\t")[:2]) for line in side[1:]}
    assert ("ru", "empty.txt") in listed
    assert {("ru", n) for n in pool.ru_only} | {("az", n) for n in pool.az_only} <= listed
    assert D.read_pairing(out, pool.ru_dir, pool.az_dir) == sorted(
        (pool.ru_dir / r, pool.az_dir / a, float(s)) for r, a, s in (line.split("\t") for line in lines[1:]))


def test_read_pairing_rejects_bad_files(tmp_path):
    (tmp_path / "ru").mkdir(), (tmp_path / "az").mkdir()
    (tmp_path / "ru" / "a.txt").write_text("x"), (tmp_path / "az" / "b.txt").write_text("y")
    bad = tmp_path / "p.tsv"
    for text, message in [("x\ty\n", "header"), ("ru\taz\na.txt\tmissing.txt\n", "no such file"),
                          ("ru\taz\na.txt\tb.txt\na.txt\tb.txt\n", "paired twice")]:
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            D.read_pairing(bad, tmp_path / "ru", tmp_path / "az")


def test_list_documents_skips_hidden_and_fails_on_missing(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "a.html", ".hidden", "sub/c.txt"):
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in D.list_documents(tmp_path)] == ["a.html", "b.txt", "sub/c.txt"]
    with pytest.raises(InputError):
        D.list_documents(tmp_path / "nope")


# ----------------------------------------------------------------------------- the real model

@pytest.mark.model
def test_real_model_pairs_ntrex_pages_with_template_twins(tmp_path):
    """NTREX dev stories + template press releases + FLORES distractors, as pages, through the real
    reader, cleaner and default model: every pair found, nothing confused."""
    if not (REPO.parent / "shared" / "data" / "ntrex").is_dir():
        pytest.skip("../shared not present: NTREX data is only in the dev checkout")
    from align.models import default_model_path, is_built

    if not is_built(default_model_path()):
        pytest.skip(f"the default model is not built ({default_model_path()}): run `make install` or "
                    "`align models build`")
    from align.embed import Embedder

    pool = build_pool(tmp_path / "pool", "dev", ntrex_numbers=range(1, 9), one_sided_ntrex=1, templates=4,
                      one_sided_templates=1, flores_distractors=2)
    result = D.pair_directories(pool.ru_dir, pool.az_dir, Embedder(cache_dir=tmp_path / "cache"), progress=False)
    gold = {(str(pool.ru_dir / r), str(pool.az_dir / a)) for r, a in pool.gold.items()}
    assert {(p.ru, p.az) for p in result.pairs} == gold
    assert len(result.unpaired) == len(pool.ru_only) + len(pool.az_only)
