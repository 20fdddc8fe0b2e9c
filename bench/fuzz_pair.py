"""Fuzz `align pair` on mutated real pages, and time the pipeline on large inputs.

    .venv/bin/python bench/fuzz_pair.py --cases 300 --cli 6          # the fuzz run
    .venv/bin/python bench/fuzz_pair.py --scale                      # timings on large inputs

Fuzz: the seeds are the sample pair (samples/sputnik-2023-12-06) and, when ../shared is present,
NTREX dev documents 1–62 rendered as Sputnik-like pages (bench/pages.py). Each case applies one to
three random mutations (text, bytes, encoding, format or pair level — see MUTATIONS) and runs the
Python API in-process with the real model (loaded once; vectors memoised in memory). A case passes
when it returns an alignment in which every unit id of both sides is in exactly one row, every
dropped row has a reason and the TSV reads back row for row — or when it raises an `AlignError`
with a one-line message. Anything else is a failure; with --keep-failures DIR its inputs are saved.
A few cases also go through the real CLI (`python -m align pair`), which must exit 0 or 3 with one
error line and no traceback.

Scale: read+clean+segment of a 2 MB one-line paragraph and of a 50k-sentence page, the splitters
on one paragraph of growing size, and the whole pipeline on parallel documents of growing size with
a fast fake encoder (vectors keyed by a sentence number, so the aligner sees a realistic, mostly
1-1 document) and with the real model on a small one. Each pipeline size runs in a fresh process
so its peak memory (max RSS) is its own. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.pipeline import Alignment, align_articles, align_segmented  # noqa: E402
from align.types import AlignError  # noqa: E402
from align.write import write_pairs  # noqa: E402

SAMPLE = ROOT / "samples" / "sputnik-2023-12-06"
NOISE = ["Новости", "Подписаться", "Abunə ol", "12:45", "06.12.2023, 14:30", "© Sputnik / Мурад Оруджев",
         "Поделиться", "Telegram", "Читайте также: Новости региона", "Фото: Sputnik", "https://az.sputnik.az/x",
         "1234", "***", "Реклама", "© 2023 Sputnik. Все права защищены", "Xəbər lenti", "Лента новостей", "18+"]
ODD_CHARS = ["\u00a0", "\t", "\u200b", "\u00ad", "\ufeff", "\u202e", "\u0301", "\x07", "\x00", "\ufffd", "😀",
             "\u2028", "\r", "ﬁ", "\U0001d400", "\u0627", "中", "\uf8ff"]
AZ_TO_CYRILLIC = dict(zip("abcçdeəfgğhxıijkqlmnoöprsştuüvyzABCÇDEƏFGĞHXIİJKQLMNOÖPRSŞTUÜVYZ",
                          "абҹчдеәфҝғһхыижкглмнопрсштуүвјзАБҸЧДЕӘФҜҒҺХЫИЖКГЛМНОӨПРСШТУҮВЈЗ"))


# ---------------------------------------------------------------- seeds
def seed_pairs(sample_only: bool = False) -> list[tuple[str, str, str]]:
    """(name, ru page text, az page text): the sample, plus NTREX dev docs 1–62 rendered as pages."""
    seeds = [("sample", (SAMPLE / "ru.txt").read_text(encoding="utf-8"), (SAMPLE / "az.txt").read_text(encoding="utf-8"))]
    if sample_only:
        return seeds
    try:
        import pages

        docs = pages.ntrex_documents(pages.DEV_DOCS)
    except (FileNotFoundError, ImportError, AssertionError):
        return seeds
    rng = random.Random(0)
    for doc in docs:
        body = [s for s in doc.ru_body if s]
        if len(body) < 2:
            continue
        groups, i = [], 0
        while i < len(body):
            size = rng.choice([1, 2, 3])
            groups.append(list(range(i, min(i + size, len(body)))))
            i += size
        layout = {"paragraphs": groups, "caption": 0, "repeat_caption": False, "insert_at": 2, "city": 0, "credit": 0}
        extras = pages.PageExtras(day=date(2023, 12, 1 + rng.randrange(28)))
        seeds.append((doc.key, pages.render_page(doc.ru_title, doc.ru_body, "ru", layout, extras),
                      pages.render_page(doc.az_title, doc.az_body, "az", layout, extras)))
    return seeds


# ---------------------------------------------------------------- mutations
# Each mutation takes (text, rng) and returns text; byte mutations take and return bytes.
def _lines(text: str) -> list[str]:
    return text.split("\n")


def drop_lines(text, rng):
    return "\n".join(line for line in _lines(text) if rng.random() > 0.3)


def duplicate_lines(text, rng):
    out = []
    for line in _lines(text):
        out += [line] * (2 if rng.random() < 0.3 else 1)
    return "\n".join(out)


def shuffle_lines(text, rng):
    lines = _lines(text)
    rng.shuffle(lines)
    return "\n".join(lines)


def insert_noise(text, rng):
    lines = _lines(text)
    for _ in range(rng.randint(1, 8)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(NOISE))
    return "\n".join(lines)


def only_noise(text, rng):
    return "\n".join(rng.choice(NOISE) for _ in range(rng.randint(1, 12)))


def odd_characters(text, rng):
    chars = list(text)
    for _ in range(rng.randint(1, 40)):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(ODD_CHARS))
    return "".join(chars)


def random_unicode(text, rng):
    chars = list(text)
    for _ in range(rng.randint(1, 30)):
        chars.insert(rng.randrange(len(chars) + 1), chr(rng.randrange(0x20, 0x2FFFF)))
    return "".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF)


def odd_spaces(text, rng):
    return "".join(rng.choice(["\u00a0", "\t", "  ", "\u2009", "\u3000"]) if c == " " and rng.random() < 0.3 else c
                   for c in text)


def line_ends(text, rng):
    return text.replace("\n", rng.choice(["\r\n", "\r", "\n\n", "\u2029"]))


def truncate(text, rng):
    return text[: rng.randrange(len(text) + 1)]


def one_line(text, rng):
    return " ".join(_lines(text))


def long_paragraph(text, rng):
    lines = _lines(text)
    sentence = max(lines, key=len) or "Слово."
    lines.insert(rng.randrange(len(lines) + 1), " ".join([sentence] * rng.randint(50, 400)))
    return "\n".join(lines)


def long_word(text, rng):
    lines = _lines(text)
    lines.insert(rng.randrange(len(lines) + 1), "а" * rng.randint(1000, 100_000))
    return "\n".join(lines)


def upper_case(text, rng):
    return "\n".join(line.upper() if rng.random() < 0.5 else line for line in _lines(text))


def no_punctuation(text, rng):
    return re.sub(r"[.!?…,;:«»\"“”()—-]", "", text)


def repeat_text(text, rng):
    return "\n".join([text] * rng.randint(2, 6))


def as_html(text, rng):
    lines = [line for line in _lines(text) if line.strip()]
    title = lines[1] if len(lines) > 1 else (lines[0] if lines else "")
    body = "".join(f"<p>{line}</p>" for line in lines[2:])
    nav = "<nav><a href='/'>Новости</a></nav>" if rng.random() < 0.5 else ""
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{nav}<h1>{title}</h1>{body}</body></html>"


def broken_html(text, rng):
    html = as_html(text, rng)
    return html[: rng.randrange(len(html) + 1)] + rng.choice(["<p", "<script>var x = '<p>';", "</div></div>", "&#xFFFF;"])


def as_json(text, rng):
    lines = [line for line in _lines(text) if line.strip()]
    record = {"title": lines[0] if lines else None, "paragraphs": lines[1:]}
    if rng.random() < 0.3:
        record["captions"] = "not a list" if rng.random() < 0.5 else [1, 2]
    return json.dumps(record, ensure_ascii=rng.random() < 0.5)


def bullets(text, rng):
    return "\n".join(f"{rng.choice(['-', '•', '1.', '*', '>'])} {line}" if line else line for line in _lines(text))


def azerbaijani_cyrillic(text, rng):
    return "\n".join("".join(AZ_TO_CYRILLIC.get(c, c) for c in line) if rng.random() < 0.5 else line
                     for line in _lines(text))


def flip_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 30)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def cut_bytes(data, rng):
    return data[: rng.randrange(len(data) + 1)]


def binary_prefix(data, rng):
    return rng.choice([b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"\x00\x01\x02"]) + data


def nul_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        data.insert(rng.randrange(len(data) + 1), 0)
    return bytes(data)


TEXT_MUTATIONS: dict[str, Callable] = {f.__name__: f for f in (
    drop_lines, duplicate_lines, shuffle_lines, insert_noise, only_noise, odd_characters, random_unicode,
    odd_spaces, line_ends, truncate, one_line, long_paragraph, long_word, upper_case, no_punctuation,
    repeat_text, bullets,
)}
FORMAT_MUTATIONS: dict[str, Callable] = {f.__name__: f for f in (as_html, broken_html, as_json)}
BYTE_MUTATIONS: dict[str, Callable] = {f.__name__: f for f in (flip_bytes, cut_bytes, binary_prefix, nul_bytes)}
ENCODINGS = ("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1251", "koi8-r", "utf-32")
PAIR_MUTATIONS = ("swap", "same page", "other story", "az only noise", "segmented", "paragraph level")


def mutate_page(text: str, lang: str, rng: random.Random) -> tuple[bytes, str, list[str]]:
    """One mutated page: (bytes, file suffix, names of the mutations applied)."""
    applied = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        name = rng.choice(list(TEXT_MUTATIONS))
        text = TEXT_MUTATIONS[name](text, rng)
        applied.append(name)
    if lang == "az" and rng.random() < 0.1:
        text = azerbaijani_cyrillic(text, rng)
        applied.append("azerbaijani_cyrillic")
    suffix = ".txt"
    if rng.random() < 0.15:
        name = rng.choice(list(FORMAT_MUTATIONS))
        text = FORMAT_MUTATIONS[name](text, rng)
        suffix = rng.choice([".html" if "html" in name else ".json", ".txt"])
        applied.append(name)
    encoding = rng.choice(ENCODINGS)
    data = text.encode(encoding, errors="replace" if encoding in ("cp1251", "koi8-r") else "surrogatepass")
    if encoding != "utf-8":
        applied.append(encoding)
    if rng.random() < 0.1:
        name = rng.choice(list(BYTE_MUTATIONS))
        data = BYTE_MUTATIONS[name](data, rng)
        applied.append(name)
    return data, suffix, applied


# ---------------------------------------------------------------- checks
class MemoEncoder:
    """Remember each text's vector: mutated pages repeat most sentences, so the fuzz stays fast."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.memo = inner, inner.name, {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            self.memo.update(zip(missing, self.inner.encode(missing)))
        if not texts:
            return self.inner.encode([])
        return np.stack([self.memo[t] for t in texts]).astype(np.float32)


def check_alignment(result: Alignment, out_dir: Path) -> list[str]:
    """Problems with a finished alignment (empty when it keeps every promise)."""
    problems = []
    for side, units in (("ru", result.ru_units), ("az", result.az_units)):
        ids = sorted(i for p in result.pairs for i in (p.ru_ids if side == "ru" else p.az_ids))
        if ids != [u.id for u in units]:
            problems.append(f"{side} ids not covered exactly once: {Counter(ids).most_common(2)}")
    for pair in result.pairs:
        if not (pair.ru_ids or pair.az_ids):
            problems.append("a row with no unit")
        if not pair.keep and not pair.reason:
            problems.append(f"a dropped row without a reason: {pair}")
        if not all(np.isfinite([pair.score, pair.similarity, pair.margin, pair.length_ratio])):
            problems.append(f"a non-finite number: {pair}")
    path = write_pairs(result.pairs, out_dir / "out.tsv", "tsv")[0]
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if len(rows) != len(result.pairs) + 1 or any(len(r) != len(rows[0]) for r in rows):
        problems.append("the TSV does not read back row for row")
    return problems


def run_case(case: int, seeds, rng: random.Random, encoder, work: Path) -> dict:
    """Build and run one fuzz case; returns its record."""
    name, ru_text, az_text = seeds[rng.randrange(len(seeds))]
    pair_mutation = rng.choice(PAIR_MUTATIONS) if rng.random() < 0.3 else ""
    if pair_mutation == "other story" and len(seeds) > 1:
        az_text = seeds[rng.randrange(len(seeds))][2]
    elif pair_mutation == "same page":
        az_text = ru_text
    elif pair_mutation == "az only noise":
        az_text = only_noise(az_text, rng)
    ru_bytes, ru_suffix, ru_applied = mutate_page(ru_text, "ru", rng)
    az_bytes, az_suffix, az_applied = mutate_page(az_text, "az", rng)
    if pair_mutation == "swap":
        ru_bytes, az_bytes, ru_suffix, az_suffix = az_bytes, ru_bytes, az_suffix, ru_suffix
    folder = work / f"case{case:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    ru_path, az_path = folder / f"ru{ru_suffix}", folder / f"az{az_suffix}"
    ru_path.write_bytes(ru_bytes)
    az_path.write_bytes(az_bytes)
    record = {"case": case, "seed": name, "pair": pair_mutation, "ru": ru_applied, "az": az_applied,
              "folder": str(folder), "segmented": pair_mutation == "segmented",
              "level": "paragraph" if pair_mutation == "paragraph level" else "sentence"}
    started = time.perf_counter()
    try:
        if record["segmented"]:
            result = align_segmented(ru_path, az_path, encoder, doc=f"case{case}")
        else:
            result = align_articles(ru_path, az_path, encoder, level=record["level"], doc=f"case{case}")
    except AlignError as exc:
        message = str(exc)
        record["outcome"] = "rejected"
        record["error"] = message
        if "\n" in message or not message:
            record["outcome"], record["problems"] = "failed", ["an error message that is not one line"]
    except Exception as exc:  # noqa: BLE001 - this is what the fuzz looks for
        record["outcome"] = "failed"
        record["problems"] = [f"{type(exc).__name__}: {exc}"]
        record["traceback"] = traceback.format_exc()
    else:
        try:
            problems = check_alignment(result, folder)
        except Exception as exc:  # noqa: BLE001 - a result the checks cannot even read is a failure
            problems = [f"checking failed: {type(exc).__name__}: {exc}"]
        record["outcome"] = "failed" if problems else "aligned"
        record["units"] = (len(result.ru_units), len(result.az_units))
        if problems:
            record["problems"] = problems
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def run_cli_case(record: dict) -> list[str]:
    """Re-run a case through `python -m align pair`; returns problems."""
    folder = Path(record["folder"])
    ru, az = sorted(folder.glob("ru.*"))[0], sorted(folder.glob("az.*"))[0]
    args = [sys.executable, "-m", "align", "pair", str(ru), str(az), "-q", "-o", str(folder / "cli.tsv")]
    if record["segmented"]:
        args.append("--segmented")
    if record["level"] != "sentence":
        args += ["--level", record["level"]]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    problems = []
    if "Traceback" in proc.stderr:
        problems.append("a traceback on stderr")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("align: error:")]
    expected = {"aligned": 0, "rejected": 3}.get(record["outcome"])
    if proc.returncode != expected:
        problems.append(f"exit {proc.returncode}, expected {expected}: {proc.stderr.strip()[-300:]}")
    if proc.returncode != 0 and len(errors) != 1:
        problems.append(f"{len(errors)} error lines")
    return problems


def run_fuzz(cases: int = 200, seed: int = 1, encoder=None, cli_runs: int = 0,
             keep_failures: str | Path | None = None, verbose: bool = False, sample_only: bool = False,
             minutes: float = 0.0, progress: int = 0) -> dict:
    """Run ``cases`` fuzz cases (and ``cli_runs`` of them through the CLI); returns the report.
    ``sample_only``: mutate only the sample pair (fast: most sentences repeat); ``minutes``: start no
    new case after this long (0: no limit); ``progress``: print a line every this many cases."""
    if encoder is None:
        from align.embed import Embedder

        encoder = Embedder()
    encoder = MemoEncoder(encoder)
    rng = random.Random(seed)
    seeds = seed_pairs(sample_only)
    work = Path(tempfile.mkdtemp(prefix="fuzz_pair."))
    records, started = [], time.perf_counter()
    try:
        for case in range(cases):
            if minutes and time.perf_counter() - started > 60 * minutes:
                print(f"fuzz_pair: time budget of {minutes} min spent after {case} cases", file=sys.stderr)
                break
            record = run_case(case, seeds, rng, encoder, work)
            records.append(record)
            if progress and (case + 1) % progress == 0:
                counts = Counter(r["outcome"] for r in records)
                print(f"fuzz_pair: {case + 1} cases, {dict(counts)}, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
            if verbose or record["outcome"] == "failed":
                print(json.dumps({k: v for k, v in record.items() if k != "traceback"}, ensure_ascii=False),
                      file=sys.stderr)
        cli_records = [r for r in records if r["outcome"] in ("aligned", "rejected")]
        picked = random.Random(seed).sample(cli_records, min(cli_runs, len(cli_records)))
        cli_failures = []
        for record in picked:
            problems = run_cli_case(record)
            if problems:
                cli_failures.append({"case": record["case"], "problems": problems})
        failures = [r for r in records if r["outcome"] == "failed"]
        if keep_failures and failures:
            target = Path(keep_failures)
            target.mkdir(parents=True, exist_ok=True)
            for record in failures:
                shutil.copytree(record["folder"], target / Path(record["folder"]).name, dirs_exist_ok=True)
                (target / Path(record["folder"]).name / "record.json").write_text(
                    json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    outcomes = Counter(r["outcome"] for r in records)
    return {
        "ran": len(records), "aligned": outcomes["aligned"], "rejected": outcomes["rejected"],
        "failed": outcomes["failed"], "failures": failures,
        "rejections": Counter(_error_kind(r["error"]) for r in records if r["outcome"] == "rejected"),
        "cli_ran": len(picked), "cli_failed": len(cli_failures), "cli_failures": cli_failures,
        "seeds": len(seeds), "seconds": round(time.perf_counter() - started, 1),
        "slowest": max((r["seconds"] for r in records), default=0.0),
    }


def _error_kind(message: str) -> str:
    """The message without its path: "file is empty", "binary file (PDF), expected text", ..."""
    return message.split(": ", 1)[-1][:70]


# ---------------------------------------------------------------- scale
class NumberedEncoder:
    """A fast fake for timing: a text's vector is the sum of vectors keyed by the "[n]" markers in it
    (plus a little per-language noise), so sentence n of both sides match; other texts get a vector
    from their hash."""

    name = "numbered-fake"

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim

    def _vector(self, key: str) -> np.ndarray:
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        return np.random.default_rng(digest).standard_normal(self.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            numbers = re.findall(r"\[(\d+)\]", text)
            vec = sum((self._vector(n) for n in numbers), np.zeros(self.dim)) if numbers else self._vector(text)
            vec = vec + 0.3 * self._vector(text)
            out[row] = vec / np.linalg.norm(vec)
        return out


def parallel_pages(n: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """A ru and an az page of about ``n`` body sentences each, sentence k marked "[k]" on both sides,
    in paragraphs of 1–12 sentences; 2% of the az sentences missing, 2% extra az sentences."""
    rng = random.Random(seed)
    ru_base = [s.strip() for s in re.split(r"(?<=[.!?])\s+", (SAMPLE / "ru.txt").read_text(encoding="utf-8"))
               if len(s) > 40][:20]
    az_base = [s.strip() for s in re.split(r"(?<=[.!?])\s+", (SAMPLE / "az.txt").read_text(encoding="utf-8"))
               if len(s) > 40][:20]
    ru_paras, az_paras, k = ["Заголовок длинной статьи"], ["Uzun məqalənin başlığı"], 0
    while k < n:
        size = rng.randint(1, 12)
        ru_sents, az_sents = [], []
        for _ in range(size):
            base = rng.randrange(min(len(ru_base), len(az_base)))
            ru_sents.append(f"{ru_base[base].rstrip('.')} [{k}].")
            if rng.random() > 0.02:
                az_sents.append(f"{az_base[base].rstrip('.')} [{k}].")
            if rng.random() < 0.02:
                az_sents.append(f"Əlavə cümlə {rng.randrange(10**6)} burada.")
            k += 1
        ru_paras.append(" ".join(ru_sents))
        az_paras.append(" ".join(az_sents) or "Boş.")
    folder.mkdir(parents=True, exist_ok=True)
    ru, az = folder / f"ru{n}.txt", folder / f"az{n}.txt"
    ru.write_text("\n".join(ru_paras) + "\n", encoding="utf-8")
    az.write_text("\n".join(az_paras) + "\n", encoding="utf-8")
    return ru, az


def scale_one(n: int, real: bool) -> dict:
    """Time the stages of `align_articles` on ``n``-sentence parallel pages (in this process)."""
    import align.pipeline as pipeline

    folder = Path(tempfile.mkdtemp(prefix="fuzz_scale."))
    try:
        ru, az = parallel_pages(n, folder)
        if real:
            from align.embed import Embedder

            encoder = Embedder()
            encoder.encode(["warm up"])
        else:
            encoder = NumberedEncoder()
        stages: dict[str, float] = Counter()

        def timed(stage, fn):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    stages[stage] += time.perf_counter() - started
            return wrapper

        encode = encoder.encode
        encoder.encode = timed("embed", encode)
        for stage, attr in (("read+clean", "load_article"), ("segment", "segment_article"),
                            ("align", "align_units"), ("score", "score_links")):
            setattr(pipeline, attr, timed(stage, getattr(pipeline, attr)))
        started = time.perf_counter()
        result = pipeline.align_articles(ru, az, encoder)
        total = time.perf_counter() - started
        stages["align"] -= stages["embed"]
        kept = sum(p.keep for p in result.pairs)
        return {"n": n, "ru_units": len(result.ru_units), "az_units": len(result.az_units), "kept": kept,
                "seconds": round(total, 2), **{k: round(v, 2) for k, v in stages.items()},
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_scale(sizes: Sequence[int], real_sizes: Sequence[int]) -> None:
    from align.clean import clean_page
    from align.read import read_page
    from align.segment import segment_article, split_sentences

    print("front end (read + clean + segment):")
    folder = Path(tempfile.mkdtemp(prefix="fuzz_scale."))
    try:
        ru_sentences = [s for s in re.split(r"(?<=[.!?])\s+", (SAMPLE / "ru.txt").read_text(encoding="utf-8"))
                        if len(s) > 40]
        az_sentences = [s for s in re.split(r"(?<=[.!?])\s+", (SAMPLE / "az.txt").read_text(encoding="utf-8"))
                        if len(s) > 40]
        rng = random.Random(0)
        cases = {
            "ru 2 MB one-line paragraph": ("ru", "Заголовок статьи\n" + " ".join(
                rng.choice(ru_sentences) for _ in range(9000))[:2_000_000]),
            "az 2 MB one-line paragraph": ("az", "Məqalənin başlığı\n" + " ".join(
                rng.choice(az_sentences) for _ in range(9000))[:2_000_000]),
            "az 2 MB without punctuation": ("az", "Məqalənin başlığı\n" + "söz " * 500_000),
            "ru 50k sentences, 5k paragraphs": ("ru", "\n".join(" ".join(rng.choice(ru_sentences) for _ in range(10))
                                                                for _ in range(5000))),
            "az 50k sentences, 5k paragraphs": ("az", "\n".join(" ".join(rng.choice(az_sentences) for _ in range(10))
                                                                for _ in range(5000))),
        }
        for label, (lang, text) in cases.items():
            path = folder / "page.txt"
            path.write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            page = read_page(path)
            t1 = time.perf_counter()
            article = clean_page(page, lang)
            t2 = time.perf_counter()
            units = segment_article(article)
            t3 = time.perf_counter()
            print(f"  {label:34s} {len(text) / 1e6:5.1f} MB  read {t1 - t0:5.2f} s  clean {t2 - t1:5.2f} s  "
                  f"segment {t3 - t2:5.2f} s  -> {len(units)} units")
        print("sentence splitter, one paragraph (us per sentence should stay flat):")
        for lang, pool in (("ru", ru_sentences), ("az", az_sentences)):
            for n in (5_000, 20_000, 50_000):
                text = " ".join(rng.choice(pool) for _ in range(n))
                t0 = time.perf_counter()
                found = len(split_sentences(text, lang))
                seconds = time.perf_counter() - t0
                print(f"  {lang} {n:6d} sentences  {seconds:6.2f} s  {seconds / n * 1e6:5.0f} us/sentence  ({found} found)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("whole pipeline (fresh process per size; fake encoder unless 'real'):")
    for n, real in [(n, False) for n in sizes] + [(n, True) for n in real_sizes]:
        proc = subprocess.run([sys.executable, __file__, "--scale-one", str(n), *(["--real"] if real else [])],
                              capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if proc.returncode != 0:
            print(f"  n={n} {'real' if real else 'fake'}: failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        stages = "  ".join(f"{k} {figures[k]:.2f}" for k in ("read+clean", "segment", "embed", "align", "score")
                           if k in figures)
        print(f"  {'real' if real else 'fake'} n={n:6d}  {figures['ru_units']}/{figures['az_units']} units  "
              f"total {figures['seconds']:7.2f} s ({figures['seconds'] / n * 1e3:.2f} ms/sentence)  [{stages}]  "
              f"max RSS {figures['max_rss_mb']} MB  kept {figures['kept']}")


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="fuzz cases to run in-process")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli", type=int, default=5, help="how many of the cases also run through the CLI")
    parser.add_argument("--model", default=None, help="model for the fuzz (default: the built default model)")
    parser.add_argument("--keep-failures", default=None, help="copy failing cases' inputs here")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    parser.add_argument("--sample-only", action="store_true", help="mutate only the sample pair (faster)")
    parser.add_argument("--minutes", type=float, default=0.0, help="start no new case after this long")
    parser.add_argument("--scale", action="store_true", help="time large inputs instead of fuzzing")
    parser.add_argument("--sizes", default="1000,5000,20000", help="--scale: sentences per side, fake encoder")
    parser.add_argument("--real-sizes", default="300", help="--scale: sentences per side, real model")
    parser.add_argument("--scale-one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--real", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_one is not None:
        print(json.dumps(scale_one(args.scale_one, args.real)))
        return
    if args.scale:
        parse = lambda s: [int(x) for x in s.split(",") if x.strip()]  # noqa: E731
        run_scale(parse(args.sizes), parse(args.real_sizes))
        return
    from align.embed import Embedder

    report = run_fuzz(args.cases, args.seed, Embedder(args.model), args.cli, args.keep_failures, args.verbose,
                      args.sample_only, args.minutes, progress=10)
    print(f"fuzz_pair: {report['ran']} cases ran ({report['seeds']} seed pairs, seed {args.seed}): "
          f"{report['aligned']} aligned, {report['rejected']} rejected with a one-line error, "
          f"{report['failed']} failed; {report['seconds']} s (slowest case {report['slowest']} s)")
    print(f"fuzz_pair: CLI: {report['cli_ran']} runs, {report['cli_failed']} failed")
    for kind, count in report["rejections"].most_common():
        print(f"  rejected {count:4d}  {kind}")
    for failure in report["failures"][:10]:
        print(f"  FAILED case {failure['case']} ({failure['seed']}; {failure['pair']}; ru {failure['ru']}; "
              f"az {failure['az']}): {failure['problems'][:2]}")
    for failure in report["cli_failures"][:10]:
        print(f"  CLI FAILED case {failure['case']}: {failure['problems']}")
    sys.exit(1 if report["failed"] or report["cli_failed"] else 0)


if __name__ == "__main__":
    main()
