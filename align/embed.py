"""Embedding: one `Embedder` over sentence-transformers, with an optional on-disk cache.

Everything downstream receives plain L2-normalised float32 vectors, so tests can swap in a fake
embedder with the same ``encode`` method.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .types import ModelError


class TextEncoder(Protocol):
    """Anything that turns texts into L2-normalised vectors (the real `Embedder`, or a test fake)."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _offline_by_default() -> None:
    """Never wait for the hub unless the user explicitly asked to go online."""
    if os.environ.get("ALIGN_ONLINE") != "1":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder:
    """Encode texts with a sentence-transformers model.

    >>> emb = Embedder()                      # the built default model (models/multilingual-e5-small)
    >>> vecs = emb.encode(["Привет, мир.", "Salam, dünya."])   # (2, 384) float32, unit length

    ``model`` is a local sentence-transformers directory, a name under ``models/``, or (online only)
    a hub name. ``prompt_name`` defaults to the one recorded in the model's config.
    ``cache_dir`` enables an on-disk cache keyed by model, prompt and text.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        prompt_name: str | None = None,
        batch_size: int = 64,
        device: str | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        _offline_by_default()
        from .models import model_prompt_name, resolve_model

        self.path = resolve_model(model)
        self.prompt_name = prompt_name if prompt_name is not None else model_prompt_name(self.path)
        self.batch_size = batch_size
        self.device = device
        self.name = f"{Path(self.path).name}|{self.prompt_name or ''}"
        self._model = None
        self._cache = EmbeddingCache(Path(cache_dir), self.name) if cache_dir else None

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded on first use)."""
        if self._model is None:
            self._model = load_sentence_transformer(self.path, self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, d) float32 array of L2-normalised vectors, one per text."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._cache is None:
            return self._encode_uncached(texts)
        found = self._cache.get_many(texts)
        missing = sorted({t for t in texts if t not in found})
        if missing:
            fresh = self._encode_uncached(missing)
            self._cache.put_many(missing, fresh)
            found.update(zip(missing, fresh))
        return np.stack([found[t] for t in texts]).astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        kwargs = {"prompt_name": self.prompt_name} if self.prompt_name else {}
        vecs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.asarray(vecs, dtype=np.float32)


def load_sentence_transformer(path: str, device: str | None = None):
    """Load a SentenceTransformer, turning any failure into a one-line `ModelError`."""
    _offline_by_default()
    try:
        quiet_libraries()
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(path, device=device or "cpu")
    except Exception as exc:  # noqa: BLE001 - any loader failure is a model error for the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model {path!r}: {first}") from exc


def quiet_libraries() -> None:
    """Silence the loaders' progress bars and notices: our CLI prints its own one-line summary."""
    import logging

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - cosmetic only
        pass
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


class EmbeddingCache:
    """A small SQLite key-value store: sha1(model|text) → float32 vector bytes.

    SQLite gives atomic, concurrent-safe writes for free, so a killed run never corrupts the cache.
    """

    def __init__(self, directory: Path, model_key: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model_key = model_key
        self.db = sqlite3.connect(directory / "embeddings.sqlite", timeout=60)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (k TEXT PRIMARY KEY, v BLOB)")
        self.db.commit()

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.model_key}\x00{text}".encode("utf-8")).hexdigest()

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {self._key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        items = list(keys.items())
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT k, v FROM vec WHERE k IN ({marks})", [k for k, _ in chunk])
            for key, blob in rows:
                found[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec (k, v) VALUES (?, ?)", rows)
