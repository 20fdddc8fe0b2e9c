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
