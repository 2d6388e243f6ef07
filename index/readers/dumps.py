"""Article dumps from scrapers and news APIs: JSONL, JSON and CSV, one article per row.

Fields are found by their common names (below); `rag index --field text=body` names others. A row
that cannot be an article is reported by its line (JSONL, CSV) or item number (JSON) and the rest
is indexed. A row's key is stable across re-syncs: its id, else a hash of its URL, else of its text.
Every dump reader takes (the open binary file, field names, the file's folder); only feeds use the folder.
JSONL and CSV are read a row at a time, so an export of millions of rows is never held as one string; a
row is one article, and one over `MAX_ROW_BYTES` is a bad row like any other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from rag.index.metadata import extract_date, extract_title
from rag.index.readers import Dump, NotAnArticle, Parsed, Row, too_large
from rag.index.readers.dates import iso_date
from rag.index.readers.text import decode

FIELD_NAMES = {  # role -> the names it goes by, first found wins
    "text": ("text", "content", "body", "article", "full_text"),
    "title": ("title", "headline"),
    "date": ("date", "published", "publish_date", "published_at", "publishedAt", "pubDate", "datetime"),
    "url": ("url", "link", "canonical_url"),
    "id": ("id", "uuid", "guid", "article_id"),
}
_KEY = re.compile(r"[^A-Za-z0-9_-]+")
MAX_ROW_BYTES = 20_000_000  # one row is one article: the cap on a single article file (rag.index.sources)
csv.field_size_limit(MAX_ROW_BYTES)  # one cell may hold a whole long article
_HEAD = 65_536  # bytes looked at before rows are read: a binary or empty file is named so, not as bad rows


def _field(row: Mapping, role: str, fields: Mapping[str, str]) -> str:
    names = (fields[role],) if role in fields else FIELD_NAMES[role]
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _row(row: object, line: int, fields: Mapping[str, str]) -> Row:
    if not isinstance(row, Mapping):
        raise NotAnArticle(f"a row is an object of fields, not {type(row).__name__}")
    text = _field(row, "text", fields)
    if not text:
        names = fields.get("text") or ", ".join(FIELD_NAMES["text"])
        raise NotAnArticle(f"no text (looked for {names}; name the field with --field text=NAME)")
    title = _field(row, "title", fields) or extract_title(text)
    url = _field(row, "url", fields) or None
    ident = _KEY.sub("-", _field(row, "id", fields)).strip("-")[:64]
    if ident:
        key = ident
    else:
        seed = f"url:{url}" if url else f"text:{text}"
        key = ("u" if url else "t") + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:12]
    published = iso_date(_field(row, "date", fields)) or extract_date(text)
    body = text if text.startswith(title) else f"{title}\n\n{text}"  # the headline leads, as in a .txt article
    return Row(key, line, Parsed(title, body, published, url))


def _collect(rows: Iterable[tuple[int, object]], fields: Mapping[str, str],
             unparsed: Iterable[tuple[int, str]] = ()) -> Dump:
    """The rows as articles; a row that is none, and `unparsed` lines (line, reason), are the bad ones, by line.
    `unparsed` is read after `rows`, which may fill it as it goes."""
    good, bad = [], []
    for line, row in rows:
        try:
            good.append(_row(row, line, fields))
        except NotAnArticle as exc:
            bad.append((line, str(exc)))
    bad.extend(unparsed)
    if not good and not bad:
        raise NotAnArticle("no rows")
    return Dump(tuple(good), tuple(sorted(bad)))


def _head(stream: BinaryIO) -> None:
    """Refuse a binary or empty file by its first bytes (then rewind), with `decode`'s reasons for the whole file."""
    head = stream.read(_HEAD)
    stream.seek(0)
    if b"\x00" in head:
        raise NotAnArticle("binary file (contains NUL bytes)")
    if len(head) < _HEAD and not head.removeprefix(b"\xef\xbb\xbf").strip():
        raise NotAnArticle("empty file")


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, its bytes without the line end, its size); the bytes are None for a line over
    `MAX_ROW_BYTES`, which is read past in bounded pieces, never held (a dump with no line breaks at all)."""
    number = 0
    while True:
        raw = stream.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return
        number += 1
        size = len(raw)
        if size > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(1_000_000)
                size += len(raw)
            yield number, None, size
            continue
        yield number, raw.rstrip(b"\r\n"), size


def _jsonl_rows(stream: BinaryIO, unparsed: list[tuple[int, str]]) -> Iterable[tuple[int, object]]:
    for line, raw, size in _lines(stream):
        if raw is None:
            unparsed.append((line, too_large(size, MAX_ROW_BYTES)))
            continue
        if line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        if b"\x00" in raw:
            unparsed.append((line, "binary data (contains NUL bytes)"))
            continue
        try:
            yield line, json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            unparsed.append((line, f"not UTF-8 text (byte {exc.start})"))
        except json.JSONDecodeError as exc:
            unparsed.append((line, f"not JSON ({exc.msg} at column {exc.colno})"))


def read_jsonl(stream: BinaryIO, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """One article per line of JSON, read a line at a time; blank lines are skipped, a line that is not JSON
    (or not UTF-8, or over `MAX_ROW_BYTES`) is a bad row."""
    _head(stream)
    unparsed: list[tuple[int, str]] = []
    return _collect(_jsonl_rows(stream, unparsed), fields, unparsed)


def read_json(stream: BinaryIO, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """A list of articles, or an object holding one (as news APIs return: {"articles": [...]}); item numbers from 1.
    Parsed whole (`rag.index.sources` caps its size)."""
    try:
        document = json.loads(decode(stream.read()))
    except json.JSONDecodeError as exc:
        raise NotAnArticle(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(document, Mapping):
        lists = [v for v in document.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise NotAnArticle("a JSON object must hold exactly one list of articles (e.g. {\"articles\": [...]})")
        document = lists[0]
    if not isinstance(document, list):
        raise NotAnArticle(f"JSON holding a {type(document).__name__}, not a list of articles")
    return _collect(enumerate(document, start=1), fields)


def read_csv(stream: BinaryIO, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """A header row, then one article per row, read a row at a time, each named by the line it starts on (a quoted
    cell may span several)."""
    _head(stream)
    reader = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))

    def rows() -> Iterable[tuple[int, object]]:
        ended = 1  # the header's last line
        try:
            for row in reader:
                yield ended + 1, row
                ended = reader.line_num
        except csv.Error as exc:
            raise NotAnArticle(f"not CSV after line {reader.line_num} ({exc})") from None
        except UnicodeDecodeError:
            raise NotAnArticle(f"not UTF-8 text after line {reader.line_num}") from None

    dump = _collect(rows(), fields)
    if reader.fieldnames is None:
        raise NotAnArticle("no header row")
    return dump
