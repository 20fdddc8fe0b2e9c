"""The review page's Python side: TSV reading/writing, the HTML page, and the local server."""
from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from align.review import (
    COLUMNS,
    REVIEWED_COLUMNS,
    read_tsv,
    reviewed_path,
    serve_review,
    write_review_html,
    write_reviewed_tsv,
)
from align.review.page import render_page, review_data
from align.review.server import ReviewServer
from align.types import InputError, UsageError

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "data" / "review" / "sample.tsv"
HEADER = "\t".join(COLUMNS)
ROW = "d1\tsentence\t1-1\t0\t0\tПривет.\tSalam.\t0.9000\t0.9\t0.2\t1.0\t\t1\t"


def write(tmp_path: Path, text: str, name: str = "x.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="review-data">(.*?)</script>', html, re.S)
    assert match, "data block missing"
    return json.loads(match.group(1))


# --------------------------------------------------------------------------- read_tsv
def test_read_sample_keeps_every_row_in_order():
    rows = read_tsv(SAMPLE)
    assert len(rows) == 26
    assert all(tuple(row) == COLUMNS for row in rows)
    assert rows[0]["kind"] == "title" and rows[0]["ru"].startswith("В Баку")
    assert [r["doc"] for r in rows].count("news-2024-03-12-caspian") == 9
    nulls = [r for r in rows if not r["ru_ids"] or not r["az_ids"]]
    assert {r["bead"] for r in nulls} == {"0-1", "1-0"}
    assert all(not r["ru"] or not r["az"] for r in nulls)


def test_read_tolerates_bom_and_crlf(tmp_path):
    path = tmp_path / "w.tsv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + ROW + "\r\n").encode("utf-8"))
    rows = read_tsv(path)
    assert rows == [dict(zip(COLUMNS, ROW.split("\t")))]


def test_read_header_only_is_empty_list(tmp_path):
    assert read_tsv(write(tmp_path, HEADER + "\n")) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("doc\tkind\n", "missing column(s) bead"),
        (HEADER + "\tcolour\n", "unknown column(s) colour"),
        ("\t".join(COLUMNS[::-1]) + "\n", "columns out of order"),
        (HEADER + "\n" + ROW + "\textra\n", "x.tsv:2: expected 14 tab-separated fields, found 15"),
        (HEADER + "\n" + ROW + "\n" + ROW.replace("sentence", "word") + "\n", "x.tsv:3: kind 'word'"),
        (HEADER + "\n" + ROW.replace("\t1\t", "\tyes\t") + "\n", "keep 'yes'"),
        (HEADER + "\n" + ROW.replace("0.9000", "high") + "\n", "score 'high' is not a number"),
        (HEADER + "\n" + ROW.replace("\t0\t0\t", "\t0;1\t0\t") + "\n", "ru_ids '0;1'"),
        (HEADER + "\n" + ROW.replace("1-1", "one") + "\n", "bead 'one'"),
        ("\t".join(REVIEWED_COLUMNS) + "\n" + ROW + "\tmaybe\n", "verdict 'maybe'"),
    ],
)
def test_read_rejects_bad_files_with_one_line(tmp_path, text, message):
    with pytest.raises(InputError) as info:
        read_tsv(write(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_read_rejects_non_utf8_and_missing(tmp_path):
    path = tmp_path / "latin.tsv"
    path.write_bytes((HEADER + "\n").encode() + "d\tsentence\t1-1\t0\t0\tcafé".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_tsv(path)
    with pytest.raises(InputError, match="cannot read"):
        read_tsv(tmp_path / "absent.tsv")


def test_read_reviewed_form(tmp_path):
    text = "\t".join(REVIEWED_COLUMNS) + "\n" + ROW + "\tedited\n" + ROW + "\t\n"
    rows = read_tsv(write(tmp_path, text))
    assert [r["verdict"] for r in rows] == ["edited", ""]


# --------------------------------------------------------------------------- write_reviewed_tsv
def test_write_reviewed_round_trip(tmp_path):
    rows = read_tsv(SAMPLE)
    verdicts = ["unreviewed"] * len(rows)
    verdicts[0], verdicts[2], verdicts[5] = "accepted", "rejected", "edited"
    rows[5] = dict(rows[5], az="Layihənin dəyəri\t120 milyon\nmanat təşkil edib.")
    out = write_reviewed_tsv(rows, verdicts, tmp_path / "sample.reviewed.tsv")
    back = read_tsv(out)
    assert [r["verdict"] for r in back] == verdicts
    assert back[5]["az"] == "Layihənin dəyəri 120 milyon manat təşkil edib."
    original = read_tsv(SAMPLE)
    for before, after in zip(original, back):
        assert {c: after[c] for c in COLUMNS if c not in ("ru", "az")} == {
            c: before[c] for c in COLUMNS if c not in ("ru", "az")
        }
    assert out.read_text(encoding="utf-8").splitlines()[0] == "\t".join(REVIEWED_COLUMNS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.reviewed.tsv"]  # no temp file left


def test_write_reviewed_checks_its_arguments(tmp_path):
    rows = read_tsv(SAMPLE)
    with pytest.raises(ValueError, match="26 rows but 2 verdicts"):
        write_reviewed_tsv(rows, ["accepted"] * 2, tmp_path / "r.tsv")
    with pytest.raises(ValueError, match="verdict 'ok'"):
        write_reviewed_tsv(rows, ["ok"] * len(rows), tmp_path / "r.tsv")
    assert not (tmp_path / "r.tsv").exists()


def test_reviewed_path():
    assert reviewed_path("out/page.tsv") == Path("out/page.reviewed.tsv")
    assert reviewed_path("out/page.reviewed.tsv") == Path("out/page.reviewed.tsv")
    assert reviewed_path("pairs") == Path("pairs.reviewed.tsv")


# --------------------------------------------------------------------------- the page
def test_html_is_self_contained_and_carries_the_rows(tmp_path):
    out = write_review_html(SAMPLE, tmp_path / "review.html")
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the page itself forbids network access
    data = page_data(html)
    rows = read_tsv(SAMPLE)
    assert data["rows"] == [[r[c] for c in COLUMNS] for r in rows]
    assert data["columns"] == list(COLUMNS)
    assert data["verdicts"] is None and data["server"] is None
    assert data["export_name"] == "sample.reviewed.tsv"
    assert re.fullmatch(r"[0-9a-f]{64}", data["sha256"])


def test_html_escapes_hostile_text(tmp_path):
    evil = "</script><script>alert(1)</script> & <!-- \u2028"
    path = write(tmp_path, HEADER + "\n" + ROW.replace("Привет.", evil) + "\n", "<b>.tsv")
    html = write_review_html(path, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>.tsv" not in html
    assert html.count("</script>") == 2  # the data block and the code block, nothing else
    assert page_data(html)["rows"][0][COLUMNS.index("ru")] == evil


def test_html_for_a_reviewed_tsv_carries_its_verdicts(tmp_path):
    rows = read_tsv(SAMPLE)
    verdicts = ["accepted"] * 3 + ["unreviewed"] * (len(rows) - 3)
    reviewed = write_reviewed_tsv(rows, verdicts, tmp_path / "sample.reviewed.tsv")
    data = page_data(write_review_html(reviewed, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert data["verdicts"] == verdicts
    assert data["export_name"] == "sample.reviewed.tsv"
    assert len(data["rows"][0]) == len(COLUMNS)


def test_page_hash_follows_content():
    a = review_data((HEADER + "\n" + ROW + "\n").encode(), "a.tsv")
    b = review_data((HEADER + "\n" + ROW.replace("Salam", "Sağ ol") + "\n").encode(), "a.tsv")
    assert a["sha256"] != b["sha256"]
    assert "{{" not in render_page(a)


def test_bad_tsv_gives_input_error_for_the_page(tmp_path):
    with pytest.raises(InputError, match="not an align TSV"):
        write_review_html(write(tmp_path, "a\tb\n"), tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


# --------------------------------------------------------------------------- the server
@pytest.fixture
def server(tmp_path):
    tsv = tmp_path / "sample.tsv"
    tsv.write_bytes(SAMPLE.read_bytes())
    srv = ReviewServer(tsv, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def request(srv, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def save_headers(srv, version: str | None = None) -> dict[str, str]:
    """The headers the page sends with a save: its token and the version it was loaded at."""
    return {"X-Review-Token": srv.token, "X-Review-Version": srv.version() if version is None else version}


def reviewed_body(rows, verdicts) -> bytes:
    from align.review.tsv import format_reviewed_tsv

    return format_reviewed_tsv(rows, verdicts).encode("utf-8")


def test_server_binds_loopback_and_serves_the_page(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")
    status, body = request(server, "GET", "/")
    assert status == 200
    data = page_data(body.decode("utf-8"))
    assert data["server"] == {"save": "/save", "token": server.token, "version": server.version()}
    assert len(data["rows"]) == 26
    assert request(server, "GET", "/etc/passwd")[0] == 404


def test_server_saves_a_valid_review_atomically(server):
    rows = read_tsv(SAMPLE)
    verdicts = ["accepted"] * 10 + ["rejected"] * 2 + ["unreviewed"] * 14
    rows[0] = dict(rows[0], ru="В Баку открыта новая станция метро «Ходжасан»")
    verdicts[0] = "edited"
    status, body = request(server, "POST", "/save", reviewed_body(rows, verdicts), save_headers(server))
    assert status == 200, body
    result = json.loads(body)
    saved = Path(result["saved"])
    assert saved == server.tsv_path.with_name("sample.reviewed.tsv")
    assert result["rows"] == 26 and result["verdicts"]["accepted"] == 9
    back = read_tsv(saved)
    assert [r["verdict"] for r in back] == verdicts
    assert back[0]["ru"] == "В Баку открыта новая станция метро «Ходжасан»"
    assert sorted(p.name for p in saved.parent.iterdir()) == ["sample.reviewed.tsv", "sample.tsv"]


@pytest.mark.parametrize("problem", ["token", "host", "reordered", "short", "plain", "garbage"])
def test_server_refuses_bad_saves(server, problem):
    rows = read_tsv(SAMPLE)
    verdicts = ["accepted"] * len(rows)
    headers = save_headers(server)
    body = reviewed_body(rows, verdicts)
    expected = 400
    if problem == "token":
        headers, expected = {**headers, "X-Review-Token": "guess"}, 403
    elif problem == "host":
        headers["Host"], expected = "evil.example:80", 421
    elif problem == "reordered":
        body = reviewed_body([rows[1], rows[0], *rows[2:]], verdicts)
    elif problem == "short":
        body = reviewed_body(rows[:-1], verdicts[:-1])
    elif problem == "plain":
        body = SAMPLE.read_bytes()
    elif problem == "garbage":
        body = b"\xff\xfe not a tsv"
    status, answer = request(server, "POST", "/save", body, headers)
    assert status == expected, answer
    if expected == 400:
        assert json.loads(answer)["error"]
    assert not server.save_path.exists()


def test_serve_review_prints_url_and_stops_on_ctrl_c(tmp_path, monkeypatch, capsys):
    tsv = tmp_path / "sample.tsv"
    tsv.write_bytes(SAMPLE.read_bytes())
    seen = {}

    def interrupted(self, poll_interval=0.5):
        seen["server"] = self
        raise KeyboardInterrupt

    monkeypatch.setattr(ReviewServer, "serve_forever", interrupted)
    serve_review(tsv, port=0)
    out = capsys.readouterr().out
    assert re.search(r"http://127\.0\.0\.1:\d+/", out)
    assert "sample.reviewed.tsv" in out and "stopped" in out
    assert seen["server"].socket.fileno() == -1  # closed


def test_serve_review_port_in_use(tmp_path):
    tsv = tmp_path / "sample.tsv"
    tsv.write_bytes(SAMPLE.read_bytes())
    first = ReviewServer(tsv, 0)
    try:
        with pytest.raises(UsageError, match="cannot listen on 127.0.0.1"):
            ReviewServer(tsv, first.server_address[1])
    finally:
        first.server_close()


# --------------------------------------------------------------------------- the command
def test_cli_review_html(tmp_path):
    out = tmp_path / "page.html"
    done = subprocess.run(
        [sys.executable, "-m", "align", "review", str(SAMPLE), "--html", str(out)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert len(page_data(out.read_text(encoding="utf-8"))["rows"]) == 26


def test_cli_review_bad_file_is_one_line(tmp_path):
    bad = write(tmp_path, "doc\tkind\nx\ty\n")
    done = subprocess.run(
        [sys.executable, "-m", "align", "review", str(bad), "--html", str(tmp_path / "p.html")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == InputError.exit_code
    assert done.stderr.count("\n") == 1 and "not an align TSV" in done.stderr


def test_server_resumes_from_an_earlier_save(tmp_path, capsys, monkeypatch):
    tsv = tmp_path / "sample.tsv"
    tsv.write_bytes(SAMPLE.read_bytes())
    rows = read_tsv(SAMPLE)
    verdicts = ["unreviewed"] * len(rows)
    verdicts[0], verdicts[1] = "accepted", "edited"
    edited = [dict(r) for r in rows]
    edited[1]["az"] = "Sərnişinlər yeni stansiyada"
    write_reviewed_tsv(edited, verdicts, tmp_path / "sample.reviewed.tsv")
    srv = ReviewServer(tsv, 0)
    try:
        data = page_data(srv.page.decode("utf-8"))
        assert data["verdicts"] == verdicts
        assert data["edits"][1] == [rows[1]["ru"], "Sərnişinlər yeni stansiyada"]
        assert data["edits"][0] is None and data["rows"][1][COLUMNS.index("az")] == rows[1]["az"]
        assert "resuming from" in srv.note and "2 of 26" in srv.note
    finally:
        srv.server_close()
    # An earlier save of a different TSV is not used, and the user is told it will be replaced.
    write_reviewed_tsv(rows[:-1], verdicts[:-1], tmp_path / "sample.reviewed.tsv")
    monkeypatch.setattr(ReviewServer, "serve_forever", lambda self, poll_interval=0.5: None)
    serve_review(tsv)
    out = capsys.readouterr().out
    assert "not resuming from" in out and "25 rows, but the TSV under review has 26" in out


# --------------------------------------------------------------------------- versions: the latest save, no lost work
def loaded(srv) -> dict:
    """What a browser loading the page gets: the page's data (verdicts, edits, server settings)."""
    status, body = request(srv, "GET", "/")
    assert status == 200
    return page_data(body.decode("utf-8"))


def test_a_reload_after_a_save_shows_the_saved_verdicts(server):
    first = loaded(server)
    assert first["verdicts"] is None
    rows = read_tsv(SAMPLE)
    verdicts = ["accepted"] * 3 + ["unreviewed"] * (len(rows) - 3)
    status, body = request(server, "POST", "/save", reviewed_body(rows, verdicts),
                           save_headers(server, first["server"]["version"]))
    assert status == 200, body
    again = loaded(server)
    assert again["verdicts"] == verdicts
    assert again["server"]["version"] == json.loads(body)["version"] != first["server"]["version"]


def test_two_windows_a_save_based_on_an_older_version_is_refused(server):
    window_a, window_b = loaded(server), loaded(server)
    rows = read_tsv(SAMPLE)
    a_verdicts = ["accepted"] * len(rows)
    b_verdicts = ["rejected"] * len(rows)
    status, body = request(server, "POST", "/save", reviewed_body(rows, a_verdicts),
                           save_headers(server, window_a["server"]["version"]))
    assert status == 200, body
    status, body = request(server, "POST", "/save", reviewed_body(rows, b_verdicts),
                           save_headers(server, window_b["server"]["version"]))
    assert status == 409
    assert "saved by another window since you loaded; reload" in json.loads(body)["error"]
    assert [r["verdict"] for r in read_tsv(server.save_path)] == a_verdicts  # A's work is intact
    window_b = loaded(server)  # B reloads: it sees A's verdicts, and may now save over them
    assert window_b["verdicts"] == a_verdicts
    status, body = request(server, "POST", "/save", reviewed_body(rows, b_verdicts),
                           save_headers(server, window_b["server"]["version"]))
    assert status == 200, body
    assert [r["verdict"] for r in read_tsv(server.save_path)] == b_verdicts


def test_a_save_by_another_process_counts_as_a_newer_version(server):
    version = loaded(server)["server"]["version"]
    rows = read_tsv(SAMPLE)
    write_reviewed_tsv(rows, ["rejected"] * len(rows), server.save_path)  # e.g. a second `align review`
    status, body = request(server, "POST", "/save", reviewed_body(rows, ["accepted"] * len(rows)),
                           save_headers(server, version))
    assert status == 409, body
    assert [r["verdict"] for r in read_tsv(server.save_path)] == ["rejected"] * len(rows)
    assert loaded(server)["verdicts"] == ["rejected"] * len(rows)


def test_a_save_without_a_version_is_refused(server):
    rows = read_tsv(SAMPLE)
    status, body = request(server, "POST", "/save", reviewed_body(rows, ["accepted"] * len(rows)),
                           {"X-Review-Token": server.token})
    assert status == 428 and "reload" in json.loads(body)["error"]
    assert not server.save_path.exists()


# --------------------------------------------------------------------------- hostile or malformed requests: a 4xx
def raw_request(srv, data: bytes) -> bytes:
    """Send raw bytes, return the whole answer (b"" if the server dropped the connection)."""
    import socket

    with socket.create_connection(("127.0.0.1", srv.server_address[1]), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def post_head(srv, *headers: bytes, length: bytes = b"5") -> bytes:
    port = str(srv.server_address[1]).encode()
    lines = [b"POST /save HTTP/1.1", b"Host: 127.0.0.1:" + port, b"Content-Length: " + length, *headers]
    return b"\r\n".join(lines) + b"\r\n\r\nhello"


@pytest.mark.parametrize("case", ["utf8 token", "latin1 token", "token with NUL", "bad length", "negative length",
                                  "huge length", "bad version", "garbage request line", "non-ascii path"])
def test_malformed_requests_get_a_4xx_not_a_traceback(server, capfd, case):
    token = server.token.encode()
    version = server.version().encode()
    data = {
        "utf8 token": post_head(server, "X-Review-Token: токен".encode("utf-8")),
        "latin1 token": post_head(server, b"X-Review-Token: \xe9t\xe9"),
        "token with NUL": post_head(server, b"X-Review-Token: " + token[:4] + b"\x00"),
        "bad length": post_head(server, b"X-Review-Token: " + token, b"X-Review-Version: " + version, length=b"five"),
        "negative length": post_head(server, b"X-Review-Token: " + token, b"X-Review-Version: " + version,
                                     length=b"-5"),
        "huge length": post_head(server, b"X-Review-Token: " + token, b"X-Review-Version: " + version,
                                 length=b"9" * 40),
        "bad version": post_head(server, b"X-Review-Token: " + token, "X-Review-Version: версия".encode("utf-8")),
        "garbage request line": b"\xff\xfe GARBAGE\r\n\r\n",
        "non-ascii path": b"GET /\xd0\xbf\xff HTTP/1.1\r\nHost: 127.0.0.1:" + str(server.server_address[1]).encode()
                          + b"\r\n\r\n",
    }[case]
    answer = raw_request(server, data)
    if answer.startswith(b"HTTP/"):
        status = int(answer.split(b" ", 2)[1])
    else:  # a request line that is not HTTP/1.x is answered the HTTP/0.9 way: a page, no status line
        found = re.search(rb"Error code: (\d+)", answer)
        status = int(found.group(1)) if found else 0
    assert 400 <= status < 500, answer[:200]
    assert "Traceback" not in capfd.readouterr().err
    assert not server.save_path.exists()


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_cli_review_bad_port_is_a_usage_error(port):
    done = subprocess.run([sys.executable, "-m", "align", "review", str(SAMPLE), "--port", port],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == UsageError.exit_code, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("align: error: ") and "port" in done.stderr


def test_cli_review_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run([sys.executable, "-m", "align", "review", str(SAMPLE), "--port",
                               str(taken.getsockname()[1])], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == UsageError.exit_code, done.stderr
    assert done.stderr.count("\n") == 1 and "cannot listen on 127.0.0.1" in done.stderr


def test_review_server_refuses_a_bad_port_number(tmp_path):
    with pytest.raises(UsageError, match="port"):
        ReviewServer(SAMPLE, 99999)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.text(alphabet=HEADER + "\n\t01,-.enaiacptdsr\r", max_size=300)
                      .map(lambda t: t.encode("utf-8"))))
def test_review_tsv_reader_gives_rows_or_an_input_error(tmp_path, data):
    from align.review.tsv import decode_tsv, parse_tsv

    try:
        parse_tsv(decode_tsv(data, "any.tsv"), "any.tsv")
    except InputError as exc:
        assert "\n" not in str(exc)
