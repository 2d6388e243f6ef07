"""RSS and Atom feeds through feedparser: each entry is an article.

A feed's entry usually carries a summary, not the story. When its link names a saved page, the page's
main text is indexed instead of the summary: a page in the feed's own folder is indexed as an article of
its own (`rag index` finds it there), so the entry is left out rather than indexed twice; a page elsewhere
(a file: URL) gives the entry its text.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from rag.index.readers import Dump, NotAnArticle, Parsed, Row

_TAG = re.compile(r"<[^>]+>")


def _plain(markup: str) -> str:
    """Entry HTML (summaries often hold some) as text: tags dropped, entities read, paragraphs kept."""
    text = re.sub(r"(?i)</p>|<br\s*/?>", "\n\n", markup)
    return "\n\n".join(p.strip() for p in html.unescape(_TAG.sub("", text)).split("\n\n") if p.strip())


def _saved_page(link: str, folder: Path | None) -> Path | None:
    """The saved page an entry links to, when it exists."""
    if folder is None or not link or ("://" in link and not link.startswith("file:")):
        return None
    # feedparser gives file:///a/b as file://a/b: either way an absolute path; anything else is relative to the feed
    local = link.startswith("file:")
    path = Path("/" + unquote(link.removeprefix("file:")).lstrip("/")) if local else folder / unquote(link)
    return path if path.suffix.lower() in (".html", ".htm") and path.is_file() else None


def _page_text(path: Path) -> Parsed | None:
    from rag.index.readers.html import read

    try:
        return read(path.read_bytes())
    except (OSError, NotAnArticle):
        return None  # the summary is still an article


def read(stream: BinaryIO, fields: Mapping[str, str] | None = None, folder: Path | None = None) -> Dump:
    """The entries of an RSS or Atom feed, parsed whole (their fields are the feed's own, so `fields` does not
    apply); NotAnArticle when the file is no feed or has no entries."""
    import feedparser

    feed = feedparser.parse(stream.read())
    if not feed.entries:
        if feed.bozo and not feed.version:
            reason = getattr(feed.get("bozo_exception"), "getMessage", lambda: "")() or "not well-formed"
            raise NotAnArticle(f"not an RSS or Atom feed ({reason})")
        raise NotAnArticle("a feed with no entries")
    rows, bad = [], []
    for number, entry in enumerate(feed.entries, start=1):
        title = _plain(entry.get("title", "")).strip()
        link = entry.get("link", "")
        contents = [c.get("value", "") for c in entry.get("content", [])]
        text = _plain(max([*contents, entry.get("summary", "")], key=len))
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = date(*when[:3]).isoformat() if when else None
        saved = _saved_page(link, folder)
        if saved is not None and folder is not None and saved.resolve().is_relative_to(folder.resolve()):
            continue  # indexed as an article of its own, from the same folder
        page = _page_text(saved) if saved is not None else None
        if page is not None:
            text, published = page.text, published or page.published
        elif title and text and not text.startswith(title):
            text = f"{title}\n\n{text}"
        if not text.strip():
            bad.append((number, "an entry with no text"))
            continue
        ident = entry.get("id") or link or text
        key = "e" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:12]
        rows.append(Row(key, number, Parsed(title or text.split("\n", 1)[0][:90], text, published, link or None)))
    return Dump(tuple(rows), tuple(bad))
