"""Reading the aligned TSV (plain or reviewed) and writing the reviewed TSV.

The plain TSV has the fixed columns of `align.write.TSV_HEADER`; the reviewed form adds one last
column, ``verdict`` (accepted / rejected / edited / unreviewed). Rows are dicts of raw cell strings,
so that a file read and written back is unchanged except for what the reviewer changed.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Mapping, Sequence

from ..types import InputError, OutputError
from ..write import TSV_HEADER, atomic_write, clean_cell

COLUMNS: tuple[str, ...] = TSV_HEADER
VERDICT = "verdict"
REVIEWED_COLUMNS: tuple[str, ...] = COLUMNS + (VERDICT,)
VERDICTS: tuple[str, ...] = ("accepted", "rejected", "edited", "unreviewed")
KINDS: tuple[str, ...] = ("title", "caption", "paragraph", "sentence")
TEXT_COLUMNS: tuple[str, ...] = ("ru", "az")
# Columns a reviewer never changes: a reviewed file must agree with its input on all of them.
FIXED_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS)

_IDS = re.compile(r"\d{1,9}(,\d{1,9})*")  # ids are positions: at most 9 digits
_BEAD = re.compile(r"\d{1,6}-\d{1,6}")
_NUMERIC = ("score", "similarity", "margin", "length_ratio")


def read_tsv(path: str | Path) -> list[dict[str, str]]:
    """Read an aligned TSV (plain or reviewed) into one dict of cells per row, in file order.

    A reviewed file's rows carry a ``verdict`` key. Raises `InputError` (one line, with the line
    number) on a missing, non-UTF-8 or malformed file.

    >>> rows = read_tsv("out/page.tsv")          # doctest: +SKIP
    >>> rows[0]["kind"], rows[0]["ru"]           # doctest: +SKIP
    ('title', 'Заголовок')
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_tsv(decode_tsv(data, str(path)), str(path))[1]


def decode_tsv(data: bytes, source: str) -> str:
    """The text of a TSV file: UTF-8, an optional byte-order mark dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from exc


def parse_tsv(text: str, source: str = "<tsv>") -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """Parse TSV text: its header (plain or reviewed columns) and its rows as dicts."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines or not lines[0].strip():
        raise InputError(f"{source}: empty file, expected the header '{' '.join(COLUMNS)}'")
    header = tuple(lines[0].split("\t"))
    check_header(header, source)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise InputError(
                f"{source}:{number}: expected {len(header)} tab-separated fields, found {len(cells)}"
            )
        row = dict(zip(header, cells))
        check_row(row, f"{source}:{number}")
        rows.append(row)
    return header, rows


def check_header(header: Sequence[str], source: str) -> None:
    """Raise `InputError` unless ``header`` is the plain or the reviewed TSV header."""
    header = tuple(header)
    if header in (COLUMNS, REVIEWED_COLUMNS):
        return
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in REVIEWED_COLUMNS]
    if missing:
        problem = f"missing column(s) {', '.join(missing)}"
    elif extra:
        problem = f"unknown column(s) {', '.join(extra)}"
    else:
        problem = "columns out of order"
    raise InputError(f"{source}: not an align TSV ({problem}); expected the header '{' '.join(COLUMNS)}'")


def check_row(row: Mapping[str, str], where: str) -> None:
    """Raise `InputError` naming the first cell of ``row`` that cannot be in an align TSV."""
    if row["kind"] not in KINDS:
        raise InputError(f"{where}: kind {row['kind']!r} is not one of {', '.join(KINDS)}")
    if not _BEAD.fullmatch(row["bead"]):
        raise InputError(f"{where}: bead {row['bead']!r} is not like 1-1")
    for column in ("ru_ids", "az_ids"):
        if row[column] and not _IDS.fullmatch(row[column]):
            raise InputError(f"{where}: {column} {row[column]!r} is not comma-separated numbers")
    for column in _NUMERIC:
        if row[column]:
            try:
                value = float(row[column])
            except ValueError:
                raise InputError(f"{where}: {column} {row[column]!r} is not a number") from None
            if not math.isfinite(value):
                raise InputError(f"{where}: {column} {row[column]!r} is not a finite number")
    if row["keep"] not in ("0", "1"):
        raise InputError(f"{where}: keep {row['keep']!r} is not 1 or 0")
    if VERDICT in row and row[VERDICT] not in VERDICTS + ("",):
        raise InputError(f"{where}: verdict {row[VERDICT]!r} is not one of {', '.join(VERDICTS)}")


def verdict_of(row: Mapping[str, str]) -> str:
    """The row's verdict; ``unreviewed`` for a plain row or an empty cell."""
    return row.get(VERDICT) or "unreviewed"


def reviewed_path(tsv_path: str | Path) -> Path:
    """Where the reviewed form of ``tsv_path`` goes: ``x.tsv`` → ``x.reviewed.tsv``.

    A file that already is a reviewed TSV (``x.reviewed.tsv``) maps to itself: resuming a review
    updates the same file.
    """
    path = Path(tsv_path)
    if path.name.endswith(".reviewed.tsv"):
        return path
    stem = path.name[:-4] if path.name.endswith(".tsv") else path.name
    return path.with_name(f"{stem}.reviewed.tsv")


def format_reviewed_tsv(rows: Sequence[Mapping[str, str]], verdicts: Sequence[str]) -> str:
    """The reviewed TSV text: every row in the given order, original columns plus ``verdict``."""
    if len(rows) != len(verdicts):
        raise ValueError(f"{len(rows)} rows but {len(verdicts)} verdicts")
    lines = ["\t".join(REVIEWED_COLUMNS)]
    for number, (row, verdict) in enumerate(zip(rows, verdicts), start=1):
        if verdict not in VERDICTS:
            raise ValueError(f"row {number}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        cells = [clean_cell(row[c]) if c in TEXT_COLUMNS else row[c] for c in COLUMNS]
        lines.append("\t".join(cells + [verdict]))
    return "\n".join(lines) + "\n"


def write_reviewed_tsv(
    rows: Sequence[Mapping[str, str]], verdicts: Sequence[str], path: str | Path
) -> Path:
    """Write the reviewed TSV atomically; ``rows`` hold the final (possibly edited) texts.

    >>> rows = read_tsv("page.tsv")                                      # doctest: +SKIP
    >>> write_reviewed_tsv(rows, ["accepted"] * len(rows), "page.reviewed.tsv")  # doctest: +SKIP
    """
    text = format_reviewed_tsv(rows, verdicts)
    path = Path(path)
    try:
        with atomic_write(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def check_same_rows(
    original: Sequence[Mapping[str, str]], reviewed: Sequence[Mapping[str, str]], source: str
) -> None:
    """Raise `InputError` unless ``reviewed`` has the rows of ``original``, same order, same ids."""
    if len(original) != len(reviewed):
        raise InputError(f"{source}: {len(reviewed)} rows, but the TSV under review has {len(original)}")
    for number, (a, b) in enumerate(zip(original, reviewed), start=2):
        for column in FIXED_COLUMNS:
            if a[column] != b[column]:
                raise InputError(
                    f"{source}:{number}: {column} is {b[column]!r}, the TSV under review has {a[column]!r}"
                )
