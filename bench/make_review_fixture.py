"""Write a large, realistic aligned TSV for the review page, and optionally time the page on it.

The rows are the hand-written Russian/Azerbaijani documents of tests/data/review/sample.tsv
repeated under new document names (every copy is a whole document, so ids stay valid).

    .venv/bin/python bench/make_review_fixture.py --rows 20000 -o out/big.tsv
    .venv/bin/python bench/make_review_fixture.py --rows 20000 -o out/big.tsv --measure

--measure writes the review page next to the TSV, opens it in headless Chromium (/usr/bin/chromium,
via Playwright) and prints: time until the first rows are shown, the in-page cost of one accept
keystroke, of re-sorting worst-first, and of building the export. Figures vary with the machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from align.review import COLUMNS, read_tsv, write_review_html  # noqa: E402

SAMPLE = REPO / "tests" / "data" / "review" / "sample.tsv"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def make_rows(n_rows: int) -> list[dict[str, str]]:
    """At least ``n_rows`` rows: whole copies of the sample's documents, renamed ``<doc>-<copy>``."""
    docs: dict[str, list[dict[str, str]]] = {}
    for row in read_tsv(SAMPLE):
        docs.setdefault(row["doc"], []).append(row)
    out: list[dict[str, str]] = []
    copy = 0
    while len(out) < n_rows:
        for name, rows in docs.items():
            out += [dict(row, doc=f"{name}-{copy:05d}") for row in rows]
        copy += 1
    return out


def write_tsv(rows: list[dict[str, str]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(COLUMNS)] + ["\t".join(row[c] for c in COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ACCEPT_100 = """() => {
  const t = performance.now();
  for (let n = 0; n < 100; n++)
    document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'a', bubbles: true}));
  return (performance.now() - t) / 100;
}"""
SORT = """() => {
  const t = performance.now();
  const s = document.getElementById('f-sort');
  s.value = 'worst'; s.dispatchEvent(new Event('change'));
  document.body.getBoundingClientRect();
  return performance.now() - t;
}"""
EXPORT = """() => { const t = performance.now(); window.alignReview.reviewedTsv(); return performance.now() - t; }"""


def measure(tsv: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = write_review_html(tsv, tsv.with_suffix(".html"))
    size = html.stat().st_size / 2**20
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_selector("tr.row.current")
        shown = time.perf_counter() - start
        accept = page.evaluate(ACCEPT_100)
        sort = page.evaluate(SORT)
        export = page.evaluate(EXPORT)
        browser.close()
    print(f"page {html.name}: {size:.1f} MiB")
    print(f"open → first rows shown: {shown:.2f} s")
    print(f"accept keystroke (mean of 100): {accept:.1f} ms")
    print(f"re-sort worst first: {sort:.0f} ms")
    print(f"build export: {export:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000, help="at least this many rows (default 20000)")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "out" / "review-bench.tsv")
    parser.add_argument("--measure", action="store_true", help="time the review page in headless Chromium")
    args = parser.parse_args()
    rows = make_rows(args.rows)
    path = write_tsv(rows, args.output)
    print(f"wrote {path}: {len(rows)} rows, {len({r['doc'] for r in rows})} documents")
    if args.measure:
        measure(path)


if __name__ == "__main__":
    main()
