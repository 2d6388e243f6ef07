"""`rag index URL`: fetch a page (or a PDF, a feed, a dump) once into the index's `pages/` folder, then
index it like any saved file.

The fetched copy is what gets indexed and re-synced, so answers never depend on a site staying up; giving
the URL again fetches it again. A failure names the URL and what went wrong (the HTTP status, or why no
connection was made) and nothing is indexed from it.
"""

from __future__ import annotations

import hashlib
import re
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

from rag import __version__
from rag.errors import InputError
from rag.index.sources import MAX_ARTICLE_BYTES, too_large

USER_AGENT = f"rag/{__version__} (offline question answering over saved news; fetches a page once when asked)"
TIMEOUT_S = 20.0
# what a server says it sent -> the suffix its reader goes by (rag.index.readers)
SUFFIX_BY_TYPE = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf",
                  "application/rss+xml": ".rss", "application/atom+xml": ".atom", "application/xml": ".xml",
                  "text/xml": ".xml", "application/json": ".json", "application/x-ndjson": ".jsonl",
                  "text/csv": ".csv", "text/plain": ".txt", "text/markdown": ".md"}
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def is_url(text: str) -> bool:
    """Whether a `rag index` argument is a web address rather than a path."""
    return text.startswith(("http://", "https://"))


def page_name(url: str, suffix: str) -> str:
    """A stable file name for a URL: readable host and path, and a hash so two URLs never share one."""
    parts = urlsplit(url)
    slug = _SLUG.sub("-", f"{parts.hostname or ''}{parts.path}").strip("-")[:60] or "page"
    return f"{slug}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}{suffix}"


def fetch(url: str, folder: Path, timeout: float = TIMEOUT_S) -> Path:
    """Download `url` into `folder` (written aside, then renamed, so a half-fetched page is never indexed)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_ARTICLE_BYTES + 1)
            kind = Message()
            kind["content-type"] = response.headers.get("Content-Type", "")
            content_type = kind.get_content_type()
    except urllib.error.HTTPError as exc:
        raise InputError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InputError(f"cannot fetch {url}: {getattr(exc.reason, 'strerror', None) or exc.reason}") from None
    except TimeoutError:
        raise InputError(f"cannot fetch {url}: no answer in {timeout:.0f} s") from None
    except ValueError as exc:  # a malformed address
        raise InputError(f"cannot fetch {url}: {exc}") from None
    if len(data) > MAX_ARTICLE_BYTES:
        raise InputError(f"cannot fetch {url}: {too_large(len(data), MAX_ARTICLE_BYTES)}")
    suffix = SUFFIX_BY_TYPE.get(content_type) or Path(urlsplit(url).path).suffix.lower() or ".html"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / page_name(url, suffix)
    partial = target.with_name(f".{target.name}.part")  # hidden: never indexed half-written
    partial.write_bytes(data)
    partial.replace(target)
    return target
