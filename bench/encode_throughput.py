"""Embedding throughput end to end: raw `SentenceTransformer.encode` against the corpus pipeline.

    .venv/bin/python bench/encode_throughput.py                  # 24 NTREX dev stories, 2 workers, CPU
    .venv/bin/python bench/encode_throughput.py --docs 62 --rounds 2
    .venv/bin/python bench/encode_throughput.py --device cuda    # on a GPU machine (fp16)

Pages: NTREX dev stories 1..N rendered as Sputnik-like pages (bench/pages.py), every story on both
sides. The figure is **texts embedded per wall second**: the distinct texts the pipeline sends to
the model — every unit (title, captions, sentences) of every page, plus the concatenations the
aligner embeds for n-m beads — divided by the wall time of a whole cold run (pairing, reading,
cleaning, segmenting, embedding, aligning, filtering, writing; loading the model in every process
included; Ray's own start-up is printed apart, as on a running cluster it is not paid per run).

The raw rate is `SentenceTransformer.encode` (batch 32; fp16, batch 128 on CUDA) on exactly those
texts, models loaded beforehand, in the better of two set-ups: one process using every thread, or
(on CPU) one one-thread process per worker, each encoding its share at the same time. For the Ray
engine, which embeds with `Embedder.encode`, its share of `Embedder.encode` alone in the second
set-up is printed too: what start-up, pairing, reading, alignment and writing cost.

Every measurement runs ``--rounds`` times, interleaved, and the best of each is used: the machine
may be shared, and the best run is the least disturbed one.

Also printed: the CPU seconds of the raw processes and of the local engine's whole process tree
(driver and workers), which other jobs on the machine move less than wall seconds; the encoder
alone on one thread — one text at a time (what `CachedEncoder` does with an encoder that is not
batch-invariant), sentence-transformers' padded batches of 64 (what `Embedder.encode` did
before), and `Embedder`'s batches of equal token count (what it does now, and what both engines
use; equal to one at a time within float rounding) at a few batch sizes — and the peak resident memory of the
process tree (driver, workers, Ray's processes; shared pages counted once per process, so an upper
bound). Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import build_pool  # noqa: E402
from procmem import Sampler, descendants, status_kb  # noqa: E402

from align.corpus import CachedEncoder, make_jobs, process_pair, run_corpus  # noqa: E402
from align.documents import read_pairing  # noqa: E402
from align.embed import Embedder, load_sentence_transformer, resolve_device  # noqa: E402
from align.filters import FilterSettings  # noqa: E402


# ----------------------------------------------------------------------------- measuring


class PeakMemory(Sampler):
    """Samples the summed resident memory of this process and all its descendants."""

    def __init__(self, every: float = 0.25) -> None:
        super().__init__(every)
        self.peak = 0

    def sample(self) -> None:
        self.peak = max(self.peak, tree_rss(os.getpid()))


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants (Linux /proc; 0 elsewhere)."""
    return sum(status_kb("VmRSS", pid) for pid in [root, *descendants(root)]) * 1024


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


def _raw_share(texts: list[str], device: str, grouped: bool, threads: int, barrier, results) -> None:
    import torch

    from align.corpus import pin_threads
    from align.models import model_prompt_name, resolve_model

    if threads == 1:
        pin_threads()
    else:
        torch.set_num_threads(threads)
    path = resolve_model(None)
    cuda = device.startswith("cuda")
    if grouped:  # our Embedder: batches of equal token count
        embedder = Embedder(device=device)
        embedder.encode(texts[:8])  # load, warm-up
        encode = embedder.encode
    else:
        model = load_sentence_transformer(path, device)
        batch = 32
        if cuda:
            model, batch = model.half(), 128
        kwargs = {"prompt_name": model_prompt_name(path)}
        model.encode(texts[:8], batch_size=batch, **kwargs)  # warm-up

        def encode(chunk):
            return model.encode(chunk, batch_size=batch, normalize_embeddings=True, show_progress_bar=False, **kwargs)
    barrier.wait()
    if cuda:
        torch.cuda.synchronize()
    started, cpu_started = time.perf_counter(), time.process_time()
    encode(texts)
    if cuda:
        torch.cuda.synchronize()
    results.put((time.perf_counter() - started, time.process_time() - cpu_started))


def raw_rate(texts: list[str], device: str, processes: int, threads: int = 1,
             grouped: bool = False) -> tuple[float, float]:
    """Texts per second of `SentenceTransformer.encode` (``grouped``: of `Embedder.encode`) in
    ``processes`` processes of ``threads`` threads, each encoding its share of ``texts`` at the same
    time (models loaded first; wall = the slowest), and the CPU seconds they used, summed. Never in
    this process, which holds no model."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    shares = [texts[i::processes] for i in range(processes)]
    workers = [ctx.Process(target=_raw_share, args=(share, device, grouped, threads, barrier, results))
               for share in shares]
    for w in workers:
        w.start()
    found = [results.get() for _ in workers]
    for w in workers:
        w.join()
    return len(texts) / max(wall for wall, _ in found), sum(cpu for _, cpu in found)


def encoder_alone(texts: list[str], device: str) -> dict[str, float | bool]:
    """One thread, the same texts: `Embedder` one text at a time (`CachedEncoder`'s way for an
    encoder that is not batch-invariant), sentence-transformers' ``encode`` with batch 64 (what
    `Embedder.encode` did before it grouped texts by token count), and `Embedder.encode` now; plus
    whether batched and single vectors are bit-identical."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    embedder = Embedder(device=device)
    embedder.encode(texts[:2])  # load
    kwargs = {"prompt_name": embedder.prompt_name} if embedder.prompt_name else {}
    rates: dict[str, float | bool] = {}
    t0 = time.perf_counter()
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    rates["one at a time"] = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    embedder.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False, **kwargs)
    rates["sentence-transformers batch 64 (before)"] = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    batched = embedder.encode(texts)
    rates[f"equal-token-count batches of {embedder.batch_size} (now)"] = len(texts) / (time.perf_counter() - t0)
    rates["bit-identical"] = bool(np.array_equal(alone, batched))
    for size in (8, 16, 64):  # the default (align.embed.DEFAULT_BATCH) was timed just above
        embedder.batch_size = size
        t0 = time.perf_counter()
        embedder.encode(texts)
        rates[f"batch {size}"] = len(texts) / (time.perf_counter() - t0)
    return rates


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


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (a finished pool's workers)."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def run_local(pool, out: Path, workers: int, filters: FilterSettings) -> tuple[float, int, dict, float]:
    """A cold local run: wall seconds, peak memory, the report, CPU seconds (driver and workers)."""
    shutil.rmtree(out, ignore_errors=True)
    with PeakMemory() as memory:
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        report = run_corpus(pool.ru_dir, pool.az_dir, out, workers=workers, filters=filters, progress=False)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return wall, memory.peak, report, cpu


def run_ray(pool, out: Path, workers: int, device: str, filters: FilterSettings) -> tuple[float, int, float]:
    """A cold run on a local Ray instance started beforehand (its start-up is returned apart)."""
    import ray

    from align.ray_engine import _connect, run_corpus_ray

    shutil.rmtree(out, ignore_errors=True)
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        _connect(ray, None, workers)
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_corpus_ray(pool.ru_dir, pool.az_dir, out, workers=workers, device=device, filters=filters,
                       progress=False)
        wall = time.perf_counter() - t0
    ray.shutdown()
    return wall, memory.peak, startup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=24, help="NTREX dev stories (1..N, N <= 62)")
    ap.add_argument("--workers", type=int, default=2, help="local engine processes = Ray actors = raw threads")
    ap.add_argument("--device", default=None, help="cpu, cuda or mps (default: CUDA when present)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of every measurement; the best of each is used")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    ap.add_argument("--single", type=int, default=64, help="texts for the one-thread encoder comparison (0 = skip)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    if not 1 <= args.docs <= 62:
        ap.error("--docs must be within NTREX dev (1..62)")
    device = resolve_device(args.device)
    os.environ["ALIGN_DEVICE"] = device  # the local engine's workers pick it up
    import torch

    use_ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    work = Path(args.workdir or tempfile.mkdtemp(prefix="align-encode-"))
    pool = build_pool(work / "pool", "dev", ntrex_numbers=range(1, args.docs + 1), one_sided_ntrex=0,
                      templates=0, one_sided_templates=0, flores_distractors=0)
    gpu = f", {torch.cuda.get_device_name()}" if device.startswith("cuda") else ""
    print(f"machine: {machine()}{gpu}; torch {torch.__version__}; device {device}")
    print(f"pages: {len(pool.gold)} NTREX dev stories on both sides ({2 * len(pool.gold)} pages) in {pool.ru_dir.parent}")
    if not use_ray:
        print("ray engine: skipped" + ("" if args.no_ray else " (Ray not installed: pip install -e '.[ray]')"))
    filters = FilterSettings(language=False)  # language detection is not embedding work
    parallel = args.workers if device == "cpu" else 1
    rates: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    peaks: dict[str, int] = {"local": 0, "ray": 0}
    texts: list[str] = []

    def note(key: str, value: float | tuple[float, float], cpu: float | None = None) -> str:
        if isinstance(value, tuple):
            value, cpu = value
        rates.setdefault(key, []).append(value)
        if cpu is not None:
            cpus.setdefault(key, []).append(cpu)
        return f"{key} {value:.1f}" + (f" (CPU {cpu:.0f} s)" if cpu is not None else "")

    local_key = f"local engine ({args.workers} workers)"
    for round_ in range(1, args.rounds + 1):
        line = []
        wall, peak, report, cpu = run_local(pool, work / "local", args.workers, filters)
        peaks["local"] = max(peaks["local"], peak)
        if not texts:
            units, texts = embedded_texts(work / "local", pool.ru_dir, pool.az_dir, device)
            print(f"texts embedded: {len(texts)} ({len(units)} units + {len(texts) - len(units)} concatenations); "
                  f"{report['pairs']} pairs, {report['rows']['aligned']} aligned rows")
        line.append(note(local_key, len(texts) / wall, cpu if device == "cpu" else None))
        line.append(note(f"raw encode (1 process x {args.workers} threads)", raw_rate(texts, device, 1, args.workers)))
        if parallel > 1:
            line.append(note(f"raw encode ({parallel} processes x 1 thread)", raw_rate(texts, device, parallel)))
        line.append(note(f"Embedder.encode alone ({parallel} processes x {args.workers // parallel} threads)",
                         raw_rate(texts, device, parallel, args.workers // parallel, grouped=True)))
        if use_ray:
            wall, peak, startup = run_ray(pool, work / "ray", args.workers, device, filters)
            peaks["ray"] = max(peaks["ray"], peak)
            same = all((work / "local" / n).read_bytes() == (work / "ray" / n).read_bytes()
                       for n in ("corpus.tsv", "corpus.jsonl", "corpus.tmx", "pairs.tsv"))
            line.append(note(f"ray engine ({args.workers} actors)", len(texts) / wall)
                        + f" [Ray start-up {startup:.1f} s apart; same bytes as local: {same}]")
        print(f"round {round_} (load average {os.getloadavg()[0]:.1f}), texts/s: " + "; ".join(line))

    best = {key: max(values) for key, values in rates.items()}
    raw = max(v for k, v in best.items() if k.startswith("raw encode"))
    alone = best.get(f"Embedder.encode alone ({parallel} processes x {args.workers // parallel} threads)")
    print(f"best of {args.rounds} rounds; raw rate = the better raw set-up: {raw:.1f} texts/s")
    for key, value in best.items():
        if key.startswith(("local", "ray")):
            engine = key.split()[0]
            versus = f", {100 * value / alone:.0f}% of Embedder.encode alone" if alone and engine == "ray" else ""
            print(f"  {key}: {value:.1f} texts/s = {100 * value / raw:.0f}% of raw{versus}; "
                  f"peak RSS {peaks[engine] / 2**30:.2f} GiB")
    if device == "cpu" and local_key in cpus:
        # CPU seconds vary less than wall seconds with what else runs on the machine
        raw_key = min((k for k in cpus if k.startswith("raw encode")), key=lambda k: min(cpus[k]))
        local_cpu, raw_cpu = min(cpus[local_key]), min(cpus[raw_key])
        print(f"CPU seconds (least of {args.rounds}): {raw_key} {raw_cpu:.0f} s (encoding only); {local_key} "
              f"{local_cpu:.0f} s (all of it: process and model start-up, reading, pairing, aligning, writing) "
              f"= {100 * raw_cpu / local_cpu:.0f}% of raw by CPU")

    if args.single:
        sample = texts[: args.single]
        found = encoder_alone(sample, device)
        print(f"Embedder, 1 thread, {len(sample)} texts: " + ", ".join(
            f"{k} {v:.1f}/s" if not isinstance(v, bool) else f"{k}: {v}" for k, v in found.items()))


if __name__ == "__main__":
    main()
