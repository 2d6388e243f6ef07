"""Article dumps from scrapers and news APIs: JSONL, JSON and CSV, one article per row.

Fields are found by their common names (below); `rag index --field text=body` names others. A row
that cannot be an article is reported by its line (JSONL, CSV) or item number (JSON) and the rest
is indexed. A row's key is stable across re-syncs: its id, else a hash of its URL, else of its text.
Every dump reader takes (bytes, field names, the file's folder); only feeds use the folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from rag.index.metadata import extract_date, extract_title
from rag.index.readers import Dump, NotAnArticle, Parsed, Row
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
csv.field_size_limit(20_000_000)  # one cell may hold a whole long article (the file cap is the same)


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
    """The rows as articles; a row that is none, and `unparsed` lines (line, reason), are the bad ones, by line."""
    good, bad = [], list(unparsed)
    for line, row in rows:
        try:
            good.append(_row(row, line, fields))
        except NotAnArticle as exc:
            bad.append((line, str(exc)))
    if not good and not bad:
        raise NotAnArticle("no rows")
    return Dump(tuple(good), tuple(sorted(bad)))


def read_jsonl(data: bytes, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """One article per line of JSON; blank lines are skipped, a line that is not JSON is a bad row."""
    parsed: list[tuple[int, object]] = []
    unparsed: list[tuple[int, str]] = []
    for line, raw in enumerate(decode(data).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            parsed.append((line, json.loads(raw)))
        except json.JSONDecodeError as exc:
            unparsed.append((line, f"not JSON ({exc.msg} at column {exc.colno})"))
    return _collect(parsed, fields, unparsed)


def read_json(data: bytes, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """A list of articles, or an object holding one (as news APIs return: {"articles": [...]}); item numbers from 1."""
    try:
        document = json.loads(decode(data))
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


def read_csv(data: bytes, fields: Mapping[str, str], folder: Path | None = None) -> Dump:
    """A header row, then one article per row, each named by the line it starts on (a quoted cell may span several)."""
    reader = csv.DictReader(io.StringIO(decode(data), newline=""))
    rows: list[tuple[int, object]] = []
    try:
        ended = 1  # the header's last line
        for row in reader:
            rows.append((ended + 1, row))
            ended = reader.line_num
    except csv.Error as exc:
        raise NotAnArticle(f"not CSV after line {reader.line_num} ({exc})") from None
    if reader.fieldnames is None:
        raise NotAnArticle("no header row")
    return _collect(rows, fields)
