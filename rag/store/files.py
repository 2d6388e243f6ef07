"""The saved index's files: one owner for the on-disk format, used by both read and write paths.

Layout of an index folder:
    current -> gen-000007        symlink, swapped atomically when a build finishes
    gen-000007/manifest.json      self-description (format, embedder, chunking, sources,
                                  articles with content hashes, package versions, checksums)
    gen-000007/chunks.jsonl       one chunk per line, in vector order
    gen-000007/vectors.faiss      FAISS inner-product index over normalised vectors (flat, HNSW
                                  or, for the largest corpora, IVF-PQ codes: rag.store.vector_index)
    gen-000007/vectors.npy        only beside IVF-PQ: the exact float32 vectors, memory-mapped
    sources.json                  the article folders again, so `rag index --rebuild` still
                                  knows them when a manifest is damaged
    .engine-journal.json          only while a build writes vectors to Milvus (rag.store.engine)
    .lock                         held by `rag index` while it writes (rag.store.lock)
A build writes a new generation (synced, under a temporary name), then flips `current`,
so a crash at any point leaves the previous index loadable; what a killed build leaves
behind is removed by the next one. No pickle anywhere. An index built with `--store milvus` has no
vector files: its vectors are rows of a Milvus collection the manifest names (rag.store.engine).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, IndexMissingError
from rag.hashing import file_sha256
from rag.store import engine, vector_index
from rag.store.engine import Journal, MilvusVectors, StoreSpec, open_vectors, passage_keys, settle, spec_of
from rag.store.lock import index_lock
from rag.store.manifest import FORMAT_VERSION, Manifest
from rag.types import Chunk

MANIFEST, CHUNKS, VECTORS, CURRENT = "manifest.json", "chunks.jsonl", "vectors.faiss", "current"
SOURCES = "sources.json"
JOURNAL = ".engine-journal.json"  # while a build writes to Milvus: what it does there (rag.store.engine.Journal)
RAW = "vectors.npy"  # exact vectors beside a compressed index
EXACT_WITHIN = 50_000  # rows: a window of at most this many is searched exactly, not through the compressed index


def rebuild_hint(index_dir: Path) -> str:
    """The command that rebuilds an index from its recorded sources."""
    return f"rag index --rebuild --index {index_dir}"


@dataclass(frozen=True)
class Store:
    """A loaded index: manifest, chunks and their vectors (row i belongs to chunks[i]).

    `raw` holds the exact vectors, memory-mapped, when the FAISS index keeps only compressed codes. `engine`
    holds the vectors instead of FAISS when the index was built with `--store milvus` (then `faiss_index` is None).
    """

    path: Path
    manifest: Manifest
    chunks: tuple[Chunk, ...]
    faiss_index: object
    raw: np.ndarray | None = None
    engine: MilvusVectors | None = None

    def keys(self) -> list[str]:
        """Each row's key in a vector engine (rag.store.engine.passage_keys)."""
        return passage_keys(self.chunks, self.manifest.articles)

    def vectors(self, rows: list[int] | None = None) -> np.ndarray:
        """The stored vectors of `rows` (all rows when None), one per row, in that order."""
        if self.engine is not None:
            found = self.engine.vectors(rows)
            return found if len(found) else np.zeros((0, self.manifest.embedder.dim), np.float32)
        if self.raw is not None:
            return np.array(self.raw if rows is None else self.raw[np.asarray(rows, dtype=np.int64)], dtype=np.float32)
        if rows is None:
            n = self.faiss_index.ntotal
            return self.faiss_index.reconstruct_n(0, n) if n else np.zeros((0, self.manifest.embedder.dim), np.float32)
        if not rows:
            return np.zeros((0, self.manifest.embedder.dim), np.float32)
        return np.stack([self.faiss_index.reconstruct(int(r)) for r in rows])

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (row, inner product) pairs for one normalised query vector, among `allowed` rows only when given
        (FAISS skips the others while searching, so the k are the best of those rows)."""
        import faiss

        if self.engine is not None:
            return self.engine.search(query, k, allowed)
        k = min(k, self.faiss_index.ntotal if allowed is None else len(allowed))
        if k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if self.raw is not None:
            return self._search_compressed(query, k, allowed)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            hnsw = getattr(self.faiss_index, "hnsw", None)
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw.efSearch) if hnsw is not None \
                else faiss.SearchParameters(sel=selector)
        scores, rows = self.faiss_index.search(query, k, params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def _search_compressed(self, query: np.ndarray, k: int, allowed: list[int] | None) -> list[tuple[int, float]]:
        """Candidates from the codes, scored exactly from the vectors file; a small window is searched exactly."""
        import faiss

        if allowed is not None and len(allowed) <= EXACT_WITHIN:
            candidates = np.asarray(allowed, dtype=np.int64)
        else:
            params = faiss.SearchParametersIVF(nprobe=self.faiss_index.nprobe)
            if allowed is not None:
                params.sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            _, found = self.faiss_index.search(query, max(k, vector_index.RERANK), params=params)
            candidates = np.sort(found[0][found[0] >= 0])  # file order: fewer, more sequential page reads
        scores = np.asarray(self.raw[candidates], dtype=np.float32) @ query[0]
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(candidates[i]), float(scores[i])) for i in best]


def exists(index_dir: Path) -> bool:
    """Whether `index_dir` holds a (possibly damaged) index."""
    return (index_dir / CURRENT).exists() or (index_dir / CURRENT).is_symlink()


def load(index_dir: Path, expect_embedder: str | None = None, open_engine: bool = True) -> Store:
    """Load and verify an index; every failure names the command that repairs it.

    `open_engine=False` leaves a Milvus-backed index's engine unreached (`Store.engine` is None): for readers of
    its chunks and manifest only."""
    if not exists(index_dir):
        raise IndexMissingError(f"no index at {index_dir}: build one with `rag index PATH --index {index_dir}`")
    attempts = 0
    while True:
        gen = _current_generation(index_dir)
        try:
            return _load_generation(index_dir, gen, expect_embedder, open_engine)
        except IndexCorruptError:
            # A `rag index` that finished meanwhile may have switched `current` and removed the
            # generation being read: read the new one rather than call a healthy index corrupt.
            attempts += 1
            if attempts == 3 or _current_generation(index_dir) == gen:
                raise


def embedder_id(index_dir: Path) -> str | None:
    """The embedder an existing index was built with, or None when there is no readable index."""
    try:
        return json.loads((_current_generation(index_dir) / MANIFEST).read_text(encoding="utf-8"))["embedder"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recorded_sources(index_dir: Path) -> list[Path]:
    """Source folders of an index, readable even if its other files are damaged.

    The manifest names them; `sources.json` beside the generations keeps a copy for when the
    manifest itself is unreadable, so `rag index --rebuild --index DIR` can still repair it.
    """
    for path in (index_dir / CURRENT / MANIFEST, index_dir / SOURCES):
        try:
            return [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))["sources"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return []


def _current_generation(index_dir: Path) -> Path:
    """The folder `current` points at, resolved once so every file is read from one generation."""
    link = index_dir / CURRENT
    try:
        return index_dir / os.readlink(link)
    except OSError:
        return link  # not a symlink (e.g. an index copied without symlinks): read it as it is


def _load_generation(index_dir: Path, gen: Path, expect_embedder: str | None, open_engine: bool = True) -> Store:
    hint = rebuild_hint(index_dir)
    try:
        raw = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
        version = raw.get("format_version")  # a manifest that is not an object fails here (AttributeError)
        if version != FORMAT_VERSION:
            raise IndexCorruptError(
                f"index at {index_dir} has format {version!r}, this rag reads {FORMAT_VERSION}: rebuild it with `{hint}`")
        manifest = Manifest.from_dict(raw)
        compressed = vector_index.is_compressed(manifest.faiss_index)
        in_engine = manifest.store != "faiss"
        for name in (CHUNKS,) if in_engine else (CHUNKS, VECTORS, RAW) if compressed else (CHUNKS, VECTORS):
            if file_sha256(gen / name) != manifest.checksums.get(name):
                raise IndexCorruptError(f"index at {index_dir} is corrupt ({name} fails its checksum): rebuild it with `{hint}`")
        # the decoder called directly: json.loads' own checks cost a third of loading a million chunks, and the
        # file's checksum has already vouched for every line
        decode = json.JSONDecoder().raw_decode
        with (gen / CHUNKS).open(encoding="utf-8") as f:
            chunks = tuple(Chunk(**decode(line)[0]) for line in f)
        index, exact, keys = (None, None, passage_keys(chunks, manifest.articles)) if in_engine \
            else (*read_vectors(gen, compressed), None)
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        raise IndexCorruptError(f"index at {index_dir} cannot be read ({type(exc).__name__}): rebuild it with `{hint}`") from exc
    if not in_engine and (index.ntotal != len(chunks) or index.d != manifest.embedder.dim or (
            exact is not None and (exact.shape != (len(chunks), index.d) or exact.dtype != np.float32))):
        raise IndexCorruptError(f"index at {index_dir} is inconsistent (vectors and chunks differ): rebuild it with `{hint}`")
    if expect_embedder and manifest.embedder.id != expect_embedder:
        raise IndexCorruptError(
            f"index at {index_dir} was built with {manifest.embedder.id}, not {expect_embedder}: rebuild it with `{hint}`")
    engine = None
    if in_engine and open_engine:  # the engine is reached only once the files check out
        engine = open_vectors(spec_of(manifest.store).resolved_uri(index_dir), manifest.collection, keys, hint)
    return Store(index_dir, manifest, chunks, index, exact, engine)


@contextlib.contextmanager
def writer(index_dir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Be the index's one writer: hold its lock, and first clear what killed writers left behind."""
    with index_lock(index_dir, on_wait):
        _remove_stale(index_dir)
        _settle_engine(index_dir, on_wait)
        yield


def _settle_engine(index_dir: Path, say: Callable[[str], None]) -> None:
    """Finish what a killed build left in a vector engine (rag.store.engine's journal), against `current`."""
    if not (index_dir / JOURNAL).exists():
        return
    try:
        current = load(index_dir, open_engine=False)
    except (IndexMissingError, IndexCorruptError):
        current = None  # nothing usable to keep: whatever the journal names is not in use
    finish_journal(index_dir, _live(current), say)


def write_journal(index_dir: Path, journal: Journal) -> None:
    """Record what a build will do to an engine, durably, before it touches the engine."""
    _replace_synced(index_dir / JOURNAL, json.dumps(journal.to_dict()))


def finish_journal(index_dir: Path, live: tuple[str, str, set[str]] | None, say: Callable[[str], None]) -> None:
    """Settle the journal a build left (rag.store.engine.settle), then remove it. `live` is the current
    generation's (uri, collection, keys), or None when its vectors are FAISS files. An unreadable journal was
    never completed (it is replaced atomically), so there is nothing to settle."""
    try:
        journal = Journal.from_dict(json.loads((index_dir / JOURNAL).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        journal = None
    if journal is not None:
        settle(journal, live, say)
    (index_dir / JOURNAL).unlink(missing_ok=True)


def _live(current: Store | None) -> tuple[str, str, set[str]] | None:
    """The engine, collection and keys a loaded index uses, or None when its vectors are FAISS files."""
    collection = engine_collection(current.manifest, current.path) if current is not None else None
    return (*collection, set(current.keys())) if collection else None


def engine_collection(manifest: Manifest, index_dir: Path) -> tuple[str, str] | None:
    """The (uri, collection) an index's manifest keeps its vectors in, or None for FAISS files."""
    if manifest.store == "faiss" or not manifest.collection:
        return None
    return spec_of(manifest.store).resolved_uri(index_dir), manifest.collection


def recorded_engine(index_dir: Path) -> tuple[StoreSpec, tuple[str, str] | None] | None:
    """Where the current index keeps its vectors, and its collection if in an engine, read from the manifest alone
    (for a build that cannot load the index: a rebuild, or a damaged one); None when there is no manifest."""
    try:
        raw = json.loads((_current_generation(index_dir) / MANIFEST).read_text(encoding="utf-8"))
        spec = spec_of(str(raw.get("store", "faiss")))
        collection = str(raw.get("collection", ""))
    except (OSError, ValueError, AttributeError):
        return None
    return spec, ((spec.resolved_uri(index_dir), collection) if spec.kind != "faiss" and collection else None)


def save_to_engine(index_dir: Path, spec: StoreSpec, manifest: Manifest, chunks: list[Chunk], fresh: list[int],
                   vectors: np.ndarray, reuse: Store | None, drop: tuple[str, str] | None = None,
                   say: Callable[[str], None] = lambda _: None, progress: bool = False) -> Path:
    """Write a generation whose vectors are in Milvus; returns its folder.

    `fresh` are the rows of `chunks` to write, with `vectors` in that order. With `reuse` (the previous index, in
    the same engine and place) the rows it holds stay and only the retired ones are deleted; without it, every row
    is fresh and goes to a new collection, and `drop` (the (uri, collection) the index used before) is dropped once
    this one is `current`. Callers are inside `writer(index_dir)`. See rag.store.engine for the journal that makes
    this safe."""
    from tqdm import tqdm

    uri = spec.resolved_uri(index_dir)
    keys = passage_keys(chunks, manifest.articles)
    client = engine.connect(uri)
    inserted = [keys[row] for row in fresh]
    if reuse is not None:
        collection, retired = reuse.manifest.collection, sorted(set(reuse.keys()) - set(keys))
        journal = Journal(uri, collection, tuple(inserted), tuple(retired))
    else:  # a new collection is dropped whole if this build dies before it is current: no keys to list
        collection = engine.new_collection_name()
        journal = Journal(uri, collection, (), (), *(drop or (None, None)))
    index_dir.mkdir(parents=True, exist_ok=True)
    write_journal(index_dir, journal)
    if reuse is None:
        engine.create_collection(client, uri, collection, manifest.embedder.dim, len(keys))
    if inserted:
        say(f"writing {len(inserted)} vectors to Milvus at {uri}")
    with tqdm(total=len(inserted), unit="passage", desc="writing to Milvus", disable=not progress or not inserted) as bar:
        engine.upsert(client, uri, collection, inserted, vectors, bar.update)
    engine.reindex_if_needed(client, uri, collection, len(keys))
    kind = engine.index_type(client, uri, collection)
    generation = save(index_dir, replace(manifest, store=str(spec), collection=collection, faiss_index=f"Milvus {kind}"),
                      chunks, None)
    finish_journal(index_dir, (uri, collection, set(keys)), say)  # retire, drop: as recovery would
    return generation


def save(index_dir: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray | None, trained=None,
         drop: tuple[str, str] | None = None) -> Path:
    """Write a new generation, atomically point `current` at it, then remove the generation it replaced;
    returns the new generation's folder.

    Callers are inside `writer(index_dir)`: one writer at a time, starting from a clean folder.
    `trained` is the previous FAISS index: a compressed one that still fits is refilled, not retrained.
    `vectors` is None for an index whose vectors are already in an engine (`save_to_engine`): no FAISS files.
    `drop` is the (uri, collection) an index that kept its vectors in an engine used: dropped once this is `current`.
    """
    if drop is not None:
        write_journal(index_dir, Journal(*drop, drop_uri=drop[0], drop=drop[1]))
    index_dir.mkdir(parents=True, exist_ok=True)
    replaced = _current_generation(index_dir) if (index_dir / CURRENT).is_symlink() else None
    generation = _next_generation(index_dir)
    tmp = index_dir / f".{generation}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    if vectors is None:
        type_name, written = manifest.faiss_index, []
    else:
        vectors_index, written = write_vectors(tmp, vectors, manifest.embedder.dim, trained=trained)
        type_name = vector_index.type_name(vectors_index)
        manifest = replace(manifest, store="faiss", collection="")
    files = [CHUNKS, *written]
    with (tmp / CHUNKS).open("w", encoding="utf-8") as f:
        for chunk in chunks:
            f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    manifest = manifest.sealed(type_name, {name: file_sha256(tmp / name) for name in files})
    _write_synced(tmp / MANIFEST, json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False))
    for name in files:
        _fsync(tmp / name)
    _fsync(tmp)  # the folder's entries for its files
    os.rename(tmp, index_dir / generation)
    # before the switch, so a folder being added is never forgotten (a rebuild may include it early)
    _replace_synced(index_dir / SOURCES, json.dumps({"sources": list(manifest.sources)}, indent=2, ensure_ascii=False))
    _fsync(index_dir)  # both renames are on disk before anything points at them
    link = index_dir / f".{CURRENT}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(generation)
    os.replace(link, index_dir / CURRENT)  # the commit point
    _fsync(index_dir)  # make the new `current` link itself durable
    if replaced is not None and replaced.name != generation:
        shutil.rmtree(replaced, ignore_errors=True)  # a reader that opened it retries on the new one (load)
    if drop is not None:
        finish_journal(index_dir, None, lambda _: None)  # drop the collection no generation uses now
    return index_dir / generation


def write_vectors(folder: Path, vectors: np.ndarray, dim: int, trained=None, kind: str | None = None):
    """Build the FAISS index `vectors` call for (or `kind`) and write it into `folder`, with the exact vectors beside
    a compressed one; returns the index and the names of the files written (not yet synced)."""
    import faiss

    index = vector_index.build(vectors, dim, trained=trained, kind=kind)
    faiss.write_index(index, str(folder / VECTORS))
    if not vector_index.is_compressed(index):
        return index, [VECTORS]
    np.save(folder / RAW, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    return index, [VECTORS, RAW]


def read_vectors(folder: Path, compressed: bool):
    """The FAISS index in `folder` and, beside a compressed one, its exact vectors memory-mapped (else None)."""
    import faiss

    index = faiss.read_index(str(folder / VECTORS))
    return index, np.load(folder / RAW, mmap_mode="r", allow_pickle=False) if compressed else None


def _remove_stale(index_dir: Path) -> None:
    """Remove what killed builds leave: temporary folders and links, generations `current` does not name.

    Only for the holder of the index lock (`writer`); readers never look at any of these.
    """
    if not index_dir.is_dir():
        return
    link = index_dir / CURRENT
    keep = link.resolve() if link.is_symlink() and link.is_dir() else None
    temporary = {f".{CURRENT}.tmp", f".{SOURCES}.tmp", f".{JOURNAL}.tmp"}
    for path in index_dir.iterdir():
        if path.name in temporary or (path.name.startswith(".gen-") and path.name.endswith(".tmp")):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        elif keep is not None and path.name.startswith("gen-") and not path.is_symlink() and path.resolve() != keep:
            shutil.rmtree(path, ignore_errors=True)


def _next_generation(index_dir: Path) -> str:
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _replace_synced(path: Path, text: str) -> None:
    """Replace a small file atomically: write and sync a temporary copy, then rename it over."""
    tmp = path.with_name(f".{path.name}.tmp")
    _write_synced(tmp, text)
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
