"""Shared test fixtures: paths to ../shared data, a tiny fake embedder, the real default model."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SAMPLE = REPO / "samples" / "sputnik-2023-12-06"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared not present ({path} missing): shared data sets are only in the dev checkout")
    return path


class HashEmbedder:
    """A tiny deterministic fake: hashed character trigrams → 64-d unit vectors.

    Identical texts get identical vectors and texts sharing many trigrams are close — enough for
    unit tests of plumbing, not for cross-language quality.
    """

    name = "hash-embedder"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()}  "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else 1.0 / np.sqrt(self.dim)
        return out


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def default_model_path() -> str:
    """The built default model (built here on first use if `make install` has not built it)."""
    from align.models import build_default_model

    return str(build_default_model(progress=False))


@pytest.fixture(scope="session")
def real_embedder(default_model_path):
    """The real default model, loaded once per test session."""
    from align.embed import Embedder

    return Embedder(default_model_path)
