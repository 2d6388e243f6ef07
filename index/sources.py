"""Find article files and read them into `Article`s (each kind of file through `rag.index.readers`)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from rag.hashing import file_sha256
from rag.index.readers import DUMPS, STREAMED, SUFFIXES, WHOLE, NotAnArticle, too_large
from rag.types import Article

ARTICLE_SUFFIXES = SUFFIXES
# A news article is ~50 kB and the longest long-reads or transcripts a few MB. 20 MB is 400 articles' worth
# of text: a file beyond it is almost surely a misnamed dump, log or binary, and indexing it would hold it in
# memory and embed ~25,000 passages (tens of minutes on 2 cores). Such a file is skipped without being read.
MAX_ARTICLE_BYTES = 20_000_000
# A dump holds many articles. JSON and feeds are parsed whole, so theirs bounds one parse (a few times its size in
# memory); JSONL and CSV are read a row at a time (each row under MAX_ARTICLE_BYTES), and theirs bounds what one
# build holds as articles: 4 GB of news is about a million articles and eight million passages, days of embedding
# on 2 cores, and about the same again in memory while they are chunked.
MAX_PARSED_DUMP_BYTES = 200_000_000
MAX_STREAMED_DUMP_BYTES = 4_000_000_000
UNHASHED = ""  # the sha256 of a file too large to read: never equal to a recorded hash, so never "unchanged"


@dataclass(frozen=True)
class SourceFile:
    """An article file found on disk, with the hash of its bytes (`UNHASHED` when it is too large to read)."""

    path: Path
    article_id: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file (or one row of a dump) that was not indexed, and why (shown to the user as a warning)."""

    path: Path
    reason: str
    line: int | None = None  # a dump's row: its line (JSONL, CSV), item (JSON) or entry (feeds) number

    @property
    def where(self) -> str:
        """FILE, or FILE:LINE for a row."""
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)


@dataclass(frozen=True)
class DumpArticle:
    """One article of a dump, with the hash of its own content (re-syncs re-embed only the rows that changed)."""

    article: Article
    sha256: str


def is_dump(path: Path) -> bool:
    """Whether the file holds one article per row or entry (JSONL, JSON, CSV, feeds) rather than one article."""
    return path.suffix.lower() in DUMPS


# The rules for what an article file is, shared by `rag index` (a skipped file's warning) and the UI's uploads
# (a refused file's message), so both say the same thing in the same order.

def suffix_problem(name: str) -> str | None:
    """Why a file of this name is not read as an article, or None when its extension is one we read."""
    suffix = Path(name).suffix.lower()
    if suffix in ARTICLE_SUFFIXES:
        return None
    return f"not an article file (got {suffix or 'no extension'}; rag reads {', '.join(ARTICLE_SUFFIXES)})"


def size_limit(path: Path) -> tuple[int, str]:
    """The largest file of this kind that is read, and what the limit is for (`too_large`'s words)."""
    suffix = path.suffix.lower()
    if suffix in STREAMED:
        return MAX_STREAMED_DUMP_BYTES, f"for one {suffix} dump: split it into smaller files"
    if suffix in DUMPS:
        return MAX_PARSED_DUMP_BYTES, (f"for a {suffix} file, which is read whole: export larger dumps as JSONL, "
                                       "which is read a row at a time")
    return MAX_ARTICLE_BYTES, "for one article"


def discover(paths: list[Path]) -> tuple[list[SourceFile], list[Skipped]]:
    """Article files under `paths` (folders are searched recursively), sorted by id.

    Two files with the same id (file name without extension) would make citations ambiguous, and two
    with the same bytes would fill the passages shown to the model with copies, so in both cases the
    second one found is skipped with a warning. Symbolic links to files are followed; links to folders
    are not (so a link cannot loop or pull in another tree) and are reported, as are broken links. A file
    over its limit (`size_limit`: dumps have limits of their own) is listed unhashed, never read, and
    `read_article` / `read_dump` skip it: listing it lets a re-sync keep its previously indexed version, as
    for any file that became unreadable.
    """
    found: dict[str, SourceFile] = {}
    by_content: dict[str, Path] = {}
    skipped: list[Skipped] = []
    for root in paths:
        for path, problem in _candidates(root):
            if problem:
                skipped.append(Skipped(path, problem))
                continue
            article_id = path.stem
            # a dump's rows are ids of their own (FILE-KEY), so dumps need only differ by name: feed.rss, feed.atom
            key = path.name if is_dump(path) else article_id
            if key in found:
                skipped.append(Skipped(path, f"same article id as {found[key].path}"))
                continue
            try:
                size = path.stat().st_size
                digest = UNHASHED if size > size_limit(path)[0] else file_sha256(path)
            except OSError as exc:  # e.g. no permission: one unreadable file must not stop the whole build
                skipped.append(Skipped(path, f"cannot read it ({exc.strerror or exc})"))
                continue
            if size and digest != UNHASHED:  # empty files are all "the same": read_article names them empty
                if digest in by_content:
                    skipped.append(Skipped(path, f"same content as {by_content[digest]}"))
                    continue
                by_content[digest] = path
            found[key] = SourceFile(path, article_id, digest)
    return [found[k] for k in sorted(found)], skipped


def _candidates(root: Path) -> list[tuple[Path, str]]:
    """(path, problem) for every article-named entry under `root`; problem is "" for a readable file.

    A folder's hidden and non-article files are passed over silently (editors' and the uploader's
    temporary files are hidden); a file named explicitly is reported instead, since the user asked for it."""
    if root.is_file():
        if root.name.startswith("."):
            return [(root, "hidden file (its name starts with '.'): rename it to index it")]
        problem = suffix_problem(root.name)
        if problem:
            return [(root, problem)]
        return [(root, "")]
    if not root.is_dir():
        return [(root, "not a file or folder")]
    # Path.rglob does not descend into symbolic links to folders (Python 3.11-3.13), so it cannot loop.
    entries = sorted(p for p in root.rglob("*") if not p.name.startswith("."))
    found = []
    for path in entries:
        if path.is_symlink() and path.is_dir():
            found.append((path, "symbolic link to a folder, not followed: give its target to `rag index` instead"))
        elif suffix_problem(path.name):
            continue
        elif path.is_symlink() and not path.exists():
            found.append((path, _broken_link(path)))
        elif path.is_file():  # not folders named x.txt, FIFOs or devices
            found.append((path, ""))
    return found


def _broken_link(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
    return f"broken symbolic link (its target {os.readlink(path)} does not exist)"


def _read_bytes(source: SourceFile) -> bytes | Skipped:
    try:
        size = source.path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            return Skipped(source.path, too_large(size, MAX_ARTICLE_BYTES))
        with source.path.open("rb") as f:
            data = f.read(MAX_ARTICLE_BYTES + 1)  # bounded even if the file grew since it was measured
    except OSError as exc:
        return Skipped(source.path, f"cannot read it ({exc.strerror or exc})")
    if len(data) > MAX_ARTICLE_BYTES:
        return Skipped(source.path, too_large(source.path.stat().st_size, MAX_ARTICLE_BYTES))
    return data


def read_article(source: SourceFile) -> Article | Skipped:
    """The one article of a whole-file kind (text, Markdown, HTML, PDF); unreadable ones come back as `Skipped`."""
    data = _read_bytes(source)
    if isinstance(data, Skipped):
        return data
    try:
        parsed = WHOLE[source.path.suffix.lower()](data)
    except NotAnArticle as exc:
        return Skipped(source.path, str(exc))
    return Article(id=source.article_id, title=parsed.title, text=parsed.text, source=str(source.path),
                   published=parsed.published, url=parsed.url, pages=parsed.pages)


def read_dump(source: SourceFile, fields: dict[str, str] | None = None) -> tuple[list[DumpArticle], list[Skipped]] | Skipped:
    """The articles of a dump (ids FILE-KEY) and its bad rows; the whole file as `Skipped` when it cannot be read."""
    limit, what = size_limit(source.path)
    try:
        with source.path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > limit:
                return Skipped(source.path, too_large(size, limit, what))
            dump = DUMPS[source.path.suffix.lower()](stream, fields or {}, source.path.parent)
    except OSError as exc:
        return Skipped(source.path, f"cannot read it ({exc.strerror or exc})")
    except NotAnArticle as exc:
        return Skipped(source.path, str(exc))
    articles: list[DumpArticle] = []
    bad = [Skipped(source.path, reason, line) for line, reason in dump.bad]
    seen: dict[str, int] = {}
    for row in dump.rows:
        article_id = f"{source.article_id}-{row.key}"
        if article_id in seen:
            bad.append(Skipped(source.path, f"same id as the row at {seen[article_id]} ({row.key})", row.line))
            continue
        seen[article_id] = row.line
        p = row.parsed
        digest = hashlib.sha256(json.dumps([p.title, p.text, p.published, p.url]).encode("utf-8")).hexdigest()
        articles.append(DumpArticle(Article(article_id, p.title, p.text, str(source.path), p.published, p.url), digest))
    return articles, sorted(bad, key=lambda s: s.line or 0)


def read_articles(paths: list[Path]) -> list[Article]:
    """Every readable article under `paths` (those that no longer exist are left out), as `rag index` reads them."""
    files, _ = discover([p for p in paths if p.exists()])
    articles: list[Article] = []
    for source in files:
        found = read_dump(source) if is_dump(source.path) else read_article(source)
        if isinstance(found, Article):
            articles.append(found)
        elif not isinstance(found, Skipped):
            articles.extend(row.article for row in found[0])
    return articles


def text_bytes(paths: list[Path]) -> int:
    """Bytes of the article files `discover` would consider under `paths`, measured without reading them:
    a cheap size of the corpus, known before any model loads."""
    total = 0
    for root in paths:
        for path, problem in _candidates(root):
            if not problem:
                with contextlib.suppress(OSError):  # gone since it was listed: discover() will say so
                    total += path.stat().st_size
    return total
