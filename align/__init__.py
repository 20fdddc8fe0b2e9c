"""align — Russian/Azerbaijani news article aligner.

The public API is small:

>>> from align import Embedder, align_articles, align_vectors
>>> result = align_articles("ru.txt", "az.txt", Embedder())      # read → clean → segment → embed → align → score
>>> links = align_vectors(ru_vectors, az_vectors)                 # the aligner alone, on L2-normalised vectors
"""
from __future__ import annotations

from typing import Any

from .types import Article, Link, Pair, Unit

__version__ = "0.1.0"

_LAZY = {
    "align_vectors": ("aligner", "align_vectors"),
    "align_units": ("aligner", "align_units"),
    "align_articles": ("pipeline", "align_articles"),
    "align_segmented": ("pipeline", "align_segmented"),
    "load_article": ("pipeline", "load_article"),
    "Embedder": ("embed", "Embedder"),
    "write_pairs": ("write", "write_pairs"),
}

__all__ = ["Article", "Link", "Pair", "Unit", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import heavy modules (numpy, torch) only when their names are first used."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'align' has no attribute {name!r}")
