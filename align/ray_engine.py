"""The Ray engine for corpus mode: the local engine's pipeline on a Ray actor pool, for corpora beyond
one machine and for GPUs.

    driver: list documents ─ pairing (cached, or --pairs) ─ jobs not yet done
      one pool of Worker actors for the whole run, each loading the model once:
        batches of pages ─Worker.features: read → clean → segment → embed→ features → driver pairs them
        batches of jobs  ─Worker.align: read → clean → segment → embed the batch's units in one batched
                          call → align each pair, embedding concatenations on demand→ records
    driver: each record → OUT/.work/docs/<key>.json (atomic, as it arrives) ─ `assemble` → corpus files

Everything the local engine guarantees holds here, because the engine reuses its pieces: the same
pairing reuse and jobs (`prepare_jobs`: cached pairing, work-file keys, what is left to do), the
same page features (`features_of_pages`), the same per-pair function (`process_pair`), the same
record files and the same finishing step (`finish_corpus`: `assemble` and the report). A killed run
(driver or workers) resumes from the records already written, and the final files are
byte-identical to a local run's: record order is restored by job key, and vectors do not depend on
batching — `Embedder` is batch-invariant (texts grouped by exact token count, no padding; equal to
the single-text vectors within float rounding, checked in tests/test_ray_engine.py, and the files
write scores with 4 decimals), and an encoder that does not declare ``batch_invariant``
is called one text at a time, as the local engine does.

Embeddings go through one `VectorStore` actor on the driver's node, which keeps the local engine's
SQLite cache (OUT/.cache by default): pairing's unit vectors are reused when aligning, a resumed run
re-embeds nothing already stored, and a local run on the same OUT reuses them too.

Alignment keeps a model next to the aligner (with ``Settings(embed_blocks=…)`` concatenated
sentences are embedded during the DP; the default derives them), so one actor does embed + align
for a batch of document pairs; on GPUs the actors share the devices (``num_gpus`` = GPUs /
actors), which keeps each GPU fed while other actors run the DP.

Ray is optional (``pip install 'align[ray]'``) and imported only here, lazily.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .corpus import (
    EncoderFactory, FeatureCollector, Job, _bar, _exclusive, _remove_stale_temporaries, features_of_pages,
    finish_corpus, guided_chunks, list_inputs, new_timing, pin_threads, prepare_jobs, process_pair, work_file,
    write_record,
)
from .documents import PairingResult, PairingSettings
from .embed import EmbeddingCache, TextEncoder, resolve_device
from .filters import FilterSettings, make_detector
from .types import AlignError, UsageError

DOCS_PER_BATCH = {"cpu": 8, "cuda": 32, "mps": 16}  # document pairs (or pages) per actor call


@dataclass(frozen=True)
class EmbedderFactory:
    """A picklable factory for the real encoder on a given device (the driver picks the device, so
    that every actor, and the work-file keys, agree on the precision)."""

    model: str | None = None
    device: str = "cpu"
    batch_size: int | None = None

    def __call__(self) -> TextEncoder:
        from .embed import Embedder

        return Embedder(self.model, device=self.device, batch_size=self.batch_size)

    @property
    def name(self) -> str:
        return self().name


# ----------------------------------------------------------------------------- actors' side


class VectorStore:
    """The run's embedding cache (`EmbeddingCache`, SQLite) behind one actor on the driver's node."""

    def __init__(self, cache_dir: str, model_key: str) -> None:
        self.cache = EmbeddingCache(Path(cache_dir), model_key)

    def get_many(self, texts: list[str]) -> dict[str, np.ndarray]:
        return self.cache.get_many(texts)

    def put_many(self, texts: list[str], vectors: np.ndarray) -> None:
        self.cache.put_many(texts, vectors)


class BatchEncoder:
    """An actor's encoder: vectors from this batch's memo, then the run's `VectorStore`, then the
    model — the missing texts of a call in one batched ``encode`` when the encoder is batch-invariant,
    else one at a time (the local engine's `CachedEncoder` vectors, within float rounding)."""

    def __init__(self, encoder: TextEncoder, store=None) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.store = store
        self.batched = bool(getattr(encoder, "batch_invariant", False))
        self.memo: dict[str, np.ndarray] = {}
        self.model_seconds = 0.0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import ray

        texts = list(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing and self.store is not None:
            self.memo.update(ray.get(self.store.get_many.remote(missing)))
            missing = [t for t in missing if t not in self.memo]
        if missing:
            started = time.perf_counter()
            if self.batched:
                fresh = np.asarray(self.encoder.encode(missing), dtype=np.float32)
            else:
                fresh = np.stack([np.asarray(self.encoder.encode([t]), dtype=np.float32)[0] for t in missing])
            self.model_seconds += time.perf_counter() - started
            self.texts_encoded += len(missing)
            if self.store is not None:
                ray.get(self.store.put_many.remote(missing, fresh))
            self.memo.update(zip(missing, fresh))
        return np.stack([self.memo[t] for t in texts]).astype(np.float32)


class Worker:
    """One actor of the run's pool, kept for the whole run so that its model is loaded once: it
    computes the pairing features of batches of pages, then the records of batches of document pairs.
    One torch/BLAS thread per CPU actor.

    A user-facing error (`AlignError`: a model missing on this node, say) does not kill the actor: it
    goes back to the driver in the batch's ``error`` column and is raised there as itself (Ray would
    hand the driver only its text)."""

    def __init__(self, factory: EncoderFactory, store, detector: str, device: str) -> None:
        if device == "cpu":
            pin_threads()
        from .embed import quiet_libraries

        quiet_libraries()
        self.failure: AlignError | None = None
        try:
            self.encoder = BatchEncoder(factory(), store)
            self.detect = make_detector(detector) if detector else None
        except AlignError as exc:
            self.failure = exc

    def _run(self, size: int, work) -> dict:
        """``work()`` → its output columns plus ``seconds``, ``model_seconds`` and ``error`` per row."""
        try:
            if self.failure is not None:
                raise self.failure
            self.encoder.memo.clear()  # bounded memory: the memo lives for one batch
            started, model_before = time.perf_counter(), self.encoder.model_seconds
            columns = work()
            seconds = (time.perf_counter() - started) / max(size, 1)
            model_seconds = (self.encoder.model_seconds - model_before) / max(size, 1)
            columns.update(seconds=[seconds] * size, model_seconds=[model_seconds] * size, error=[b""] * size)
            return columns
        except AlignError as exc:
            return {"error": [pickle.dumps(exc)] * size}
        finally:
            if self.failure is None:
                self.encoder.memo.clear()


    def node(self) -> str:
        """The id of the node this actor runs on (for the report and the two-node test)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def features(self, pages: list[tuple[str, str]]) -> dict:
        """Pairing features of ``(path, lang)`` pages (`features_of_pages`: one ``encode`` call per language)."""

        def work() -> dict:
            return {"features": [pickle.dumps(f) for f in features_of_pages(pages, self.encoder)]}

        return self._run(len(pages), work)

    def align(self, jobs: list[Job], level: str) -> dict:
        """Records for document pairs: the units of all pairs embedded in one call, then `process_pair`
        for each (concatenations embedded on demand)."""

        def work() -> dict:
            t0, model_before = time.perf_counter(), self.encoder.model_seconds
            self.encoder.encode([t for job in jobs for t in _unit_texts(job)])
            # each record carries its share of the batch's shared embedding step
            share = (time.perf_counter() - t0) / len(jobs)
            model_share = (self.encoder.model_seconds - model_before) / len(jobs)
            records = [process_pair(job.ru, job.az, job.doc, self.encoder, level=level, detect=self.detect)
                       for job in jobs]
            for record in records:
                record["seconds"] = round(record["seconds"] + share, 4)
                record["model_seconds"] = round(record["model_seconds"] + model_share, 4)
            return {"key": [job.key for job in jobs],
                    "record": [json.dumps(r, ensure_ascii=False) for r in records]}

        return self._run(len(jobs), work)


def _raise_failure(batch: dict) -> None:
    """Raise the first user-facing error an actor sent back in this batch, if any."""
    for blob in batch["error"]:
        if blob:
            raise pickle.loads(blob)


def _unit_texts(job: Job) -> list[str]:
    """The texts `process_pair` will embed first: the units of both pages (none for an unreadable page)."""
    from .pipeline import load_article
    from .segment import segment_article

    texts = []
    for path, lang in ((job.ru, "ru"), (job.az, "az")):
        try:
            texts += [u.text for u in segment_article(load_article(path, lang))]
        except (AlignError, OSError, UnicodeError, ValueError):
            pass  # process_pair reports it
    return texts


# ----------------------------------------------------------------------------- driver side


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise UsageError("--engine ray needs Ray: pip install 'align[ray]' (or 'ray>=2.9')") from exc
    return ray


@dataclass
class _RayRun:
    """What the driver decided about the cluster: actors, resources per actor, device."""

    actors: int
    device: str
    num_gpus: float
    docs_per_batch: int
    started_here: bool


def _connect(ray, address: str | None, workers: int | None) -> bool:
    """Join the cluster at ``address``, reuse a Ray already initialised, or start a local instance
    (``workers`` CPUs, default 2). Returns whether this call started Ray (and so must stop it)."""
    if ray.is_initialized():
        return False
    # Ray's C++ core logs a notice per actor pool (ray-project/ray#53727) and one when it
    # reads this variable (hidden below); errors still surface as Python exceptions.
    # RAY_BACKEND_LOG_LEVEL=info brings Ray's own logs back.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    quiet = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    if address:
        try:
            with _stderr_hidden():
                ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(f"cannot connect to the Ray cluster at {address}: {' '.join(str(exc).split())}") from exc
        return True
    # a local instance: its workers import what this process can (align, and test helpers on sys.path)
    path = os.pathsep.join(p for p in sys.path if p)
    with _stderr_hidden():
        ray.init(num_cpus=workers or 2, runtime_env={"env_vars": {"PYTHONPATH": path}}, **quiet)
    return True


@contextlib.contextmanager
def _stderr_hidden() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a while (Ray's C++ start-up notices bypass Python)."""
    if os.environ["RAY_BACKEND_LOG_LEVEL"] != "fatal":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _plan(ray, device: str | None, workers: int | None, batch_docs: int | None, started_here: bool,
          custom_encoder: bool) -> _RayRun:
    resources = ray.cluster_resources()
    cpus, gpus = int(resources.get("CPU", 1)), float(resources.get("GPU", 0))
    if device:
        chosen = resolve_device(device)
    elif gpus >= 1 and not custom_encoder:
        chosen = "cuda"
    else:
        local = resolve_device(None) if started_here and not custom_encoder else "cpu"
        chosen = "mps" if local == "mps" else "cpu"
    if chosen.startswith("cuda") and gpus <= 0:
        raise UsageError("--device cuda: the Ray cluster has no GPU")
    actors = workers or max(1, cpus)
    num_gpus = min(1.0, gpus / actors) if chosen.startswith("cuda") else 0.0
    per_batch = batch_docs or DOCS_PER_BATCH.get(chosen.split(":")[0], 8)
    return _RayRun(actors, chosen, num_gpus, per_batch, started_here)


IN_FLIGHT = 2  # calls queued per actor: the next batch is ready when one finishes


def _start_pool(ray, run: _RayRun, factory, store, detector: str) -> list:
    """The run's actors, each loading its model once (a crashed actor is restarted once and its call
    retried once, as Ray does for tasks)."""
    options = {"num_cpus": 1, "max_restarts": 1, "max_task_retries": 1}
    if run.num_gpus:
        options["num_gpus"] = run.num_gpus
    actor = ray.remote(Worker).options(**options)
    return [actor.remote(factory=factory, store=store, detector=detector, device=run.device)
            for _ in range(run.actors)]


def _map_pool(ray, pool: list, method: str, chunks: list[list], *args) -> Iterator[dict]:
    """Call ``method(chunk, *args)`` on the pool's actors for each chunk, at most `IN_FLIGHT` calls
    queued per actor; yields each call's columns as it finishes (any order)."""
    chunks = list(chunks)
    waiting: dict = {}
    free = [a for a in pool for _ in range(IN_FLIGHT)]
    while chunks or waiting:
        while chunks and free:
            actor = free.pop(0)
            waiting[getattr(actor, method).remote(chunks.pop(0), *args)] = actor
        (done,), _ = ray.wait(list(waiting), num_returns=1)
        free.append(waiting.pop(done))
        columns = ray.get(done)
        _raise_failure(columns)
        yield columns


def _pair_with_ray(ray, pool: list, pages: list[tuple[str, str]], run: _RayRun,
                   settings: PairingSettings | None, ru_paths, az_paths, timing: dict, bar,
                   work_dir: Path) -> PairingResult:
    # the local engine's chunks: large early (large batches of equal token count), small at the end
    chunks = guided_chunks(pages, run.actors, largest=4 * run.docs_per_batch)
    with FeatureCollector(work_dir, settings) as collected:
        for columns in _map_pool(ray, pool, "features", chunks):
            collected.add(pickle.loads(blob) for blob in columns["features"])
            timing["pairing_worker_seconds"] += float(sum(columns["seconds"]))
            timing["pairing_model_seconds"] += float(sum(columns["model_seconds"]))
            bar.update(len(columns["features"]))
        return collected.match(ru_paths, az_paths)


def _align_with_ray(ray, pool: list, todo: list[Job], run: _RayRun, level: str, work_dir: Path,
                    timing: dict, bar) -> None:
    by_key = {j.key: j for j in todo}
    chunks = guided_chunks(todo, run.actors, smallest=1, largest=run.docs_per_batch)
    for columns in _map_pool(ray, pool, "align", chunks, level):
        for key, text in zip(columns["key"], columns["record"]):
            record = json.loads(str(text))
            write_record(record, work_file(work_dir, by_key[str(key)]))
            timing["align_worker_seconds"] += record["seconds"]
            timing["align_model_seconds"] += record["model_seconds"]
            bar.update(1)


def run_corpus_ray(
    ru_dir: str | Path,
    az_dir: str | Path,
    out_dir: str | Path,
    *,
    address: str | None = None,
    pairs_tsv: str | Path | None = None,
    model: str | None = None,
    workers: int | None = None,
    level: str = "sentence",
    filters: FilterSettings | None = None,
    detector: str = "auto",
    pairing: PairingSettings | None = None,
    cache_dir: str | Path | None = None,
    encoder_factory: EncoderFactory | None = None,
    progress: bool = True,
    device: str | None = None,
    batch_docs: int | None = None,
) -> dict:
    """`align.corpus.run_corpus` on Ray: the same outputs, byte for byte, and the same report.

    ``address``: a running cluster ("host:6379", "auto"); None starts a local instance with
    ``workers`` CPUs (default 2) and stops it at the end (a Ray already initialised in this process
    is used as it is). ``workers``: actors (default: one per CPU of the cluster). ``device``: "cpu",
    "cuda" or "mps" (default: CUDA when the cluster has GPUs, fp16). ``batch_docs``: document pairs
    per actor call. The driver (this process) writes everything under ``out_dir``; every node needs
    the package, the model and the input files at the same paths.
    """
    started = time.perf_counter()
    if workers is not None and workers < 1:
        raise UsageError("workers must be at least 1 with the Ray engine")
    filters = filters or FilterSettings()
    ru_root, az_root, out = Path(ru_dir), Path(az_dir), Path(out_dir)
    ru_paths, az_paths = list_inputs(ru_root, az_root, level)
    if device:
        resolve_device(device)  # a bad name fails before Ray starts
    ray = _import_ray()
    started_here = _connect(ray, address, workers)
    try:
        run = _plan(ray, device, workers, batch_docs, started_here, encoder_factory is not None)
        factory = encoder_factory or EmbedderFactory(model, run.device)
        return _run(ray, run, factory, ru_root, az_root, out, ru_paths, az_paths, pairs_tsv=pairs_tsv,
                    level=level, filters=filters, detector=detector, pairing=pairing, cache_dir=cache_dir,
                    progress=progress, started=started)
    except ray.exceptions.RayError as exc:  # not a user-facing error: a bug, or the cluster failing
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise AlignError(f"the Ray run failed: {first}") from exc
    finally:
        if started_here:
            ray.shutdown()


def _run(ray, run: _RayRun, factory, ru_root: Path, az_root: Path, out: Path, ru_paths, az_paths, *,
         pairs_tsv, level, filters: FilterSettings, detector, pairing, cache_dir, progress, started) -> dict:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    model_name = str(getattr(factory, "name", "") or repr(factory))
    work_dir = out / ".work"
    cache = str(cache_dir if cache_dir is not None else out / ".cache")
    det_name = detector if filters.language else ""
    timing = new_timing()

    pool: list = []

    def workers() -> list:
        """The actor pool, started when first needed (a resumed run with nothing left starts none)."""
        if not pool:
            pool.extend(_start_pool(ray, run, factory, store, det_name))
        return pool

    def pair() -> PairingResult:
        pages = [(str(p), "ru") for p in ru_paths] + [(str(p), "az") for p in az_paths]
        with _bar(len(pages), "pairing documents", progress) as bar:
            return _pair_with_ray(ray, workers(), pages, run, pairing, ru_paths, az_paths, timing, bar, work_dir)

    with _exclusive(work_dir):
        _remove_stale_temporaries(work_dir)
        here = ray.get_runtime_context().get_node_id()
        store = ray.remote(VectorStore).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote(cache, model_name)
        try:
            # 1. document pairs
            result, jobs, todo = prepare_jobs(out, ru_root, az_root, ru_paths, az_paths, pairs_tsv=pairs_tsv,
                                              pairing=pairing, level=level, model_name=model_name, timing=timing,
                                              pair=pair)

            # 2. align every pair without a finished work file
            t0 = time.perf_counter()
            if todo:
                with _bar(len(jobs), "aligning documents", progress) as bar:
                    bar.update(len(jobs) - len(todo))
                    _align_with_ray(ray, workers(), todo, run, level, work_dir, timing, bar)
            timing["align_seconds"] = time.perf_counter() - t0
            timing["ray_nodes"] = len(set(ray.get([a.node.remote() for a in pool]))) if pool else 0
        finally:
            for actor in [*pool, store]:
                ray.kill(actor)

        # 3. filter and write
        return finish_corpus(result, jobs, todo, out, filters, detector, timing, started,
                             workers=run.actors, engine="ray", device=run.device)
