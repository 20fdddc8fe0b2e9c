"""Serving the review page on 127.0.0.1, with a save endpoint that writes ``<name>.reviewed.tsv``.

Standard library only (`http.server`): one local user, two routes, no framework needed.

    GET  /       the review page (the same page as `write_review_html`, plus a Save button),
                 rendered from the latest saved review, with that save's version
    POST /save   body: the reviewed TSV; header X-Review-Version: the version the page was loaded
                 at. Checked against the input and the file on disk (409 Conflict when another
                 window or process saved since), then written atomically; answers the new version

The save route requires the page's per-run token in the ``X-Review-Token`` header and a Host of
127.0.0.1/localhost: another web site open in the same browser can neither read the token nor
send that header cross-origin without a CORS pre-flight, which this server never grants.
"""
from __future__ import annotations

import hashlib
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
from .page import render_page, review_data
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
MAX_PORT = 65535
REQUEST_TIMEOUT_S = 60  # a client that stops sending mid-request is dropped after this long
NO_SAVE = "none"  # the version while nothing is saved next to the input
STALE_SAVE = "saved by another window since you loaded; reload the page to see the latest saved review"


class StaleSave(Exception):
    """A save based on an older version of the reviewed file than the one on disk."""


def version_of(data: bytes | None) -> str:
    """The version of a reviewed file: a hash of its bytes (`NO_SAVE` when there is no file)."""
    return NO_SAVE if data is None else hashlib.sha256(data).hexdigest()[:32]


class ReviewServer(ThreadingHTTPServer):
    """An HTTP server bound to 127.0.0.1 that serves one TSV's review page and saves its review.

    Every GET renders the page from the reviewed file as it is on disk now (a reload, or a second
    browser, sees the latest save), with that file's version; a save must carry the version its
    page was loaded at and is refused (`StaleSave`, HTTP 409) when the file has changed since.
    """

    daemon_threads = True

    def __init__(self, tsv_path: str | Path, port: int = 0) -> None:
        if not 0 <= port <= MAX_PORT:
            raise UsageError(f"--port {port} is not a port number (0 to {MAX_PORT}; 0 = any free port)")
        self.tsv_path = Path(tsv_path)
        self.rows = read_tsv(self.tsv_path)
        self.save_path = reviewed_path(self.tsv_path)
        self.token = secrets.token_urlsafe(24)
        self.max_body = MAX_BODY_FACTOR * self.tsv_path.stat().st_size + (1 << 20)
        self._lock = threading.Lock()
        self.resumed, self.note = self._previous_review()
        try:
            super().__init__((HOST, port), ReviewHandler)
        except (OSError, OverflowError) as exc:
            raise UsageError(f"cannot listen on {HOST}:{port}: {getattr(exc, 'strerror', None) or exc}") from exc

    def _saved_bytes(self) -> bytes | None:
        """The reviewed file's bytes as they are now, or None when there is none."""
        try:
            return self.save_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read {self.save_path}: {exc.strerror or exc}") from exc

    def version(self) -> str:
        """The version of the reviewed file on disk now (see `version_of`)."""
        return version_of(self._saved_bytes())

    def _resumable(self, data: bytes | None) -> list[dict[str, str]] | None:
        """The rows of a reviewed file's bytes, if they are a review of the TSV under review."""
        if data is None or self.save_path == self.tsv_path:
            return None
        try:
            header, rows = parse_tsv(decode_tsv(data, str(self.save_path)), str(self.save_path))
            if VERDICT not in header:
                raise InputError(f"{self.save_path}: no {VERDICT} column")
            check_same_rows(self.rows, rows, str(self.save_path))
        except InputError:
            return None
        return rows

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
    def page(self) -> bytes:
        """The review page as a GET serves it now: the latest saved review and its version."""
        with self._lock:
            saved = self._saved_bytes()
            try:
                if self.save_path == self.tsv_path:  # reviewing a reviewed file: it is its own save
                    source = saved if saved is not None else self.tsv_path.read_bytes()
                    start = None
                else:
                    source, start = self.tsv_path.read_bytes(), self._resumable(saved)
            except OSError as exc:
                raise InputError(f"cannot read {self.tsv_path}: {exc.strerror or exc}") from exc
        settings = {"save": "/save", "token": self.token, "version": version_of(saved)}
        return render_page(review_data(source, self.tsv_path.name, settings, start)).encode("utf-8")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def save(self, body: bytes, version: str) -> dict:
        """Check a posted reviewed TSV against the input and write it, unless the reviewed file has
        changed since the page that posts it was loaded at ``version`` (`StaleSave`); returns a summary
        with the new version."""
        source = "posted TSV"
        header, rows = parse_tsv(decode_tsv(body, source), source)
        if VERDICT not in header:
            raise InputError(f"{source}: no {VERDICT} column")
        check_same_rows(self.rows, rows, source)
        verdicts = [verdict_of(row) for row in rows]
        with self._lock:
            if version != self.version():
                raise StaleSave(STALE_SAVE)
            path = write_reviewed_tsv(rows, verdicts, self.save_path)
            new_version = self.version()
        counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
        return {"saved": str(path), "rows": len(rows), "verdicts": counts, "version": new_version}

    def handle_error(self, request, client_address) -> None:
        """One log line instead of a traceback for a request that failed (a client gone, a timeout)."""
        exc = sys.exc_info()[1]
        sys.stderr.write(f"review: request from {client_address[0]} failed: {type(exc).__name__}: {exc}\n")


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "align-review"
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if not self._host_ok():
            return
        if self.path.split("?")[0] not in ("/", "/index.html"):
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        try:
            page = self.server.page
        except AlignError as exc:  # the input or the reviewed file became unreadable or malformed
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, f"{exc}\n".encode("utf-8"), "text/plain; charset=utf-8")
            return
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return
        if self.path != "/save":
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        if not self._token_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong review token"})
            return
        version = self.headers.get("X-Review-Version", "")
        if not version:
            self._json(HTTPStatus.PRECONDITION_REQUIRED,
                       {"error": "the save carries no X-Review-Version: reload the page and save again"})
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
            result = self.server.save(body, version)
        except StaleSave as exc:
            self._json(HTTPStatus.CONFLICT, {"error": str(exc), "version": self.server.version()})
            return
        except AlignError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.log_message("saved %s (%d rows)", result["saved"], result["rows"])
        self._json(HTTPStatus.OK, result)

    def _token_ok(self) -> bool:
        """The request carries this run's token (compared as bytes: a header may hold any byte)."""
        sent = self.headers.get("X-Review-Token", "").encode("utf-8", "surrogateescape")
        return secrets.compare_digest(sent, self.server.token.encode("ascii"))

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
