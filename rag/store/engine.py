"""Vectors in Milvus instead of FAISS: the `--store milvus[:URI]` index, for corpora that outgrow one process.

What stays in the index folder: the manifest, `chunks.jsonl` and the generations, exactly as for FAISS. What
moves to the engine: the vectors, one row per passage in one collection, keyed by the passage's `key`
(`chunk id @ first 16 hex of its article's content hash`). A changed article therefore gets new keys, and an
unchanged one keeps its rows, so a re-sync upserts only new passages and deletes only retired ones.

The URI is Milvus's own: `http://HOST:19530` (a server or cluster; `MILVUS_TOKEN` from the environment when it
wants one) or a path ending in `.db` (Milvus Lite, embedded in this process). `milvus` alone is Milvus Lite in
`INDEX/milvus.db`, recorded relative to the index so the folder can move.

Crash safety, restated for a store that is not a file: `current` still names the generation that is the index,
and a reader maps the engine's hits through that generation's chunks, so rows the engine holds beyond it are
never shown. A build writes a journal (`.engine-journal.json`, synced) naming what it will insert and retire
before it touches the engine, inserts, flips `current`, retires, and removes the journal. The next writer
finishes a journal a killed build left: it deletes every row the journal names that the current generation does
not use, and drops a collection no generation uses. So a killed build leaves the old articles or the new ones.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from rag.errors import EngineError, InputError
from rag.net import connect_error
from rag.store.manifest import ArticleEntry
from rag.types import Chunk

LITE_DEFAULT = "milvus.db"  # `--store milvus`: Milvus Lite inside the index folder
KEY_LENGTH = 512  # VARCHAR primary key: an article id (a file name: at most 255 bytes), an ordinal and a hash
BATCH = 2_000  # rows per upsert, delete or get request: well inside Milvus's 64 MB message limit at 384-d
MAX_TOPK = 16_384  # Milvus's largest `limit`
EXACT_WITHIN = 50_000  # a date window of at most this many passages is scored exactly from its fetched vectors
HNSW_FROM = 200_000  # the same switch as FAISS's (rag.store.vector_index): exact FLAT search below it
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 100, 96  # FAISS's HNSW parameters, so the two compare
CONNECT_TIMEOUT = 10.0  # seconds


@dataclass(frozen=True)
class StoreSpec:
    """Where an index keeps its vectors: `faiss` files, or Milvus at `uri` (None: Lite in the index folder)."""

    kind: str = "faiss"
    uri: str | None = None

    def __str__(self) -> str:
        return self.kind if self.uri is None else f"{self.kind}:{self.uri}"

    def resolved_uri(self, index_dir: Path) -> str:
        """The URI to connect to: Milvus Lite's file is placed in (or relative to) the index folder."""
        uri = self.uri or LITE_DEFAULT
        return uri if "://" in uri else str((index_dir / uri).resolve())


def parse_store(text: str) -> StoreSpec:
    """`faiss`, `milvus`, `milvus:http://HOST:PORT` or `milvus:PATH.db`; anything else is an InputError."""
    kind, sep, uri = text.strip().partition(":")
    if kind == "faiss" and not sep:
        return StoreSpec()
    if kind != "milvus":
        raise InputError(f"--store {text}: use faiss, milvus, milvus:http://HOST:19530 or milvus:PATH.db")
    if not sep:
        return StoreSpec("milvus")
    if "://" in uri:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https", "tcp", "grpc") or not parts.hostname:
            raise InputError(f"--store {text}: a Milvus URI looks like http://HOST:19530")
        return StoreSpec("milvus", uri)
    if not uri.endswith(".db"):
        raise InputError(f"--store {text}: a Milvus Lite file name ends in .db (e.g. milvus:/data/news.db)")
    return StoreSpec("milvus", str(Path(uri).expanduser().resolve()))


def spec_of(recorded: str) -> StoreSpec:
    """The spec a manifest records (`store`), as written by `str(StoreSpec)`."""
    kind, sep, uri = recorded.partition(":")
    return StoreSpec(kind, uri if sep else None)


def passage_keys(chunks: Sequence[Chunk], articles: Mapping[str, ArticleEntry]) -> list[str]:
    """Each chunk's engine key; `articles` is the manifest's, which holds each article's content hash."""
    return [f"{c.id}@{articles[c.article_id].sha256[:16]}" for c in chunks]


def connect(uri: str):
    """A `pymilvus.MilvusClient` for `uri`, or an EngineError naming the URI in one line."""
    from pymilvus import MilvusClient

    if "://" in uri:
        _probe(uri)
    # Milvus Lite logs a whole traceback before pymilvus raises; the one line below says it
    lite_log = logging.getLogger("milvus_lite")
    level, lite_log.level = lite_log.level, logging.CRITICAL + 1
    try:
        return MilvusClient(uri=uri, token=os.environ.get("MILVUS_TOKEN", ""), timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors and OSError alike
        if "://" not in uri and _locked(Path(uri)):
            raise EngineError(f"Milvus Lite at {uri} is open in another process (Milvus Lite serves one process: "
                              f"for several, serve it with `milvus-lite server --data-dir {uri}` and index with "
                              f"--store milvus:http://127.0.0.1:19530)") from exc
        raise EngineError(f"cannot reach Milvus at {uri}: {_reason(exc)}") from exc
    finally:
        lite_log.level = level


def _locked(data_dir: Path) -> bool:
    """Whether another process holds Milvus Lite's lock on `data_dir`."""
    import fcntl

    try:
        with (data_dir / "LOCK").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _probe(uri: str) -> None:
    """Fail in seconds, not after gRPC's retries, when nothing listens at `uri`."""
    parts = urlsplit(uri)
    exc = connect_error(parts.hostname, parts.port or (443 if parts.scheme == "https" else 19530))
    if exc is not None:
        raise EngineError(f"cannot reach Milvus at {uri}: {exc.strerror or exc}".rstrip()) from exc


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return message.splitlines()[0].strip()


class MilvusVectors:
    """The vectors of one index's passages in one Milvus collection; rows are the loaded chunks' positions."""

    def __init__(self, client, uri: str, collection: str, keys: list[str], hint: str = "rag index --rebuild"):
        self.client = client
        self.uri = uri
        self.collection = collection
        self.keys = keys
        self.hint = hint  # the command that rebuilds the index, for a collection that lost rows
        self._rows = {key: row for row, key in enumerate(keys)}
        self._window: tuple[list[int], np.ndarray] | None = None  # the last date window's rows and vectors

    @property
    def ntotal(self) -> int:
        """Passages of the current generation (the collection may briefly hold more: see the module's notes)."""
        return len(self.keys)

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (row, inner product) among the current generation's rows, or among `allowed` rows only."""
        k = min(k, self.ntotal if allowed is None else len(allowed))
        if k <= 0:
            return []
        if allowed is not None and len(allowed) <= EXACT_WITHIN:
            return self._exact(query, k, allowed)
        admitted = set(allowed) if allowed is not None else None
        data = [np.asarray(query, np.float32).ravel().tolist()]
        limit = min(MAX_TOPK, 2 * k)
        while True:
            hits = self._call("search", lambda n=limit: self.client.search(
                self.collection, data=data, limit=n,
                output_fields=["key"], search_params={"params": {"ef": max(HNSW_EF_SEARCH, n)}})[0])
            # a hit the current chunks do not know is a row a running (or killed) build wrote: skip it
            rows = [(self._rows[h["key"]], float(h["distance"])) for h in hits if h["key"] in self._rows]
            rows = [(r, s) for r, s in rows if admitted is None or r in admitted]
            if len(rows) >= k or len(hits) < limit or limit == MAX_TOPK:
                break
            limit = min(MAX_TOPK, limit * 8)
        if len(rows) < k and allowed is not None:
            return self._exact(query, k, allowed)  # a narrow window in a wide corpus: score its rows directly
        return sorted(rows, key=lambda rs: (-rs[1], rs[0]))[:k]

    def _exact(self, query: np.ndarray, k: int, rows: list[int]) -> list[tuple[int, float]]:
        """Score `rows` exactly; their vectors are fetched once per window (a retriever keeps one window)."""
        if self._window is None or self._window[0] != rows:
            self._window = (list(rows), self.vectors(rows))
        scores = self._window[1] @ np.asarray(query, np.float32).ravel()
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(rows[i]), float(scores[i])) for i in best]

    def vectors(self, rows: list[int] | None = None) -> np.ndarray:
        """The stored vectors of `rows` (all rows when None), in that order."""
        keys = self.keys if rows is None else [self.keys[r] for r in rows]
        found: dict[str, list[float]] = {}
        for start in range(0, len(keys), BATCH):
            batch = keys[start:start + BATCH]
            got = self._call("read vectors from",
                             lambda b=batch: self.client.get(self.collection, ids=b, output_fields=["vector"]))
            found.update((row["key"], row["vector"]) for row in got)
        missing = [k for k in keys if k not in found]
        if missing:
            raise EngineError(f"Milvus at {self.uri} lacks {len(missing)} passage(s) of collection {self.collection} "
                              f"(e.g. {missing[0]}): rebuild the index with `{self.hint}`")
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.asarray([found[k] for k in keys], dtype=np.float32)

    def _call(self, what: str, call: Callable):
        return _with_errors(self.uri, f"{what} {self.collection}", call)


def index_type_for(n: int) -> str:
    """FLAT (exact) for a corpus below HNSW_FROM passages, HNSW from there, as for FAISS."""
    return "HNSW" if n >= HNSW_FROM else "FLAT"


def new_collection_name() -> str:
    """A name no other index's collection has (several indexes may share one Milvus)."""
    return f"rag_{uuid.uuid4().hex[:16]}"


def create_collection(client, uri: str, name: str, dim: int, n: int) -> None:
    """Collection `name` for `n` passages of `dim`-d vectors, with the index type their number calls for."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=KEY_LENGTH)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    _with_errors(uri, "create a collection", lambda: client.create_collection(
        name, schema=schema, index_params=_index_params(client, n), consistency_level="Strong"))


def _index_params(client, n: int):
    params = client.prepare_index_params()
    kind = index_type_for(n)
    extra = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION} if kind == "HNSW" else {}
    params.add_index(field_name="vector", index_type=kind, metric_type="IP", params=extra)
    return params


def index_type(client, uri: str, collection: str) -> str:
    """The collection's vector index type, as Milvus reports it."""
    return _with_errors(uri, "describe an index", lambda: client.describe_index(collection, "vector"))["index_type"]


def reindex_if_needed(client, uri: str, collection: str, n: int) -> None:
    """Switch the collection's index type when the corpus crossed HNSW_FROM (in either direction)."""
    if index_type(client, uri, collection) == index_type_for(n):
        return

    def swap() -> None:
        client.release_collection(collection)
        client.drop_index(collection, "vector")
        client.create_index(collection, _index_params(client, n))
        client.load_collection(collection)

    _with_errors(uri, "re-index", swap)


def upsert(client, uri: str, collection: str, keys: Sequence[str], vectors: np.ndarray,
           progress: Callable[[int], None] = lambda _: None) -> None:
    """Write `vectors` under `keys`, in batches; `progress` hears how many rows each batch held."""
    for start in range(0, len(keys), BATCH):
        rows = [{"key": key, "vector": vector.tolist()}
                for key, vector in zip(keys[start:start + BATCH], vectors[start:start + BATCH], strict=True)]
        _with_errors(uri, "upsert", lambda r=rows: client.upsert(collection, r))
        progress(len(rows))
    _with_errors(uri, "flush", lambda: client.flush(collection))


def delete(client, uri: str, collection: str, keys: Iterable[str]) -> None:
    """Remove the rows of `keys` (absent keys are no error)."""
    keys = list(keys)
    for start in range(0, len(keys), BATCH):
        _with_errors(uri, "delete", lambda b=keys[start:start + BATCH]: client.delete(collection, ids=b))
    if keys:
        _with_errors(uri, "flush", lambda: client.flush(collection))


def drop(client, uri: str, collection: str) -> None:
    """Drop `collection` if it exists."""
    if _with_errors(uri, "list collections", lambda: collection in client.list_collections()):
        _with_errors(uri, "drop a collection", lambda: client.drop_collection(collection))


def open_vectors(uri: str, collection: str, keys: list[str], hint: str = "rag index --rebuild") -> MilvusVectors:
    """The loaded index's vectors in Milvus; an EngineError when the engine or the collection is missing (`hint`:
    the command that rebuilds the index)."""
    client = connect(uri)
    if not _with_errors(uri, "list collections", lambda: client.has_collection(collection)):
        raise EngineError(f"Milvus at {uri} has no collection {collection} for this index: rebuild it with `{hint}`")
    _with_errors(uri, "load a collection", lambda: client.load_collection(collection))
    return MilvusVectors(client, uri, collection, keys, hint)


def _with_errors(uri: str, what: str, call: Callable):
    try:
        return call()
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"Milvus at {uri} failed to {what}: {_reason(exc)}") from exc


# --- the journal: what a build does to the engine before and after `current` flips ---------------------------------

@dataclass(frozen=True)
class Journal:
    """What one build does to the engine: rows it inserts into `collection` (new or reused), rows it retires from
    it, and a collection (`drop`, at `drop_uri`) that no generation uses once it has committed."""

    uri: str
    collection: str
    inserted: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    drop_uri: str | None = None
    drop: str | None = None

    def to_dict(self) -> dict:
        """The journal file's JSON form."""
        return {"uri": self.uri, "collection": self.collection, "inserted": list(self.inserted),
                "retired": list(self.retired), "drop_uri": self.drop_uri, "drop": self.drop}

    @classmethod
    def from_dict(cls, data: Mapping) -> Journal:
        """Read the JSON form; raises KeyError or TypeError when it is not a journal."""
        return cls(data["uri"], data["collection"], tuple(data["inserted"]), tuple(data["retired"]),
                   data.get("drop_uri"), data.get("drop"))


def settle(journal: Journal, live: tuple[str, str, set[str]] | None, say: Callable[[str], None]) -> None:
    """Do to the engine what is left of `journal`, given the current generation's (uri, collection, keys), or None
    when the current generation keeps its vectors in FAISS: delete the rows it names that are not in use, drop
    the collections no generation uses."""
    live_uri, live_collection, live_keys = live if live is not None else (None, None, set())
    client = connect(journal.uri)
    if (journal.uri, journal.collection) != (live_uri, live_collection):
        drop(client, journal.uri, journal.collection)  # a collection the killed build was filling
    else:
        stray = (set(journal.inserted) | set(journal.retired)) - live_keys
        if stray:
            say(f"removing {len(stray)} passage(s) an interrupted build left in Milvus")
        delete(client, journal.uri, journal.collection, sorted(stray))
    if journal.drop and (journal.drop_uri, journal.drop) != (live_uri, live_collection):
        drop(connect(journal.drop_uri), journal.drop_uri, journal.drop)
