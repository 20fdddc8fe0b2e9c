"""Corpus mode: pair two collections, align every pair, filter, and write a clean parallel corpus.

    RU_DIR, AZ_DIR ─pair (align.documents, or --pairs)→ pairs.tsv
        └─ for each pair, in a process pool: process_pair() → OUT/.work/docs/<key>.json (atomic)
    OUT/.work/docs/*.json ─filters (align.filters), in sorted pair order→ corpus.tsv, corpus.ru/.az,
                                                 corpus.jsonl, corpus.tmx, report.json/.txt(/.png)

Resumable and loss-free: a document's result is written to a temp file and renamed, so after a kill
(even SIGKILL) a rerun with the same arguments skips finished documents, redoes the rest, and
rebuilds every final file (each written atomically) from all per-document results — the same bytes
as an uninterrupted run. Texts are embedded through the on-disk cache (`CachedEncoder`), one at a time
or in batches that give every text its single-text vector (`Embedder`), so a vector never depends on
which other texts shared its batch: a resumed run computes exactly the vectors an uninterrupted one
would. Filters run at assembly time on the stored rows: a rerun with new filter settings re-filters
without re-aligning or re-embedding.

Engine-agnostic core, shared with align.ray_engine: `prepare_jobs` (the pairing — given, reused from
an earlier run, or computed by the engine — and the jobs still to do), `features_of_pages`,
`process_pair` (one document pair → a JSON-able record) and `finish_corpus` (`assemble`: records →
outputs, and the report). `run_corpus` is the local engine (a spawn process pool, one BLAS/torch
thread per worker, a bounded number of documents in flight, so memory does not grow with the
corpus; pages go to the workers in chunks that shrink as the work runs out, `guided_chunks`).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .documents import (
    DocFeatures, PairingResult, PairingSettings, Unpaired, VectorSpill, features_of_paths, list_documents,
    match_features, read_pairing, unpaired_path, write_pairing,
)
from .embed import EmbeddingCache, TextEncoder
from .filters import FilterSettings, DuplicateFilter, apply_filters, make_detector
from .types import AlignError, InputError, OutputError, Pair, UsageError

WORK_VERSION = 1  # bump when the per-document record format or the alignment changes
HISTOGRAM_EDGES = [round(i / 10, 1) for i in range(11)]
EncoderFactory = Callable[[], TextEncoder]


# ----------------------------------------------------------------------------- encoder


class CachedEncoder:
    """Wrap an encoder: look texts up in an `EmbeddingCache` and encode the missing ones **one at a
    time**, so a text's vector never depends on its batch-mates (padded batched inference differs in
    the last bits) — unless the encoder declares ``batch_invariant = True`` (its batches already give
    every text its single-text vector, within float rounding), then in one call: `Embedder` does, and
    its batches of equal token count run ≈ 30 % faster than one text at a time on one CPU thread
    (bench/encode_throughput.py). ``model_seconds`` adds up the time spent in the model."""

    def __init__(self, encoder: TextEncoder, cache_dir: str | Path | None = None) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.cache = EmbeddingCache(Path(cache_dir), encoder.name) if cache_dir else None
        self.model_seconds = 0.0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        found = self.cache.get_many(texts) if self.cache is not None and texts else {}
        missing = sorted({t for t in texts if t not in found})
        if missing:
            started = time.perf_counter()
            if getattr(self.encoder, "batch_invariant", False):  # batches give the single-text vectors
                fresh = list(np.asarray(self.encoder.encode(missing), dtype=np.float32))
            else:
                fresh = [np.asarray(self.encoder.encode([t]), dtype=np.float32)[0] for t in missing]
            self.model_seconds += time.perf_counter() - started
            self.texts_encoded += len(missing)
            if self.cache is not None:
                self.cache.put_many(missing, np.stack(fresh))
            found.update(zip(missing, fresh))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)


@dataclass(frozen=True)
class DefaultModel:
    """A picklable factory for the real encoder: `Embedder` on ``model`` (None = the default model)."""

    model: str | None = None

    def __call__(self) -> TextEncoder:
        from .embed import Embedder

        return Embedder(self.model)

    @property
    def name(self) -> str:
        """The embedder's name (model and prompt); raises `ModelError` when the model cannot be found."""
        return self().name


# ----------------------------------------------------------------------------- worker side

_WORKER: dict = {}


def _die_with_parent() -> None:
    """Linux: ask the kernel to SIGKILL this process when its parent dies (no orphans after a kill)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def pin_threads() -> None:
    """One BLAS/OpenMP/torch thread in this process (call before the model is loaded): the
    environment for libraries not loaded yet (torch reads OMP_NUM_THREADS when it is imported, so an
    encoder without torch never pays its import), threadpoolctl and torch's setter for those already
    loaded (numpy's BLAS)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        _WORKER["thread_limits"] = threadpool_limits(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)


def _init_worker(factory: EncoderFactory, cache_dir: str | None, detector: str) -> None:
    _die_with_parent()
    _WORKER.update(factory=factory, cache_dir=cache_dir, detector_name=detector)
    pin_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def _worker_encoder() -> CachedEncoder:
    if "encoder" not in _WORKER:
        _WORKER["encoder"] = CachedEncoder(_WORKER["factory"](), _WORKER["cache_dir"])
    return _WORKER["encoder"]


def _worker_detector():
    if "detector" not in _WORKER:
        _WORKER["detector"] = make_detector(_WORKER["detector_name"]) if _WORKER["detector_name"] else None
    return _WORKER["detector"]


def _features_job(pages: list[tuple[str, str]]) -> tuple[list[DocFeatures], float, float]:
    encoder = _worker_encoder()
    started, model_before = time.perf_counter(), encoder.model_seconds
    features = features_of_pages(pages, encoder)
    return features, time.perf_counter() - started, encoder.model_seconds - model_before


def _align_job(job: "Job", level: str, work_file: str) -> dict:
    encoder = _worker_encoder()
    record = process_pair(job.ru, job.az, job.doc, encoder, level=level, detect=_worker_detector())
    write_record(record, Path(work_file))
    return {k: record[k] for k in ("doc", "rows_count", "seconds", "model_seconds", "error")}


# ----------------------------------------------------------------------------- one document pair


@dataclass(frozen=True, order=True)
class Job:
    """One document pair to align: file paths, the ``doc`` id written in every row, and ``key``, the
    name of its work file (a hash of the relative paths, doc id, level and model)."""

    ru: str
    az: str
    doc: str
    key: str = ""
    confidence: float = 1.0


def process_pair(ru_path: str | Path, az_path: str | Path, doc: str, encoder: TextEncoder, *,
                 level: str = "sentence", detect: Callable[[str], str] | None = None) -> dict:
    """Align one document pair and return a JSON-able record: its rows (scored `Pair` fields, plus the
    detected language of each side) and timings. Pure apart from reading the two files; an unusable
    document gives a record with ``error`` set and no rows."""
    from .pipeline import align_articles

    started = time.perf_counter()
    model_before = getattr(encoder, "model_seconds", 0.0)
    record = {"version": WORK_VERSION, "doc": doc, "ru": str(ru_path), "az": str(az_path), "level": level,
              "detector": getattr(detect, "name", getattr(detect, "__name__", "")) if detect else "",
              "rows": [], "warnings": [], "error": ""}
    try:
        result = align_articles(ru_path, az_path, encoder, level=level, doc=doc)
    except AlignError as exc:
        record["error"] = " ".join(str(exc).split())
    else:
        record["warnings"] = list(result.warnings)
        for pair in result.pairs:
            row = asdict(pair)
            if detect is not None and pair.ru_ids and pair.az_ids:
                row["ru_lang"], row["az_lang"] = detect(pair.ru), detect(pair.az)
            record["rows"].append(row)
    record["rows_count"] = len(record["rows"])
    record["seconds"] = round(time.perf_counter() - started, 4)
    record["model_seconds"] = round(getattr(encoder, "model_seconds", 0.0) - model_before, 4)
    return record


def rows_checksum(rows: list) -> str:
    return hashlib.sha1(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def write_record(record: dict, path: Path) -> None:
    """Write a per-document record atomically (temp file in the same folder, fsync, rename), with a
    checksum of its rows so that a damaged record is recognised and never used."""
    record = {**record, "checksum": rows_checksum(record["rows"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_record(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


_ROW_KEYS = frozenset(("doc", "kind", "ru_ids", "az_ids", "ru", "az", "score", "flags", "keep", "reason"))


def record_problem(path: Path, job: Job) -> str:
    """Why the work file of ``job`` cannot be used ('' when it can): missing, unreadable, not JSON,
    another format version or document, rows damaged (checksum)."""
    try:
        record = read_record(path)
    except FileNotFoundError:
        return "missing"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"unreadable ({type(exc).__name__})"
    if not isinstance(record, dict) or record.get("version") != WORK_VERSION:
        return "old"
    if record.get("doc") != job.doc:
        return "of another document"
    rows = record.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) and _ROW_KEYS <= r.keys() for r in rows):
        return "rows damaged"
    if record.get("checksum") != rows_checksum(rows):
        return "checksum does not match"
    return ""


def unusable_work(work_dir: Path, jobs: Sequence[Job], warn: Callable[[str], None] | None = None) -> list[Job]:
    """The jobs without a usable work file; a damaged one is named in a warning and removed."""
    todo = []
    for job in jobs:
        path = work_file(work_dir, job)
        problem = record_problem(path, job)
        if not problem:
            continue
        if problem not in ("missing", "old"):
            (warn or _warn)(f"{path}: work file {problem}; aligning {job.doc} again")
            with contextlib.suppress(OSError):
                path.unlink()
        todo.append(job)
    return todo


def _warn(message: str) -> None:
    print(f"align: warning: {message}", file=sys.stderr, flush=True)


def record_pairs(record: dict) -> Iterator[tuple[Pair, str | None, str | None]]:
    """The rows of a record as `Pair` objects with the stored language detections."""
    for row in record["rows"]:
        ru_lang, az_lang = row.pop("ru_lang", None), row.pop("az_lang", None)
        row["ru_ids"], row["az_ids"] = tuple(row["ru_ids"]), tuple(row["az_ids"])
        row["flags"] = tuple(row["flags"])
        yield Pair(**row), ru_lang, az_lang


# ----------------------------------------------------------------------------- assembly


def _tmx_frame() -> tuple[str, str, int]:
    """The TMX header and footer align.write produces, and how many header pieces precede the rows."""
    from .write import format_tmx

    pieces = list(format_tmx([]))
    return "".join(pieces[:-1]), pieces[-1], len(pieces) - 1


@dataclass
class Tally:
    """Counts for the report, updated row by row."""

    rows: int = 0
    aligned: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    kinds_kept: Counter = field(default_factory=Counter)
    hist_all: list = field(default_factory=lambda: [0] * 10)
    hist_kept: list = field(default_factory=lambda: [0] * 10)
    ru_words: int = 0
    az_words: int = 0
    warnings: list = field(default_factory=list)  # {"doc", "warning"}: swapped inputs, bad bytes, …

    def add(self, pair: Pair, failed: str) -> None:
        self.rows += 1
        if not (pair.ru_ids and pair.az_ids):
            self.dropped["unaligned"] += 1
            return
        self.aligned += 1
        b = min(max(int(pair.score * 10), 0), 9)
        self.hist_all[b] += 1
        if pair.keep:
            self.kept += 1
            self.hist_kept[b] += 1
            self.kinds_kept[pair.kind] += 1
            self.ru_words += len(pair.ru.split())
            self.az_words += len(pair.az.split())
        else:
            self.dropped[failed] += 1


def assemble(jobs: Sequence[Job], work_dir: Path, out_dir: Path, filters: FilterSettings, *,
             detector: str = "auto", staged: "StagedFiles | None" = None) -> tuple[Tally, list[dict]]:
    """Filter the stored rows of every job (in order) and write the corpus files into ``staged``
    (committed together with the report by the caller; committed here when not given).

    Returns the tally and the per-document failures. Reads one record at a time."""
    from .write import StagedFiles, clean_cell, format_jsonl, format_tmx, format_tsv_rows, is_parallel, tsv_header_line

    own = staged is None
    staged = staged or StagedFiles(work_dir / "commit.json")
    atomic_write = staged.open

    tmx_head, tmx_foot, head_pieces = _tmx_frame()
    duplicates = DuplicateFilter(work_dir / "duplicates.sqlite") if filters.duplicates else None
    detect = None
    tally, failures = Tally(), []
    try:
        with contextlib.ExitStack() as stack:
            tsv = stack.enter_context(atomic_write(out_dir / "corpus.tsv"))
            ru_out = stack.enter_context(atomic_write(out_dir / "corpus.ru"))
            az_out = stack.enter_context(atomic_write(out_dir / "corpus.az"))
            jsonl = stack.enter_context(atomic_write(out_dir / "corpus.jsonl"))
            tmx = stack.enter_context(atomic_write(out_dir / "corpus.tmx"))
            tsv.write(tsv_header_line())
            tmx.write(tmx_head)
            for job in jobs:
                record = read_record(work_file(work_dir, job))
                if record.get("error"):
                    failures.append({"doc": job.doc, "ru": job.ru, "az": job.az, "error": record["error"]})
                tally.warnings += [{"doc": job.doc, "warning": w} for w in record.get("warnings", [])]
                stale = record.get("detector", "") != _detector_label(detector)
                rows = []
                for pair, ru_lang, az_lang in record_pairs(record):
                    two_sided = bool(pair.ru_ids and pair.az_ids)
                    if filters.language and two_sided and (ru_lang is None or az_lang is None or stale):
                        if detect is None:
                            detect = make_detector(detector)
                        ru_lang = az_lang = None  # detect again with the requested detector
                    filtered, failed = apply_filters(pair, filters, detect=detect, duplicates=duplicates,
                                                     ru_lang=ru_lang, az_lang=az_lang)
                    tally.add(filtered, failed)
                    rows.append(filtered)
                tsv.writelines(format_tsv_rows(rows))
                jsonl.writelines(format_jsonl(rows))
                kept = [p for p in rows if is_parallel(p)]
                ru_out.writelines(clean_cell(p.ru) + "\n" for p in kept)
                az_out.writelines(clean_cell(p.az) + "\n" for p in kept)
                tmx.writelines(list(format_tmx(kept))[head_pieces:-1])
            tmx.write(tmx_foot)
        if own:
            staged.commit()
    except (OSError, sqlite3.OperationalError) as exc:  # sqlite: the duplicates table on a full disk
        staged.discard()
        raise OutputError(f"cannot write into {out_dir}: {getattr(exc, 'strerror', None) or exc}") from exc
    except BaseException:
        staged.discard()
        raise
    finally:
        if duplicates is not None:
            duplicates.close()
    return tally, failures


def _detector_label(name: str) -> str:
    """The ``name`` attribute the detector made by `make_detector(name)` carries."""
    if name in ("lingua", "auto"):
        try:
            import lingua  # noqa: F401

            return "lingua"
        except ImportError:
            pass
    return "detect_language"


# ----------------------------------------------------------------------------- jobs and work files


def work_key(ru_rel: str, az_rel: str, doc: str, level: str, model_name: str, content: str = "") -> str:
    """The work file's name: a hash of the paths, doc id, level, model and the two files' contents
    (``content``), so an edited input is aligned again instead of served from an older record."""
    text = f"{WORK_VERSION}\x00{ru_rel}\x00{az_rel}\x00{doc}\x00{level}\x00{model_name}\x00{content}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@functools.lru_cache(maxsize=None)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-1 of a file's bytes (memoised per path, size and modification time within one process)."""
    try:
        st = os.stat(path)
        return _digest_of(str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return "unreadable"


def work_file(work_dir: Path, job: Job) -> Path:
    return work_dir / "docs" / f"{job.key}.json"


def make_jobs(pairs: Sequence[tuple[str, str, float]], ru_root: Path, az_root: Path, level: str,
              model_name: str) -> list[Job]:
    """Jobs sorted by (ru, az) path, with doc ids = the ru file's relative path without suffix
    (the full relative path when two files differ only by suffix)."""
    rel = [(_rel(ru, ru_root), _rel(az, az_root), ru, az, conf) for ru, az, conf in pairs]
    stems = Counter(str(Path(r).with_suffix("")) for r, *_ in rel)
    jobs = []
    for ru_rel, az_rel, ru, az, conf in sorted(rel):
        stem = str(Path(ru_rel).with_suffix(""))
        doc = stem if stems[stem] == 1 else ru_rel
        content = f"{file_digest(ru)}\x00{file_digest(az)}"
        jobs.append(Job(str(ru), str(az), doc, work_key(ru_rel, az_rel, doc, level, model_name, content), conf))
    return jobs


def _rel(path: str | Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _input_fingerprint(ru_paths: Sequence[Path], az_paths: Sequence[Path]) -> str:
    digest = hashlib.sha1()
    for p in (*ru_paths, *az_paths):
        digest.update(f"{p}\x00{file_digest(p)}\n".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _exclusive(work_dir: Path) -> Iterator[None]:
    """One run per output folder at a time (an advisory lock the kernel drops when the process dies)."""
    import fcntl

    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / "docs").mkdir(exist_ok=True)
        handle = open(work_dir / "lock", "w")
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"{work_dir if work_dir.exists() and not work_dir.is_dir() else work_dir / 'docs'}: "
                          "the work folder is not a directory (move it away)") from None
    except OSError as exc:
        raise OutputError(f"cannot use the work folder {work_dir}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UsageError(f"{work_dir.parent}: another 'align corpus' run is using this folder") from exc
        yield
    finally:
        handle.close()


OUTPUT_NAMES = ("corpus.tsv", "corpus.ru", "corpus.az", "corpus.jsonl", "corpus.tmx", "pairs.tsv",
                "pairs.unpaired.tsv", "report.json", "report.txt", "report.png")


def _remove_stale_temporaries(work_dir: Path) -> None:
    """Complete an interrupted commit of the output set, then remove the temporaries a killed run left
    (ours only: ``.<output name>.*.tmp`` in the output folder, ``.*.tmp`` in the work folder)."""
    from .write import finish_commit

    finish_commit(work_dir / "commit.json")
    stale = [*work_dir.glob(".*.tmp"), *(work_dir / "docs").glob(".*.tmp")]
    stale += [p for name in OUTPUT_NAMES for p in work_dir.parent.glob(f".{name}.*.tmp")]
    for tmp in stale:
        with contextlib.suppress(OSError):
            tmp.unlink()
    shutil.rmtree(vector_dir(work_dir), ignore_errors=True)  # a killed pairing's document vectors


def vector_dir(work_dir: Path) -> Path:
    """Where pairing keeps the document vectors while it runs (`VectorSpill`; removed after)."""
    return work_dir / "vectors"


# ----------------------------------------------------------------------------- the local engine


class _InProcess:
    """workers=0: run the jobs in this process (debugging; no pool, no thread pinning)."""

    def __init__(self, factory: EncoderFactory, cache_dir: str | None, detector: str) -> None:
        _WORKER.clear()
        _WORKER.update(factory=factory, cache_dir=cache_dir, detector_name=detector)

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller like a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        _WORKER.clear()


def _make_pool(workers: int, factory: EncoderFactory, cache_dir: str | None, detector: str):
    if workers == 0:
        return _InProcess(factory, cache_dir, detector)
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(factory, cache_dir, detector))


def _drain(pool, source: deque, cap: int, call: Callable[[object], tuple], pending: dict,
           on_done: Callable[[object], None]) -> None:
    """Submit ``pool.submit(*call(item))`` for every item of ``source``, at most ``cap`` in flight, and
    hand each result to ``on_done``. When the pool breaks (``BrokenProcessPool``, raised), ``pending``
    holds the futures then in flight with their items, and an item not yet submitted is back in
    ``source`` — the caller decides what to retry."""
    while source or pending:
        while source and len(pending) < cap:
            item = source.popleft()
            try:
                future = pool.submit(*call(item))
            except BrokenProcessPool:  # the pool broke since the last wait: the item is not lost
                source.appendleft(item)
                raise
            pending[future] = item
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            result = future.result()
            del pending[future]
            on_done(result)


def _bounded(pools: list, new_pool: Callable[[], object], calls: Sequence[tuple], limit: int,
             on_done: Callable[[object], None]) -> None:
    """Run ``pools[0].submit(*call)`` for every call with at most ``limit`` in flight, surviving dying
    workers: when a worker process dies (``BrokenProcessPool``), ``pools[0]`` is replaced by
    ``new_pool()`` and the calls that were in flight are run again; a call in flight at
    `WORKER_TRIES` + 1 deaths ends the run (`InputError`)."""
    queue: deque = deque(calls)
    deaths: Counter = Counter()
    while queue:
        pending: dict[Future, tuple] = {}
        try:
            _drain(pools[0], queue, limit, lambda item: item[1], pending, on_done)
        except BrokenProcessPool:
            for index, call in sorted(pending.values(), key=lambda item: item[0]):
                deaths[index] += 1
                if deaths[index] > WORKER_TRIES:
                    raise InputError(f"a worker died {deaths[index]} times while pairing the documents "
                                     "(out of memory or killed)") from None
                queue.appendleft((index, call))
            queue = deque(sorted(queue, key=lambda item: item[0]))
            _warn("a worker died while pairing the documents; its pages are read again")
            with contextlib.suppress(Exception):
                pools[0].shutdown(wait=False, cancel_futures=True)
            pools[0] = new_pool()


WORKER_TRIES = 2  # a document whose worker dies this many times (alone in the pool) is recorded as failed


def run_jobs(pool, new_pool: Callable[[], object], jobs: Sequence[Job], call: Callable[[Job], tuple], limit: int,
             on_done: Callable[[object], None]) -> tuple[object, dict[str, str]]:
    """Run every job on ``pool`` (at most ``limit`` in flight) and survive dying workers.

    When a worker process dies (killed by the OOM killer or a signal: ``BrokenProcessPool``), the pool
    is rebuilt and the jobs that were in flight are retried one at a time, so that the next death names
    its document; a document that kills its worker `WORKER_TRIES` times alone is given up. Returns the
    (possibly new) pool and the given-up documents by doc id, with the reason."""
    queue, alone = deque(jobs), deque()
    deaths: Counter = Counter()
    lost: dict[str, str] = {}
    while queue or alone:
        solo = bool(alone)
        source, cap = (alone, 1) if solo else (queue, limit)
        pending: dict[Future, Job] = {}
        try:
            _drain(pool, source, cap, call, pending, on_done)
        except BrokenProcessPool:
            for job in pending.values():
                if solo:
                    deaths[job] += 1
                    if deaths[job] >= WORKER_TRIES:
                        lost[job.doc] = f"the worker aligning it died {deaths[job]} times (out of memory or killed)"
                        _warn(f"{job.doc}: {lost[job.doc]}; recorded as failed, the run goes on")
                        continue
                alone.append(job)
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
            pool = new_pool()
    return pool, lost


def _bar(total: int, desc: str, enabled: bool):
    from .progress import progress_bar

    return progress_bar(total, desc, enabled)


class FeatureCollector:
    """Pages' pairing features as they come back from the workers (either engine), their vectors
    written to ``OUT/.work/vectors`` (`VectorSpill`) so that the driver's memory does not grow with
    them; `match` pairs them. A context manager: leaving it removes the vector files."""

    def __init__(self, work_dir: Path, settings: PairingSettings | None) -> None:
        self.settings = settings or PairingSettings()
        self.spill = VectorSpill(vector_dir(work_dir), self.settings.head_weight)
        self.features: list[DocFeatures] = []

    def add(self, found: Iterable[DocFeatures]) -> None:
        self.features.extend(self.spill.add(f) for f in found)

    def match(self, ru_paths: Sequence[Path], az_paths: Sequence[Path]) -> PairingResult:
        return match_pages(self.features, ru_paths, az_paths, self.settings, self.spill)

    def __enter__(self) -> "FeatureCollector":
        return self

    def __exit__(self, *exc) -> None:
        self.spill.close()


def _pair_collections(pools: list, new_pool: Callable[[], object], ru_paths, az_paths,
                      settings: PairingSettings | None, workers: int, progress: bool, timing: dict,
                      work_dir: Path) -> PairingResult:
    pages = [(str(p), "ru") for p in ru_paths] + [(str(p), "az") for p in az_paths]
    calls = list(enumerate((_features_job, chunk) for chunk in guided_chunks(pages, max(workers, 1))))
    with FeatureCollector(work_dir, settings) as collected, _bar(len(pages), "pairing documents", progress) as bar:
        def done(result):
            found, seconds, model_seconds = result
            collected.add(found)
            timing["pairing_worker_seconds"] += seconds
            timing["pairing_model_seconds"] += model_seconds
            bar.update(len(found))

        _bounded(pools, new_pool, calls, max(2, 2 * workers), done)
        return collected.match(ru_paths, az_paths)


def guided_chunks(items: Sequence, workers: int, smallest: int = 4, largest: int = 32) -> list[list]:
    """``items`` cut into chunks that shrink as the work runs out: each takes 1/(2·workers) of what
    is left, kept within [smallest, largest]. Large chunks early give the model large batches of
    equal token count; small ones at the end keep every worker busy until the last page."""
    chunks, start = [], 0
    while start < len(items):
        size = min(largest, max(smallest, -(-(len(items) - start) // (2 * workers))))
        chunks.append(list(items[start : start + size]))
        start += size
    return chunks


def features_of_pages(pages: Sequence[tuple[str, str]], encoder: TextEncoder) -> list[DocFeatures]:
    """Pairing features of ``(path, lang)`` pages, in their order: one `features_of_paths` call (one
    ``encode`` call) per language."""
    found: dict[tuple[str, str], DocFeatures] = {}
    for lang in dict.fromkeys(lang for _, lang in pages):
        chosen = [path for path, page_lang in pages if page_lang == lang]
        found.update(((lang, f.path), f) for f in features_of_paths(chosen, lang, encoder))
    return [found[(lang, str(path))] for path, lang in pages]


def match_pages(features: Sequence[DocFeatures], ru_paths: Sequence[Path], az_paths: Sequence[Path],
                settings: PairingSettings | None, spill: VectorSpill | None = None) -> PairingResult:
    """Pair the documents from their features (in any order), listed in ``ru_paths``/``az_paths`` order;
    ``spill`` holds their vectors when the features carry none."""
    by_page = {(f.lang, f.path): f for f in features}
    return match_features([by_page[("ru", str(p))] for p in ru_paths],
                          [by_page[("az", str(p))] for p in az_paths], settings, spill)


def run_corpus(
    ru_dir: str | Path,
    az_dir: str | Path,
    out_dir: str | Path,
    *,
    pairs_tsv: str | Path | None = None,
    model: str | None = None,
    workers: int = 2,
    level: str = "sentence",
    filters: FilterSettings | None = None,
    detector: str = "auto",
    pairing: PairingSettings | None = None,
    cache_dir: str | Path | None = None,
    encoder_factory: EncoderFactory | None = None,
    progress: bool = True,
) -> dict:
    """Pair (unless ``pairs_tsv``), align every pair, filter, and write the corpus into ``out_dir``.

    ``workers``: processes (0 = in this process). ``cache_dir``: the embedding cache (default
    ``out_dir/.cache``). ``encoder_factory``: a picklable callable returning the encoder (default: the
    `Embedder` for ``model``). ``detector``: "auto" (lingua when installed), "lingua" or "rules".
    Returns the report (also written to report.json; ``report["summary"]`` is the human summary).

    >>> report = run_corpus("ru/", "az/", "out/")      # doctest: +SKIP
    """
    started = time.perf_counter()
    if workers < 0:
        raise UsageError("workers must be 0 (in-process) or more")
    filters = filters or FilterSettings()
    ru_root, az_root, out = Path(ru_dir), Path(az_dir), Path(out_dir)
    ru_paths, az_paths = list_inputs(ru_root, az_root, level)
    factory = encoder_factory or DefaultModel(model)
    # the name keys the work files; for the real model it also fails early (one line, ModelError)
    # when the model cannot be found — without loading the weights
    model_name = str(getattr(factory, "name", "") or repr(factory))
    work_dir = out / ".work"
    cache = str(cache_dir if cache_dir is not None else out / ".cache")
    det_name = detector if filters.language else ""

    timing = new_timing()
    with _exclusive(work_dir):
        _remove_stale_temporaries(work_dir)

        def new_pool():
            return _make_pool(workers, factory, cache, det_name)

        pools = [new_pool()]  # pools[0]: the current pool (replaced when a worker dies)
        try:
            # 1. document pairs
            result, jobs, todo = prepare_jobs(
                out, ru_root, az_root, ru_paths, az_paths, pairs_tsv=pairs_tsv, pairing=pairing, level=level,
                model_name=model_name, timing=timing,
                pair=lambda: _pair_collections(pools, new_pool, ru_paths, az_paths, pairing, workers, progress,
                                               timing, work_dir))

            # 2. align every pair that has no finished work file yet
            t0 = time.perf_counter()
            with _bar(len(jobs), "aligning documents", progress) as bar:
                bar.update(len(jobs) - len(todo))

                def done(summary):
                    timing["align_worker_seconds"] += summary["seconds"]
                    timing["align_model_seconds"] += summary["model_seconds"]
                    bar.update(1)

                def call(job):
                    return (_align_job, job, level, str(work_file(work_dir, job)))

                pools[0], lost = run_jobs(pools[0], new_pool, todo, call, max(2, 2 * max(workers, 1)), done)
            timing["align_seconds"] = time.perf_counter() - t0
        finally:
            pools[0].shutdown(wait=True, cancel_futures=True)

        # 3. filter and write
        return finish_corpus(result, jobs, todo, out, filters, detector, timing, started, workers=workers,
                             lost=lost)


# ----------------------------------------------------------------------------- shared by the engines


def list_inputs(ru_root: Path, az_root: Path, level: str) -> tuple[list[Path], list[Path]]:
    """Check ``level`` and list both collections' documents (`InputError` when one has none)."""
    if level not in ("sentence", "paragraph"):
        raise UsageError(f"unknown level {level!r}: expected sentence or paragraph")
    ru_paths, az_paths = list_documents(ru_root), list_documents(az_root)
    if not ru_paths or not az_paths:
        raise InputError(f"{ru_root if not ru_paths else az_root}: no documents found")
    return ru_paths, az_paths


def new_timing() -> dict[str, float]:
    """The report's timing counters, at zero."""
    return dict.fromkeys(("pairing_seconds", "pairing_worker_seconds", "pairing_model_seconds", "align_seconds",
                          "align_worker_seconds", "align_model_seconds", "assemble_seconds"), 0.0)


def prepare_jobs(out: Path, ru_root: Path, az_root: Path, ru_paths: Sequence[Path], az_paths: Sequence[Path], *,
                 pairs_tsv: str | Path | None, pairing: PairingSettings | None, level: str, model_name: str,
                 pair: Callable[[], PairingResult], timing: dict) -> tuple[PairingResult, list[Job], list[Job]]:
    """The document pairs, the jobs, and the jobs without a finished work file — for either engine.

    The pairs come from ``pairs_tsv`` when given, else from an earlier run on the same inputs (file
    contents), model and settings (OUT/.work/pairs.tsv + OUT/.work/pairing.json), else from ``pair()``,
    the engine's own pairing (timed into ``timing["pairing_seconds"]``). The pairing is written to
    OUT/.work/pairs.tsv (and its unpaired side file); `finish_corpus` commits it as OUT/pairs.tsv with
    the rest of the output set (unless the given file is OUT/pairs.tsv itself), so that a kill or a
    full disk before the commit never leaves a new pairs.tsv beside an older corpus."""
    marker = out / ".work" / "pairing.json"  # "OUT/.work/pairs.tsv is the pairing of these inputs"
    pairs_copy = out / ".work" / "pairs.tsv"  # staged into OUT/pairs.tsv with the output set (finish_corpus)
    try:
        if pairs_tsv is not None:
            marker.unlink(missing_ok=True)
            result = given_pairing(pairs_tsv, ru_root, az_root, ru_paths, az_paths)
            if Path(pairs_tsv).resolve() != (out / "pairs.tsv").resolve():
                write_pairing(result, pairs_copy, ru_root, az_root)
            else:
                pairs_copy.unlink(missing_ok=True)
                unpaired_path(pairs_copy).unlink(missing_ok=True)
        else:
            fingerprint = _input_fingerprint(ru_paths, az_paths) + "|" + model_name + "|" + repr(pairing)
            result = _cached_pairing(marker, fingerprint, pairs_copy, ru_root, az_root, len(ru_paths), len(az_paths))
            if result is None:
                t0 = time.perf_counter()
                result = pair()
                timing["pairing_seconds"] = time.perf_counter() - t0
                write_pairing(result, pairs_copy, ru_root, az_root)
                _write_json_atomic(marker, {"fingerprint": fingerprint})
    except OSError as exc:  # a full disk while writing the work folder's pairing
        raise OutputError(f"cannot write into {out / '.work'}: {exc.strerror or exc}") from exc
    jobs = make_jobs([(p.ru, p.az, p.score) for p in result.pairs], ru_root, az_root, level, model_name)
    todo = unusable_work(out / ".work", jobs)
    return result, jobs, todo


def given_pairing(pairs_tsv: str | Path, ru_root: Path, az_root: Path, ru_paths: Sequence[Path],
                  az_paths: Sequence[Path]) -> PairingResult:
    """The pairing read from ``pairs_tsv``; documents it does not list are unpaired."""
    from .documents import DocPair

    listed = read_pairing(pairs_tsv, ru_root, az_root)
    used_ru, used_az = {str(r) for r, _, _ in listed}, {str(a) for _, a, _ in listed}
    unpaired = [Unpaired("ru", str(p), "not in the given pairs file") for p in ru_paths if str(p) not in used_ru]
    unpaired += [Unpaired("az", str(p), "not in the given pairs file") for p in az_paths if str(p) not in used_az]
    return PairingResult([DocPair(str(r), str(a), s) for r, a, s in listed], unpaired, len(ru_paths), len(az_paths))


def finish_corpus(result: PairingResult, jobs: Sequence[Job], todo: Sequence[Job], out: Path,
                  filters: FilterSettings, detector: str, timing: dict, started: float, **extra) -> dict:
    """Filter the stored rows, write the corpus files and the report (``extra`` goes into its
    timing), and return the report — for either engine."""
    t0 = time.perf_counter()
    lost = extra.pop("lost", None) or {}
    from .write import StagedFiles

    staged = StagedFiles(out / ".work" / "commit.json")
    try:
        for name in ("pairs.tsv", "pairs.unpaired.tsv"):
            if (out / ".work" / name).exists():
                with staged.open(out / name) as handle:
                    handle.write((out / ".work" / name).read_text(encoding="utf-8"))
    except OSError as exc:
        staged.discard()
        raise OutputError(f"cannot write into {out}: {exc.strerror or exc}") from exc
    try:
        tally, failures = assemble([j for j in jobs if j.doc not in lost], out / ".work", out, filters,
                                   detector=detector, staged=staged)
    except sqlite3.OperationalError as exc:  # the duplicates table could not be created: a full disk
        staged.discard()
        raise OutputError(f"cannot write into {out / '.work'}: {exc}") from exc
    except BaseException:
        staged.discard()
        raise
    failures += [{"doc": j.doc, "ru": j.ru, "az": j.az, "error": lost[j.doc], "worker_died": True}
                 for j in jobs if j.doc in lost]
    timing["assemble_seconds"] = time.perf_counter() - t0
    timing = {k: round(v, 2) for k, v in timing.items()}
    timing.update(seconds=round(time.perf_counter() - started, 2), documents_aligned_now=len(todo), **extra)
    report = _report(result, jobs, tally, failures, filters, detector if filters.language else "", timing)
    try:
        _write_report(report, out, staged)
        staged.commit()
    except OSError as exc:
        staged.discard()
        raise OutputError(f"cannot write into {out}: {exc.strerror or exc}") from exc
    except BaseException:
        staged.discard()
        raise
    return report


def _cached_pairing(marker: Path, fingerprint: str, pairs_path: Path, ru_root: Path, az_root: Path,
                    n_ru: int, n_az: int) -> PairingResult | None:
    """The pairing an earlier run of the same inputs wrote (``pairs_path`` + side file), or None."""
    from .documents import DocPair

    try:
        if json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") != fingerprint:
            return None
        listed = read_pairing(pairs_path, ru_root, az_root)
        lines = unpaired_path(pairs_path).read_text(encoding="utf-8").splitlines()[1:]
    except (OSError, ValueError, InputError):
        return None
    unpaired = []
    for line in lines:
        lang, name, reason = line.split("\t", 2)
        unpaired.append(Unpaired(lang, str((ru_root if lang == "ru" else az_root) / name), reason))
    pairs = [DocPair(str(r), str(a), s) for r, a, s in listed]
    return PairingResult(pairs, unpaired, n_ru, n_az)


def _write_json_atomic(path: Path, data: dict) -> None:
    from .write import atomic_write

    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


# ----------------------------------------------------------------------------- report


def _report(result: PairingResult, jobs, tally: Tally, failures, filters: FilterSettings, detector: str,
            timing: dict) -> dict:
    unpaired_reasons = Counter(u.reason.split(":")[0] for u in result.unpaired)
    report = {
        "documents": {"ru": result.ru_count, "az": result.az_count},
        "pairs": len(jobs),
        "unpaired": {"ru": sum(u.lang == "ru" for u in result.unpaired),
                     "az": sum(u.lang == "az" for u in result.unpaired),
                     "reasons": dict(sorted(unpaired_reasons.items()))},
        "failed_documents": failures,
        "warnings": tally.warnings,
        "hint": result.pairs_hint(),
        "rows": {"total": tally.rows, "aligned": tally.aligned, "kept": tally.kept,
                 "dropped": dict(sorted(tally.dropped.items())),
                 "kept_by_kind": dict(sorted(tally.kinds_kept.items())),
                 "kept_words": {"ru": tally.ru_words, "az": tally.az_words}},
        "score_histogram": {"edges": HISTOGRAM_EDGES, "aligned": tally.hist_all, "kept": tally.hist_kept},
        "filters": filters.describe(),
        "language_detector": _detector_label(detector) if detector else "",
        "timing": timing,
        "files": ["corpus.tsv", "corpus.ru", "corpus.az", "corpus.jsonl", "corpus.tmx", "pairs.tsv",
                  unpaired_path("pairs.tsv").name, "report.json", "report.txt"],
    }
    report["summary"] = format_summary(report)
    return report


def _warning_kind(warning: str) -> str:
    """A short name for a document warning, to count them in the summary."""
    for fragment, kind in (("look swapped", "swapped inputs"), ("both files look", "same language"),
                           ("looks ", "other language"), ("not UTF-8", "bad bytes"), ("mojibake", "mojibake")):
        if fragment in warning:
            return kind
    return "other"


def format_summary(report: dict) -> str:
    """The short human summary written to report.txt (and printed by the CLI)."""
    rows = report["rows"]
    lines = [
        f"documents: {report['documents']['ru']} ru, {report['documents']['az']} az; "
        f"pairs: {report['pairs']}; unpaired: {report['unpaired']['ru']} ru, {report['unpaired']['az']} az",
        f"rows: {rows['total']} ({rows['aligned']} aligned); kept {rows['kept']} "
        f"({rows['kept_words']['ru']} ru / {rows['kept_words']['az']} az words)",
    ]
    if rows["dropped"]:
        lines.append("dropped: " + ", ".join(f"{k} {v}" for k, v in rows["dropped"].items()))
    if report["failed_documents"]:
        lines.append(f"failed documents: {len(report['failed_documents'])} (see report.json)")
    warned = report.get("warnings") or []
    if warned:
        kinds = Counter(_warning_kind(w["warning"]) for w in warned)
        lines.append(f"warnings: {len(warned)} in {len({w['doc'] for w in warned})} documents ("
                     + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + "; see report.json)")
    if report.get("hint"):
        lines.append(f"hint: {report['hint']}")
    hist = report["score_histogram"]
    peak = max(hist["aligned"]) or 1
    lines.append("score   aligned    kept")
    for i, (n_all, n_kept) in enumerate(zip(hist["aligned"], hist["kept"])):
        bar = "#" * round(30 * n_all / peak)
        lines.append(f"{hist['edges'][i]:.1f}-{hist['edges'][i + 1]:.1f} {n_all:7d} {n_kept:7d} {bar}")
    t = report["timing"]
    model = t["pairing_model_seconds"] + t["align_model_seconds"]
    work = t["pairing_worker_seconds"] + t["align_worker_seconds"]
    lines.append(f"time: {t['seconds']:.1f} s wall (pairing {t['pairing_seconds']:.1f} s, aligning "
                 f"{t['documents_aligned_now']} documents {t['align_seconds']:.1f} s, writing "
                 f"{t['assemble_seconds']:.1f} s); in workers: model {model:.1f} s, other {work - model:.1f} s")
    return "\n".join(lines)


def _write_report(report: dict, out: Path, staged) -> None:
    atomic_write = staged.open
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        report["files"].append("report.png")
        _write_histogram_png(report, out / "report.png", staged)
    with atomic_write(out / "report.json") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    with atomic_write(out / "report.txt") as handle:
        handle.write(report["summary"] + "\n")


def _write_histogram_png(report: dict, path: Path, staged) -> None:
    """Score histogram of aligned rows, kept vs dropped (needs matplotlib)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    atomic_write = staged.open

    hist = report["score_histogram"]
    fig = Figure(figsize=(6, 3.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    left = hist["edges"][:-1]
    dropped = [a - k for a, k in zip(hist["aligned"], hist["kept"])]
    ax.bar(left, hist["kept"], width=0.1, align="edge", color="#2e7d4f", label="kept", edgecolor="white")
    ax.bar(left, dropped, width=0.1, align="edge", bottom=hist["kept"], color="#d9534f", label="dropped",
           edgecolor="white")
    ax.set_xlim(0, 1)
    ax.set_xlabel("score")
    ax.set_ylabel("rows")
    ax.set_title(f"{report['rows']['aligned']} aligned rows, {report['rows']['kept']} kept")
    ax.legend(frameon=False)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", metadata={"Software": None})
