"""Embedding throughput end to end: raw `SentenceTransformer.encode` against the corpus pipeline.

    .venv/bin/python bench/encode_throughput.py                  # 24 NTREX dev stories, 2 workers, CPU
    .venv/bin/python bench/encode_throughput.py --docs 12 --no-ray
    .venv/bin/python bench/encode_throughput.py --device cuda    # on a GPU machine (fp16)

Pages: NTREX dev stories 1..N rendered as Sputnik-like pages (bench/pages.py), every story on both
sides. The figure is **texts embedded per wall second**: the distinct texts the pipeline sends to
the model — every unit (title, captions, sentences) of every page, plus the concatenations the
aligner embeds for n-m beads — divided by the wall time of the whole run (pairing, reading,
cleaning, segmenting, embedding, aligning, filtering, writing; model loading included; Ray's own
start-up is printed apart, as on a running cluster it is not paid per run). The raw rate is
`SentenceTransformer.encode` on exactly those texts in one process using every thread (batch 32
on CPU, fp16 batch 128 on CUDA), timed before and after the pipelines (the machine may be shared).

Also printed: the encoder alone on one thread — one text at a time (what the local engine's
`CachedEncoder` does) against `Embedder`'s batches of equal token count (what the Ray engine does);
both give bit-identical vectors — and the peak resident memory of the process tree (driver,
workers, Ray's processes; shared pages counted once per process, so an upper bound).
Timings depend on the machine and its load; they are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import build_pool  # noqa: E402

from align.corpus import CachedEncoder, make_jobs, process_pair, run_corpus  # noqa: E402
from align.documents import read_pairing  # noqa: E402
from align.embed import Embedder, load_sentence_transformer, resolve_device  # noqa: E402
from align.filters import FilterSettings  # noqa: E402


# ----------------------------------------------------------------------------- measuring


class PeakMemory:
    """Samples the summed resident memory of this process and all its descendants."""

    def __init__(self, every: float = 0.25) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(self.every)


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    total = 0
    for pid in family:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class Recorder:
    """Wraps an encoder and remembers every text it is asked for."""

    def __init__(self, encoder) -> None:
        self.encoder, self.name, self.texts = encoder, encoder.name, {}

    def encode(self, texts):
        self.texts.update(dict.fromkeys(texts))
        return self.encoder.encode(texts)


def embedded_texts(out: Path, ru_root: Path, az_root: Path, device: str) -> tuple[list[str], list[str]]:
    """The texts a finished run embedded — units and concatenations — replayed through its cache
    (no model work: every vector is a cache hit)."""
    from align.pipeline import load_article
    from align.segment import segment_article

    listed = read_pairing(out / "pairs.tsv", ru_root, az_root)
    cached = CachedEncoder(Embedder(device=device), out / ".cache")
    recorder = Recorder(cached)
    units: dict[str, None] = {}
    for job in make_jobs([(str(r), str(a), s) for r, a, s in listed], ru_root, az_root, "sentence", cached.name):
        for path, lang in ((job.ru, "ru"), (job.az, "az")):
            units.update(dict.fromkeys(u.text for u in segment_article(load_article(path, lang))))
        process_pair(job.ru, job.az, job.doc, recorder)
    assert cached.texts_encoded == 0, "the replay should find every vector in the run's cache"
    every = list(dict.fromkeys([*units, *recorder.texts]))
    return list(units), every


def raw_rate(texts: list[str], device: str, threads: int) -> float:
    """Texts per second of `SentenceTransformer.encode` over ``texts`` (model loaded beforehand)."""
    import torch

    from align.models import model_prompt_name, resolve_model

    torch.set_num_threads(threads)
    path = resolve_model(None)
    model = load_sentence_transformer(path, device)
    batch = 32
    if device.startswith("cuda"):
        model, batch = model.half(), 128
    kwargs = {"prompt_name": model_prompt_name(path)}
    model.encode(texts[:8], batch_size=batch, **kwargs)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    model.encode(texts, batch_size=batch, normalize_embeddings=True, show_progress_bar=False, **kwargs)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return len(texts) / (time.perf_counter() - started)


def encoder_alone(texts: list[str], device: str) -> tuple[float, float, bool]:
    """One thread: `Embedder` one text at a time vs in batches of equal token count (rates, and
    whether the vectors are bit-identical)."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    embedder = Embedder(device=device)
    embedder.encode(texts[:2])  # load
    t0 = time.perf_counter()
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    single = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    batched = embedder.encode(texts)
    grouped = len(texts) / (time.perf_counter() - t0)
    return single, grouped, bool(np.array_equal(alone, batched))


def machine() -> str:
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{name}, {os.cpu_count()} cores, load average {load:.1f} at start"


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=24, help="NTREX dev stories (1..N, N <= 62)")
    ap.add_argument("--workers", type=int, default=2, help="local engine processes = Ray actors = raw threads")
    ap.add_argument("--device", default=None, help="cpu, cuda or mps (default: CUDA when present)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    ap.add_argument("--single", type=int, default=64, help="texts for the one-thread encoder comparison (0 = skip)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    if not 1 <= args.docs <= 62:
        ap.error("--docs must be within NTREX dev (1..62)")
    device = resolve_device(args.device)
    os.environ["ALIGN_DEVICE"] = device  # the local engine's workers pick it up
    import torch

    work = Path(args.workdir or tempfile.mkdtemp(prefix="align-encode-"))
    pool = build_pool(work / "pool", "dev", ntrex_numbers=range(1, args.docs + 1), one_sided_ntrex=0,
                      templates=0, one_sided_templates=0, flores_distractors=0)
    gpu = f", {torch.cuda.get_device_name()}" if device.startswith("cuda") else ""
    print(f"machine: {machine()}{gpu}; torch {torch.__version__}; device {device}")
    print(f"pages: {len(pool.gold)} NTREX dev stories on both sides ({2 * len(pool.gold)} pages) in {pool.ru_dir.parent}")
    filters = FilterSettings(language=False)  # language detection is not embedding work

    # 1. the local engine, cold
    local_out = work / "local"
    shutil.rmtree(local_out, ignore_errors=True)
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        local = run_corpus(pool.ru_dir, pool.az_dir, local_out, workers=args.workers, filters=filters, progress=False)
        local_wall = time.perf_counter() - t0
    local_memory = memory.peak
    units, texts = embedded_texts(local_out, pool.ru_dir, pool.az_dir, device)
    print(f"texts embedded: {len(texts)} ({len(units)} units + {len(texts) - len(units)} concatenations); "
          f"{local['pairs']} pairs, {local['rows']['aligned']} aligned rows")

    # 2. raw encode, before the pipelines' figures are compared with it
    raw_before = raw_rate(texts, device, args.workers)
    print(f"raw SentenceTransformer.encode ({args.workers} threads): {raw_before:.1f} texts/s")

    # 3. the Ray engine, cold, on a Ray instance started beforehand
    ray_line = "ray engine: skipped (--no-ray)"
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            ray_line = "ray engine: skipped (Ray not installed: pip install -e '.[ray]')"
        else:
            from align.ray_engine import _connect, run_corpus_ray

            t0 = time.perf_counter()
            _connect(ray, None, args.workers)
            startup = time.perf_counter() - t0
            ray_out = work / "ray"
            shutil.rmtree(ray_out, ignore_errors=True)
            with PeakMemory() as memory:
                t0 = time.perf_counter()
                remote = run_corpus_ray(pool.ru_dir, pool.az_dir, ray_out, workers=args.workers,
                                        device=device, filters=filters, progress=False)
                ray_wall = time.perf_counter() - t0
            ray.shutdown()
            same = all((local_out / n).read_bytes() == (ray_out / n).read_bytes()
                       for n in ("corpus.tsv", "corpus.jsonl", "corpus.tmx"))
            ray_line = (f"ray engine ({args.workers} actors, {remote['timing']['device']}; start-up {startup:.1f} s "
                        f"not counted): {ray_wall:.1f} s wall = {len(texts) / ray_wall:.1f} texts/s; "
                        f"peak RSS {memory.peak / 2**30:.2f} GiB; same bytes as local: {same}")

    raw_after = raw_rate(texts, device, args.workers)
    raw = (raw_before + raw_after) / 2
    print(f"raw SentenceTransformer.encode again: {raw_after:.1f} texts/s -> raw rate used: {raw:.1f} texts/s")
    print(f"local engine ({args.workers} workers): {local_wall:.1f} s wall = {len(texts) / local_wall:.1f} texts/s "
          f"= {100 * len(texts) / local_wall / raw:.0f}% of raw; peak RSS {local_memory / 2**30:.2f} GiB")
    if "texts/s;" in ray_line:
        rate = float(ray_line.split(" texts/s;")[0].rsplit("= ", 1)[1])
        ray_line = ray_line.replace(" texts/s;", f" texts/s = {100 * rate / raw:.0f}% of raw;", 1)
    print(ray_line)

    # 4. the encoder alone, one thread
    if args.single:
        sample = texts[: args.single]
        single, grouped, identical = encoder_alone(sample, device)
        print(f"Embedder, 1 thread, {len(sample)} texts: one at a time {single:.1f}/s, "
              f"equal-token-count batches {grouped:.1f}/s; bit-identical: {identical}")


if __name__ == "__main__":
    main()
