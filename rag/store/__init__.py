"""The index on disk: its files and their format (`files`), the manifest (`manifest`) and the writer's lock.

Everything outside this package reads and writes an index through these names only.
"""

from rag.store.files import (
    CHUNKS,
    CURRENT,
    MANIFEST,
    RAW,
    SOURCES,
    VECTORS,
    Store,
    embedder_id,
    engine_collection,
    exists,
    load,
    rebuild_hint,
    recorded_engine,
    recorded_sources,
    save,
    save_to_engine,
    writer,
)
from rag.store.lock import index_lock
from rag.store.manifest import FORMAT_VERSION, ArticleEntry, EmbedderInfo, Manifest

__all__ = [
    "CHUNKS",
    "CURRENT",
    "FORMAT_VERSION",
    "MANIFEST",
    "RAW",
    "SOURCES",
    "VECTORS",
    "ArticleEntry",
    "EmbedderInfo",
    "Manifest",
    "Store",
    "embedder_id",
    "engine_collection",
    "exists",
    "index_lock",
    "load",
    "rebuild_hint",
    "recorded_engine",
    "recorded_sources",
    "save",
    "save_to_engine",
    "writer",
]
