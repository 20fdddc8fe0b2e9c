"""The review page: a translator checks and corrects an aligned TSV in the browser.

`write_review_html` writes one offline HTML file; `serve_review` serves the same page on 127.0.0.1
and saves the review as ``<name>.reviewed.tsv``. `read_tsv` / `write_reviewed_tsv` read and write
the TSV forms (plain, and reviewed = plus a ``verdict`` column).
"""
from __future__ import annotations

from .page import write_review_html
from .server import serve_review
from .tsv import COLUMNS, REVIEWED_COLUMNS, VERDICTS, read_tsv, reviewed_path, write_reviewed_tsv

__all__ = [
    "COLUMNS",
    "REVIEWED_COLUMNS",
    "VERDICTS",
    "read_tsv",
    "reviewed_path",
    "serve_review",
    "write_review_html",
    "write_reviewed_tsv",
]
