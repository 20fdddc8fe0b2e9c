"""Document pairing: which Azerbaijani article is the counterpart of which Russian one.

    ru pages ─┐  features: head vector (title, captions, lead), body vector (all units), date,
    az pages ─┘            numbers, names, headline, cross-language headlines found on the page
       │
       ├─ candidates: k nearest neighbours both ways over the combined vectors (exact, blocked
       │  matrix products — `nearest_both`), plus every pair joined by a cross-language headline
       ├─ margin: cosine minus the mean cosine of both sides' k nearest neighbours (hubness
       │  correction), in units of the typical spread of neighbour cosines (`neighbour_spread`)
       ├─ confidence: a logistic model over margin, date agreement, number and name overlap
       │  (IDF-weighted, names compared through a transliterated consonant skeleton) and cross-links
       └─ one-to-one: greedy in order of confidence (competitive linking); below the threshold, or
          beaten to its counterpart, an article stays unpaired — with the reason.

Near-identical press releases (same template, another minister, date and figures) share almost all
of their vector; the date, number and name signals are what tell them apart.

>>> result = pair_documents(ru_paths, az_paths, Embedder())          # doctest: +SKIP
>>> [(p.ru, p.az, p.score) for p in result.pairs]                     # doctest: +SKIP

The unit vectors are the ones the aligner uses later, so with an embedding cache corpus mode embeds
every sentence once. Figures: bench/docs_pairing.py.
"""
from __future__ import annotations

import math
import re
import shutil
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .embed import TextEncoder
from .filters import extract_numbers
from .types import AlignError, Article, InputError, UsageError

# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class PairingSettings:
    """Knobs of the pairing. The logistic weights were fitted on the dev pool (NTREX 1–62 pages with
    distractors, bench/docs_pairing.py --fit) and are fixed here; the held-out pool only reports."""

    k: int = 8  # neighbours per document, both directions
    head_weight: float = 0.5  # share of the head (title/captions/lead) cosine in the combined cosine
    threshold: float = 0.2  # minimum confidence for a pair (dev pools: true pairs ≥ 0.46, wrong ones < 0.05)
    # mutual best matches (combined cosine) whose dates do not disagree pair when their margin is at least
    # this (in neighbour spreads), whatever the logistic model says: real pages of two outlets share few
    # numbers and names (bench/real_pairing.py, tune half: 2.5 and 3.0 measured; 2.5 let one FLORES
    # distractor pair on dev pool seed 2); None turns it off
    mutual_margin: float | None = 3.0
    # logistic model: confidence = sigmoid(bias + Σ weight · feature), features in `FEATURES`
    bias: float = -5.27
    weights: tuple[float, ...] = (0.96, 1.38, 1.60, -1.24, 0.55, 6.88, 10.46, 2.68)
    block: int = 1024  # query rows per matrix-product block in the neighbour search


FEATURES = ("margin", "same_day", "next_day", "far_dates", "no_date", "numbers", "names", "crosslink")

# ----------------------------------------------------------------------------- document features


@dataclass(slots=True)  # slots: a collection holds one per page for the whole pairing
class DocFeatures:
    """What pairing needs of one article (the text itself is not kept)."""

    path: str
    lang: str
    head: np.ndarray | None = None  # unit vectors, L2-normalised
    body: np.ndarray | None = None
    day: int | None = None  # date.toordinal()
    numbers: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    title_key: str = ""
    crosslink_keys: tuple[str, ...] = ()
    units: int = 0
    error: str = ""  # why the article could not be used ("" when fine)
    row: int = -1  # with head and body None: this document's row in a `VectorSpill` file


def headline_key(text: str) -> str:
    """A comparison key for headlines: case-folded letters and digits, single-spaced."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def parse_date(value) -> int | None:
    """``"06.12.2023"`` (or a `date`) → ordinal day, None when absent or unreadable."""
    if isinstance(value, date):
        return value.toordinal()
    m = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", str(value or ""))
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).toordinal()
    except ValueError:
        return None


# names: capitalised words (not sentence-initial) → a transliterated consonant skeleton, so that
# "Байрамова" and "Bayramovun" both become "brm", "Фидан" and "Fidanın" "fdn".
_CYRILLIC_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "j", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "C", "ш": "S", "щ": "S", "ъ": "", "ы": "i", "ь": "",
    "э": "e", "ю": "u", "я": "a", "ә": "e", "ғ": "g", "ҹ": "j", "ј": "y", "ү": "u", "һ": "h", "ө": "o",
    "қ": "k", "ң": "n", "і": "i", "ї": "i", "є": "e", "ґ": "g", "ў": "u",
}
_LATIN_MAP = {"ə": "e", "ı": "i", "ö": "o", "ü": "u", "ş": "S", "ç": "C", "ğ": "g", "c": "j", "x": "h",
              "q": "k", "w": "v", "ä": "a", "é": "e"}
_SKELETON_DROP = set("aeiouyh'")
_SKELETON_MERGE = str.maketrans({"g": "k", "q": "k"})
_CAPITALISED = re.compile(r"(?<![\w-])([A-ZА-ЯЁƏÖÜĞİŞÇ][\w'’-]+)")
_SENTENCE_START = re.compile(r"(^|[.!?…:;«\"“„(—–-]\s*)$")


def name_key(word: str, length: int = 3) -> str:
    """The first ``length`` symbols of a word's consonant skeleton, across scripts ("" if too short)."""
    word = word.lower().replace("дж", "j").replace("кс", "x")
    out = []
    for ch in word:
        ch = _CYRILLIC_LATIN.get(ch, _LATIN_MAP.get(ch, ch))
        out.append(ch)
    skeleton = "".join(c for c in "".join(out).translate(_SKELETON_MERGE) if c.isalpha() and c not in _SKELETON_DROP)
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    return skeleton[:length] if len(skeleton) >= 2 else ""


def extract_names(texts: Iterable[str]) -> frozenset[str]:
    """Name keys of the capitalised words that do not start a sentence."""
    keys = set()
    for text in texts:
        for m in _CAPITALISED.finditer(text):
            if _SENTENCE_START.search(text[: m.start()]):
                continue
            key = name_key(m.group(1))
            if key:
                keys.add(key)
    return frozenset(keys)


def unit_texts(article: Article) -> tuple[list[str], list[bool]]:
    """The texts pairing embeds — the aligner's units (title, captions, sentences) — and which of
    them form the head (title, captions and the sentences of the first paragraph)."""
    from .segment import segment_article

    units = segment_article(article)
    head = [u.kind in ("title", "caption") or u.paragraph == 0 for u in units]
    return [u.text for u in units], head


def _mean_unit(vectors: np.ndarray) -> np.ndarray:
    v = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], np.float32)
    norm = float(np.linalg.norm(v))
    return (v / norm if norm > 0 else v).astype(np.float32)


def article_features(article: Article, path: str, lang: str, vectors: np.ndarray, head_mask: Sequence[bool]) -> DocFeatures:
    """Features of an article whose unit vectors (in `unit_texts` order) are given."""
    texts = [article.title or "", *article.captions, *article.paragraphs]
    mask = np.asarray(head_mask, dtype=bool)
    head = vectors[mask] if mask.any() else vectors
    return DocFeatures(
        path=path, lang=lang,
        head=_mean_unit(head), body=_mean_unit(vectors),
        day=parse_date(article.meta.get("date")),
        numbers=frozenset(n for t in texts for n in extract_numbers(t) if len(n) > 1),
        names=extract_names(texts),
        title_key=headline_key(article.title or ""),
        crosslink_keys=tuple(headline_key(c) for c in article.meta.get("crosslinks", ()) if c),
        units=len(vectors),
    )


def load_for_pairing(path: str | Path, lang: str) -> Article:
    """Read and clean one page (align.pipeline.load_article)."""
    from .pipeline import load_article

    return load_article(path, lang)


def features_of_paths(paths: Sequence[str | Path], lang: str, encoder: TextEncoder,
                      load: Callable[[str | Path, str], Article] = load_for_pairing) -> list[DocFeatures]:
    """Features of several pages, embedding all their units in one ``encode`` call.

    A page that cannot be read or is empty gets a `DocFeatures` with ``error`` set instead of failing."""
    articles: list[tuple[str, Article | None, list[str], list[bool], str]] = []
    for path in paths:
        try:
            article = load(path, lang)
            texts, head = unit_texts(article)
            error = "" if texts else "nothing to align after cleaning"
        except (AlignError, OSError, UnicodeError, ValueError) as exc:
            article, texts, head, error = None, [], [], f"unreadable: {' '.join(str(exc).split())}"
        articles.append((str(path), article, texts, head, error))
    all_texts = [t for _, _, texts, _, _ in articles for t in texts]
    vectors = encoder.encode(all_texts) if all_texts else np.zeros((0, 1), np.float32)
    out, start = [], 0
    for path, article, texts, head, error in articles:
        if error or article is None:
            out.append(DocFeatures(path=path, lang=lang, error=error))
            continue
        out.append(article_features(article, path, lang, vectors[start : start + len(texts)], head))
        start += len(texts)
    return out


def iter_features(paths: Sequence[str | Path], lang: str, encoder: TextEncoder, batch: int = 16,
                  progress: Callable[[int], None] | None = None) -> Iterator[DocFeatures]:
    """`features_of_paths` in batches of ``batch`` pages (``progress(n)`` after each batch)."""
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        yield from features_of_paths(chunk, lang, encoder)
        if progress:
            progress(len(chunk))


# ----------------------------------------------------------------------------- neighbour search


def nearest_both(ru: np.ndarray, az: np.ndarray, k: int, block: int = 1024
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` most similar (inner product) az rows of every ru row and ru rows of every az row:
    ``(ru_idx, ru_sim, az_idx, az_sim)``, best first, ties by index.

    Exact, and one pass: each block of ``block`` ru rows is multiplied with all az rows once; row
    top-k gives the ru side, a running column top-k the az side. Memory: block × len(az) floats.
    bench/docs_pairing.py --scale measures it (8 s for 10k × 10k, ≈ 14 min extrapolated to 100k × 100k
    on 2 busy cores — small next to embedding that many articles)."""
    import torch

    n_ru, n_az = len(ru), len(az)
    k_ru, k_az = min(k, n_az), min(k, n_ru)
    ru_idx = np.zeros((n_ru, k_ru), np.int64)
    ru_sim = np.zeros((n_ru, k_ru), np.float32)
    if not n_ru or not n_az:
        return ru_idx, ru_sim, np.zeros((n_az, k_az), np.int64), np.zeros((n_az, k_az), np.float32)
    keys = torch.from_numpy(np.ascontiguousarray(az, dtype=np.float32))
    col_sim = torch.full((0, n_az), -np.inf)
    col_idx = torch.zeros((0, n_az), dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, n_ru, block):
            sims = torch.from_numpy(np.ascontiguousarray(ru[start : start + block], dtype=np.float32)) @ keys.T
            vals, idx = sims.topk(k_ru, dim=1)
            ru_sim[start : start + len(sims)] = vals.numpy()
            ru_idx[start : start + len(sims)] = idx.numpy()
            vals, idx = sims.topk(min(k_az, len(sims)), dim=0)
            col_sim = torch.cat([col_sim, vals])
            col_idx = torch.cat([col_idx, idx + start])
            if len(col_sim) > k_az:
                col_sim, keep = col_sim.topk(k_az, dim=0)
                col_idx = torch.gather(col_idx, 0, keep)
    az_sim, az_idx = col_sim.T.numpy().copy(), col_idx.T.numpy().copy()
    return (*_sorted_rows(ru_idx, ru_sim), *_sorted_rows(az_idx, az_sim))


def _sorted_rows(idx: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row by descending similarity, ties by ascending index (deterministic)."""
    order = np.lexsort((idx, -sim), axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)


def combined_vectors(docs: Sequence[DocFeatures], head_weight: float, spill: "VectorSpill | None" = None
                     ) -> np.ndarray:
    """[√w·head, √(1−w)·body]: the inner product of two rows is w·cos(head) + (1−w)·cos(body).
    Documents whose vectors went to ``spill`` come back as a read-only memory map in ``docs`` order."""
    if not docs:
        return np.zeros((0, 1), np.float32)
    if spill is not None and docs[0].head is None:
        return spill.matrix(docs[0].lang, [d.row for d in docs])
    return np.stack([combine(d.head, d.body, head_weight) for d in docs])


def combine(head: np.ndarray, body: np.ndarray, head_weight: float) -> np.ndarray:
    """One document's combined vector (see `combined_vectors`)."""
    return np.concatenate([math.sqrt(head_weight) * head, math.sqrt(1 - head_weight) * body]).astype(np.float32)


class VectorSpill:
    """Pairing's document vectors on disk, so that memory does not grow with the collection: each
    document's combined vector is appended to a per-language file as its features arrive
    (`add` returns the features without vectors, with their ``row``), and the search reads the
    files memory-mapped (`matrix`). ``directory`` is emptied first (a killed run's files) and
    removed by `close`."""

    def __init__(self, directory: str | Path, head_weight: float) -> None:
        self.dir = Path(directory)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.head_weight = head_weight
        self.files: dict[str, object] = {}
        self.rows: dict[str, int] = {}
        self.dim = 0

    def add(self, features: DocFeatures) -> DocFeatures:
        if features.error or features.head is None:
            return features
        vector = combine(features.head, features.body, self.head_weight)
        self.dim = self.dim or len(vector)
        if len(vector) != self.dim:
            raise AlignError(f"{features.path}: a document vector of {len(vector)} dimensions among ones of {self.dim}")
        lang = features.lang
        if lang not in self.files:
            self.files[lang] = open(self.dir / f"{lang}.f32", "wb")
            self.rows[lang] = 0
        self.files[lang].write(vector.tobytes())
        row = self.rows[lang]
        self.rows[lang] += 1
        # one string object per distinct number or name across the collection, not one per page
        return replace(features, head=None, body=None, row=row, numbers=frozenset(map(sys.intern, features.numbers)),
                       names=frozenset(map(sys.intern, features.names)))

    def matrix(self, lang: str, rows: Sequence[int]) -> np.ndarray:
        """The vectors of ``rows`` in that order, memory-mapped (a reordered copy is written when the
        order differs from arrival order, a block at a time)."""
        self.files[lang].flush()
        stored = np.memmap(self.dir / f"{lang}.f32", np.float32, "c", shape=(self.rows[lang], self.dim))
        rows = np.asarray(rows, np.int64)
        if len(rows) == len(stored) and np.array_equal(rows, np.arange(len(rows))):
            return stored
        path = self.dir / f"{lang}.ordered.f32"
        ordered = np.memmap(path, np.float32, "w+", shape=(len(rows), self.dim))
        for start in range(0, len(rows), 8192):
            ordered[start : start + 8192] = stored[rows[start : start + 8192]]
        ordered.flush()
        del ordered
        return np.memmap(path, np.float32, "c", shape=(len(rows), self.dim))

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class DocPair:
    """A Russian and an Azerbaijani article found to be the same story."""

    ru: str
    az: str
    score: float  # confidence in [0, 1]
    features: Mapping = field(default_factory=dict, compare=False)  # signals (`Signals`), or a plain dict


@dataclass(frozen=True)
class Unpaired:
    """An article left without a counterpart, and why."""

    lang: str
    path: str
    reason: str


def _idf(docs: Iterable[DocFeatures], attr: str) -> dict[str, float]:
    docs = list(docs)
    df = Counter(x for d in docs for x in getattr(d, attr))
    n = len(docs)
    return {x: math.log((n + 1) / (c + 1)) + 0.1 for x, c in df.items()}


def weighted_overlap(a: frozenset[str], b: frozenset[str], idf: dict[str, float]) -> float | None:
    """IDF-weighted Jaccard of two sets; None when either is empty (no evidence)."""
    if not a or not b:
        return None
    union = math.fsum(idf.get(x, 1.0) for x in a | b)  # fsum: exact, so set order cannot change the last bits
    return math.fsum(idf.get(x, 1.0) for x in a & b) / union if union > 0 else None


def pair_signals(ru: DocFeatures, az: DocFeatures, cosine: float, margin: float,
                 idf_numbers: dict[str, float], idf_names: dict[str, float]) -> dict[str, float]:
    """The features of one candidate pair (see `FEATURES`); absent evidence counts as neutral."""
    gap = abs(ru.day - az.day) if ru.day is not None and az.day is not None else None
    numbers = weighted_overlap(ru.numbers, az.numbers, idf_numbers)
    names = weighted_overlap(ru.names, az.names, idf_names)
    crosslink = float(
        (bool(az.title_key) and az.title_key in ru.crosslink_keys)
        or (bool(ru.title_key) and ru.title_key in az.crosslink_keys)
    )
    return {
        "cosine": cosine,
        "margin": margin,
        "same_day": float(gap == 0),
        "next_day": float(gap == 1),
        "far_dates": float(gap is not None and gap > 3),
        "no_date": float(gap is None),
        "numbers": 0.0 if numbers is None else numbers - 0.3,
        "names": 0.0 if names is None else names - 0.3,
        "crosslink": crosslink,
    }


def confidence(signals: dict[str, float], settings: PairingSettings) -> float:
    z = settings.bias + sum(w * signals[f] for w, f in zip(settings.weights, FEATURES))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass
class PairingResult:
    """Pairs (sorted by ru path) with confidences, and the unpaired articles with reasons."""

    pairs: list[DocPair]
    unpaired: list[Unpaired]
    ru_count: int = 0
    az_count: int = 0
    candidates: int = 0

    def summary(self) -> str:
        reasons = Counter(u.reason.split(":")[0] for u in self.unpaired)
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
        low = sum(1 for p in self.pairs if p.score < 0.9)
        hint = self.pairs_hint()
        return (f"{self.ru_count} ru / {self.az_count} az documents: {len(self.pairs)} pairs "
                f"({low} with confidence < 0.9); unpaired: {detail}" + (f"\nhint: {hint}" if hint else ""))

    def pairs_hint(self) -> str:
        """A hint towards ``--pairs`` when pairing confidence is low across the collection: at least
        half of the smaller side was left unpaired although each had a best candidate (a one-document
        collection a side, or pages too unlike the ones the confidence model knows); '' otherwise."""
        low = [u for u in self.unpaired if u.lang == "ru" and u.reason.startswith("no counterpart: best candidate")]
        smaller = min(self.ru_count, self.az_count)
        if not low or len(low) < max(1, smaller / 2):
            return ""
        return (f"pairing confidence is low across this collection ({len(low)} of {self.ru_count} Russian "
                "documents have a best candidate below the pairing threshold); if you know which documents "
                "are pairs, give them with --pairs FILE (lines 'ru_name<TAB>az_name')")


def neighbour_spread(*sims: np.ndarray) -> float:
    """The typical spread of a document's neighbour similarities: the median over documents of the
    standard deviation of its 2nd..k-th neighbours. Margins are divided by it, so the confidence
    model does not depend on how bunched a model's cosines are (e5: ~0.01)."""
    spreads = [s[:, 1:].std(axis=1) for s in sims if s.ndim == 2 and s.shape[1] >= 3 and len(s)]
    if not spreads:
        return MIN_SPREAD
    return max(float(np.median(np.concatenate(spreads))), MIN_SPREAD)


MIN_SPREAD = 0.005


SIGNALS = ("cosine", *FEATURES)  # the columns of `Candidates.values`, in `pair_signals` order
_SIGNAL_INDEX = {name: n for n, name in enumerate(SIGNALS)}


class Signals(Mapping):
    """A pair's signals, read like the dict `pair_signals` returns (``signals["margin"]``), stored as one
    small float array: a pairing of a million pages keeps one per pair."""

    __slots__ = ("_values", "_extra")

    def __init__(self, values: Sequence[float], extra: dict[str, float] | None = None) -> None:
        self._values = array("d", values)
        self._extra = dict(extra) if extra else None

    def __getitem__(self, name: str) -> float:
        n = _SIGNAL_INDEX.get(name)
        if n is not None:
            return self._values[n]
        if self._extra and name in self._extra:
            return self._extra[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from SIGNALS
        yield from self._extra or ()

    def __len__(self) -> int:
        return len(SIGNALS) + len(self._extra or ())

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self):
        return Signals, (list(self._values), self._extra)


@dataclass
class Candidates:
    """Every candidate pair as arrays (no dict per candidate: memory stays near 100 bytes a pair):
    ru index ``i``, az index ``j``, and one row of `SIGNALS` values each."""

    i: np.ndarray  # (C,) int64
    j: np.ndarray  # (C,) int64
    values: np.ndarray  # (C, len(SIGNALS)) float64

    def __len__(self) -> int:
        return len(self.i)

    def signals(self, c: int, **extra: float) -> "Signals":
        """Candidate ``c``'s signals as `pair_signals` gives them (plus ``extra`` ones)."""
        return Signals(self.values[c].tolist(), extra)

    def confidences(self, settings: "PairingSettings") -> np.ndarray:
        """`confidence` of every candidate (the same sums in the same order, so the same floats)."""
        total = np.zeros(len(self))
        for weight, feature in zip(settings.weights, FEATURES):
            total = total + weight * self.values[:, SIGNALS.index(feature)]
        z = np.clip(settings.bias + total, -50.0, 50.0)
        return np.array([1.0 / (1.0 + math.exp(-v)) for v in z.tolist()])


def candidate_pairs(ru_ok: Sequence[DocFeatures], az_ok: Sequence[DocFeatures], settings: PairingSettings,
                    spill: VectorSpill | None = None) -> Candidates:
    """Every candidate pair: the k nearest neighbours both ways, plus the pairs joined by a
    cross-language headline; with their signals."""
    ru_vec = combined_vectors(ru_ok, settings.head_weight, spill)
    az_vec = combined_vectors(az_ok, settings.head_weight, spill)
    from .neighbours import nearest_both as nearest_scaled  # exact below 20k documents a side, as before

    ru_nn, ru_sim, az_nn, az_sim = nearest_scaled(ru_vec, az_vec, settings.k, settings.block,
                                                  ru_days=[d.day for d in ru_ok], az_days=[d.day for d in az_ok])
    ru_hub = ru_sim.mean(axis=1)  # mean cosine of each ru document's k nearest az documents
    az_hub = az_sim.mean(axis=1)
    spread = neighbour_spread(ru_sim, az_sim)

    m = len(az_ok)
    keys = [np.repeat(np.arange(len(ru_ok), dtype=np.int64), ru_nn.shape[1]) * m + ru_nn.ravel(),
            az_nn.ravel().astype(np.int64) * m + np.tile(np.arange(m, dtype=np.int64), az_nn.shape[1]).reshape(
                az_nn.shape[1], m).T.ravel()]
    keys.append(np.array([i * m + j for i, j in crosslink_pairs(ru_ok, az_ok)], np.int64))
    found = np.unique(np.concatenate(keys))
    found = found[found >= 0]  # -1 pads of a short neighbour list
    cand_i, cand_j = found // m, found % m

    idf_numbers = _idf((*ru_ok, *az_ok), "numbers")
    idf_names = _idf((*ru_ok, *az_ok), "names")
    values = np.empty((len(found), len(SIGNALS)))
    for c, (i, j) in enumerate(zip(cand_i.tolist(), cand_j.tolist())):
        cosine = float(ru_vec[i] @ az_vec[j])
        margin = (cosine - (float(ru_hub[i]) + float(az_hub[j])) / 2) / spread
        values[c] = list(pair_signals(ru_ok[i], az_ok[j], cosine, margin, idf_numbers, idf_names).values())
    return Candidates(cand_i, cand_j, values)


def crosslink_pairs(ru_ok: Sequence[DocFeatures], az_ok: Sequence[DocFeatures]) -> set[tuple[int, int]]:
    """Pairs joined by a cross-language headline: a ru page naming an az headline, or the reverse."""
    az_by_title: dict[str, list[int]] = {}
    for j, d in enumerate(az_ok):
        az_by_title.setdefault(d.title_key, []).append(j)
    ru_by_title: dict[str, list[int]] = {}
    for i, d in enumerate(ru_ok):
        ru_by_title.setdefault(d.title_key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for i, d in enumerate(ru_ok):
        for key in d.crosslink_keys:
            pairs.update((i, j) for j in az_by_title.get(key, ()))
    for j, d in enumerate(az_ok):
        for key in d.crosslink_keys:
            pairs.update((i, j) for i in ru_by_title.get(key, ()))
    return pairs


def mutual_best_pairs(cands: Candidates, order: np.ndarray, conf: np.ndarray, ru_taken: dict, az_taken: dict,
                      min_margin: float) -> list[tuple[float, int]]:
    """Candidates ``(confidence, c)`` left unpaired whose two documents are each other's nearest (by
    combined cosine, among all candidates; ties: the first in ``order``), with a margin of at least
    ``min_margin`` and dates that do not disagree (`far_dates` 0); their confidence is the model's,
    raised to 0.5. ``order``: the candidates best first."""
    cosine = cands.values[:, SIGNALS.index("cosine")]
    best_ru: dict[int, tuple[float, int]] = {}
    best_az: dict[int, tuple[float, int]] = {}
    for c in order.tolist():
        i, j, cos = int(cands.i[c]), int(cands.j[c]), float(cosine[c])
        if cos > best_ru.get(i, (-2.0, -1))[0]:
            best_ru[i] = (cos, j)
        if cos > best_az.get(j, (-2.0, -1))[0]:
            best_az[j] = (cos, i)
    far, margin = SIGNALS.index("far_dates"), SIGNALS.index("margin")
    out = []
    for c in order.tolist():
        i, j = int(cands.i[c]), int(cands.j[c])
        if (i in ru_taken or j in az_taken or best_ru[i][1] != j or best_az[j][1] != i
                or cands.values[c, far] or cands.values[c, margin] < min_margin):
            continue
        out.append((max(float(conf[c]), 0.5), c))
    return out


def _path_ranks(docs: Sequence[DocFeatures]) -> np.ndarray:
    """Each document's rank by path (the tie-break of equal confidences)."""
    ranks = np.empty(len(docs), np.int64)
    ranks[sorted(range(len(docs)), key=lambda n: docs[n].path)] = np.arange(len(docs))
    return ranks


def match_features(ru_docs: Sequence[DocFeatures], az_docs: Sequence[DocFeatures],
                   settings: PairingSettings | None = None, spill: VectorSpill | None = None) -> PairingResult:
    """Pair documents from their features (no model involved); ``spill``: where their vectors are
    when the features carry none (`VectorSpill`)."""
    settings = settings or PairingSettings()
    unpaired = [Unpaired(d.lang, d.path, d.error) for d in (*ru_docs, *az_docs) if d.error]
    ru_ok = [d for d in ru_docs if not d.error]
    az_ok = [d for d in az_docs if not d.error]
    if not ru_ok or not az_ok:
        lonely = [Unpaired(d.lang, d.path, f"no {'az' if d.lang == 'ru' else 'ru'} documents to pair with")
                  for d in (*ru_ok, *az_ok)]
        return _result([], unpaired + lonely, ru_docs, az_docs, 0)

    cands = candidate_pairs(ru_ok, az_ok, settings, spill)
    conf = cands.confidences(settings)
    # competitive linking: best first; ties broken by path for determinism
    order = np.lexsort((_path_ranks(az_ok)[cands.j], _path_ranks(ru_ok)[cands.i], -conf))
    ru_taken: dict[int, tuple[int, float]] = {}
    az_taken: dict[int, tuple[int, float]] = {}
    pairs = []
    for c in order.tolist():
        if conf[c] < settings.threshold:
            break
        i, j = int(cands.i[c]), int(cands.j[c])
        if i in ru_taken or j in az_taken:
            continue
        ru_taken[i] = (j, float(conf[c]))
        az_taken[j] = (i, float(conf[c]))
        pairs.append(DocPair(ru_ok[i].path, az_ok[j].path, round(float(conf[c]), 4), cands.signals(c)))
    if settings.mutual_margin is not None:
        for value, c in mutual_best_pairs(cands, order, conf, ru_taken, az_taken, settings.mutual_margin):
            i, j = int(cands.i[c]), int(cands.j[c])
            ru_taken[i] = (j, value)
            az_taken[j] = (i, value)
            pairs.append(DocPair(ru_ok[i].path, az_ok[j].path, round(value, 4), cands.signals(c, mutual_best=1.0)))

    for lang, docs, taken, other_docs, other_taken, own, theirs in (
            ("ru", ru_ok, ru_taken, az_ok, az_taken, cands.i, cands.j),
            ("az", az_ok, az_taken, ru_ok, ru_taken, cands.j, cands.i)):
        best = first_in_order(own, order, len(docs))  # each document's best candidate
        for n, d in enumerate(docs):
            if n in taken:
                continue
            c = int(best[n])
            value, other = (float(conf[c]), int(theirs[c])) if c >= 0 else (0.0, -1)
            if other < 0:
                reason = "no candidate"
            elif value >= settings.threshold and other in other_taken:
                winner, win_conf = other_taken[other]
                reason = (f"counterpart taken: its best match {Path(other_docs[other].path).name} ({value:.2f}) "
                          f"was paired with {Path(docs[winner].path).name} ({win_conf:.2f})")
            else:
                reason = f"no counterpart: best candidate {Path(other_docs[other].path).name} has confidence {value:.2f}"
            unpaired.append(Unpaired(lang, d.path, reason))
    return _result(pairs, unpaired, ru_docs, az_docs, len(cands))


def first_in_order(keys: np.ndarray, order: np.ndarray, size: int) -> np.ndarray:
    """For each key 0..size-1, the first candidate in ``order`` whose key it is; -1 where none."""
    first = np.full(size, -1, np.int64)
    found, at = np.unique(keys[order], return_index=True)
    first[found] = order[at]
    return first


def _result(pairs, unpaired, ru_docs, az_docs, candidates) -> PairingResult:
    pairs = sorted(pairs, key=lambda p: (p.ru, p.az))
    unpaired = sorted(unpaired, key=lambda u: (u.lang != "ru", u.path))
    return PairingResult(pairs, unpaired, len(ru_docs), len(az_docs), candidates)


# ----------------------------------------------------------------------------- public entry points


def pair_documents(ru_paths: Sequence[str | Path], az_paths: Sequence[str | Path], encoder: TextEncoder, *,
                   settings: PairingSettings | None = None, progress: bool = False) -> PairingResult:
    """Pair Russian and Azerbaijani pages (paths): features, candidates, confidence, one-to-one.

    >>> result = pair_documents(sorted(Path("ru").glob("*.txt")), sorted(Path("az").glob("*.txt")),
    ...                         Embedder(cache_dir=".cache"))                          # doctest: +SKIP
    """
    bar = _progress_bar(len(ru_paths) + len(az_paths), progress, "reading documents")
    update = bar.update if bar else None
    ru_docs = list(iter_features(list(ru_paths), "ru", encoder, progress=update))
    az_docs = list(iter_features(list(az_paths), "az", encoder, progress=update))
    if bar:
        bar.close()
    return match_features(ru_docs, az_docs, settings)


def _progress_bar(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from .progress import progress_bar

    return progress_bar(total, desc)


def list_documents(directory: str | Path) -> list[Path]:
    """The page files of a directory (recursively; hidden files and folders skipped), sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{root}: no such directory")
    files = [p for p in root.rglob("*") if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def unpaired_path(pairs_path: str | Path) -> Path:
    """Where the unpaired side file of ``pairs.tsv`` goes: ``pairs.unpaired.tsv``."""
    p = Path(pairs_path)
    return p.with_name(f"{p.stem}.unpaired{p.suffix or '.tsv'}")


def _cell(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def write_pairing(result: PairingResult, path: str | Path, ru_root: str | Path, az_root: str | Path) -> tuple[Path, Path]:
    """Write ``path`` (TSV ``ru az score``: file names relative to the two directories) and the
    unpaired side file (``lang file reason``), both atomically."""
    from .write import atomic_write

    path = Path(path)
    ru_root, az_root = Path(ru_root), Path(az_root)
    with atomic_write(path) as out:
        out.write("ru\taz\tscore\n")
        for p in result.pairs:
            out.write(f"{_cell(_relative(p.ru, ru_root))}\t{_cell(_relative(p.az, az_root))}\t{p.score:.4f}\n")
    side = unpaired_path(path)
    with atomic_write(side) as out:
        out.write("lang\tfile\treason\n")
        for u in result.unpaired:
            root = ru_root if u.lang == "ru" else az_root
            out.write(f"{u.lang}\t{_cell(_relative(u.path, root))}\t{_cell(u.reason)}\n")
    return path, side


def read_pairing(path: str | Path, ru_root: str | Path, az_root: str | Path) -> list[tuple[Path, Path, float]]:
    """Read a ``ru az [score]`` TSV (header required); names resolve against the two directories."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not lines or lines[0].split("\t")[:2] != ["ru", "az"]:
        raise InputError(f"{path}: not a pairs file: the header must start with 'ru<TAB>az'")
    pairs, seen_ru, seen_az = [], set(), set()
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            raise InputError(f"{path}:{n}: expected at least two tab-separated columns")
        ru, az = Path(ru_root) / cells[0], Path(az_root) / cells[1]
        if ru in seen_ru or az in seen_az:
            raise InputError(f"{path}:{n}: {cells[0] if ru in seen_ru else cells[1]} is paired twice")
        seen_ru.add(ru), seen_az.add(az)
        for p in (ru, az):
            if not p.is_file():
                raise InputError(f"{path}:{n}: {p}: no such file")
        score = float(cells[2]) if len(cells) > 2 and cells[2].strip() else 1.0
        pairs.append((ru, az, score))
    return sorted(pairs, key=lambda t: (str(t[0]), str(t[1])))


def pair_directories(ru_dir: str | Path, az_dir: str | Path, encoder: TextEncoder, *,
                     output: str | Path | None = None, settings: PairingSettings | None = None,
                     progress: bool = True) -> PairingResult:
    """`pair_documents` over every page of two directories; with ``output``, also write the pairs TSV
    and its ``.unpaired.tsv`` side file."""
    ru_paths, az_paths = list_documents(ru_dir), list_documents(az_dir)
    if not ru_paths or not az_paths:
        raise InputError(f"{ru_dir if not ru_paths else az_dir}: no documents found")
    if settings is not None and not 0 <= settings.threshold <= 1:
        raise UsageError("the pairing threshold must be between 0 and 1")
    result = pair_documents(ru_paths, az_paths, encoder, settings=settings, progress=progress)
    if output is not None:
        write_pairing(result, output, ru_dir, az_dir)
    return result
