"""Readers: one file's bytes in, its articles out; one module per kind of file people keep news in.

A *whole-file* kind (text, Markdown, a saved web page, a PDF) holds one article; a *dump* kind (JSONL,
JSON, CSV exports, RSS/Atom feeds) holds one article per row or entry. `rag.index.sources` finds the
files and `rag.index.build` decides what to embed; this package only turns bytes into `Parsed`
articles, or raises `NotAnArticle` with the reason a user sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class NotAnArticle(ValueError):
    """Bytes that cannot be an article (or a dump of them); the message is the reason, shown to the user."""


@dataclass(frozen=True)
class Parsed:
    """One article as a reader found it. `pages[i]` is the offset in `text` where page i + 1 starts (PDFs)."""

    title: str
    text: str
    published: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Row:
    """One article of a dump: its stable key (the row's id, else a hash of its URL, else of its text), and where it was."""

    key: str
    line: int
    parsed: Parsed


@dataclass(frozen=True)
class Dump:
    """What a dump held: its articles, and the rows that could not be articles as (line, reason)."""

    rows: tuple[Row, ...]
    bad: tuple[tuple[int, str], ...] = field(default=())


WholeReader = Callable[[bytes], Parsed]
DumpReader = Callable[[bytes, dict[str, str], Path], Dump]  # bytes, --field names, the file's folder


def _text(data: bytes) -> Parsed:
    from rag.index.readers.text import read

    return read(data)


def _html(data: bytes) -> Parsed:
    from rag.index.readers.html import read

    return read(data)


def _pdf(data: bytes) -> Parsed:
    from rag.index.readers.pdf import read

    return read(data)


def _jsonl(data: bytes, fields: dict[str, str], folder: Path) -> Dump:
    from rag.index.readers.dumps import read_jsonl

    return read_jsonl(data, fields)


def _json(data: bytes, fields: dict[str, str], folder: Path) -> Dump:
    from rag.index.readers.dumps import read_json

    return read_json(data, fields)


def _csv(data: bytes, fields: dict[str, str], folder: Path) -> Dump:
    from rag.index.readers.dumps import read_csv

    return read_csv(data, fields)


def _feed(data: bytes, fields: dict[str, str], folder: Path) -> Dump:
    from rag.index.readers.feeds import read

    return read(data, folder)


# suffix -> reader; the parsers (trafilatura, pypdf, feedparser) load only when a file of their kind is read
WHOLE: dict[str, WholeReader] = {".txt": _text, ".md": _text, ".html": _html, ".htm": _html, ".pdf": _pdf}
DUMPS: dict[str, DumpReader] = {".jsonl": _jsonl, ".json": _json, ".csv": _csv, ".rss": _feed, ".atom": _feed,
                                ".xml": _feed}
SUFFIXES = (*WHOLE, *DUMPS)
