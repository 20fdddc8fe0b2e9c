"""The small immutable data types that flow through the pipeline.

    path ─read→ RawPage ─clean→ Article ─segment→ Unit[] ─embed→ vectors ─align→ Link[] ─score→ Pair[] ─write→ files

Every stage takes and returns these; nothing else crosses a module boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UnitKind = Literal["title", "caption", "paragraph", "sentence"]


class AlignError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with ``exit_code``."""

    exit_code = 1


class UsageError(AlignError):
    """Bad options or arguments."""

    exit_code = 2


class InputError(AlignError):
    """An input file is missing, unreadable, empty or holds nothing to align."""

    exit_code = 3


class ModelError(AlignError):
    """The embedding model cannot be found, built or loaded."""

    exit_code = 4


class OutputError(AlignError):
    """An output path cannot be written."""

    exit_code = 5


@dataclass(frozen=True)
class Block:
    """One block of raw text as read from a file, with its 0-based line number in the source."""

    text: str
    line: int
    tag: str = ""  # a hint from the reader: "title", "caption", "p" (HTML/JSON), or "" (plain text)


@dataclass(frozen=True)
class RawPage:
    """A file as read: its blocks in order, the detected encoding and format."""

    path: str
    blocks: tuple[Block, ...]
    encoding: str
    format: Literal["page", "text", "html", "json", "segmented"]
    warnings: tuple[str, ...] = ()  # one line each, naming the file: bad bytes, repaired mojibake


@dataclass(frozen=True)
class Removed:
    """A source line dropped by the cleaner, and why — nothing disappears without a trace."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Article:
    """A cleaned article: its title, photo captions and body paragraphs, plus what was removed.

    ``meta`` holds e.g. ``date`` ("06.12.2023"), ``dateline``, ``source``, ``url`` and ``crosslinks``
    (headlines of the same story in the other language found on the page).
    """

    lang: str
    title: str | None
    captions: tuple[str, ...]
    paragraphs: tuple[str, ...]
    meta: dict = field(default_factory=dict, compare=False, hash=False)
    removed: tuple[Removed, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)  # the reader's, e.g. bad bytes


@dataclass(frozen=True)
class Unit:
    """One alignable piece of an article.

    ``id`` is the unit's 0-based position in the article's unit list (title, then captions, then
    body sentences in reading order); ``paragraph`` is the body paragraph index (-1 for title/caption).
    """

    id: int
    kind: UnitKind
    text: str
    paragraph: int = -1
    index: int = 0


@dataclass(frozen=True)
class Link:
    """An alignment bead: ids of units on each side (either may be empty for a null) and its scores.

    ``similarity`` is the cosine of the (concatenated) sides; ``margin`` is that cosine minus the
    average similarity of the neighbourhood (hubness correction). Both are 0.0 for null links.
    """

    ru: tuple[int, ...]
    az: tuple[int, ...]
    similarity: float = 0.0
    margin: float = 0.0

    @property
    def bead(self) -> str:
        """The bead type, e.g. ``"1-1"``, ``"2-1"``, ``"0-1"``."""
        return f"{len(self.ru)}-{len(self.az)}"

    @property
    def is_null(self) -> bool:
        return not self.ru or not self.az


@dataclass(frozen=True)
class Pair:
    """A scored, written row: a link with its texts, kind, flags and the keep decision."""

    doc: str
    kind: UnitKind
    ru_ids: tuple[int, ...]
    az_ids: tuple[int, ...]
    ru: str
    az: str
    score: float
    similarity: float = 0.0
    margin: float = 0.0
    length_ratio: float = 0.0
    flags: tuple[str, ...] = ()
    keep: bool = True
    reason: str = ""

    @property
    def bead(self) -> str:
        return f"{len(self.ru_ids)}-{len(self.az_ids)}"
