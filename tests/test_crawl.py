"""Crawl input (align/crawl.py): a WARC built here from real article pages in both languages, with
hreflang links, a redirect, a failed fetch, a PDF, duplicates and an English page."""
from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest

from align.crawl import (hreflang_pairs, normalize_url, pair_staged, read_crawl, stage_crawl, url_file_name,
                         write_crawl_pairing)

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "tests" / "data" / "clean"
SAMPLE = ROOT / "samples" / "sputnik-2023-12-06"

SPUTNIK_RU = "https://sputnik.az/ru/20231206/azerbaijan-turkey-military.html"
SPUTNIK_AZ = "https://sputnik.az/az/20231206/azerbaycan-turkiye-herbi.html"
REPORT_RU = "https://report.az/ru/economy/transport-corridor/"
REPORT_AZ = "https://report.az/az/xarici-siyaset/neqliyyat-dehlizi/"
REPORT_AZ_OLD = "https://report.az/az/1234567/"  # redirects to REPORT_AZ
TREND_RU = "https://www.trend.az/ru/politics/3836001.html"
TREND_AZ = "https://az.trend.az/azerbaijan/politics/3836002.html"
ENGLISH = "https://report.az/en/energy/caspian-forum/"

ENGLISH_TEXT = """Energy
Caspian energy forum opens in Baku
The forum brings together ministers and company executives from the region.
They will discuss new pipelines and the export of renewable electricity.
The meeting continues until Friday, when a joint statement is expected."""


def page_html(text: str, alternates: dict[str, str] = ()) -> bytes:
    """An HTML page from a real article's text lines: the first line as the site section, the
    second as <h1> and <title>, the rest as paragraphs; hreflang links in the head."""
    lines = [line for line in text.splitlines() if line.strip()]
    links = "".join(f'<link rel="alternate" hreflang="{lang}" href="{html.escape(url)}">'
                    for lang, url in dict(alternates).items())
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[2:])
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(lines[1])}</title>{links}'
            f'</head><body><nav>{html.escape(lines[0])}</nav><article><h1>{html.escape(lines[1])}</h1>'
            f"{body}</article></body></html>").encode()


def write_crawl_warc(path: Path) -> Path:
    """The test crawl (warcio's writer): 7 article pages, a redirect, a 404, a PDF, a second capture
    of a URL, the same text under another URL, an English page, a request record and warcinfo."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    sputnik_ru, sputnik_az = (SAMPLE / "ru.txt").read_text(), (SAMPLE / "az.txt").read_text()
    sputnik_ru = sputnik_ru.split("\n", 1)[1]  # the sample starts with a blank "Новости" line before the title
    sputnik_az = sputnik_az.split("\n", 1)[1]
    report_ru, report_az = (CLEAN / "report-ru.txt").read_text(), (CLEAN / "report-az.txt").read_text()
    trend_ru, trend_az = (CLEAN / "trend-ru.txt").read_text(), (CLEAN / "trend-az.txt").read_text()
    html_type = [("Content-Type", "text/html; charset=utf-8")]
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "align tests"}))

        def response(url, body: bytes, status="200 OK", headers=html_type):
            http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http))

        writer.write_record(writer.create_warc_record(SPUTNIK_RU, "request", payload=BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
        response(SPUTNIK_RU, page_html(sputnik_ru, {"ru": SPUTNIK_RU, "az": SPUTNIK_AZ}))
        response(SPUTNIK_AZ, page_html(sputnik_az, {"ru": SPUTNIK_RU}))
        response(REPORT_RU, page_html(report_ru, {"az": REPORT_AZ_OLD}))  # only the ru page declares it
        response(REPORT_AZ_OLD, b"", "301 Moved Permanently", [("Location", "/az/xarici-siyaset/neqliyyat-dehlizi/")])
        response(REPORT_AZ, page_html(report_az))
        response(TREND_RU, page_html(trend_ru))
        response(TREND_AZ, page_html(trend_az))
        response("https://sputnik.az/az/missing/", b"<html><body>Not found</body></html>", "404 Not Found")
        response("https://report.az/files/report-2023.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
                 headers=[("Content-Type", "application/pdf")])
        response(SPUTNIK_RU + "#comments", page_html(sputnik_ru))  # the same URL again
        response(REPORT_AZ + "?utm_source=telegram", page_html(report_az))  # the same text again
        response(ENGLISH, page_html(ENGLISH_TEXT))
    return path


@pytest.fixture
def crawl_warc(tmp_path) -> Path:
    return write_crawl_warc(tmp_path / "site.warc.gz")


def test_reading_keeps_pages_and_reports_everything_else(crawl_warc):
    crawl = read_crawl([crawl_warc])
    kept = {p.url: p.lang for p in crawl.pages}
    assert kept == {SPUTNIK_RU: "ru", SPUTNIK_AZ: "az", REPORT_RU: "ru", REPORT_AZ: "az", TREND_RU: "ru",
                    TREND_AZ: "az"}
    reasons = {s.url: s.reason for s in crawl.skipped}
    assert reasons[normalize_url(REPORT_AZ_OLD)].startswith("redirect (HTTP 301) to " + REPORT_AZ)
    assert reasons["https://sputnik.az/az/missing/"] == "failed fetch (HTTP 404)"
    assert reasons["https://report.az/files/report-2023.pdf"] == "not HTML (application/pdf)"
    assert reasons[REPORT_AZ + "?utm_source=telegram"] == f"duplicate text: same as {REPORT_AZ}"
    assert reasons[ENGLISH] == "other language (en)"
    assert [s.reason for s in crawl.skipped if s.url == SPUTNIK_RU] == [f"duplicate URL: first at {SPUTNIK_RU}"]
    assert len(crawl.skipped) == 6
    assert crawl.records == {"warcinfo": 1, "request": 1, "response": 12}
    sputnik = next(p for p in crawl.pages if p.url == SPUTNIK_RU)
    assert sputnik.fetched[:4].isdigit() and ("az", SPUTNIK_AZ) in sputnik.alternates
    assert "6 ru + 6 az" not in crawl.summary() and "3 ru + 3 az pages kept" in crawl.summary()


def test_hreflang_pairs_need_no_embedding_and_follow_redirects(crawl_warc):
    pairs = {(ru.url, az.url) for ru, az in hreflang_pairs(read_crawl([crawl_warc]))}
    assert pairs == {(SPUTNIK_RU, SPUTNIK_AZ), (REPORT_RU, REPORT_AZ)}


def test_staging_names_files_by_url_and_is_reused_until_the_crawl_changes(crawl_warc, tmp_path):
    staged = stage_crawl([crawl_warc], tmp_path / "pages")
    files = sorted(p.relative_to(staged.root).as_posix() for p in staged.root.rglob("*.html"))
    assert "ru/sputnik.az/ru/20231206/azerbaijan-turkey-military.html" in files
    assert "az/report.az/az/xarici-siyaset/neqliyyat-dehlizi/index.html" in files
    assert len(files) == 6
    assert staged.url_of()[str(staged.ru_dir / "www.trend.az/ru/politics/3836001.html")] == TREND_RU
    assert staged.counts["skipped"] == {"duplicate URL": 1, "duplicate text": 1, "failed fetch": 1,
                                        "not HTML": 1, "other language": 1, "redirect": 1}
    skipped = (staged.root / "skipped.tsv").read_text(encoding="utf-8").splitlines()
    assert skipped[0] == "source\turl\treason" and len(skipped) == 7
    marker = (staged.root / "crawl.json").stat().st_mtime_ns
    assert stage_crawl([crawl_warc], tmp_path / "pages").fingerprint == staged.fingerprint
    assert (staged.root / "crawl.json").stat().st_mtime_ns == marker  # reused, not rewritten
    write_crawl_warc(crawl_warc)  # a new version of the crawl (new fetch dates)
    os.utime(crawl_warc, ns=(marker + 10**9, marker + 10**9))
    assert stage_crawl([crawl_warc], tmp_path / "pages").fingerprint != staged.fingerprint
    assert not list(tmp_path.glob(".pages.*"))  # no temporary or old folder left behind


def test_url_file_names_are_safe():
    assert url_file_name("https://a.az/x/../y/") == "a.az/x/y/index.html"
    assert url_file_name("https://a.az/news.php?id=5").startswith("a.az/news_q")
    assert url_file_name("https://a.az/") == "a.az/index.html"


def test_pairing_takes_the_hreflang_pairs_first(crawl_warc, tmp_path, hash_embedder):
    staged = stage_crawl([crawl_warc], tmp_path / "pages")
    result = pair_staged(staged, hash_embedder)
    declared = {(Path(p.ru).name, Path(p.az).name) for p in result.pairs if p.features.get("hreflang")}
    assert declared == {("azerbaijan-turkey-military.html", "azerbaycan-turkiye-herbi.html"),
                        ("index.html", "index.html")}
    assert result.ru_count == result.az_count == 3
    # every page is in exactly one pair or listed as unpaired
    assert len(result.pairs) * 2 + len(result.unpaired) == 6
    pairs_tsv, side = write_crawl_pairing(result, staged, tmp_path / "pairs.tsv")
    rows = pairs_tsv.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "ru\taz\tscore\tru_url\taz_url\tvia"
    assert f"{SPUTNIK_RU}\t{SPUTNIK_AZ}\threflang" in "\n".join(rows)


def _align(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "align", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_cli_input_errors(tmp_path, crawl_warc):
    run = _align("docs", str(crawl_warc), str(tmp_path), cwd=tmp_path)
    assert run.returncode == 2 and "give it as --crawl" in run.stderr and "Traceback" not in run.stderr
    run = _align("docs", "--crawl", str(tmp_path / "nope.warc.gz"), cwd=tmp_path)
    assert run.returncode == 3 and run.stderr.startswith("align: error:")
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"\x1f\x8b this is not a WARC file")
    run = _align("docs", "--crawl", str(bad), cwd=tmp_path)
    assert run.returncode == 3 and run.stderr.startswith("align: error:"), run.stderr
    run = _align("docs", cwd=tmp_path)
    assert run.returncode == 2 and "--crawl" in run.stderr


@pytest.mark.model
def test_docs_on_a_crawl_with_the_real_model(crawl_warc, tmp_path, default_model_path):
    run = _align("docs", "--crawl", str(crawl_warc), "-o", str(tmp_path / "pairs.tsv"),
                 "--model", default_model_path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "3 ru + 3 az pages kept" in run.stderr
    rows = [line.split("\t") for line in (tmp_path / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    assert {(r[3], r[4], r[5]) for r in rows} == {(SPUTNIK_RU, SPUTNIK_AZ, "hreflang"), (REPORT_RU, REPORT_AZ, "hreflang"),
                                                  (TREND_RU, TREND_AZ, "content")}


@pytest.mark.slow
@pytest.mark.model
def test_corpus_on_a_crawl_rows_carry_the_url(crawl_warc, tmp_path, default_model_path):
    out = tmp_path / "out"
    run = _align("corpus", "--crawl", str(crawl_warc), "--out-dir", str(out), "--workers", "1",
                 "--model", default_model_path, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    docs = {line.split("\t")[0] for line in (out / "corpus.tsv").read_text(encoding="utf-8").splitlines()[1:]}
    assert docs == {"sputnik.az/ru/20231206/azerbaijan-turkey-military", "report.az/ru/economy/transport-corridor/index",
                    "www.trend.az/ru/politics/3836001"}
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["crawl"]["skipped"]["redirect"] == 1 and report["crawl"]["hreflang_pairs"] == 2
    assert report["pairs"] == 3
