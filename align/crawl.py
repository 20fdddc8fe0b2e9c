"""Crawl input: WARC / WARC.gz files and folders of HTML pages → two folders of pages to pair.

    crawl sources ─read (fastwarc)→ records ─filter→ pages (URL, fetch date, hreflang alternates, language)
        │                                       └→ skipped: not a response, failed fetch, redirect,
        │                                          not HTML, no text, other language, duplicate URL / text
        └─ stage→ DIR/ru/<host>/<path>.html, DIR/az/…, DIR/pages.tsv, DIR/skipped.tsv, DIR/crawl.json

The staged file names are the page URLs without the scheme, so a corpus row's ``doc`` id (the ru
file's relative path without suffix) is its URL; ``pages.tsv`` maps every file to its exact URL.
Pairing then takes the pairs the site itself declares first — ``<link rel="alternate" hreflang="az">``
on a ru page naming a crawled az page, or the reverse (no embedding needed) — and pairs the rest by
content (align.documents). One crawl holds both languages; each page's language is detected from
its text.

>>> crawl = read_crawl(["site.warc.gz"])                               # doctest: +SKIP
>>> staged = stage_crawl(["site.warc.gz"], "out/pages")                # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from .types import InputError, OutputError

LANGS = ("ru", "az")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc.gz")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
STAGE_VERSION = 1
HTML_TYPES = ("text/html", "application/xhtml+xml")

# ----------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Record:
    """One fetched resource as the reader gives it (WARC response/resource record or HTML file)."""

    source: str  # "file.warc.gz@offset" or the HTML file's path
    kind: str  # WARC-Type: response, resource, revisit, request, metadata, warcinfo, … ("file" for HTML files)
    url: str
    fetched: str  # ISO date of the fetch ("" when unknown)
    status: int  # HTTP status (200 for resource records and files)
    content_type: str  # media type, lower case, without parameters
    charset: str  # from the HTTP header ("" when absent)
    location: str  # redirect target ("" when none)
    body: bytes


@dataclass(frozen=True)
class Page:
    """A crawled page kept for pairing."""

    url: str
    fetched: str
    lang: str
    html: str
    alternates: tuple[tuple[str, str], ...]  # (hreflang, absolute URL)
    source: str


@dataclass(frozen=True)
class Skipped:
    """A record left out, and why."""

    source: str
    url: str
    reason: str


@dataclass
class Crawl:
    """Pages kept, records skipped (with reasons), counts by WARC-Type, and redirects (URL → target)."""

    pages: list[Page] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    records: Counter = field(default_factory=Counter)
    redirects: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        kept = Counter(p.lang for p in self.pages)
        reasons = Counter(reason_kind(s.reason) for s in self.skipped)
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
        return (f"crawl: {sum(self.records.values())} records, {kept['ru']} ru + {kept['az']} az pages kept; "
                f"skipped: {detail}")


def reason_kind(reason: str) -> str:
    """The reason without its details: ``"failed fetch (HTTP 404)"`` → ``"failed fetch"``."""
    return re.split(r"[:(]", reason, maxsplit=1)[0].strip()


# ----------------------------------------------------------------------------- reading


def is_crawl_source(path: str | Path) -> bool:
    """A WARC file, or a folder that holds WARC files."""
    path = Path(path)
    if path.is_file():
        return path.name.lower().endswith(WARC_SUFFIXES)
    return path.is_dir() and any(p.name.lower().endswith(WARC_SUFFIXES) for p in _files(path))


def _files(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                  key=lambda p: p.relative_to(root).as_posix())


def source_files(sources: Sequence[str | Path]) -> list[Path]:
    """The WARC and HTML files of the sources (files as given, folders recursively, sorted)."""
    out: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(p for p in _files(path) if p.name.lower().endswith(WARC_SUFFIXES + HTML_SUFFIXES))
        else:
            raise InputError(f"{path}: no such file or directory")
    if not out:
        raise InputError(f"{', '.join(map(str, sources))}: no WARC or HTML files found")
    return out


def warc_records(path: Path) -> Iterator[Record]:
    """Every record of a WARC / WARC.gz file (fastwarc; HTTP headers parsed, transfer encodings decoded)."""
    from fastwarc.warc import ArchiveIterator

    try:
        with open(path, "rb") as stream:
            for rec in ArchiveIterator(stream, parse_http=True, auto_decode="all"):
                headers = rec.headers
                kind = (headers.get("WARC-Type") or str(rec.record_type)).lower()
                http = rec.http_headers if rec.is_http else None
                status = int(http.status_code) if http is not None and http.status_code else 200
                ctype = (http.get("Content-Type", "") if http is not None else headers.get("Content-Type", "")) or ""
                media, _, params = ctype.partition(";")
                charset = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.I)
                date = rec.record_date
                yield Record(
                    source=f"{path}@{rec.stream_pos}", kind=kind, url=headers.get("WARC-Target-URI", "") or "",
                    fetched=date.isoformat().replace("+00:00", "Z") if date else "",
                    status=status, content_type=media.strip().lower(), charset=charset.group(1) if charset else "",
                    location=(http.get("Location", "") if http is not None else "") or "",
                    body=rec.reader.read() if kind in ("response", "resource") else b"")
    except OSError as exc:
        raise InputError(f"{path}: not a readable WARC file: {' '.join(str(exc).split())}") from exc


def html_file_record(path: Path) -> Record:
    """An HTML file as a record: its URL is the page's canonical link when it has one, else file://."""
    body = path.read_bytes()
    canonical = _canonical_url(body[:65536].decode("utf-8", "replace"))
    return Record(source=str(path), kind="file", url=canonical or path.resolve().as_uri(), fetched="",
                  status=200, content_type="text/html", charset="", location="", body=body)


def iter_records(sources: Sequence[str | Path]) -> Iterator[Record]:
    for path in source_files(sources):
        if path.name.lower().endswith(WARC_SUFFIXES):
            yield from warc_records(path)
        else:
            yield html_file_record(path)


class _HeadLinks(HTMLParser):
    """``<link rel="alternate" hreflang>`` and ``rel="canonical"`` of a page (stops after ``</head>``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alternates: list[tuple[str, str]] = []
        self.canonical = ""
        self.done = False

    def handle_starttag(self, tag, attrs):
        if self.done or tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if "alternate" in rel and a.get("hreflang") and a.get("href"):
            self.alternates.append((a["hreflang"].strip().lower(), a["href"].strip()))
        elif "canonical" in rel and a.get("href"):
            self.canonical = a["href"].strip()

    def handle_endtag(self, tag):
        if tag == "head":
            self.done = True


def _head_links(html: str) -> _HeadLinks:
    parser = _HeadLinks()
    head_end = html.lower().find("</head>")
    try:
        parser.feed(html[: head_end + 7] if head_end >= 0 else html[:200_000])
    except Exception:  # noqa: BLE001 — html.parser on broken markup: keep what was found
        pass
    return parser


def _canonical_url(html: str) -> str:
    href = _head_links(html).canonical
    return normalize_url(href) if href.startswith(("http://", "https://")) else ""


def hreflang_alternates(html: str, base_url: str) -> tuple[tuple[str, str], ...]:
    """(language, absolute normalised URL) of every ``<link rel="alternate" hreflang>`` in the head."""
    return tuple((lang, normalize_url(urljoin(base_url, href))) for lang, href in _head_links(html).alternates)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment; path and query kept."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def decode_html(body: bytes, charset: str) -> str:
    """The page's text: the HTTP charset when it decodes, else align.read's detection."""
    from .read import decode

    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(body)[0]


def page_text(html: str) -> str:
    """The page's title and paragraphs as align.read extracts them (no meta blocks)."""
    from .read import html_blocks

    return "\n".join(b.text for b in html_blocks(html) if not b.tag.startswith("meta:"))


def text_key(text: str) -> str:
    """Duplicate key of a page's text: SHA-1 of its case-folded letters and digits."""
    return hashlib.sha1(" ".join(re.findall(r"\w+", text.casefold())).encode()).hexdigest()


def read_crawl(sources: Sequence[str | Path], langs: Sequence[str] = LANGS) -> Crawl:
    """Read the sources and keep each distinct HTML page in ``langs`` (see the module docstring).

    Duplicates keep the first page in source order (files sorted, records in file order)."""
    from .lang import detect_language

    crawl = Crawl()
    seen_url: dict[str, str] = {}
    seen_text: dict[str, str] = {}
    for rec in iter_records(sources):
        crawl.records[rec.kind] += 1
        url = normalize_url(rec.url) if rec.url else ""

        def skip(reason: str) -> None:
            crawl.skipped.append(Skipped(rec.source, url, reason))

        if rec.kind == "revisit":
            skip("revisit record: a repeated capture without content")
            continue
        if rec.kind not in ("response", "resource", "file"):
            continue  # requests, metadata, warcinfo: not pages (counted in records)
        if 300 <= rec.status < 400:
            target = normalize_url(urljoin(rec.url, rec.location)) if rec.location else ""
            if target:
                crawl.redirects[url] = target
            skip(f"redirect (HTTP {rec.status}) to {target or 'nowhere'}")
            continue
        if rec.status != 200:
            skip(f"failed fetch (HTTP {rec.status})")
            continue
        if rec.content_type and rec.content_type not in HTML_TYPES:
            skip(f"not HTML ({rec.content_type})")
            continue
        if url in seen_url:
            skip(f"duplicate URL: first at {seen_url[url]}")
            continue
        try:
            html = decode_html(rec.body, rec.charset)
            text = page_text(html)
        except Exception as exc:  # noqa: BLE001 — one bad page is reported, the crawl goes on
            skip(f"unreadable: {' '.join(str(exc).split())[:200]}")
            continue
        if not text.strip():
            skip("no text")
            continue
        lang = detect_language(text)
        if lang not in langs:
            skip(f"other language ({lang})")
            continue
        key = text_key(text)
        if key in seen_text:
            skip(f"duplicate text: same as {seen_text[key]}")
            continue
        seen_url[url], seen_text[key] = url, url
        crawl.pages.append(Page(url, rec.fetched, lang, html, hreflang_alternates(html, rec.url or url), rec.source))
    return crawl


# ----------------------------------------------------------------------------- hreflang pairs


def _resolve(url: str, redirects: dict[str, str]) -> str:
    for _ in range(10):  # follow redirect chains, loops cut short
        if url not in redirects:
            break
        url = redirects[url]
    return url


def hreflang_pairs(crawl: Crawl) -> list[tuple[Page, Page]]:
    """One-to-one (ru, az) pairs declared by hreflang links (through redirects): pairs declared by
    both pages first, then those declared by one page whose counterpart is still free."""
    by_url = {p.url: p for p in crawl.pages}

    def targets(page: Page, lang: str) -> list[Page]:
        found = []
        for hl, href in page.alternates:
            other = by_url.get(_resolve(href, crawl.redirects))
            if hl.split("-")[0] == lang and other is not None and other.lang == lang:
                found.append(other)
        return found

    declared: Counter = Counter()
    for page in crawl.pages:
        other_lang = "az" if page.lang == "ru" else "ru"
        for other in targets(page, other_lang):
            key = (page.url, other.url) if page.lang == "ru" else (other.url, page.url)
            declared[key] += 1
    pairs, used = [], set()
    for (ru, az), _ in sorted(declared.items(), key=lambda kv: (-kv[1], kv[0])):  # mutual (2) before one-sided (1)
        if ru not in used and az not in used:
            used.update((ru, az))
            pairs.append((by_url[ru], by_url[az]))
    return sorted(pairs, key=lambda t: t[0].url)


# ----------------------------------------------------------------------------- staging


def url_file_name(url: str) -> str:
    """A relative file name for a URL: ``host/path.html`` (query hashed, unsafe characters replaced)."""
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).split("/") if s not in ("", ".", "..")]
    if not segments or parts.path.endswith("/"):
        segments.append("index")
    segments[-1] = re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", segments[-1], flags=re.I) or "_"
    if parts.query:
        segments[-1] += "_q" + hashlib.sha1(parts.query.encode()).hexdigest()[:8]
    host = parts.netloc or parts.scheme or "local"
    safe = [re.sub(r"[^\w.@+-]", "_", s)[:100] or "_" for s in (host, *segments)]
    return "/".join(safe) + ".html"


@dataclass(frozen=True)
class Staged:
    """A crawl written as two folders of pages (``root/ru``, ``root/az``) with its tables."""

    root: Path
    crawl_summary: str
    counts: dict
    fingerprint: str = ""

    @property
    def ru_dir(self) -> Path:
        return self.root / "ru"

    @property
    def az_dir(self) -> Path:
        return self.root / "az"

    def pages(self) -> list[dict]:
        """The rows of pages.tsv (lang, file, url, fetched, hreflang, source)."""
        return _read_tsv(self.root / "pages.tsv")

    def url_of(self) -> dict[str, str]:
        """Staged file path → URL."""
        return {str(self.root / r["lang"] / r["file"]): r["url"] for r in self.pages()}


def _read_tsv(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


def _fingerprint(files: Sequence[Path]) -> str:
    digest = hashlib.sha1(f"v{STAGE_VERSION}".encode())
    for p in files:
        st = p.stat()
        digest.update(f"{p.resolve()}\x00{st.st_size}\x00{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _cell(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def stage_crawl(sources: Sequence[str | Path], root: str | Path) -> Staged:
    """Read the crawl and write it under ``root`` (replaced as a whole, never half old, half new);
    reused as it is when the sources have not changed since (same files, sizes and times)."""
    root = Path(root)
    fingerprint = _fingerprint(source_files(sources))
    marker = root / "crawl.json"
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("fingerprint") == fingerprint:
            return Staged(root, info["summary"], info["counts"], fingerprint)
    except (OSError, ValueError, KeyError):
        pass
    crawl = read_crawl(sources)
    pairs = {ru.url: az.url for ru, az in hreflang_pairs(crawl)}
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {root}: {exc.strerror or exc}") from exc
    try:
        names: dict[str, str] = {}
        taken: set[str] = set()
        rows = ["lang\tfile\turl\tfetched\threflang\tsource"]
        for page in crawl.pages:
            name = url_file_name(page.url)
            if (page.lang, name.lower()) in taken:  # two URLs, one file name: keep both apart
                name = name[:-5] + "~" + hashlib.sha1(page.url.encode()).hexdigest()[:8] + ".html"
            taken.add((page.lang, name.lower()))
            names[page.url] = name
            dest = tmp / page.lang / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(page.html, encoding="utf-8")
            alternates = " ".join(f"{hl}={href}" for hl, href in page.alternates)
            rows.append("\t".join(_cell(x) for x in (page.lang, name, page.url, page.fetched, alternates, page.source)))
        (tmp / "pages.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        skipped = ["source\turl\treason"] + ["\t".join(_cell(x) for x in (s.source, s.url, s.reason))
                                             for s in crawl.skipped]
        (tmp / "skipped.tsv").write_text("\n".join(skipped) + "\n", encoding="utf-8")
        declared = ["ru\taz\tscore"] + [f"{names[r]}\t{names[a]}\t1.0000" for r, a in sorted(pairs.items())]
        (tmp / "hreflang.tsv").write_text("\n".join(declared) + "\n", encoding="utf-8")
        counts = {"records": dict(sorted(crawl.records.items())),
                  "pages": dict(sorted(Counter(p.lang for p in crawl.pages).items())),
                  "skipped": dict(sorted(Counter(reason_kind(s.reason) for s in crawl.skipped).items())),
                  "hreflang_pairs": len(pairs)}
        for lang in LANGS:
            (tmp / lang).mkdir(exist_ok=True)
        (tmp / "crawl.json").write_text(json.dumps(
            {"fingerprint": fingerprint, "summary": crawl.summary(), "counts": counts,
             "sources": [str(s) for s in sources]}, ensure_ascii=False, indent=1), encoding="utf-8")
        _replace_dir(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Staged(root, crawl.summary(), counts, fingerprint)


def _replace_dir(new: Path, root: Path) -> None:
    """Put ``new`` in the place of ``root``: a rename, with the old folder moved aside first."""
    old = None
    if root.exists():
        old = root.with_name(f".{root.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(root, old)
    os.replace(new, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- pairing


def pair_staged(staged: Staged, encoder, *, settings=None, progress: bool = False):
    """Pairs declared by hreflang (score 1) first; the other pages are paired by content
    (align.documents). The content pairing looks at every page, so that each margin compares a page
    with the whole collection, but cannot take a page already paired by hreflang; when every page is
    paired by hreflang, nothing is embedded. One `PairingResult` over all staged pages."""
    from .documents import DocPair, PairingResult, Unpaired, list_documents, pair_documents

    ru_paths, az_paths = list_documents(staged.ru_dir), list_documents(staged.az_dir)
    declared = [(str(staged.ru_dir / r["ru"]), str(staged.az_dir / r["az"]))
                for r in _read_tsv(staged.root / "hreflang.tsv")]
    partner = {**dict(declared), **{a: r for r, a in declared}}
    pairs = [DocPair(r, a, 1.0, {"hreflang": 1.0}) for r, a in declared]
    rest = [str(p) for p in (*ru_paths, *az_paths) if str(p) not in partner]
    unpaired, candidates = [], 0
    rest_langs = {("ru" if Path(p).is_relative_to(staged.ru_dir) else "az") for p in rest}
    if rest_langs == {"ru", "az"}:
        by_content = pair_documents(ru_paths, az_paths, encoder, settings=settings, progress=progress)
        candidates = by_content.candidates
        for p in by_content.pairs:
            if p.ru in partner or p.az in partner:
                for lang, path, other in (("ru", p.ru, p.az), ("az", p.az, p.ru)):
                    if path not in partner:
                        unpaired.append(Unpaired(lang, path, f"counterpart taken: its best match {Path(other).name} "
                                                 f"({p.score:.2f}) is paired by hreflang with "
                                                 f"{Path(partner[other]).name}"))
            else:
                pairs.append(p)
        unpaired += [u for u in by_content.unpaired if u.path not in partner]
    else:
        unpaired += [Unpaired("ru" if Path(p).is_relative_to(staged.ru_dir) else "az", p,
                              "no counterpart: no page of the other language left after the hreflang pairs")
                     for p in rest]
    pairs.sort(key=lambda p: (p.ru, p.az))
    unpaired.sort(key=lambda u: (u.lang != "ru", u.path))
    return PairingResult(pairs, unpaired, len(ru_paths), len(az_paths), candidates)


def write_crawl_pairing(result, staged: Staged, path: str | Path) -> tuple[Path, Path]:
    """pairs.tsv (``ru az score ru_url az_url via``; files relative to the staged folders, which
    ``align corpus --pairs`` reads) and its ``.unpaired.tsv`` side file (``lang file reason url``)."""
    from .documents import unpaired_path
    from .write import atomic_write

    urls = staged.url_of()
    path = Path(path)

    def rel(p: str, lang: str) -> str:
        return Path(p).relative_to(staged.root / lang).as_posix()

    with atomic_write(path) as out:
        out.write("ru\taz\tscore\tru_url\taz_url\tvia\n")
        for p in result.pairs:
            via = "hreflang" if p.features.get("hreflang") else "content"
            out.write(f"{rel(p.ru, 'ru')}\t{rel(p.az, 'az')}\t{p.score:.4f}\t{urls.get(p.ru, '')}\t"
                      f"{urls.get(p.az, '')}\t{via}\n")
    side = unpaired_path(path)
    with atomic_write(side) as out:
        out.write("lang\tfile\treason\turl\n")
        for u in result.unpaired:
            out.write(f"{u.lang}\t{rel(u.path, u.lang)}\t{_cell(u.reason)}\t{urls.get(u.path, '')}\n")
    return path, side


# ----------------------------------------------------------------------------- the two commands


def docs_root(output: str | Path) -> Path:
    """Where ``align docs --crawl`` stages the pages: ``pairs.pages/`` beside ``pairs.tsv``."""
    output = Path(output)
    return output.with_name(f"{output.stem}.pages")


def pair_crawl(sources: Sequence[str | Path], output: str | Path, encoder, *, progress: bool = True):
    """`align docs --crawl`: stage the crawl beside ``output``, pair it, write the pairs.
    Returns (staged, pairing result)."""
    staged = stage_crawl(sources, docs_root(output))
    result = pair_staged(staged, encoder, progress=progress)
    write_crawl_pairing(result, staged, output)
    return staged, result


def corpus_from_crawl(sources: Sequence[str | Path], out_dir: str | Path, run, *, pairs_tsv=None, model=None,
                      encoder=None, **options) -> dict:
    """`align corpus --crawl`: stage the crawl into ``OUT/pages``, pair it there (hreflang first; the
    content pairing shares the corpus's embedding cache, so no sentence is embedded twice), then
    ``run(ru_dir, az_dir, out_dir, pairs_tsv=…, model=…, **options)`` — either engine — and add the
    crawl's counts to report.json."""
    from .embed import Embedder

    from .write import atomic_write

    out = Path(out_dir)
    staged = stage_crawl(sources, out / "pages")
    if pairs_tsv is None:
        pairs_tsv = out / "pages" / "pairs.tsv"
        key_file = out / "pages" / "pairs.key"
        key = json.dumps({"crawl": staged.fingerprint, "model": str(model or "default")})
        if not (pairs_tsv.exists() and key_file.exists() and key_file.read_text(encoding="utf-8") == key):
            result = pair_staged(staged, encoder or Embedder(model, cache_dir=str(out / ".cache")),
                                 progress=options.get("progress", True))
            write_crawl_pairing(result, staged, pairs_tsv)
            with atomic_write(key_file) as handle:
                handle.write(key)
    report = run(staged.ru_dir, staged.az_dir, out, pairs_tsv=pairs_tsv, model=model, **options)
    report["crawl"] = {**staged.counts, "summary": staged.crawl_summary,
                       "files": ["pages/pages.tsv", "pages/skipped.tsv", "pages/pairs.tsv"]}
    report["summary"] = f"{staged.crawl_summary}\n{report.get('summary', '')}"
    with atomic_write(out / "report.json") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    with atomic_write(out / "report.txt") as handle:
        handle.write(report["summary"] + "\n")
    return report
