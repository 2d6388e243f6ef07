"""Plain text and Markdown: the title is the first headline-like line, the date the first full date stated."""

from __future__ import annotations

from rag.index.metadata import extract_date, extract_title
from rag.index.readers import NotAnArticle, Parsed


def decode(data: bytes) -> str:
    """The text of an article file's bytes; NotAnArticle says why they cannot be one."""
    if b"\x00" in data:  # before decoding: a binary file is better called binary than "not UTF-8 at byte 0"
        raise NotAnArticle("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotAnArticle(f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise NotAnArticle("empty file")
    return text


def read(data: bytes) -> Parsed:
    """One article from a .txt or .md file."""
    text = decode(data)
    return Parsed(extract_title(text), text, extract_date(text))
