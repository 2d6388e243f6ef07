"""Find article files and read them into `Article`s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.metadata import extract_date, extract_title
from rag.types import Article

ARTICLE_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class SourceFile:
    """An article file found on disk, with the hash of its bytes."""

    path: Path
    article_id: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (shown to the user as a warning)."""

    path: Path
    reason: str


def discover(paths: list[Path]) -> tuple[list[SourceFile], list[Skipped]]:
    """Article files under `paths` (folders are searched recursively), sorted by id.

    Two files with the same id (file name without extension) would make citations
    ambiguous, so the second one found is skipped with a warning.
    """
    found: dict[str, SourceFile] = {}
    skipped: list[Skipped] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix.lower() not in ARTICLE_SUFFIXES or path.name.startswith("."):
                continue
            data = path.read_bytes()
            article_id = path.stem
            if article_id in found:
                skipped.append(Skipped(path, f"same article id as {found[article_id].path}"))
                continue
            found[article_id] = SourceFile(path, article_id, hashlib.sha256(data).hexdigest())
    return [found[k] for k in sorted(found)], skipped


def read_article(source: SourceFile) -> Article | Skipped:
    """Decode a file as UTF-8 text; unreadable or empty files come back as `Skipped`."""
    try:
        text = source.path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Skipped(source.path, f"not UTF-8 text (byte {exc.start})")
    if "\x00" in text:
        return Skipped(source.path, "binary file (contains NUL bytes)")
    if not text.strip():
        return Skipped(source.path, "empty file")
    return Article(
        id=source.article_id,
        title=extract_title(text),
        text=text,
        source=str(source.path),
        published=extract_date(text),
    )
