"""Dense retrieval over a loaded store."""

from __future__ import annotations

from typing import Protocol

from rag.embedders.minilm import Embedder
from rag.store import Store
from rag.types import Passage


class Retriever(Protocol):
    """Returns the passages most relevant to a query, best first."""

    def retrieve(self, query: str, k: int) -> list[Passage]: ...


class DenseRetriever:
    """Cosine similarity (inner product of normalised vectors) over the FAISS index."""

    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Top-k passages for `query`, ranked 1..k."""
        hits = self.store.search(self.embedder.embed_query(query), k)
        return [Passage(self.store.chunks[row], score, rank) for rank, (row, score) in enumerate(hits, start=1)]
