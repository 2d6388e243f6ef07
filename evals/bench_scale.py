"""`rag bench scale`: FAISS flat, HNSW and IVF-PQ side by side as the corpus grows, through the store's own search.

Vectors: the real passages of the RealTime QA index (44k) and, beyond its size, copies of them with small
Gaussian noise, renormalised, so larger corpora keep the clustering of real news (copies are harder to tell
apart than real passages, so recall here is a lower bound). Queries: the benchmark's real questions, embedded
by the index's own embedder, searched one at a time as `rag ask` searches. For each size and index type it
reports build time, peak memory of the build, the memory a loaded index holds, disk size, query p50/p95 and
recall@10 against exact search.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

NOISE = 0.15  # total standard deviation of a copy's noise, spread over the dimensions


@dataclass(frozen=True)
class ScaleRow:
    """One index type at one corpus size."""

    kind: str
    vectors: int
    faiss_index: str
    build_s: float
    build_peak_mib: float  # peak resident memory the build added to the process (over the vectors it was given)
    index_mib: float  # what the loaded FAISS index holds in memory (its serialised size)
    disk_mib: float  # every file, the exact vectors beside a compressed index included
    load_s: float
    query_p50_ms: float  # warm: a second pass over the questions
    query_p95_ms: float
    # the first question of the first pass, with the exact vectors' file evicted from the page cache before it
    # (the kernel's read-around then warms the cache within some dozens of questions)
    cold_first_ms: float
    recall_at_10: float


def grow(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """`n` vectors: `base` first, then noisy renormalised copies of it."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    have = min(n, len(base))
    out[:have] = base[:have]
    while have < n:
        take = base[: min(len(base), n - have)]
        noisy = take + rng.normal(0, NOISE / np.sqrt(base.shape[1]), take.shape).astype(np.float32)
        out[have : have + len(take)] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
        have += len(take)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """The exact top-k rows per query (the ground truth recall is measured against)."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat.search(queries, k)[1]


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def measure(kind: str, vectors: np.ndarray, queries: np.ndarray, exact: np.ndarray, work: Path, k: int = 10) -> ScaleRow:
    """Write one index type over `vectors` with the store's own writer, read it back with its reader, and query it."""
    import faiss

    if kind == "milvus":
        return measure_milvus(vectors, queries, exact, work, k)

    from rag import store
    from rag.store import vector_index
    from rag.store.files import RAW, read_vectors, write_vectors

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    before = _status_mib("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    index, _ = write_vectors(work, vectors, vectors.shape[1], kind=kind)
    build_s = time.perf_counter() - started
    peak = _status_mib("VmHWM") - before
    index_mib = len(faiss.serialize_index(index)) / 2**20
    compressed = vector_index.is_compressed(index)
    del index
    if compressed:
        _evict(work / RAW)
    started = time.perf_counter()
    loaded, raw = read_vectors(work, compressed)
    load_s = time.perf_counter() - started
    searcher = store.Store(work, None, (), loaded, raw)  # no manifest or chunks: searching needs neither
    cold, found = _timed_searches(searcher, queries, k)
    warm, _ = _timed_searches(searcher, queries, k)
    recall = float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))
    disk = sum(p.stat().st_size for p in work.iterdir()) / 2**20
    row = ScaleRow(kind, len(vectors), vector_index.type_name(loaded), round(build_s, 1), round(peak),
                   round(index_mib, 1), round(disk), round(load_s, 2), round(statistics.median(warm), 2),
                   round(float(np.percentile(warm, 95)), 2), round(cold[0], 2), round(recall, 3))
    del searcher, loaded, raw
    shutil.rmtree(work, ignore_errors=True)
    return row


def measure_milvus(vectors: np.ndarray, queries: np.ndarray, exact: np.ndarray, work: Path, k: int = 10) -> ScaleRow:
    """The same for Milvus Lite, embedded in this process, through `rag.store.engine`: one collection written as
    `rag index --store milvus` writes it (FLAT below 200,000 passages, HNSW from there), then searched through
    the reader a loaded index uses. "In RAM" is what this process's resident memory grew by while the collection
    was loaded (Milvus Lite holds it in this process)."""
    from rag.store import engine

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    uri = str(work / "milvus.db")
    keys = [str(i) for i in range(len(vectors))]
    before = _status_mib("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    client = engine.connect(uri)
    name = engine.new_collection_name()
    engine.create_collection(client, uri, name, vectors.shape[1], len(vectors))
    engine.upsert(client, uri, name, keys, vectors)
    kind = engine.index_type(client, uri, name)
    client.close()
    build_s = time.perf_counter() - started
    peak = _status_mib("VmHWM") - before
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)  # load it again from disk, as a new process would
    resident = _status_mib("VmRSS")
    started = time.perf_counter()
    searcher = engine.open_vectors(uri, name, keys)
    load_s = time.perf_counter() - started
    cold, found = _timed_searches(searcher, queries, k)
    warm, _ = _timed_searches(searcher, queries, k)
    in_ram = _status_mib("VmRSS") - resident
    found_rows = [[int(keys[r]) for r in f] for f in found]
    recall = float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found_rows, exact, strict=True)]))
    disk = sum(p.stat().st_size for p in (work / "milvus.db").rglob("*") if p.is_file()) / 2**20
    row = ScaleRow("milvus", len(vectors), f"Milvus Lite {kind}", round(build_s, 1), round(peak), round(in_ram, 1),
                   round(disk), round(load_s, 2), round(statistics.median(warm), 2),
                   round(float(np.percentile(warm, 95)), 2), round(cold[0], 2), round(recall, 3))
    searcher.client.close()
    server_manager_instance.release_server(uri)
    shutil.rmtree(work, ignore_errors=True)
    return row


def _timed_searches(searcher, queries: np.ndarray, k: int) -> tuple[list[float], list[list[int]]]:
    """Milliseconds per single-query search through the store, and the rows each found."""
    times, found = [], []
    for q in queries:
        started = time.perf_counter()
        hits = searcher.search(q, k)
        times.append((time.perf_counter() - started) * 1000)
        found.append([row for row, _ in hits])
    return times, found


def _evict(path: Path) -> None:
    """Drop a file's pages from the page cache (written, synced, then advised away), so reads go to the disk."""
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run(base: np.ndarray, queries: np.ndarray, sizes: Sequence[int], kinds: Sequence[str], work: Path,
        on_row: Callable[[ScaleRow], None] = lambda _: None) -> list[ScaleRow]:
    """Every kind at every size; rows are handed to `on_row` as they are measured (a 2M HNSW takes minutes)."""
    rows = []
    for n in sizes:
        vectors = grow(base, n)
        exact = exact_top(vectors, queries)
        for kind in kinds:
            rows.append(measure(kind, vectors, queries, exact, work / f"{kind}-{n}"))
            on_row(rows[-1])
        del vectors
    return rows


# (title, width, format, field) of each printed column
COLUMNS = (("vectors", 9, "d", "vectors"), ("index", -14, "s", "faiss_index"), ("build s", 8, ".1f", "build_s"),
           ("build peak MiB", 15, ".0f", "build_peak_mib"), ("in RAM MiB", 11, ".1f", "index_mib"),
           ("disk MiB", 9, ".0f", "disk_mib"), ("load s", 7, ".2f", "load_s"), ("p50 ms", 7, ".2f", "query_p50_ms"),
           ("p95 ms", 7, ".2f", "query_p95_ms"), ("cold 1st ms", 12, ".2f", "cold_first_ms"),
           ("recall@10", 10, ".3f", "recall_at_10"))
RESYNC_COLUMNS = (("articles", 9, "d", "articles"), ("index", -14, "s", "faiss_index"),
                  ("embedded", 9, "d", "first_build_embedded"), ("first build s", 14, ".1f", "first_build_s"),
                  ("unchanged s", 12, ".1f", "unchanged_s"), ("embedded", 9, "d", "unchanged_embedded"),
                  ("one added s", 12, ".1f", "one_added_s"), ("embedded", 9, "d", "one_added_embedded"),
                  ("manifest MiB", 13, ".1f", "manifest_mib"))


def _align(width: int) -> str:
    return f"<{-width}" if width < 0 else f">{width}"


def header(columns=COLUMNS) -> str:
    """The printed table's header line."""
    return " ".join(f"{title:{_align(width)}}" for title, width, _, _ in columns)


def line(row: ScaleRow | ResyncRow, columns=COLUMNS) -> str:
    """One printed row of the table."""
    return " ".join(f"{getattr(row, name):{_align(width)}{fmt}}" for _, width, fmt, name in columns)


def as_dicts(rows: Sequence[ScaleRow | ResyncRow]) -> list[dict]:
    """The rows as JSON objects, for report.json."""
    return [asdict(r) for r in rows]


class SeededEmbedder:
    """For the re-sync benchmark only: each text's vector comes from a hash of it, with no model, so a million
    passages index in minutes and what a re-sync itself costs (reading, hashing, bookkeeping) is what is timed."""

    model_id = "bench/seeded-384"
    dim = 384
    max_tokens = 256

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """One seeded random unit vector per text."""
        return np.vstack([self.embed_query(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The text's vector (the same text always gets the same one)."""
        import zlib

        v = np.random.default_rng(zlib.crc32(text.encode())).normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def count_tokens(self, text: str) -> int:
        """Words, as a stand-in for tokens."""
        return len(text.split())


@dataclass(frozen=True)
class ResyncRow:
    """`rag index` over dumps of `articles` rows in all: the first build, an unchanged re-sync, one row added."""

    articles: int
    faiss_index: str
    first_build_embedded: int
    first_build_s: float
    unchanged_s: float
    unchanged_embedded: int
    one_added_s: float
    one_added_embedded: int
    manifest_mib: float


DUMP_ROWS = 10_000  # rows per dump file: an export split by day, so one added article re-reads one file


def resync(texts: Sequence[str], n: int, work: Path, say: Callable[[str], None] = lambda _: None,
           store_spec=None) -> ResyncRow:
    """Index JSONL dumps of `n` one-passage articles in all (real passage texts, cycled), then time re-syncs; the
    vectors go where `store_spec` (rag.store.engine.StoreSpec) says, FAISS files by default."""
    import json

    from rag import store
    from rag.index.build import build_index

    shutil.rmtree(work, ignore_errors=True)
    (work / "dump").mkdir(parents=True)
    for first in range(0, n, DUMP_ROWS):
        dump = work / "dump" / f"part-{first // DUMP_ROWS:05d}.jsonl"
        with dump.open("w", encoding="utf-8") as f:
            for i in range(first, min(n, first + DUMP_ROWS)):
                f.write(json.dumps({"id": f"a{i}", "title": f"Article {i}", "date": "2022-06-17",
                                    "text": f"{texts[i % len(texts)]} (item {i})"}) + "\n")
    embedder = SeededEmbedder()
    index_dir = work / "index"
    timed = []
    for step in ("first build", "unchanged re-sync", "one article added"):
        if step == "one article added":
            with dump.open("a", encoding="utf-8") as f:  # the last file: its other rows are re-read, not embedded
                f.write(json.dumps({"id": "added", "title": "Added", "date": "2022-06-18", "text": texts[0]}) + "\n")
        say(f"{n} articles: {step}")
        started = time.perf_counter()
        report = build_index(index_dir, [work / "dump"], embedder, progress=False, store_spec=store_spec)
        timed.append((time.perf_counter() - started, report.embedded_texts))
        for skipped in report.skipped:
            say(f"warning: skipped {skipped.path}: {skipped.reason}")
    manifest = store.load(index_dir, open_engine=False).manifest
    row = ResyncRow(n, manifest.faiss_index, timed[0][1], round(timed[0][0], 1), round(timed[1][0], 1), timed[1][1],
                    round(timed[2][0], 1), timed[2][1],
                    round((index_dir / "current" / "manifest.json").stat().st_size / 2**20, 1))
    shutil.rmtree(work, ignore_errors=True)
    return row
