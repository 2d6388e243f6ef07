"""The articles behind the chat: listing them, adding uploads, removing uploaded ones.

Uploads are copied into `<index>/uploads/`, a folder recorded among the index's sources, so a later
`rag index` keeps them. A removed upload is moved to `<index>/removed/`, never deleted: nothing a
user gave us is lost. File names are reduced to a safe slug; an unusable or clashing name gets a
generated one. Every change goes through `rag.index.build.build_index`, so it is incremental (only the
new article is embedded), locked against other writers, and switched in atomically.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import InputError
from rag.hashing import file_sha256
from rag.index.readers import DUMPS, WHOLE, NotAnArticle
from rag.index.sources import ARTICLE_SUFFIXES, suffix_problem, too_large

if TYPE_CHECKING:
    from rag.store import Manifest

MAX_UPLOAD_BYTES = 5_000_000  # a long news article is ~50 kB; this leaves room without inviting abuse
_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ArticleRow:
    """One indexed article as the side panel lists it."""

    id: str
    title: str
    published: str
    chunks: int
    uploaded: bool


@dataclass(frozen=True)
class Accepted:
    """An upload that passed the checks, and the article id it was stored under."""

    original: str
    article_id: str


@dataclass(frozen=True)
class UploadReport:
    """What happened to each uploaded file."""

    accepted: tuple[Accepted, ...]
    rejected: tuple[tuple[str, str], ...]  # (file name, reason)
    embedded: int = 0


def check_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> int:
    """How many articles an upload holds (1 for a page or a text; a dump's rows), or InputError saying why it
    holds none, by `rag index`'s rules and readers."""
    problem = suffix_problem(name) or (too_large(len(data), max_bytes) if len(data) > max_bytes else None)
    if problem:
        raise InputError(f"{name}: {problem}")
    suffix = Path(name).suffix.lower()
    try:
        if suffix in WHOLE:
            WHOLE[suffix](data)
            return 1
        return len(DUMPS[suffix](io.BytesIO(data), {}, None).rows) or _no_rows(name)  # no folder: no saved pages beside it
    except NotAnArticle as exc:
        raise InputError(f"{name}: {exc}") from None


def _no_rows(name: str) -> int:
    raise InputError(f"{name}: no article in it (every row lacks a text field)")


def safe_stem(name: str, data: bytes, taken: set[str]) -> str:
    """A file stem made of letters, digits, '-' and '_' that is not an id already in use."""
    stem = _SLUG.sub("-", Path(name).stem).strip("-_")[:80]
    digest = hashlib.sha256(data).hexdigest()[:12]
    if not stem or stem.startswith("."):
        return f"upload-{digest}"
    # case-blind: on a case-insensitive file system "notes.txt" would overwrite an upload "Notes.txt"
    return stem if stem.lower() not in {t.lower() for t in taken} else f"{stem}-{digest}"


class Library:
    """The index's articles, and the uploads folder the UI adds to."""

    def __init__(self, index_dir: Path, embedder, max_bytes: int = MAX_UPLOAD_BYTES):
        self.index_dir = index_dir
        self.uploads = index_dir / "uploads"
        self.removed = index_dir / "removed"
        self.embedder = embedder
        self.max_bytes = max_bytes

    def manifest(self) -> Manifest:
        """The current index's manifest."""
        from rag import store

        return store.load(self.index_dir).manifest

    def articles(self) -> list[ArticleRow]:
        """Every indexed article, sorted by id."""
        return [ArticleRow(article_id, a.title, a.published or "", a.chunks, self._uploaded_file(a.source) is not None)
                for article_id, a in sorted(self.manifest().articles.items())]

    def _uploaded_file(self, source: str) -> Path | None:
        """The upload an article came from (a dump's rows share one), or None when it was indexed from elsewhere."""
        path = Path(source)
        return path if path.parent.resolve() == self.uploads.resolve() and path.suffix.lower() in ARTICLE_SUFFIXES \
            else None

    def add(self, files: list[tuple[str, bytes]], say: Callable[[str], None] = lambda _: None) -> UploadReport:
        """Check, store and index uploaded (name, bytes) pairs; bad files are reported, not fatal."""
        indexed = self.manifest().articles
        taken = set(indexed) | {p.stem for p in self.uploads.glob("*")}
        # The same bytes as an indexed article from any folder: `rag index` skips a copy of an article, so
        # accepting it would report an upload that never reaches the index.
        known = {a.sha256: f"already indexed as {article_id}" for article_id, a in indexed.items()}
        known |= {file_sha256(p): f"already added as {p.stem}"
                  for p in self.uploads.glob("*") if p.is_file()}
        accepted, rejected = [], []
        for name, data in files:
            try:
                check_upload(name, data, self.max_bytes)
            except InputError as exc:
                rejected.append((name, str(exc).removeprefix(f"{name}: ")))
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in known:
                rejected.append((name, known[digest]))
                continue
            stem = safe_stem(name, data, taken)
            target = self.uploads / f"{stem}{Path(name).suffix.lower()}"
            self.uploads.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")  # hidden: never indexed half-written
            partial.write_bytes(data)
            partial.replace(target)
            taken.add(stem)
            known[digest] = f"already added as {stem}"
            accepted.append(Accepted(name, stem))
        embedded = self._sync(say) if accepted else 0
        return UploadReport(tuple(accepted), tuple(rejected), embedded)

    def remove(self, article_id: str, say: Callable[[str], None] = lambda _: None) -> None:
        """Take an uploaded article out of the index (a dump's row: the whole uploaded dump); its file is kept
        under `removed/`."""
        entry = self.manifest().articles.get(article_id)
        upload = self._uploaded_file(entry.source) if entry else None
        matches = [upload] if upload is not None and upload.exists() else \
            [p for p in self.uploads.glob(f"{article_id}.*") if p.stem == article_id]
        if not matches:
            if entry is not None:
                raise InputError(f"{article_id} was not added here: remove its file from the indexed folder "
                                 "and run `rag index`")
            raise InputError(f"no article {article_id} in the index")
        self.removed.mkdir(parents=True, exist_ok=True)
        for path in matches:
            target = self.removed / path.name
            if target.exists():  # removed before under the same name: keep both
                target = self.removed / f"{path.stem}-{file_sha256(path)[:12]}{path.suffix}"
            shutil.move(path, target)
        self._sync(say)

    def _sync(self, say: Callable[[str], None]) -> int:
        from rag.index.build import build_index

        return build_index(self.index_dir, [self.uploads], self.embedder, say=say, progress=True).embedded_texts
