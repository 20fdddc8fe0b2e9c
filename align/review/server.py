"""Serving the review page on 127.0.0.1, with a save endpoint that writes ``<name>.reviewed.tsv``.

Standard library only (`http.server`): one local user, two routes, no framework needed.

    GET  /       the review page (the same page as `write_review_html`, plus a Save button)
    POST /save   body: the reviewed TSV; checked against the input, then written atomically

The save route requires the page's per-run token in the ``X-Review-Token`` header and a Host of
127.0.0.1/localhost: another web site open in the same browser can neither read the token nor
send that header cross-origin without a CORS pre-flight, which this server never grants.
"""
from __future__ import annotations

import json
import secrets
import sys
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from ..types import AlignError, InputError, UsageError
from .page import page_for_file
from .tsv import (
    VERDICT,
    check_same_rows,
    decode_tsv,
    parse_tsv,
    read_tsv,
    reviewed_path,
    verdict_of,
    write_reviewed_tsv,
)

HOST = "127.0.0.1"
MAX_BODY_FACTOR = 4  # a posted TSV may be at most this many times the input (plus 1 MiB)


class ReviewServer(ThreadingHTTPServer):
    """An HTTP server bound to 127.0.0.1 that serves one TSV's review page and saves its review."""

    daemon_threads = True

    def __init__(self, tsv_path: str | Path, port: int = 0) -> None:
        self.tsv_path = Path(tsv_path)
        self.rows = read_tsv(self.tsv_path)
        self.save_path = reviewed_path(self.tsv_path)
        self.token = secrets.token_urlsafe(24)
        self.max_body = MAX_BODY_FACTOR * self.tsv_path.stat().st_size + (1 << 20)
        self._lock = threading.Lock()
        self.resumed, self.note = self._previous_review()
        settings = {"save": "/save", "token": self.token}
        self.page = page_for_file(self.tsv_path, settings, self.resumed).encode("utf-8")
        try:
            super().__init__((HOST, port), ReviewHandler)
        except OSError as exc:
            raise UsageError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc

    def _previous_review(self) -> tuple[list[dict[str, str]] | None, str]:
        """The rows of an earlier save next to the input, if it matches the input, and a note."""
        if self.save_path == self.tsv_path or not self.save_path.exists():
            return None, ""
        try:
            rows = read_tsv(self.save_path)
            if rows and VERDICT not in rows[0]:
                raise InputError(f"{self.save_path}: no {VERDICT} column")
            check_same_rows(self.rows, rows, str(self.save_path))
        except InputError as exc:
            return None, f"not resuming from {self.save_path} ({exc}); Save will replace it"
        done = sum(verdict_of(row) != "unreviewed" for row in rows)
        return rows, f"resuming from {self.save_path} ({done} of {len(rows)} rows reviewed)"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def save(self, body: bytes) -> dict:
        """Check a posted reviewed TSV against the input and write it; returns a summary."""
        source = "posted TSV"
        header, rows = parse_tsv(decode_tsv(body, source), source)
        if VERDICT not in header:
            raise InputError(f"{source}: no {VERDICT} column")
        check_same_rows(self.rows, rows, source)
        verdicts = [verdict_of(row) for row in rows]
        with self._lock:
            path = write_reviewed_tsv(rows, verdicts, self.save_path)
        counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
        return {"saved": str(path), "rows": len(rows), "verdicts": counts}


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "align-review"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if not self._host_ok():
            return
        if self.path.split("?")[0] not in ("/", "/index.html"):
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        self._send(HTTPStatus.OK, self.server.page, "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return
        if self.path != "/save":
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        if not secrets.compare_digest(self.headers.get("X-Review-Token", ""), self.server.token):
            self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong review token"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        if length < 0 or length > self.server.max_body:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body of {length} bytes is too large"})
            return
        body = self.rfile.read(length)
        try:
            result = self.server.save(body)
        except AlignError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.log_message("saved %s (%d rows)", result["saved"], result["rows"])
        self._json(HTTPStatus.OK, result)

    def _host_ok(self) -> bool:
        """Refuse requests addressed to another host name (DNS rebinding)."""
        port = self.server.server_address[1]
        if self.headers.get("Host", "") in (f"{HOST}:{port}", f"localhost:{port}"):
            return True
        self._send(HTTPStatus.MISDIRECTED_REQUEST, b"wrong host\n", "text/plain; charset=utf-8")
        return False

    def _json(self, status: HTTPStatus, payload: dict) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        sys.stderr.write(f"review: {format % args}\n")


def serve_review(
    tsv_path: str | Path, port: int = 0, open_browser: bool = False, out: TextIO | None = None
) -> None:
    """Serve the review page for ``tsv_path`` on 127.0.0.1:``port`` (0 = any free) until Ctrl-C.

    Prints the URL; the page's Save button writes ``<name>.reviewed.tsv`` next to the input.

    >>> serve_review("out/page.tsv", port=8765)   # doctest: +SKIP
    review: http://127.0.0.1:8765/  (saves to out/page.reviewed.tsv; Ctrl-C to stop)
    """
    out = out or sys.stdout
    server = ReviewServer(tsv_path, port)
    try:
        if server.note:
            print(f"review: {server.note}", file=out, flush=True)
        print(f"review: {server.url}  (saves to {server.save_path}; Ctrl-C to stop)", file=out, flush=True)
        if open_browser:
            webbrowser.open(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        print("review: stopped", file=out, flush=True)
    finally:
        server.server_close()
