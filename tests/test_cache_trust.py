"""The embedding cache is checked on every read: bad entries and corrupt files are named, rebuilt and
never used (issue 16)."""
from __future__ import annotations

import sqlite3
import zlib

import numpy as np
import pytest

from align.corpus import CachedEncoder
from align.embed import EmbeddingCache
from align.types import OutputError


class CountingEncoder:
    name = "counting"
    batch_invariant = True

    def __init__(self, dim: int = 8) -> None:
        self.dim, self.calls = dim, 0

    def encode(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, len(text) % self.dim] = 1.0
        return out


def _fill(tmp_path):
    encoder = CountingEncoder()
    cached = CachedEncoder(encoder, tmp_path)
    first = cached.encode(["один", "два", "три"])
    return encoder, first


def _tamper(tmp_path, sql, *params):
    db = sqlite3.connect(tmp_path / "embeddings.sqlite")
    with db:
        db.execute(sql, params)
    db.close()


def test_good_entries_are_served_from_the_cache(tmp_path):
    encoder, first = _fill(tmp_path)
    again = CachedEncoder(encoder, tmp_path).encode(["один", "два", "три"])
    assert encoder.calls == 3 and np.array_equal(first, again)


@pytest.mark.parametrize("tamper", [
    ("UPDATE vec2 SET v = ?, n = 4, c = ?", np.ones(4, np.float32).tobytes(), zlib.crc32(np.ones(4, np.float32).tobytes())),
    ("UPDATE vec2 SET v = ?", np.full(8, 7.0, np.float32).tobytes()),              # checksum no longer fits
    ("UPDATE vec2 SET v = ?, c = ?", np.full(8, np.nan, np.float32).tobytes(),
     zlib.crc32(np.full(8, np.nan, np.float32).tobytes())),
    ("UPDATE vec2 SET v = ?", b"short"),
])
def test_bad_entries_are_named_rebuilt_and_never_used(tmp_path, capsys, tamper):
    encoder, first = _fill(tmp_path)
    _tamper(tmp_path, *tamper)
    again = CachedEncoder(encoder, tmp_path).encode(["один", "два", "три"])
    assert np.array_equal(first, again)
    assert encoder.calls == 6  # all three encoded again
    assert "embeddings.sqlite: 3 bad cache entries" in capsys.readouterr().err
    CachedEncoder(encoder, tmp_path).encode(["один", "два", "три"])
    assert encoder.calls == 6  # rebuilt: the third read is served from the cache


def test_a_corrupt_cache_file_is_moved_aside(tmp_path, capsys):
    encoder, first = _fill(tmp_path)
    (tmp_path / "embeddings.sqlite").write_bytes(b"this is not sqlite" * 100)
    again = CachedEncoder(encoder, tmp_path).encode(["один", "два", "три"])
    assert np.array_equal(first, again)
    assert (tmp_path / "embeddings.sqlite.corrupt").exists()
    assert "not a usable embedding cache" in capsys.readouterr().err


def test_a_cache_path_that_is_a_file_is_an_output_error(tmp_path):
    (tmp_path / "cache").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        EmbeddingCache(tmp_path / "cache", "m")


def test_two_processes_finding_the_cache_damaged_reset_it_once(tmp_path, capsys):
    """Both workers of a run meet the damaged file: the first moves it aside, the second must reopen
    the new cache, not move it aside again (that gave 'attempt to write a readonly database')."""
    first, second = EmbeddingCache(tmp_path, "m"), EmbeddingCache(tmp_path, "m")
    first.put_many(["a"], np.ones((1, 4), dtype=np.float32))
    first._start_afresh(sqlite3.DatabaseError("database disk image is malformed"))
    first.put_many(["b"], np.ones((1, 4), dtype=np.float32))
    second._start_afresh(sqlite3.DatabaseError("database disk image is malformed"))  # same old inode seen
    assert capsys.readouterr().err.count("moved to") == 1
    assert set(second.get_many(["a", "b"])) == {"b"}


@pytest.mark.slow
def test_a_cache_damaged_inside_gives_the_clean_rows_with_two_workers(tmp_path, capfd):
    import random
    import shutil
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from pages import FakeFactory, build_fake_pool

    from align.corpus import run_corpus
    from align.filters import FilterSettings

    pool = build_fake_pool(tmp_path / "pool", pairs=8, one_sided=1, templates=2)
    out = tmp_path / "out"
    kwargs = dict(encoder_factory=FakeFactory(), workers=2, filters=FilterSettings(language=False), progress=False)
    run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs)
    reference = (out / "corpus.tsv").read_bytes()
    db = out / ".cache" / "embeddings.sqlite"
    rng = random.Random(0)
    for _ in range(2):
        data = bytearray(db.read_bytes())
        at = len(data) // 2
        data[at : at + 4096] = bytes(rng.randrange(256) for _ in range(min(4096, len(data) - at)))
        db.write_bytes(bytes(data))
        shutil.rmtree(out / ".work")
        run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs)
        assert (out / "corpus.tsv").read_bytes() == reference
    assert str(db) in capfd.readouterr().err
