"""End to end: the review page in headless Chromium, driven with the keyboard like a translator would.

Needs Playwright's Python package and Debian's Chromium (no browser download):

    apt-get install -y chromium && pip install playwright

Set ALIGN_REVIEW_SHOTS=docs/img to also write the screenshots used in docs/review.md.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from align.review import COLUMNS, read_tsv, write_review_html
from align.review.server import ReviewServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
SAMPLE = Path(__file__).parent / "data" / "review" / "sample.tsv"
FIXED = [c for c in COLUMNS if c not in ("ru", "az")]
NEW_AZ = "Layihənin dəyəri 120 milyon manat olub."
SHOTS = os.environ.get("ALIGN_REVIEW_SHOTS")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900}, locale="en-US")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def html(tmp_path) -> Path:
    tsv = tmp_path / "sample.tsv"
    shutil.copyfile(SAMPLE, tsv)
    return write_review_html(tsv, tmp_path / "sample.html")


def open_page(context, url: str):
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url)
    page.wait_for_selector("tr.row.current")
    page.errors, page.requests = errors, requests
    return page


def progress(page) -> str:
    return page.inner_text("#progress-text")


def export(page, target: Path) -> list[dict]:
    with page.expect_download() as info:
        page.click("#btn-export")
    download = info.value
    assert download.suggested_filename == "sample.reviewed.tsv"
    download.save_as(target)
    return read_tsv(target)


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def assert_same_rows(exported: list[dict]) -> None:
    original = read_tsv(SAMPLE)
    assert len(exported) == len(original)
    for before, after in zip(original, exported):
        assert [after[c] for c in FIXED] == [before[c] for c in FIXED]


def test_keyboard_review_edit_export_resume_import(context, html, tmp_path):
    page = open_page(context, html.as_uri())
    assert progress(page) == "0 of 26 reviewed"
    assert page.locator("tr.row").count() == 26
    assert page.locator("tr.group").count() == 3
    assert page.locator("tr.row.unaligned td.text.empty").count() == 3  # null sides shown in place

    page.keyboard.press("a")          # row 1 accepted, cursor moves on
    page.keyboard.press("a")          # row 2 accepted
    page.keyboard.press("r")          # row 3 (a null caption) rejected
    page.keyboard.press("j")          # skip row 4
    page.keyboard.press("j")          # row 6: "120 миллионов" vs "150 milyon"
    assert page.get_attribute("tr.row.current", "data-i") == "5"
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.lang") == "ru"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.lang") == "az"
    page.keyboard.press("Control+a")
    page.keyboard.type(NEW_AZ)
    shot(page, "review-edit.png")
    page.keyboard.press("Enter")
    assert page.locator("#row-5.v-edited del.orig").count() == 1
    assert page.inner_text("#row-5 td.text.az .t") == NEW_AZ
    page.keyboard.press("j")
    page.keyboard.press("a")          # row 7 accepted …
    page.keyboard.press("u")          # … and undone
    assert page.get_attribute("#row-6", "class").split()[1] == "v-unreviewed"
    assert page.get_attribute("tr.row.current", "data-i") == "6"
    assert progress(page) == "4 of 26 reviewed"

    # Worst first: the screen order changes, the export order must not.
    page.select_option("#f-sort", "worst")
    page.keyboard.press("Escape")     # from the menu back to the rows, at the top of the new order
    assert page.locator("tr.row").first.get_attribute("data-i") == "8"  # score 0.3120, the lowest
    assert page.get_attribute("tr.row.current", "data-i") == "8"
    page.keyboard.press("r")
    shot(page, "review-overview.png")
    exported = export(page, tmp_path / "first.reviewed.tsv")
    assert_same_rows(exported)
    verdicts = [r["verdict"] for r in exported]
    assert verdicts[:3] == ["accepted", "accepted", "rejected"]
    assert verdicts[5] == "edited" and verdicts[8] == "rejected"
    assert verdicts.count("unreviewed") == 21
    assert exported[5]["az"] == NEW_AZ
    assert exported[5]["ru"] == read_tsv(SAMPLE)[5]["ru"]

    # Resume: a reload restores the work from localStorage.
    page.reload()
    page.wait_for_selector("tr.row.current")
    assert progress(page) == "5 of 26 reviewed"
    assert "Restored" in page.inner_text("#message")
    assert page.inner_text("#row-5 td.text.az .t") == NEW_AZ

    # Import: a fresh browser profile restores the same state from the exported file.
    fresh = context.browser.new_context(accept_downloads=True)
    try:
        other = open_page(fresh, html.as_uri())
        assert progress(other) == "0 of 26 reviewed"
        other.set_input_files("#import-file", str(tmp_path / "first.reviewed.tsv"))
        sync_api.expect(other.locator("#progress-text")).to_have_text("5 of 26 reviewed")
        assert "Imported" in other.inner_text("#message")
        again = export(other, tmp_path / "again.reviewed.tsv")
        assert again == exported
        other.keyboard.press("u")     # an import is one undoable step
        assert progress(other) == "0 of 26 reviewed"
        assert not other.errors
    finally:
        fresh.close()

    assert not page.errors
    assert all(url.startswith(("file:", "blob:", "data:")) for url in page.requests), page.requests


def test_filters_search_and_escape_cancels_edit(context, html):
    page = open_page(context, html.as_uri())
    page.keyboard.press("/")
    page.keyboard.type("baki", delay=250)  # accent-insensitive: finds "Bakı"; slow typing stays in the box
    sync_api.expect(page.locator("tr.row")).to_have_count(2)
    assert page.evaluate("document.activeElement.id") == "f-search"
    assert progress(page) == "0 of 26 reviewed"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.tagName") == "TR"
    page.fill("#f-search", "")
    page.select_option("#f-flag", "=numbers")
    sync_api.expect(page.locator("tr.row")).to_have_count(2)
    assert page.inner_text("#shown") == "2 of 26 rows shown"
    page.select_option("#f-flag", "")
    page.select_option("#f-status", "unaligned")
    assert page.locator("tr.row").count() == 3
    page.select_option("#f-status", "")
    page.select_option("#f-kind", "title")
    page.select_option("#f-doc", "news-2024-03-12-caspian")
    assert page.locator("tr.row").count() == 1
    page.keyboard.press("Escape")     # from the menu back to the rows
    page.keyboard.press("e")
    page.keyboard.type(" ЛИШНЕЕ")
    page.keyboard.press("Escape")     # cancels: nothing changes
    assert "ЛИШНЕЕ" not in page.inner_text("tr.row")
    assert progress(page) == "0 of 26 reviewed"
    page.select_option("#f-doc", "")
    page.select_option("#f-kind", "")
    page.select_option("#f-flag", "*")
    page.select_option("#f-sort", "worst")
    page.uncheck("#f-group")
    page.keyboard.press("?")
    shot(page, "review-filters.png")
    page.dispatch_event("#f-sort", "pointerdown")  # a menu picked with the mouse …
    page.select_option("#f-sort", "best")
    assert page.evaluate("document.activeElement.tagName") == "TR"  # … hands the keys back to the rows
    assert page.locator("tr.row").first.get_attribute("data-i") == "22"  # flagged, best score (0.798) first
    assert not page.errors


class Served:
    """A ReviewServer running in a thread for the length of a ``with`` block."""

    def __init__(self, tsv: Path) -> None:
        self.server = ReviewServer(tsv, 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ReviewServer:
        self.thread.start()
        return self.server

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_server_mode_saves_next_to_the_input_and_resumes(context, tmp_path):
    tsv = tmp_path / "sample.tsv"
    shutil.copyfile(SAMPLE, tsv)
    with Served(tsv) as server:
        page = open_page(context, server.url)
        assert page.is_visible("#btn-save")
        page.keyboard.press("a")
        page.keyboard.press("r")
        page.keyboard.press("e")
        page.keyboard.press("Control+a")
        page.keyboard.type("Фото: Бакинский метрополитен")  # fills the empty Russian side
        page.keyboard.press("Enter")
        page.keyboard.press("s")
        sync_api.expect(page.locator("#message")).to_contain_text("Saved 26 rows")
        saved = read_tsv(tmp_path / "sample.reviewed.tsv")
        assert_same_rows(saved)
        assert [r["verdict"] for r in saved][:4] == ["accepted", "rejected", "edited", "unreviewed"]
        assert saved[2]["ru"] == "Фото: Бакинский метрополитен" and saved[2]["ru_ids"] == ""
        assert not page.errors
        assert all(url.startswith(server.url) for url in page.requests), page.requests
    # A new run (another port, so another localStorage) starts from the saved file.
    with Served(tsv) as server:
        page = open_page(context, server.url)
        assert progress(page) == "3 of 26 reviewed"
        assert page.inner_text("#row-2 td.text.ru .t") == "Фото: Бакинский метрополитен"
        assert not page.errors
