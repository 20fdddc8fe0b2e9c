"""Embedding: one `Embedder` over sentence-transformers, with an optional on-disk cache.

Everything downstream receives plain L2-normalised float32 vectors, so tests can swap in a fake
embedder with the same ``encode`` method.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import zlib
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .types import ModelError, OutputError, UsageError


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
    ``device``: "cpu", "cuda[:N]" or "mps"; None = ``$ALIGN_DEVICE``, else CUDA when present, else MPS,
    else CPU. On CUDA the model runs in fp16 (the name then ends in ``|fp16``, so caches and corpus
    work files never mix fp16 and fp32 vectors). ``batch_size`` defaults per device (`DEFAULT_BATCH`).

    Batch-invariant (``batch_invariant = True``): ``encode(texts)`` gives every text the vector it gets
    when encoded alone, to within float rounding (≤ 1e-6 per component; bit for bit only where the
    CPU's GEMM kernels do not depend on the row count, which is not so on every machine). Texts are
    grouped by exact token count, so no batch holds padding (which also saves the padded work); on
    CUDA every forward pass has the same number of rows (a short batch is filled with copies of its
    last text), since GPU kernels are picked by shape.
    sentence-transformers' own ``encode`` sorts by character length only, which still pads.
    """

    batch_invariant = True
    # Show progress (tqdm on a terminal, plain lines in a log) for calls of at least this many texts;
    # None: never. The CLI sets it unless -q.
    progress_from: int | None = None

    def __init__(
        self,
        model: str | None = None,
        *,
        prompt_name: str | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        _offline_by_default()
        from .models import model_prompt_name, resolve_model

        self.path = resolve_model(model)
        self.prompt_name = prompt_name if prompt_name is not None else model_prompt_name(self.path)
        self.device = resolve_device(device)
        self.half = self.device.startswith("cuda")
        self.batch_size = batch_size or DEFAULT_BATCH.get(self.device.split(":")[0], 32)
        self.name = f"{Path(self.path).name}|{self.prompt_name or ''}" + ("|fp16" if self.half else "")
        self._model = None
        self._cache = EmbeddingCache(Path(cache_dir), self.name) if cache_dir else None

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded on first use)."""
        if self._model is None:
            model = load_sentence_transformer(self.path, self.device)
            self._model = model.half() if self.half else model
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
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        fixed_rows = self.device != "cpu"  # GPU kernels are chosen by shape: keep one row count
        if len(texts) == 1 and not fixed_rows:
            return self._forward(texts)
        counts = self.token_counts(texts)
        if counts is None:  # a model without an attention mask: no safe grouping, one text at a time
            return np.concatenate([self._forward([t]) for t in texts])
        from .progress import progress_bar

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        show = self.progress_from is not None and len(texts) >= self.progress_from
        with progress_bar(len(texts), "embedding", show, unit="text") as bar:
            for rows in same_length_batches(counts, self.batch_size):
                chunk = [texts[i] for i in rows]
                if fixed_rows:
                    chunk += [chunk[-1]] * (self.batch_size - len(chunk))
                out[rows] = self._forward(chunk)[: len(rows)]
                bar.update(len(rows))
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        """``texts`` through the model as one batch."""
        kwargs = {"prompt_name": self.prompt_name} if self.prompt_name else {}
        vecs = self.model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.asarray(vecs, dtype=np.float32)

    def token_counts(self, texts: Sequence[str]) -> list[int] | None:
        """Each text's token count as the model sees it (prompt and special tokens included, truncated);
        None when the model's inputs carry no attention mask."""
        model = self.model
        prompt = model.prompts.get(self.prompt_name) if self.prompt_name else None
        preprocess = getattr(model, "preprocess", None)  # sentence-transformers 6; 5 has tokenize
        counts: list[int] = []
        for start in range(0, len(texts), 512):
            chunk = list(texts[start : start + 512])
            if preprocess is not None:
                features = preprocess(chunk, prompt=prompt)
            else:
                features = model.tokenize([(prompt or "") + t for t in chunk])
            if "attention_mask" not in features:
                return None
            counts += features["attention_mask"].sum(dim=1).tolist()
        return counts


DEFAULT_BATCH = {"cpu": 32, "cuda": 128, "mps": 64}  # texts per forward pass (bench/encode_throughput.py)


def same_length_batches(counts: Sequence[int], size: int) -> list[list[int]]:
    """Indices grouped by equal count, longest first, cut into batches of at most ``size``."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(counts):
        groups.setdefault(n, []).append(i)
    batches = []
    for n in sorted(groups, reverse=True):
        rows = groups[n]
        batches += [rows[start : start + size] for start in range(0, len(rows), size)]
    return batches


def resolve_device(device: str | None = None) -> str:
    """``device``, else ``$ALIGN_DEVICE``, else "cuda" when a CUDA (or ROCm) device is usable, "mps" on
    Apple silicon, "cpu" otherwise. Does not import torch on a machine without GPU device files."""
    choice = (device or os.environ.get("ALIGN_DEVICE") or "auto").strip().lower()
    if choice != "auto":
        if choice.split(":")[0] not in ("cpu", "cuda", "mps"):
            raise UsageError(f"unknown device {choice!r}: expected cpu, cuda, cuda:N or mps")
        return choice
    gpu_files = any(Path(p).exists() for p in ("/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd"))
    if not gpu_files and sys.platform != "darwin":
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


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
    """A small SQLite key-value store: sha1(model|text) → float32 vector bytes, its length and a CRC.

    SQLite gives atomic, concurrent-safe writes, so a killed run never corrupts the cache. Every entry
    read back is checked — the model key, the vector length against the model's dimension (recorded
    with the first vector), the CRC-32 of the bytes, finite values — and a bad entry is never used: it
    is deleted and its text encoded again (one warning line names the cache file). A file that is not
    a readable SQLite database is moved aside (``….corrupt``) and the cache starts afresh.
    """

    def __init__(self, directory: Path, model_key: str) -> None:
        self.model_key = model_key
        self.path = Path(directory) / "embeddings.sqlite"
        self.bad_entries = 0
        self.inode: tuple[int, int] | None = None
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OutputError(f"embedding cache {directory}: not a directory") from None
        except OSError as exc:
            raise OutputError(f"embedding cache {directory}: {exc.strerror or exc}") from None
        try:
            self.db = self._open()
            self.dimension = self._recorded_dimension()
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)

    def _start_afresh(self, error: Exception) -> None:
        """Move a corrupt database file aside (named in a warning) and open a new, empty one.

        Worker processes share the cache: the reset is done under a lock file, and only by the first
        process to find the file it opened damaged — the others see a new file (another inode) and
        just reopen it, instead of moving a healthy new cache aside under each other's feet."""
        import fcntl

        with contextlib.suppress(Exception):
            self.db.close()
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _inode(self.path) == self.inode:  # still the damaged file: this process resets it
                aside = self.path.with_name(self.path.name + ".corrupt")
                _warn(f"{self.path}: not a usable embedding cache ({error}); moved to {aside.name}, "
                      "starting a new one")
                for suffix in ("-journal", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        os.unlink(f"{self.path}{suffix}")
                with contextlib.suppress(FileNotFoundError):
                    os.replace(self.path, aside)
            try:
                self.db = self._open()
                self.dimension = self._recorded_dimension()
            except sqlite3.DatabaseError as exc:
                raise OutputError(f"cannot start a new embedding cache {self.path}: {exc}") from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vec2 (k TEXT PRIMARY KEY, v BLOB, n INTEGER, c INTEGER)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (model TEXT PRIMARY KEY, dim INTEGER)")
            db.execute("SELECT count(*) FROM vec2 WHERE 0").fetchall()  # a file that is not a database fails here
            db.commit()
        except sqlite3.DatabaseError:
            self.inode = _inode(self.path)
            db.close()
            raise
        self.inode = _inode(self.path)
        return db

    def _recorded_dimension(self) -> int | None:
        row = self.db.execute("SELECT dim FROM meta WHERE model = ?", (self.model_key,)).fetchone()
        return int(row[0]) if row else None

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.model_key}\x00{text}".encode("utf-8")).hexdigest()

    def _vector(self, blob, length, crc) -> np.ndarray | None:
        """The stored vector, or None when the entry is bad."""
        if not isinstance(blob, bytes) or length is None or len(blob) != 4 * int(length):
            return None
        if self.dimension is not None and int(length) != self.dimension:
            return None
        if zlib.crc32(blob) != crc:
            return None
        vector = np.frombuffer(blob, dtype=np.float32)
        return vector if np.isfinite(vector).all() else None

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The valid stored vectors of ``texts`` (a text with none, or a bad one, is missing)."""
        try:
            return self._get_many(texts)
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)
            return {}

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors of ``texts`` (a corrupt database is replaced by a new one first)."""
        try:
            self._put_many(texts, vectors)
        except sqlite3.DatabaseError as exc:
            if _is_full_disk(exc):  # the cache is fine, the disk is not: never move it aside for that
                raise OutputError(f"cannot write the embedding cache {self.path}: {exc}") from None
            self._start_afresh(exc)
            try:
                self._put_many(texts, vectors)
            except sqlite3.DatabaseError as again:
                raise OutputError(f"cannot write the embedding cache {self.path}: {again}") from None

    def _get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {self._key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        bad: list[str] = []
        items = list(keys.items())
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT k, v, n, c FROM vec2 WHERE k IN ({marks})", [k for k, _ in chunk])
            for key, blob, length, crc in rows:
                vector = self._vector(blob, length, crc)
                if vector is None:
                    bad.append(key)
                else:
                    found[keys[key]] = vector
        if bad:
            self.bad_entries += len(bad)
            _warn(f"{self.path}: {len(bad)} bad cache entr{'y' if len(bad) == 1 else 'ies'} (wrong length, "
                  "checksum or values) not used; encoding those texts again")
            with self.db:
                self.db.executemany("DELETE FROM vec2 WHERE k = ?", [(k,) for k in bad])
        return found

    def _put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            return
        if self.dimension is None:
            self.dimension = int(vectors.shape[1])
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO meta (model, dim) VALUES (?, ?)",
                                (self.model_key, self.dimension))
        elif vectors.shape[1] != self.dimension:
            return  # never store vectors of another length under this model
        rows = []
        for text, vector in zip(texts, vectors):
            blob = vector.tobytes()
            rows.append((self._key(text), blob, len(vector), zlib.crc32(blob)))
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec2 (k, v, n, c) VALUES (?, ?, ?, ?)", rows)


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_full_disk(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_FULL, or an I/O error while writing (what a file-size limit or a full disk gives)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "disk is full" in str(exc) or "disk I/O error" in str(exc)
    return (code & 0xFF) == sqlite3.SQLITE_FULL or code == sqlite3.SQLITE_IOERR_WRITE


def _warn(message: str) -> None:
    print(f"align: warning: {message}", file=sys.stderr, flush=True)
