"""Building the review page: one self-contained HTML file with the style, script and data inlined.

The page needs no network: the template, stylesheet and script ship in this package and the TSV
travels inside the page as JSON. The page's Content-Security-Policy forbids every fetch except a
save to the same origin (only used when `serve_review` serves it).
"""
from __future__ import annotations

import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..types import InputError, OutputError
from ..write import atomic_write
from .tsv import COLUMNS, VERDICT, decode_tsv, parse_tsv, reviewed_path, verdict_of

# Score bands for the colour strip: below the first is "low", below the second "fair", else "good".
SCORE_BANDS: tuple[float, float] = (0.5, 0.7)
_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")


def review_data(
    tsv_bytes: bytes,
    name: str,
    server: Mapping[str, str] | None = None,
    start: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The JSON the page runs on: rows as lists of cells, verdicts, a content hash and settings.

    ``start`` is a reviewed form of the same rows (see `check_same_rows`) to begin from: its
    verdicts, and its texts where they differ, become the page's initial state.
    """
    header, rows = parse_tsv(decode_tsv(tsv_bytes, name), name)
    verdicts = edits = None
    if start is not None:
        verdicts = [verdict_of(row) for row in start]
        edits = [
            [new["ru"], new["az"]] if (new["ru"], new["az"]) != (old["ru"], old["az"]) else None
            for old, new in zip(rows, start)
        ]
    elif VERDICT in header:
        verdicts = [verdict_of(row) for row in rows]
    return {
        "name": name,
        "export_name": reviewed_path(name).name,
        "sha256": hashlib.sha256(tsv_bytes).hexdigest(),
        "columns": list(COLUMNS),
        "rows": [[row[c] for c in COLUMNS] for row in rows],
        "verdicts": verdicts,
        "edits": edits,
        "bands": list(SCORE_BANDS),
        "server": dict(server) if server else None,
    }


def render_page(data: Mapping[str, Any]) -> str:
    """The complete HTML page for ``data`` (see `review_data`)."""
    parts = {
        "TITLE": html.escape(data["name"]),
        "STYLE": _asset("page.css"),
        "SCRIPT": _asset("page.js"),
        "DATA": _script_json(data),
    }
    if "</script" in parts["SCRIPT"].lower():
        raise RuntimeError("page.js must not contain a closing script tag")
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("page.html"))


def page_for_file(
    tsv_path: str | Path,
    server: Mapping[str, str] | None = None,
    start: Sequence[Mapping[str, str]] | None = None,
) -> str:
    """The review page for the TSV at ``tsv_path`` (``start``: see `review_data`)."""
    path = Path(tsv_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return render_page(review_data(data, path.name, server, start))


def write_review_html(tsv_path: str | Path, html_path: str | Path) -> Path:
    """Write the review page for ``tsv_path`` as one offline HTML file; returns its path.

    >>> write_review_html("out/page.tsv", "out/page.review.html")   # doctest: +SKIP
    PosixPath('out/page.review.html')
    """
    page = page_for_file(tsv_path)
    html_path = Path(html_path)
    try:
        with atomic_write(html_path) as handle:
            handle.write(page)
    except OSError as exc:
        raise OutputError(f"cannot write {html_path}: {exc.strerror or exc}") from exc
    return html_path


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script_json(data: Mapping[str, Any]) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' left to end it early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

