"""Writing: one writer per output format, all fed the same `Pair` rows.

Formats: ``tsv`` (the main, reviewable output), ``links`` (Vecalign ``[0,1]:[2]``), ``moses``
(two line-aligned files, kept non-null rows only), ``jsonl``, ``tmx`` (TMX 1.4, kept non-null rows) and
``bitext`` (headerless ``ru<TAB>az<TAB>score`` lines of kept non-null rows, the hunalign/Bicleaner/OPUS habit).
All files are written atomically: a temp file in the same folder, then renamed; a set of files (the
Moses pair) is written completely before any of them replaces an old one.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence
from xml.sax.saxutils import escape, quoteattr

from .types import OutputError, Pair

TSV_HEADER = (
    "doc", "kind", "bead", "ru_ids", "az_ids", "ru", "az",
    "score", "similarity", "margin", "length_ratio", "flags", "keep", "reason",
)
FORMATS = ("tsv", "links", "moses", "jsonl", "tmx", "bitext")
EXTENSIONS = {"tsv": ".tsv", "links": ".links", "moses": ".ru", "jsonl": ".jsonl", "tmx": ".tmx",
              "bitext": ".bitext"}


def _open_temporary(path: Path, mode: str) -> tuple[str, IO]:
    """A new temporary file beside ``path`` (same folder, so a rename replaces ``path`` atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
    return tmp, os.fdopen(fd, mode, **kwargs)


def _seal_temporary(handle: IO, tmp: str, path: Path) -> None:
    """Flush and sync a written temporary, close it and give it the permissions ``path`` has (or a
    new file would have: mkstemp makes 0600)."""
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.chmod(tmp, _new_file_mode(path))


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Yield a file that replaces ``path`` only once it is completely written."""
    path = Path(path)
    try:
        tmp, handle = _open_temporary(path, mode)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with handle:
            yield handle
            _seal_temporary(handle, tmp, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_files_atomically(contents: dict[Path, Iterable[str]],
                           journal: Path | None = None) -> list[Path]:
    """Write several text files as one: every file is written and synced to a temporary first, and
    only when all are complete do they replace the old ones (a full disk leaves every old file as it
    was, and no temporary behind). With a ``journal`` (see `StagedFiles`), a kill between two renames
    is completed by `finish_commit` at the next write. Returns the paths, in the given order."""
    staged = StagedFiles(journal)
    current: Path | str = ""
    try:
        for path, lines in contents.items():
            current = path
            with staged.open(path) as handle:
                handle.writelines(lines)
        staged.commit()
    except OSError as exc:
        staged.discard()
        raise OutputError(f"cannot write {current}: {exc.strerror or exc}") from exc
    except BaseException:
        staged.discard()
        raise
    return list(contents)


class StagedFiles:
    """A set of files replaced together: each is written to a temporary beside its target (`open`),
    and `commit` puts them all in place. With a ``journal``, the list of renames is written (and
    synced) before the first one, so a run killed between two renames is completed by `finish_commit`
    at the next start: readers never see a set mixing two runs. `discard` removes the temporaries."""

    def __init__(self, journal: Path | None = None) -> None:
        self.journal = Path(journal) if journal is not None else None
        self.staged: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def open(self, path: str | Path, mode: str = "w") -> Iterator[IO]:
        path = Path(path)
        tmp, handle = _open_temporary(path, mode)
        self.staged.append((tmp, str(path)))
        with handle:
            yield handle
            _seal_temporary(handle, tmp, path)

    def commit(self) -> None:
        if self.journal is None:  # no journal: a failed rename leaves the rest for `discard`
            for tmp, target in self.staged:
                os.replace(tmp, target)
            self.staged = []
            return
        with atomic_write(self.journal) as handle:
            json.dump(self.staged, handle)
        # from here on the journal owns the temporaries: should a rename fail, `discard` must not
        # delete the rest (that would leave a mixed set); the next start completes the commit
        self.staged = []
        finish_commit(self.journal)

    def discard(self) -> None:
        _remove_temporaries(tmp for tmp, _ in self.staged)
        self.staged = []


def finish_commit(journal: str | Path) -> None:
    """Complete the renames of a `StagedFiles.commit` that a kill interrupted (nothing if none)."""
    journal = Path(journal)
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        renames = []  # written atomically, so a damaged journal was never complete: nothing to do
    for tmp, target in renames:
        if os.path.exists(tmp):
            os.replace(tmp, target)
    journal.unlink(missing_ok=True)


def _remove_temporaries(paths: Iterable[str]) -> None:
    for tmp in paths:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _new_file_mode(path: Path) -> int:
    """The replaced file's permissions, or those of a new file under the current umask."""
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def clean_cell(text: str) -> str:
    """Make text safe for one TSV cell: tabs and line breaks become single spaces."""
    return " ".join(text.replace("\t", " ").split()) if text else ""


def format_ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def parse_ids(cell: str) -> tuple[int, ...]:
    return tuple(int(x) for x in cell.split(",") if x.strip())


def pair_to_row(pair: Pair) -> dict[str, str]:
    """The TSV cells of one pair, by column name."""
    two_sided = bool(pair.ru_ids and pair.az_ids)
    return {
        "doc": clean_cell(pair.doc),
        "kind": pair.kind,
        "bead": pair.bead,
        "ru_ids": format_ids(pair.ru_ids),
        "az_ids": format_ids(pair.az_ids),
        "ru": clean_cell(pair.ru),
        "az": clean_cell(pair.az),
        # a row with one side has no score: empty cells, never a 0.0000 that reads as "scored, bad"
        "score": f"{pair.score:.4f}" if two_sided else "",
        "similarity": f"{pair.similarity:.4f}" if two_sided else "",
        "margin": f"{pair.margin:.4f}" if two_sided else "",
        "length_ratio": f"{pair.length_ratio:.3f}" if two_sided else "",
        "flags": ",".join(pair.flags),
        "keep": "1" if pair.keep else "0",
        "reason": clean_cell(pair.reason),
    }


def format_tsv_rows(pairs: Iterable[Pair]) -> Iterator[str]:
    """TSV lines (without header) for the pairs, newline-terminated."""
    for pair in pairs:
        row = pair_to_row(pair)
        yield "\t".join(row[c] for c in TSV_HEADER) + "\n"


def tsv_header_line() -> str:
    return "\t".join(TSV_HEADER) + "\n"


def row_to_pair(row: dict[str, str]) -> Pair:
    """Inverse of `pair_to_row` (for reading our own TSV back)."""
    return Pair(
        doc=row["doc"], kind=row["kind"],  # type: ignore[arg-type]
        ru_ids=parse_ids(row["ru_ids"]), az_ids=parse_ids(row["az_ids"]),
        ru=row["ru"], az=row["az"], score=float(row["score"] or 0),
        similarity=float(row.get("similarity") or 0), margin=float(row.get("margin") or 0),  # '' = no score
        length_ratio=float(row.get("length_ratio") or 0),
        flags=tuple(f for f in (row.get("flags") or "").split(",") if f),
        keep=row.get("keep", "1") == "1", reason=row.get("reason", ""),
    )


def format_links(pairs: Iterable[Pair]) -> Iterator[str]:
    """Vecalign link lines: ``[0, 1]:[2]``, nulls ``[3]:[]``."""
    for pair in pairs:
        ru = ", ".join(str(i) for i in pair.ru_ids)
        az = ", ".join(str(i) for i in pair.az_ids)
        yield f"[{ru}]:[{az}]\n"


def format_jsonl(pairs: Iterable[Pair]) -> Iterator[str]:
    for pair in pairs:
        record = {
            "doc": pair.doc, "kind": pair.kind, "bead": pair.bead,
            "ru_ids": list(pair.ru_ids), "az_ids": list(pair.az_ids),
            "ru": pair.ru, "az": pair.az, **_scores_or_null(pair), "flags": list(pair.flags),
            "keep": pair.keep, "reason": pair.reason,
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _scores_or_null(pair: Pair) -> dict[str, float | None]:
    """The JSON numbers of a pair; null for a row with one side (it has no score)."""
    two_sided = bool(pair.ru_ids and pair.az_ids)
    values = {"score": round(pair.score, 4), "similarity": round(pair.similarity, 4),
              "margin": round(pair.margin, 4), "length_ratio": round(pair.length_ratio, 3)}
    return values if two_sided else dict.fromkeys(values)


def is_parallel(pair: Pair) -> bool:
    """A row that belongs in training data: both sides present and kept."""
    return pair.keep and bool(pair.ru_ids) and bool(pair.az_ids)


def format_tmx(pairs: Iterable[Pair], srclang: str = "ru", tgtlang: str = "az") -> Iterator[str]:
    """TMX 1.4 with one <tu> per kept parallel row (doc, kind and score as <prop>s)."""
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<tmx version="1.4">\n'
    yield (
        f'  <header creationtool="align" creationtoolversion="0.1.0" segtype="sentence" '
        f'o-tmf="align-tsv" adminlang="en" srclang={quoteattr(srclang)} datatype="plaintext"/>\n'
    )
    yield "  <body>\n"
    for pair in pairs:
        if not is_parallel(pair):
            continue
        yield "    <tu>\n"
        yield f"      <prop type=\"x-doc\">{escape(pair.doc)}</prop>\n"
        yield f"      <prop type=\"x-kind\">{pair.kind}</prop>\n"
        yield f"      <prop type=\"x-score\">{pair.score:.4f}</prop>\n"
        for lang, text in ((srclang, pair.ru), (tgtlang, pair.az)):
            yield f"      <tuv xml:lang={quoteattr(lang)}><seg>{escape(_xml_safe(text))}</seg></tuv>\n"
        yield "    </tu>\n"
    yield "  </body>\n</tmx>\n"


def format_bitext(pairs: Iterable[Pair]) -> Iterator[str]:
    """Headerless ``ru<TAB>az<TAB>score`` lines, one per kept parallel row."""
    for pair in pairs:
        if is_parallel(pair):
            yield f"{clean_cell(pair.ru)}\t{clean_cell(pair.az)}\t{pair.score:.4f}\n"


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 forbids (control characters other than tab/newline)."""
    return "".join(ch for ch in clean_cell(text) if ch >= " " or ch in "\t\n")


def write_pairs(pairs: Sequence[Pair], path: str | Path, fmt: str = "tsv") -> list[Path]:
    """Write pairs in one format; returns the written paths (moses writes ``X.ru`` and ``X.az``)."""
    path = Path(path)
    if fmt == "tsv":
        return [_write_lines(path, [tsv_header_line(), *format_tsv_rows(pairs)])]
    if fmt == "links":
        return [_write_lines(path, format_links(pairs))]
    if fmt == "jsonl":
        return [_write_lines(path, format_jsonl(pairs))]
    if fmt == "tmx":
        return [_write_lines(path, format_tmx(pairs))]
    if fmt == "bitext":
        return [_write_lines(path, format_bitext(pairs))]
    if fmt == "moses":
        kept = [p for p in pairs if is_parallel(p)]
        ru_path, az_path = moses_paths(path)
        journal = moses_journal(path)
        finish_commit(journal)  # an earlier write killed between its two renames: complete it first
        return write_files_atomically({ru_path: (clean_cell(p.ru) + "\n" for p in kept),
                                       az_path: (clean_cell(p.az) + "\n" for p in kept)}, journal)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def moses_paths(path: str | Path) -> tuple[Path, Path]:
    """``BASE.ru`` and ``BASE.az`` for ``-o BASE`` (or ``-o BASE.ru`` / ``BASE.az``)."""
    path = Path(path)
    base = path.with_suffix("") if path.suffix in (".ru", ".az") else path
    return Path(f"{base}.ru"), Path(f"{base}.az")


def moses_journal(path: str | Path) -> Path:
    """The hidden journal beside a Moses pair (``.BASE.commit.json``): present only while the two
    files are being replaced, so a kill between the renames is completed by the next write."""
    ru_path, _ = moses_paths(path)
    return ru_path.with_name(f".{ru_path.stem}.moses-commit.json")


def output_paths(path: str | Path, fmt: str) -> list[Path]:
    """Every file that `write_pairs` writes for ``path`` in format ``fmt``."""
    return list(moses_paths(path)) if fmt == "moses" else [Path(path)]


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    try:
        with atomic_write(path) as handle:
            handle.writelines(lines)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
