"""Cleaning a :class:`RawPage` into an :class:`Article`: drop site noise, find title, captions, body.

The rules live in data tables (:data:`NOISE_LINES`, :data:`DATELINES`, :data:`KNOWN_CREDITS`,
:data:`ALT_TEXT`, :data:`TITLE_STAMPS`, :data:`TITLE_MARKER_WORDS`, :data:`TEASER_HEADINGS`,
:data:`MONTH_NAMES`), grouped by site family; the code finds the article's date
(:func:`article_date`), then walks the page once. Every dropped line — or dropped part of a line (a
photo credit glued to a caption, a dateline, an alt-text suffix, a " - ВИДЕО" marker after the
title) — is recorded in ``Article.removed`` with its reason:

``navigation`` ``subscribe`` ``read-also`` ``social`` ``counter`` ``timestamp`` ``photo-credit``
``copyright`` ``advert`` ``byline`` ``symbols`` ``url`` ``alt-text`` ``duplicate-caption``
``duplicate-paragraph`` ``duplicate-title`` ``other-language`` ``related-news`` ``dateline``
``title-marker``.

    >>> from align.read import read_page
    >>> article = clean_page(read_page("samples/sputnik-2023-12-06/ru.txt"), "ru")
    >>> article.title, len(article.captions), article.meta["date"]
    ('Азербайджан и Турция углубляют военное сотрудничество', 1, '06.12.2023')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from align.lang import detect_language
from align.types import Article, Block, InputError, RawPage, Removed

# ── rule tables ──────────────────────────────────────────────────────────────────────────────

# Dates and times as news sites print them: "06.12.2023", "2023-12-06", "6 декабря 2023",
# "06 Dekabr 2023", "12:47", "12:45 (UTC +04:00)". Month names: full, genitive and abbreviated.
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("январь", "января", "янв", "yanvar", "yan", "january", "jan"),
    2: ("февраль", "февраля", "фев", "fevral", "fev", "february", "feb"),
    3: ("март", "марта", "мар", "mart", "mar", "march"),
    4: ("апрель", "апреля", "апр", "aprel", "apr", "april"),
    5: ("май", "мая", "may"),
    6: ("июнь", "июня", "июн", "iyun", "iyn", "june", "jun"),
    7: ("июль", "июля", "июл", "iyul", "iyl", "july", "jul"),
    8: ("август", "августа", "авг", "avqust", "avq", "august", "aug"),
    9: ("сентябрь", "сентября", "сент", "сен", "sentyabr", "sen", "september", "sept", "sep"),
    10: ("октябрь", "октября", "окт", "oktyabr", "okt", "october", "oct"),
    11: ("ноябрь", "ноября", "ноя", "noyabr", "noy", "november", "nov"),
    12: ("декабрь", "декабря", "дек", "dekabr", "dek", "december", "dec"),
}
_MONTH_NUMBER = {name: number for number, names in MONTH_NAMES.items() for name in names}
_MONTH = "(?:" + "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True)) + r")\b\.?"
_DATE = (
    rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}(?:\s*г\.|\s+года)?)"
)
_TIME = r"\d{1,2}:\d{2}(?:\s*\((?:UTC|GMT)\s*[+-]\s*\d{1,2}(?::\d{2})?\))?"
_DATE_TIME = rf"{_DATE}(?:(?:\s*[,|/•·]\s*|\s+)(?:(?:в|saat)\s+)?{_TIME})?"
_DATE_LABEL = r"(?:Дата|Опубликовано|Tarix|Dərc (?:olunub|edilib)|Yayımlanıb|Published)\s*:?\s*"

# Rubrics (site sections): a line of its own, or before the date on a timestamp line.
RUBRICS: tuple[str, ...] = (
    "Политика", "Экономика", "Общество", "В мире", "Спорт", "Культура", "Происшествия", "Бизнес",
    "Siyasət", "Xarici siyasət", "Daxili siyasət", "İqtisadiyyat", "Cəmiyyət", "Dünya", "İdman",
    "Mədəniyyət", "Hadisə", "Hadisələr", "Biznes", "Region",
    "Внешняя политика", "Внутренняя политика", "Социум", "Наука", "Технологии", "Здоровье", "Регионы",
    "Армия", "Sosial", "Elm", "Texnologiya", "Səhiyyə", "Regionlar", "Ordu", "Gündəm",
)
_RUBRIC = "(?:" + "|".join(re.escape(r) for r in RUBRICS) + ")"

# Whole lines that are site furniture, per site family and reason. Each entry is a regex matched
# against the whole line, case-insensitively; an optional trailing ":"/"→"/"»" is allowed.
NOISE_LINES: dict[str, dict[str, list[str]]] = {
    "sputnik": {
        "navigation": [
            "Новости", "Лента новостей", "Все новости", "Главные новости", "Главное", "Мультимедиа",
            "Радио", "Эфир", "Прямой эфир", "Загрузить больше", "Показать больше", "Ещё", "Еще",
            "Актуальное", "Сейчас читают", "Самое читаемое", "Популярное", "Меню", "Поиск",
            "Войти", "Вход", "Регистрация", "Главная",
            "Xəbərlər", "Xəbər lenti", "Bütün xəbərlər", "Əsas xəbərlər", "Əsas", "Multimedia",
            "Radio", "Efir", "Canlı yayım", "Daha çox yüklə", "Daha çox göstər", "Daha çox",
            "Aktual", "Hazırda oxunur", "Ən çox oxunan", "Populyar", "Menyu", "Axtarış",
            "Daxil ol", "Giriş", "Qeydiyyat", "Ana səhifə",
        ],
        "subscribe": ["Подписаться", "Подпишись", "Подписка", "Abunə ol", "Abunə olun", "Abunə"],
        # the alt-text stamp alone on a line: "- Sputnik Azərbaycan, 1920, 06.12.2023"
        "alt-text": [r"[-–—]?\s*Sputnik(\s+[^\W\d_]+){0,2},\s*\d{3,4},\s*\d{2}\.\d{2}\.\d{4}"],
    },
    "az-news-sites (Report.az, Trend, APA, Day.Az, AZERTAC)": {
        "navigation": [
            "Последние новости", "Другие новости", "Похожие новости", "Новости по теме", "Материалы по теме",
            "Son xəbərlər", "Ən son xəbərlər", "Digər xəbərlər", "Oxşar xəbərlər", "Mövzu ilə bağlı xəbərlər",
            r"Mövzuya (aid|görə) xəbərlər", "Ən çox oxunanlar", "Bütün xəbərləri izləyin",
            "Читать далее", "Читать полностью", "Подробнее", r"Ardını oxu(\.\.\.|…)?",
            *RUBRICS, "Архив", "Arxiv", "Теги", "Teqlər", "Tags",
        ],
        "read-also": [
            r"(Читайте|Смотрите) (также|еще|ещё)(\s*:.*|\s*[→»>].*)?",
            r"Также читайте(\s*:.*)?", r"(Ещё )?[Пп]о теме(\s*:.*)?",
            r"(Daha )?[Əə]traflı(\s*:.*|\s*[→»>].*)?", r"Həmçinin (oxuyun|oxu|bax)(\s*:.*)?",
            r"Bu barədə (daha )?ətraflı(\s*:.*)?", r"Oxu(yun)?\s*:.*", r"Mövzu ilə bağlı(\s*:.*)?",
        ],
        "subscribe": ["Следите за нами", "Подписывайтесь на нас", "Bizi izləyin", r"Bizə abunə ol(un)?"],
        "social": [r"Xəbəri paylaş(ın)?", r"Sosial şəbəkələrdə paylaş(ın)?", r"Поделиться (новостью|в соцсетях)"],
        "advert": ["Реклама", "Reklam", "Advertisement", "Партнерские материалы", "Tərəfdaş materialları"],
        "copyright": [
            r"©\s*\d{4}(\s*[-–]\s*\d{4})?\s+.{0,60}", r".{0,80}(Все права защищены|Bütün hüquqlar qorunur).{0,80}",
            r".{0,80}(ссылка на .{1,40} обязательна|istinad (edilməsi )?(mütləqdir|vacibdir)).{0,80}",
            r"1[268]\+",
        ],
        "byline": [r"(Автор|Müəllif|Источник|Mənbə)\s*:.{0,80}"],
        # "Siyasət | 6 dekabr 2023 12:45", "Tarix: 10-05-2019 13:10 | Bölmə: Müsahibə"
        "timestamp": [
            rf"({_DATE_LABEL})?({_RUBRIC}(\s+(Материалы|Materiallar|Новости|Xəbərlər))?\s*[|/•·,–—-]?\s*)?{_DATE_TIME}"
            rf"(\s*\((обновлено|yenilənib)[^)]*\))?(\s*\|\s*(Bölmə|Рубрика|Раздел)\s*:.{{1,40}})?",
            rf"({_RUBRIC}\s*[|/•·,–—-]?\s*)?{_TIME}\s*[,|/•·]?\s*{_DATE}",  # "14:26 / 23-11-2024", "Siyasət 10:42 17.04.2024"
            rf"(Сегодня|Вчера|Bu gün|Dünən|Today|Yesterday),?\s+(в\s+|saat\s+)?{_TIME}",
        ],
        # view counters: "👁 1234", "1 234 👁", "Baxış sayı: 1234", "Просмотров: 1234"
        "counter": [
            r"(👁\ufe0f?|👀)\s*\d[\d\s.,]*[KkКкMmМм]?", r"\d[\d\s.,]*[KkКкMmМм]?\s*(👁\ufe0f?|👀)",
            r"(Baxış(ların)?(\s+sayı)?|Просмотр(ы|ов)?|Views?)\s*:?\s*\d[\d\s.,]*[KkКкMmМм]?",
        ],
    },
    "generic": {
        "subscribe": [  # a short line with both a call to subscribe and a channel, in any order
            r"(?=.*\b(подпис(ывайтесь|ывайся|итесь)|abunə ol(un|maq)?|qoşulun|присоединяйтесь)\b)"
            r"(?=.*(telegram|whatsapp|youtube|instagram|facebook|tiktok|twitter|дзен|вконтакте|\bvk\b|канал|kanal|рассылк|bülleten))"
            r".{0,200}",
        ],
        "social": [
            "Поделиться", "Paylaş", "Paylaşın", "Facebook", "Twitter", "X", "Telegram", "WhatsApp",
            "ВКонтакте", "VK", "Одноклассники", "Instagram", "YouTube", "TikTok", "Дзен",
            "Скопировать ссылку", "Копировать ссылку", "Linki kopyala", "Отправить", "Göndər",
            "Комментировать", "Комментарии", "Şərh yaz", "Şərhlər", "Нравится", "Bəyən",
            "Печать", "Версия для печати", "Çap et", "Çap versiyası",
        ],
        "timestamp": [
            r"\d{1,2}:\d{2}", r"\d{1,2}\.\d{1,2}\.\d{4}(,?\s*\d{1,2}:\d{2})?(\s*\((обновлено|yenilənib)\s*:?[^)]*\))?",
            r"(обновлено|yenilənib)\s*:?\s*\d{1,2}[.:]\d{2}.{0,20}",
        ],
        "counter": [r"\d[\d\s.,]*[KkКкMmМм]?", r"\d[\d\s]*\s*(просмотр\w*|комментари\w*|baxış|şərh|views?)"],
        "photo-credit": [r"(Фото|Foto|Photo|Видео|Video|Источник фото|Fotonun mənbəyi)\s*:.{0,100}", r"©.{0,100}"],
        "url": [r"(https?://|www\.)\S+"],
        "symbols": [r"[^\w]+"],
    },
    # what the real pages of bench/data/real (tune half) showed beyond the tables above: share buttons
    # spelled out, breadcrumbs, "the news is being updated", script warnings, calls to send a video
    "generic (real pages)": {
        "social": ["Messenger", "Vkontakte", "Odnoklassniki", r"Комментари[йи]\s*\(\d*\)", r"Şərh(lər)?\s*\(\d*\)"],
        "navigation": [
            r"(Ana Sayfa|Ana səhifə|Главная|Home)\s*[>»/|].{0,200}", r"(Geri dön|Назад|Back)\s*\|?",
            "Закрыть", "Закрывать", "Bağla", "Избранное", "Избранный", "Источники", "Mənbələr",
            r"Bu kateqoriyadan digər xəbərlər", r"Другие новости (рубрики|раздела)",
            r"Новости по тегу.{0,150}", r"Teq(ə| üzrə) (aid )?xəbərlər.{0,150}",  # list headings
        ],
        "advert": [r".{0,60}enable Javascript.{0,120}", r"Разработка (всех типов )?сайтов.{0,80}",
                   r".{0,100}Ctrl\s*\+\s*Enter.{0,100}"],  # "Нашли ошибку? Выделите … Ctrl+Enter"
        "timestamp": ["Новость дополняется", r"Xəbər yenilənir(\.\.\.)?", r"Xəbər yenilənəcək",
                      r".{0,40}\d{1,2}:\d{2}\s*[-–—]\s*(Bu gün|Dünən|Сегодня|Вчера)"],  # "Qafar Ağayev16:49 - Bu gün"
        "subscribe": [r"Şahid olduğunuz hadisələrin.{0,120}", r"\+?\d[\d\s()-]{7,}\s*\((whatsapp|telegram)\)",
                      r"Читайте (последние |все |главные )?новости .{0,40}(канал\w*|Telegram|WhatsApp|Дзен).{0,40}",
                      r"Xəbərləri .{0,40}(kanal\w*|Telegram|WhatsApp).{0,40}(izləyin|oxuyun).{0,10}"],
        "title-marker": ["ВИДЕО", "ФОТО", "VİDEO", "FOTO", "VIDEO", "PHOTO"],  # a media marker alone on a line
        "alt-text": [r"<image>.*</image>"],  # an image element copied with the page (its alt text is no content)
    },
}

# Headings of a block of teasers for other stories ("Oxşar xəbərlər", "Читайте также"): below the
# title, the headline-like lines after one are related news, up to the next paragraph. (Not
# "Новости"/"Главное": at the top of a page such a line precedes the article's own title.)
TEASER_HEADINGS: tuple[str, ...] = (
    r"(Читайте|Смотрите) (также|еще|ещё)", "Также читайте", r"(Ещё )?[Пп]о теме", "Новости по теме",
    "Материалы по теме", "Другие новости", "Похожие новости", "Последние новости",
    r"Həmçinin (oxuyun|oxu|bax)", "Oxşar xəbərlər", "Digər xəbərlər", r"Mövzu ilə bağlı( xəbərlər)?",
    r"Mövzuya (aid|görə) xəbərlər", "Son xəbərlər", "Ən son xəbərlər", r"Новости по тегу.{0,150}",
    r"Teq(ə| üzrə) (aid )?xəbərlər.{0,150}",
)

# Datelines at the start of a paragraph ("БАКУ, 6 дек - Sputnik.", "Bakı. 6 dekabr. REPORT.AZ/"),
# or alone on a line ("Bakı. Trend:", "Bakı, 28 may AZƏRTAC").
_CITY = r"[A-ZА-ЯЁƏÖÜĞİŞÇ][\w'’-]*(?:[ -][A-ZА-ЯЁƏÖÜĞİŞÇ][\w'’-]*){0,2}"
_DAY_MONTH = r"\d{1,2}\s+[^\W\d_]{3,9}\.?(?:\s+\d{4})?"
_AGENCY = (
    r"(?:Sputnik(?: Азербайджан| Azərbaycan)?|РИА Новости|ТАСС|TASS|Интерфакс|Interfax|Trend|TREND|"
    r"Report(?:\.az)?|REPORT(?:\.AZ)?|APA|АПА|AZƏRTAC|АЗЕРТАДЖ|Azertac|Day\.Az|Vesti\.az|Oxu\.az|Qafqazinfo|"
    r"Anadolu|Анадолу)"
)
DATELINES: dict[str, str] = {
    # "БАКУ, 6 дек - Sputnik." / "BAKI, 6 dekabr - Sputnik." / "МОСКВА, 6 дек — РИА Новости."
    "sputnik/ria": rf"{_CITY},\s*{_DAY_MONTH}\s*[-–—]\s*{_AGENCY}\.?",
    # "Баку /Trend/ -", "БАКУ/ Trend/ -", "Bakı. Trend:", "Bakı. 6 dekabr. REPORT.AZ/", "БАКУ, 6 дек. /АПА/."
    "agency": rf"{_CITY}\s*[.,]?\s*(?:{_DAY_MONTH}\s*[.,]?\s*)?/?\s*{_AGENCY}\s*/?\s*[.:,]?(?:\s*[-–—])?",
    # "Azərbaycan, Bakı, 28 dekabr /Trend, müxbir E.Mehdiyev/"
    "agency with reporter": rf"{_CITY}(?:,\s*{_CITY})?,\s*{_DAY_MONTH}\s*/{_AGENCY}(?:,[^/]{{1,60}})?/",
}

# "<caption> - Sputnik Азербайджан, 1920, 06.12.2023": an image alt text (1920 is the image width).
ALT_TEXT = re.compile(
    r"(?P<caption>.+?)\s+[-–—]\s+(?P<site>Sputnik(?:\s+[^\W\d_]+){0,2}|РИА Новости),\s*\d{3,4},\s*"
    r"(?P<date>\d{2}\.\d{2}\.\d{4})"
)

# A headline with the page's date after it, as a page title or a copied header line: the date part
# goes as "timestamp". Looked for only where the title is due (before the body).
TITLE_STAMPS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE) for p in (
        # Sputnik's page title: "<title> - 06.12.2023, Sputnik Азербайджан"
        rf"(?P<title>.+?)(?P<stamp>\s+[-–—|]\s+(?P<date>{_DATE_TIME}),\s*Sputnik(?:\s+[^\W\d_]+){{0,2}})",
        # "<title>, 06.12.2023" / "<title> - 6 декабря 2023, 12:47" / "<title> | 06.12.2023"
        rf"(?P<title>.+?)(?P<stamp>(?:,|\s+[-–—|])\s*(?P<date>{_DATE_TIME}))",
        # "<title> (06.12.2023)"
        rf"(?P<title>.+?)(?P<stamp>\s*\((?P<date>{_DATE_TIME})\))",
    )
)

# Media markers a site glues to a headline: "<title> - ВИДЕО", "<title> (ФОТО)", "<title> | VIDEO",
# "<title> +ФОТО", "<title> - FOTO/VİDEO". Removed from the title only, as "title-marker" (the other
# language's headline often has none). A marker word must stand apart: after " - ", " | ", "+" or
# in brackets, never inside the headline's words ("Фото дня: …", "Конкурс фото-видео").
TITLE_MARKER_WORDS: tuple[str, ...] = (
    "ФОТО", "ВИДЕО", "АУДИО", "ИНФОГРАФИКА", "ФОТОРЕПОРТАЖ", "ОБНОВЛЕНО", "ДОПОЛНЕНО",
    "FOTO", "VİDEO", "VIDEO", "AUDİO", "AUDIO", "İNFOQRAFİKA", "FOTOREPORTAJ", "YENİLƏNİB",
    "PHOTO", "PHOTOS", "UPDATED",
)

# Photo credits that may be glued to the caption after "©" (longest first when matching).
KNOWN_CREDITS: tuple[str, ...] = (
    "AR Ministry of Defence", "AR Müdafiə Nazirliyi", "Azərbaycan Respublikası Müdafiə Nazirliyi",
    "Министерство обороны Азербайджана", "Минобороны Азербайджана", "Минобороны АР",
    "Пресс-служба Президента Азербайджана", "Prezidentin mətbuat xidməti", "president.az",
    "AZƏRTAC", "АЗЕРТАДЖ", "Sputnik", "Report", "Trend", "APA", "Reuters", "AFP", "AP Photo", "AP",
    "EPA", "Getty Images/iStockphoto", "Getty Images", "iStock", "Depositphotos", "Shutterstock",
    "Unsplash", "Pixabay", "Pexels", "Freepik", "Wikimedia Commons", "Wikipedia", "Public Domain",
    "РИА Новости", "ТАСС", "Anadolu", "Анадолу", "Соцсети", "Social networks", "Sosial şəbəkələr",
)
# Name prefixes whose inner capital is not a credit/caption boundary (McCain, DeSantis, iPhone).
CAMEL_PREFIXES = frozenset({"Mc", "Mac", "De", "Di", "Da", "Du", "La", "Le", "Van", "Von", "O", "i", "e"})

OTHER_LANGUAGE = {"ru": "az", "az": "ru"}
TERMINAL = (".", "!", "?", "…", ":", ";")

_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class NoiseRule:
    family: str
    reason: str
    pattern: re.Pattern[str]


def _compile_rules(table: dict[str, dict[str, list[str]]]) -> tuple[NoiseRule, ...]:
    rules = []
    for family, by_reason in table.items():
        for reason, entries in by_reason.items():
            for entry in entries:
                # plain words are escaped; entries with regex syntax are used as written
                regex = entry if re.search(r"[\\()\[\]|?*+{}]", entry) else re.escape(entry)
                pattern = re.compile(rf"(?:{regex})\s*[:→»>]?", re.IGNORECASE)
                rules.append(NoiseRule(family, reason, pattern))
    return tuple(rules)


RULES = _compile_rules(NOISE_LINES)
_TEASER_HEADINGS = tuple(re.compile(rf"(?:{h})\s*[:→»>]?", re.IGNORECASE) for h in TEASER_HEADINGS)
# a dateline is followed by the paragraph's first word, or — when it ends with its punctuation
# ("- Sputnik.", "REPORT.AZ/", "Trend:", "/Trend/ -") — by a number ("20-летний", "20 milyondan"), or
# ends the line. (Not "Агентство Trend 20 лет…": without the punctuation, that is a sentence.)
_DATELINE_PATTERNS = tuple(
    re.compile(rf"(?P<dateline>{p})(?:\s+(?=[\"«“„(]?[^\W\d_])|(?<=[./:–—-])\s+(?=\d)|\s*$)")
    for p in DATELINES.values()
)
_MARKER_WORD = "(?:" + "|".join(sorted(TITLE_MARKER_WORDS, key=len, reverse=True)) + ")"
_MARKERS = rf"{_MARKER_WORD}(?:\s*[/,+&]\s*{_MARKER_WORD})*(?:\s*18\+)?"  # "ФОТО/ВИДЕО", "FOTO, VİDEO"
_TITLE_MARKER = re.compile(  # one marker at the end of a headline: " - ВИДЕО", " +ФОТО", " (FOTO)"
    rf"(?:\s+[-–—|]\s*|\s*\+\s*){_MARKERS}\Z|\s*[(\[]\s*{_MARKERS}\s*[)\]]\Z", re.IGNORECASE
)
_DATE_PARTS = re.compile(
    rf"(?<!\d)(?:(?P<d>\d{{1,2}})[./-](?P<m>\d{{1,2}})[./-](?P<y>\d{{4}})"
    rf"|(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})"
    rf"|(?P<wd>\d{{1,2}})\s+(?P<wm>{_MONTH}),?\s+(?P<wy>\d{{4}}))",
    re.IGNORECASE,
)
_DAY_AND_MONTH = re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})", re.IGNORECASE)
_DIGIT_NEAR_END = re.compile(r"\d\D{0,60}$")  # every date line ends with its date, a time or a count
_UPDATED = re.compile(r"\W*(обновлено|yenilənib|updated)", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[^\W\d_]{2,}[.!?…]+[\"»”)]*\s+[\"«“„(]?[A-ZА-ЯЁƏÖÜĞİŞÇ]")


# ── small pure helpers ───────────────────────────────────────────────────────────────────────


_BULLET = re.compile(r"^\s*[•·▪►*–—-]\s*")
# a stamp glued before a content line: "date 2025-11-10 …" (a page's date field copied with it),
# "09:23 - Bu gün …" (a feed's time), "2025-11-10 …"
_STAMP_PREFIX = re.compile(
    r"^\s*(?:(?:date|дата|tarix)\s*:?\s+\d{4}-\d{2}(?:-\d{2})?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}:\d{2}\s*[-–—|]|\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)\s+(?=\S)",
    re.IGNORECASE,
)


def noise_reason(text: str) -> str | None:
    """The reason a whole line is site noise, or None when it may be content. A list bullet or dash
    before it ("• 16 января, 2026", "- Cəmiyyət", "• telegram") does not make furniture content."""
    bare = _BULLET.sub("", text, count=1)
    for rule in RULES:
        if rule.pattern.fullmatch(text) or (bare != text and bare and rule.pattern.fullmatch(bare)):
            return rule.reason
    return None


def split_stamp_prefix(text: str) -> tuple[str, str] | None:
    """(stamp, rest) when ``text`` starts with a date or time stamp glued to content, else None."""
    m = _STAMP_PREFIX.match(text)
    if not m or not text[m.end():].strip():
        return None
    return text[: m.end()], text[m.end():]


def text_key(text: str) -> str:
    """A comparison key: case-folded, single-spaced, without final punctuation or quotes."""
    return " ".join(text.casefold().split()).strip(" .…!?:;,\"'«»“”„")


def split_credit(text: str) -> tuple[str, str] | None:
    """Split ``"© <credit><caption>"`` into ``(credit, caption)``; ``caption`` may be ``""``.

    The boundary is found, in order: a known credit from :data:`KNOWN_CREDITS` (unless a
    photographer follows it: ``Sputnik / Name``); a change of script at a lower→upper case seam
    with no space (``DefenceМинистр``); the first lower→upper seam that starts a word and is not
    inside a name like McCain (``DefenceMüdafiə``); a Latin word followed by a space and a
    Cyrillic capital. Returns None when ``text`` does not start with ``©``.
    """
    m = re.match(r"©\s*", text)
    if not m:
        return None
    rest = text[m.end():]
    for credit in sorted(KNOWN_CREDITS, key=len, reverse=True):
        if rest.startswith(credit):
            tail = rest[len(credit):]
            if re.match(r"\s*/", tail):
                break  # "Sputnik / Photographer Name": find the seam after the name
            if not tail or not tail[0].isalpha() or tail[0].isupper():
                return text[: m.end() + len(credit)].strip(), _trim_caption(tail)
    seam = _credit_seam(rest)
    if seam is None:
        return text.strip(), ""
    return text[: m.end() + seam].strip(), _trim_caption(rest[seam:])


def _trim_caption(text: str) -> str:
    return text.strip(" .,:;|/-–—")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _credit_seam(rest: str) -> int | None:
    """Where the caption starts in ``<credit><caption>``, or None (see :func:`split_credit`)."""
    seams = [
        i for i in range(1, min(len(rest) - 1, 120))
        if rest[i].isupper() and rest[i + 1].islower()
        and (rest[i - 1].islower() or rest[i - 1] in ".)»\"'")
    ]
    script_changes = [i for i in seams if _is_cyrillic(rest[i - 1]) != _is_cyrillic(rest[i])]
    if script_changes:
        return script_changes[0]
    for i in seams:
        word = re.search(r"[^\W\d_]*$", rest[:i])
        if word is None or word.group() not in CAMEL_PREFIXES:
            return i
    spaced = re.search(r"[A-Za-z][a-z]*\s+(?=[А-ЯЁ][а-яё])", rest[:120])
    return spaced.end() if spaced else None


def match_dateline(text: str) -> tuple[str, str] | None:
    """``(dateline, rest)`` when ``text`` opens with an agency dateline, else None."""
    for pattern in _DATELINE_PATTERNS:
        m = pattern.match(text)
        if m:
            return m.group("dateline").strip(), text[m.end():]
    return None


def headline_like(text: str) -> bool:
    """Short (≤ 250 chars), at least two words, and not ending like a sentence with a period."""
    if len(text) > 250 or len(text.split()) < 2 or not _LETTER.search(text):
        return False
    return not text.endswith((".", ":", ";")) or text.endswith("...")


_DOMAIN = re.compile(r"(?i)\b[\w-]+\.(?:az|ru|com|net|org|info|news|tv|media)\b")


def title_problem(text: str) -> str | None:
    """Why a title the page declares (HTML ``<title>``, ``og:title``, ``<h1>``, JSON ``title``) is not
    a headline, or None: a noise line (a date, a time, a section or tag line, a counter…), a site name
    ("Report.az"), or fewer than three words ("Политика", "Новости Азербайджана")."""
    reason = noise_reason(text)
    if reason:
        return "junk-title: " + reason
    if _DOMAIN.search(text) and len(text.split()) <= 3:
        return "junk-title: site name"
    if sum(1 for w in text.split() if _LETTER.search(w)) < 3 or not headline_like(text.rstrip(".")):
        return "junk-title: not a headline"
    return None


def headline_with_period(text: str) -> bool:
    """One short sentence (≤ 16 words) ending with a single period, like "Алиев встретился с
    Эрдоганом.": the title when page furniture follows it (:func:`is_furniture`), else a paragraph."""
    return (
        text.endswith(".") and not text.endswith("..") and len(text) <= 200 and 2 <= len(text.split()) <= 16
        and bool(_LETTER.search(text)) and not _SENTENCE_BREAK.search(text)
    )


def is_furniture(text: str) -> bool:
    """True for a line the cleaner removes in whole or in part: noise, a credit, an alt text, a dateline."""
    return bool(noise_reason(text) or split_credit(text) or ALT_TEXT.fullmatch(text) or match_dateline(text))


def teaser_heading(text: str) -> bool:
    """True for a heading of teasers for other stories (:data:`TEASER_HEADINGS`)."""
    return any(heading.fullmatch(text) for heading in _TEASER_HEADINGS)


def opens_teaser(following: list[str]) -> bool:
    """True when the two lines after an alt text are a rubric and a headline: a teaser's layout."""
    return len(following) == 2 and noise_reason(following[0]) == "navigation" and headline_like(following[1])


def _month_number(word: str) -> int:
    return _MONTH_NUMBER.get(word.casefold().replace("\u0307", "").rstrip("."), 0)


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ``dd.mm.yyyy`` ("6 декабря 2023", "2023-12-06" → "06.12.2023")."""
    for m in _DATE_PARTS.finditer(text):
        if m["d"]:
            day, month, year = int(m["d"]), int(m["m"]), m["y"]
        elif m["iy"]:
            day, month, year = int(m["id"]), int(m["im"]), m["iy"]
        else:
            day, month, year = int(m["wd"]), _month_number(m["wm"]), m["wy"]
        if 1 <= day <= 31 and 1 <= month <= 12:
            return f"{day:02d}.{month:02d}.{year}"
    return None


def line_date(text: str) -> str | None:
    """The date a date line gives — an alt text, an alt-text stamp, a timestamp line, but not an
    "обновлено: …" line — else None."""
    if not _DIGIT_NEAR_END.search(text):
        return None
    alt = ALT_TEXT.fullmatch(text)
    if alt:
        return alt["date"]
    if noise_reason(text) in ("timestamp", "alt-text") and not _UPDATED.match(text):
        return parse_date(text)
    return None


def split_title_stamp(text: str) -> tuple[str, str, str] | None:
    """``(title, stamp, date)`` for a headline with its date after it (:data:`TITLE_STAMPS`), else None."""
    for pattern in TITLE_STAMPS:
        m = pattern.fullmatch(text)
        if m and headline_like(m["title"].strip()):
            date = parse_date(m["date"])
            if date:
                return m["title"].strip(), m["stamp"], date
    return None


def split_title_marker(text: str) -> tuple[str, str] | None:
    """``(title, marker)`` for a headline with media markers after it (:data:`TITLE_MARKER_WORDS`:
    "<title> - ВИДЕО", "<title> (ФОТО) - FOTO"), else None. ``marker`` is every marker, as written."""
    title = text
    while m := _TITLE_MARKER.search(title):
        title = title[: m.start()]
    title = title.rstrip()
    if title == text or not _LETTER.search(title):
        return None
    return title, text[len(title):]


def without_title_marker(text: str) -> str:
    """``text`` less the media markers after it (:func:`split_title_marker`)."""
    marked = split_title_marker(text)
    return marked[0] if marked else text


def dateline_day_month(blocks: tuple[Block, ...]) -> tuple[int, int] | None:
    """Day and month of the first dateline that names them ("БАКУ, 6 дек - Sputnik." → (6, 12))."""
    for block in blocks:
        found = match_dateline(block.text)
        m = _DAY_AND_MONTH.search(found[0]) if found else None
        if m and _month_number(m["month"]):
            return int(m["day"]), _month_number(m["month"])
    return None


def article_date(blocks: tuple[Block, ...]) -> str | None:
    """The article's own date (``dd.mm.yyyy``), not a teaser's, or None.

    Candidates are the date lines (:func:`line_date`) before the first teaser heading
    ("Читайте также", "Oxşar xəbərlər"), less the alt texts laid out as a teaser (rubric and headline
    after them). The first of them whose day and month agree with the page's dateline ("БАКУ, 6 дек
    - Sputnik.") wins; without such a one, the first of them — the one under the title."""
    dates: list[str] = []
    for i, block in enumerate(blocks):
        if teaser_heading(block.text):
            break
        date = line_date(block.text)
        if date and not (ALT_TEXT.fullmatch(block.text) and opens_teaser([b.text for b in blocks[i + 1 : i + 3]])):
            dates.append(date)
    told = dateline_day_month(blocks)
    agreeing = [d for d in dates if (int(d[:2]), int(d[3:5])) == told]
    return (agreeing or dates or [None])[0]


def is_other_language(text: str, lang: str) -> bool:
    """True when ``text`` is in the paired language of ``lang`` (ru ↔ az)."""
    other = OTHER_LANGUAGE.get(lang)
    return other is not None and detect_language(text) == other


# ── the walk ─────────────────────────────────────────────────────────────────────────────────


@dataclass
class _Cleaning:
    """What the walk over a page has found so far."""

    lang: str
    removed: list[Removed] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    seen_captions: set[str] = field(default_factory=set)
    body: list[Block] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    crosslinks: list[str] = field(default_factory=list)

    def drop(self, line: int, text: str, reason: str) -> None:
        if text.strip():
            self.removed.append(Removed(line=line, text=text, reason=reason))

    def caption(self, line: int, text: str) -> None:
        """Keep ``text`` as a caption the first time it is seen; later it is a duplicate."""
        key = text_key(text)
        if not key:
            return
        if key in self.seen_captions:
            self.drop(line, text, "duplicate-caption")
        else:
            self.seen_captions.add(key)
            self.captions.append(text)

    def title(self, line: int, text: str) -> str:
        """``text`` as the article's title, less the media markers after it (" - ВИДЕО"), which go
        as "title-marker"."""
        marked = split_title_marker(text)
        if not marked:
            return text
        self.drop(line, marked[1], "title-marker")
        return marked[0]

    def other_language(self, line: int, text: str, dropped: str | None = None) -> None:
        self.drop(line, dropped or text, "other-language")
        if text not in self.crosslinks:
            self.crosslinks.append(text)


def page_language(blocks: tuple[Block, ...]) -> str:
    """The language of most of the page's words, or ``"unknown"`` below 60%. Words, not characters:
    one huge unbroken token (a garbage line) must not outweigh the article."""
    weight: dict[str, int] = {}
    for block in blocks:
        lang = detect_language(block.text)
        weight[lang] = weight.get(lang, 0) + len(block.text.split())
    total = sum(weight.values())
    best = max(weight, key=weight.__getitem__, default="unknown")
    return best if total and weight[best] >= 0.6 * total else "unknown"


def clean_page(page: RawPage, lang: str) -> Article:
    """Turn a read page into an :class:`Article` in language ``lang`` ("ru", "az", ...; "auto" or
    "" detects it from the text). Raises :class:`InputError` when neither a title nor a paragraph
    is left.

    A page clearly written in the paired language (an az page given as ru, or the reverse) is
    cleaned as what it is — otherwise all its lines would go as "other-language" — and
    ``meta["declared_lang"]`` keeps the ``lang`` it was given."""
    meta: dict = {}
    found = page_language(page.blocks)
    if lang in ("", "auto"):
        lang = found
    elif OTHER_LANGUAGE.get(lang) == found:
        meta["declared_lang"] = lang
        lang = found
    state = _Cleaning(lang=lang, meta=meta)
    if any(b.tag for b in page.blocks):
        title = _walk_tagged(page.blocks, state)
    else:
        title = _walk_lines(page.blocks, state)
    paragraphs = _body_paragraphs(state, title)
    if not title and not paragraphs:
        raise InputError(f"{page.path}: nothing left after cleaning: the page is only site noise")
    if state.crosslinks:
        state.meta["crosslinks"] = tuple(state.crosslinks)
    return Article(
        lang=lang,
        title=title,
        captions=tuple(state.captions),
        paragraphs=tuple(paragraphs),
        meta=state.meta,
        removed=tuple(sorted(state.removed, key=lambda r: r.line)),
        source=page.path,
        warnings=page.warnings,
    )


def _walk_lines(blocks: tuple[Block, ...], state: _Cleaning) -> str | None:
    """Classify the lines of an untagged page; returns the title. Body candidates go to ``state.body``.

    The title is the first remaining line before any body line that can be one (:func:`_title_at`,
    :func:`_alt_is_title`); one-word lines before it are stray menu items. A caption is what follows
    a "©" credit or precedes an alt-text suffix of the article's date (:func:`article_date`); the
    same text seen again is a duplicate. Below the title, the headline-like line after a teaser's
    alt text or a "read also" label, and those after a list heading up to the next paragraph, are
    related news. A date or time stamp glued before a line's text is cut off first."""
    blocks, stamp_date = _without_stamp_prefixes(blocks, state)
    alts = [ALT_TEXT.fullmatch(b.text) for b in blocks]
    credits = [split_credit(b.text) for b in blocks]
    page_date = article_date(blocks) or stamp_date
    if page_date:
        state.meta["date"] = page_date
        site = next((m["site"] for m in alts if m and m["date"] == page_date), None)
        if site:
            state.meta["source"] = site
    credit_captions = {text_key(c[1]) for c in credits if c and c[1]}
    alt_captions = {
        text_key(m["caption"]) for m in alts
        if m and m["date"] == page_date and not is_other_language(m["caption"], state.lang)
    }
    teaser_pending = in_teasers = False
    title: str | None = None
    for i, (block, alt, credit) in enumerate(zip(blocks, alts, credits)):
        text, line = block.text, block.line
        title_due = title is None and not state.body
        following = [b.text for b in blocks[i + 1 : i + 3]]
        if alt:
            if title_due and _alt_is_title(alt, page_date, credit_captions, following, state.lang):
                title = state.title(line, alt["caption"].strip())
                state.drop(line, text[alt.end("caption"):], "alt-text")
            elif title is not None and text_key(without_title_marker(alt["caption"])) == text_key(title):
                state.drop(line, text, "alt-text")  # the title again, as the main image's alt text
            else:
                teaser_pending = _alt_text(block, alt, page_date, credit_captions, following, state, title_due)
            continue
        reason = noise_reason(text)
        if credit and reason != "copyright":  # "© 2014–2023 Report.az. …" is the site's copyright
            state.drop(line, credit[0], "photo-credit")
            if credit[1]:
                state.caption(line, credit[1])
            continue
        if reason:
            state.drop(line, text, reason)
            if not title_due and teaser_heading(text):  # "Читайте также": one teaser; "Oxşar xəbərlər": a list
                teaser_pending, in_teasers = True, in_teasers or reason != "read-also"
            continue
        dateline = match_dateline(text)
        if dateline and not dateline[1]:  # a dateline alone on its line: "Bakı. Trend:"
            state.drop(line, text, "dateline")
            state.meta.setdefault("dateline", dateline[0])
            continue
        key = text_key(text)
        if key in credit_captions or (key in alt_captions and not (title_due and headline_like(text))):
            state.caption(line, text)
            continue
        if (teaser_pending or in_teasers) and headline_like(text):
            state.drop(line, text, "related-news")
            teaser_pending = False
            continue
        teaser_pending = in_teasers = False
        if is_other_language(text, state.lang):
            state.other_language(line, text)
            continue
        if title_due:
            found = _title_at(blocks, i)
            if found:
                headline, stamp, date = found
                title = state.title(line, headline)
                state.drop(line, stamp, "timestamp")
                if date and not page_date:
                    state.meta["date"] = page_date = date
                continue
            if len(text.split()) == 1:  # a stray one-word menu item before the title
                state.drop(line, text, "navigation")
                continue
        state.body.append(block)
    return title


def _without_stamp_prefixes(blocks: tuple[Block, ...], state: _Cleaning) -> tuple[tuple[Block, ...], str | None]:
    """The blocks with a glued leading stamp (`split_stamp_prefix`) cut off and recorded as removed,
    and the first such stamp's date (a page's own date field: the fallback for the article's date)."""
    out, first_date = [], None
    for block in blocks:
        stamped = split_stamp_prefix(block.text)
        if stamped:
            state.drop(block.line, stamped[0], "timestamp")
            first_date = first_date or parse_date(stamped[0])
            block = replace(block, text=stamped[1])
        out.append(block)
    return tuple(out), first_date


def _title_at(blocks: tuple[Block, ...], i: int) -> tuple[str, str, str | None] | None:
    """``(title, stamp, date)`` when line ``i``, where the title is due, is the title: a headline with
    its date after it (:func:`split_title_stamp`; the stamp is removed), a headline, or a headline
    with a period (:func:`headline_with_period`) that page furniture follows."""
    text = blocks[i].text
    stamped = split_title_stamp(text)
    if stamped:
        return stamped
    if headline_like(text) or (
        headline_with_period(text) and i + 1 < len(blocks) and is_furniture(blocks[i + 1].text)
    ):
        return text, "", None
    return None


def _alt_is_title(
    alt: re.Match[str], page_date: str | None, credit_captions: set[str], following: list[str], lang: str,
) -> bool:
    """An alt text met where the title is due is the title's own line ("<title> - Sputnik
    Азербайджан, 1920, 06.12.2023") when it has the article's date, no credit line names it as a
    photo caption, it is a headline in the page's language, it is not laid out as a teaser, and
    the next line is not a headline itself (the title below its photo)."""
    caption = alt["caption"].strip()
    title_follows = bool(following) and headline_like(following[0]) and not is_furniture(following[0])
    return (
        alt["date"] == page_date and text_key(caption) not in credit_captions
        and (headline_like(caption) or headline_with_period(caption))
        and not is_other_language(caption, lang) and not opens_teaser(following) and not title_follows
    )


def _alt_text(
    block: Block, alt: re.Match[str], page_date: str | None, credit_captions: set[str],
    following: list[str], state: _Cleaning, title_due: bool,
) -> bool:
    """Handle an image alt-text line; returns True when it opens a related-news teaser.

    An alt text is a teaser for another story when its caption is not a photo caption of this
    page and it carries another date, or it is followed by a rubric and a headline (``following``
    holds the next two lines) below the title or on a page whose photos have "©" credit lines.
    (Where the title is due on a page without credits, an alt text with the page's date before a
    rubric and a headline may be the article's own photo above its section and title.)"""
    caption = alt["caption"].strip()
    suffix = block.text[alt.end("caption"):]
    if is_other_language(caption, state.lang):
        state.other_language(block.line, caption, dropped=block.text)
        return False
    own_image = text_key(caption) in credit_captions
    laid_out_as_teaser = (bool(credit_captions) or not title_due) and opens_teaser(following)
    if not own_image and (alt["date"] != page_date or laid_out_as_teaser):
        state.drop(block.line, block.text, "related-news")
        return True
    if text_key(caption) in state.seen_captions:
        state.drop(block.line, block.text, "alt-text")
    else:
        state.caption(block.line, caption)
        state.drop(block.line, suffix, "alt-text")
    return False


def _walk_tagged(blocks: tuple[Block, ...], state: _Cleaning) -> str | None:
    """Trust the reader's tags (HTML/JSON); captions and paragraphs are still tidied."""
    title: str | None = None
    for block in blocks:
        text, line, tag = block.text, block.line, block.tag
        if tag.startswith("meta:"):
            state.meta[tag[5:]] = text
        elif tag in ("title", "title-candidate"):
            problem = title_problem(text)
            if title is None and not problem:
                title = state.title(line, text)
            else:
                state.drop(line, text, "duplicate-title" if title is not None else problem)
        elif tag == "caption":
            _tagged_caption(block, state)
        else:
            reason = noise_reason(text)
            if reason:
                state.drop(line, text, reason)
            elif is_other_language(text, state.lang):
                state.other_language(line, text)
            else:
                state.body.append(block)
    return title


def _tagged_caption(block: Block, state: _Cleaning) -> None:
    text, line = block.text, block.line
    alt = ALT_TEXT.fullmatch(text)
    if alt:
        state.drop(line, text[alt.end("caption"):], "alt-text")
        text = alt["caption"].strip()
        state.meta.setdefault("date", alt["date"])
    credit = split_credit(text)
    if credit:
        state.drop(line, credit[0], "photo-credit")
        text = credit[1]
    if not text:
        return
    if is_other_language(text, state.lang):
        state.other_language(line, text)
    else:
        state.caption(line, text)


def _body_paragraphs(state: _Cleaning, title: str | None) -> list[str]:
    """Strip datelines and drop repeats of the title, captions and earlier paragraphs."""
    paragraphs: list[str] = []
    seen: set[str] = set()
    title_key = text_key(title) if title else None
    for block in state.body:
        text, line = block.text, block.line
        dateline = match_dateline(text)
        if dateline:
            state.drop(line, dateline[0], "dateline")
            state.meta.setdefault("dateline", dateline[0])
            text = dateline[1].strip()
            if not text:
                continue
        key = text_key(text)
        if key == title_key:
            state.drop(line, text, "duplicate-title")
        elif key in state.seen_captions:
            state.drop(line, text, "duplicate-caption")
        elif key in seen:
            state.drop(line, text, "duplicate-paragraph")
        else:
            seen.add(key)
            paragraphs.append(text)
    return paragraphs
