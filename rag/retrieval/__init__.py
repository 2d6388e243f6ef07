"""Retrieval over a loaded store: the `Retriever` role and dense search (`hybrid` adds BM25; `window` dates)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rag.retrieval.window import DateWindow
from rag.types import Passage

if TYPE_CHECKING:  # annotations only: importing the package (for DateWindow) must not load numpy and FAISS's store
    from rag.embedders.minilm import Embedder
    from rag.store import Store


class Retriever(Protocol):
    """Returns the passages most relevant to a query, best first."""

    def retrieve(self, query: str, k: int) -> list[Passage]: ...


def within(retriever, window: DateWindow | None):
    """`retriever` inside another date window (its own `within`: store, embedder and indexes shared, nothing
    rebuilt), or `retriever` itself when no window is given."""
    return retriever if window is None else retriever.within(window)


class DenseRetriever:
    """Cosine similarity (inner product of normalised vectors) over the FAISS index, inside a date window if given."""

    def __init__(self, store: Store, embedder: Embedder, window: DateWindow | None = None):
        self.store = store
        self.embedder = embedder
        self.window = window or DateWindow()
        self._allowed = self.window.rows(store.chunks)  # once per loaded index

    def within(self, window: DateWindow) -> DenseRetriever:
        """The same search over the same store, inside `window`."""
        return DenseRetriever(self.store, self.embedder, window)

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Top-k passages for `query`, ranked 1..k."""
        hits = self.store.search(self.embedder.embed_query(query), k, self._allowed)
        return [Passage(self.store.chunks[row], score, rank) for rank, (row, score) in enumerate(hits, start=1)]
