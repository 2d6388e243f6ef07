"""Readers: one file's bytes in, its articles out; one module per kind of file people keep news in.

A *whole-file* kind (text, Markdown, a saved web page, a PDF) holds one article; a *dump* kind (JSONL,
JSON, CSV exports, RSS/Atom feeds) holds one article per row or entry, and is read from an open binary
file: JSONL and CSV a row at a time (`STREAMED`: a multi-GB export is never held whole), the others whole.
`rag.index.sources` finds the files and `rag.index.build` decides what to embed; this package only turns
bytes into `Parsed` articles, or raises `NotAnArticle` with the reason a user sees.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


class NotAnArticle(ValueError):
    """Bytes that cannot be an article (or a dump of them); the message is the reason, shown to the user."""


def too_large(size: int, limit: int, what: str = "for one article") -> str:
    """The reason a file (or a dump's row) of `size` bytes over `limit` is refused."""
    return f"{size / 1e6:,.1f} MB is over the {limit / 1e6:,.0f} MB limit {what}"


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
DumpReader = Callable[[BinaryIO, dict[str, str], Path | None], Dump]  # the open file, --field names, its folder


def _lazy(module: str, name: str):
    """`rag.index.readers.MODULE.NAME`, imported on its first call: a parser loads only when its kind is read."""
    def call(*args):
        return getattr(importlib.import_module(f"rag.index.readers.{module}"), name)(*args)

    return call


# suffix -> reader; the parsers (trafilatura, pypdf, feedparser) load only when a file of their kind is read
_TEXT, _HTML, _FEED = _lazy("text", "read"), _lazy("html", "read"), _lazy("feeds", "read")
WHOLE: dict[str, WholeReader] = {".txt": _TEXT, ".md": _TEXT, ".html": _HTML, ".htm": _HTML, ".pdf": _lazy("pdf", "read")}
DUMPS: dict[str, DumpReader] = {".jsonl": _lazy("dumps", "read_jsonl"), ".json": _lazy("dumps", "read_json"),
                                ".csv": _lazy("dumps", "read_csv"), ".rss": _FEED, ".atom": _FEED, ".xml": _FEED}
SUFFIXES = (*WHOLE, *DUMPS)
STREAMED = frozenset({".jsonl", ".csv"})  # dumps read a row at a time; the rest of DUMPS are parsed whole
