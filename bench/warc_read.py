"""WARC readers compared: fastwarc vs warcio on the same WARC.gz (records, HTTP headers, bodies).

    .venv/bin/python bench/warc_read.py [--records 20000]

The WARC is built here with warcio's writer from the sample article pages (tests/test_crawl.py's
page builder), one response record per URL, plus request records as a crawler writes them. Both
readers parse the HTTP headers and read every body; times are the best of three passes. The text
extraction time of one page (align.read's HTML reader) is printed for scale: reading the archive is
a small part of the cost of a crawl either way.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_crawl import CLEAN, SAMPLE, page_html  # noqa: E402


def build(path: Path, records: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    texts = [(SAMPLE / "ru.txt").read_text().split("\n", 1)[1], (SAMPLE / "az.txt").read_text().split("\n", 1)[1],
             *(p.read_text() for p in sorted(CLEAN.glob("*.txt")))]
    bodies = [page_html(t) for t in texts]
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for n in range(records):
            url = f"https://news.example.az/{n % 7}/{n}.html"
            writer.write_record(writer.create_warc_record(url, "request", payload=BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(bodies[n % len(bodies)]),
                                                          http_headers=http))
    return path.stat().st_size


def read_fastwarc(path: Path) -> tuple[int, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = size = 0
    with open(path, "rb") as stream:
        for rec in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            _ = rec.http_headers.status_code, rec.http_headers.get("Content-Type"), rec.headers.get("WARC-Target-URI")
            size += len(rec.reader.read())
            n += 1
    return n, size


def read_warcio(path: Path) -> tuple[int, int]:
    from warcio.archiveiterator import ArchiveIterator

    n = size = 0
    with open(path, "rb") as stream:
        for rec in ArchiveIterator(stream):
            if rec.rec_type != "response":
                continue
            _ = rec.http_headers.get_statuscode(), rec.http_headers.get_header("Content-Type"), \
                rec.rec_headers.get_header("WARC-Target-URI")
            size += len(rec.content_stream().read())
            n += 1
    return n, size


def best_of(fn, path: Path, runs: int = 3) -> tuple[float, tuple[int, int]]:
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn(path)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.warc.gz"
        size = build(path, args.records)
        print(f"WARC.gz: {args.records} responses + {args.records} requests, {size / 1e6:.1f} MB")
        t_fast, out_fast = best_of(read_fastwarc, path)
        t_warcio, out_warcio = best_of(read_warcio, path)
        assert out_fast == out_warcio, (out_fast, out_warcio)
        print(f"fastwarc 2.0.0: {t_fast:.2f} s ({args.records / t_fast:,.0f} pages/s)")
        print(f"warcio:         {t_warcio:.2f} s ({args.records / t_warcio:,.0f} pages/s)")
        print(f"fastwarc / warcio speed: {t_warcio / t_fast:.1f}x")
        from align.read import html_blocks

        html = page_html((CLEAN / "report-ru.txt").read_text()).decode()
        t0 = time.perf_counter()
        for _ in range(50):
            html_blocks(html)
        print(f"for scale, text extraction of one page (align.read.html_blocks): {(time.perf_counter() - t0) / 50 * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
