"""The manifest: what an index says about itself, typed, and its JSON form in `manifest.json`.

Readers get attributes (`manifest.embedder.id`), never keys; only `to_dict` and `from_dict` know
the JSON names. A manifest that lacks a field or has the wrong shape is a damaged index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

FORMAT_VERSION = 1


@dataclass(frozen=True)
class EmbedderInfo:
    """The model the vectors come from: queries must be embedded by the same one."""

    id: str
    dim: int
    max_tokens: int
    normalized: bool = True


@dataclass(frozen=True)
class ArticleEntry:
    """One indexed article: where it came from, its content hash and how many passages it has.

    A dump's row has the hash of its own content in `sha256` and the hash of its file in `file_sha256`."""

    source: str
    sha256: str
    title: str
    published: str | None
    chunks: int
    file_sha256: str | None = None
    url: str | None = None
    # weekdays its text gives a full date for that is not the day computed from `published` (rag.index.anchoring):
    # a sign the published date is wrong (or the day is over a week away); the stated date is the one kept
    date_conflicts: int = 0


@dataclass(frozen=True)
class Manifest:
    """An index's self-description. `faiss_index` and `checksums` are filled in by `rag.store.save` (for an index
    whose vectors are in Milvus, `faiss_index` names the engine's index type instead, e.g. `Milvus FLAT`)."""

    created: str
    embedder: EmbedderInfo
    chunking: Mapping[str, Any]
    sources: tuple[str, ...]
    articles: Mapping[str, ArticleEntry]
    packages: Mapping[str, str] = field(default_factory=dict)
    metric: str = "inner_product"
    faiss_index: str = ""
    checksums: Mapping[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    fields: Mapping[str, str] = field(default_factory=dict)  # dumps' field names by role (`rag index --field`)
    # the rules that dated the chunks' `speaks_of` (rag.index.anchoring.DATES_VERSION); 0 before there were any,
    # so a re-sync re-dates the passages it keeps (cheaply, without re-embedding) when the rules change
    dates_version: int = 0
    # where the vectors live: `faiss` (files in the generation) or `milvus[:URI]` (rag.store.engine), and there the
    # collection that holds them
    store: str = "faiss"
    collection: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def passages(self) -> int:
        """How many passages (vectors) the index holds."""
        return sum(a.chunks for a in self.articles.values())

    def sealed(self, faiss_index: str, checksums: Mapping[str, str]) -> Manifest:
        """This manifest as written: with the vector index's type and the files' checksums."""
        return replace(self, faiss_index=faiss_index, checksums=checksums, format_version=FORMAT_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to `manifest.json` (and shown by `rag status --json`)."""
        return {"format_version": self.format_version, "created": self.created, "embedder": asdict(self.embedder),
                "metric": self.metric, "chunking": dict(self.chunking), "sources": list(self.sources),
                "articles": {k: asdict(a) for k, a in self.articles.items()}, "packages": dict(self.packages),
                "faiss_index": self.faiss_index, "checksums": dict(self.checksums), "fields": dict(self.fields),
                "dates_version": self.dates_version, "store": self.store, "collection": self.collection}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Read the JSON form; raises KeyError, TypeError or ValueError when it is not a manifest."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a manifest is an object, not {type(data).__name__}")
        return cls(created=str(data["created"]), embedder=EmbedderInfo(**data["embedder"]),
                   chunking=dict(data["chunking"]), sources=tuple(str(s) for s in data["sources"]),
                   articles={str(k): ArticleEntry(**a) for k, a in data["articles"].items()},
                   packages=dict(data.get("packages", {})), metric=str(data["metric"]),
                   faiss_index=str(data.get("faiss_index", "IndexFlatIP")), checksums=dict(data["checksums"]),
                   format_version=int(data["format_version"]), fields=dict(data.get("fields", {})),
                   dates_version=int(data.get("dates_version", 0)), store=str(data.get("store", "faiss")),
                   collection=str(data.get("collection", "")))
