"""Hybrid retrieval: BM25 (bm25s) and dense search fused by reciprocal rank, with a per-article cap.

BM25 catches the exact names and numbers a small embedding model blurs; dense search catches
paraphrases BM25 misses. Reciprocal rank fusion needs no score calibration between the two. The
passages keep their dense cosine similarity as `score`, so the assistant's abstention floor means
the same thing whichever retriever is used; only the order changes.
"""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np

from rag.embedders.minilm import Embedder
from rag.retrieval.window import DateWindow
from rag.store import Store
from rag.types import Passage

RRF_K = 60  # the usual constant from Cormack et al. (2009): damps the weight of the very first ranks


class HybridRetriever:
    """Dense + BM25 over one loaded store; the BM25 index is built in memory when constructed."""

    def __init__(self, store: Store, embedder: Embedder, pool: int = 30, per_article: int = 2, rrf_k: int = RRF_K,
                 window: DateWindow | None = None):
        import bm25s

        self.store = store
        self.embedder = embedder
        self._set_window(window or DateWindow())
        self.pool = pool  # candidates taken from each side before fusing
        self.per_article = per_article  # at most this many passages of one article, while others are left
        self.rrf_k = rrf_k
        texts = [f"{c.title}\n{c.text}" for c in store.chunks]
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def _set_window(self, window: DateWindow) -> None:
        self.window = window
        self._allowed = window.rows(self.store.chunks)
        self._admitted = set(self._allowed) if self._allowed is not None else None

    def within(self, window: DateWindow) -> HybridRetriever:
        """The same search inside `window`, sharing this one's BM25 index (building it again would cost seconds)."""
        narrowed = copy.copy(self)
        narrowed._set_window(window)
        return narrowed

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Top-k passages for `query` in fused order, ranked 1..k, each scored by its dense similarity."""
        vector = self.embedder.embed_query(query)
        n = len(self.store.chunks) if self._allowed is None else len(self._allowed)
        if n == 0:
            return []
        pool = min(self.pool, n)
        dense = self.store.search(vector, pool, self._allowed)
        fused: Counter[int] = Counter()
        for rank, (row, _) in enumerate(dense, start=1):
            fused[row] += 1.0 / (self.rrf_k + rank)
        for rank, row in enumerate(self._lexical(query, pool), start=1):
            fused[row] += 1.0 / (self.rrf_k + rank)
        order = sorted(fused, key=lambda row: (-fused[row], row))
        chosen = _cap_per_article(order, [self.store.chunks[r].article_id for r in order], self.per_article, k)
        similarity = self._similarities(vector, chosen, dict(dense))
        return [Passage(self.store.chunks[row], similarity[row], rank) for rank, row in enumerate(chosen, start=1)]

    def _lexical(self, query: str, pool: int) -> list[int]:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:  # only stopwords or symbols: BM25 has nothing to say
            return []
        if self._admitted is None:
            rows, scores = self._bm25.retrieve(tokens, k=pool, show_progress=False, n_threads=1)
            return [int(r) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
        # inside a date window: rank every passage, keep the first `pool` the window admits
        rows, scores = self._bm25.retrieve(tokens, k=len(self.store.chunks), show_progress=False, n_threads=1)
        return [int(r) for r, s in zip(rows[0], scores[0], strict=True) if s > 0 and int(r) in self._admitted][:pool]

    def _similarities(self, vector: np.ndarray, rows: list[int], known: dict[int, float]) -> dict[int, float]:
        """Dense cosine for every chosen row (BM25-only finds are scored from their stored vectors)."""
        missing = [r for r in rows if r not in known]
        if missing:
            stored = self.store.vectors(missing)
            known = {**known, **dict(zip(missing, (stored @ vector).tolist(), strict=True))}
        return {r: float(known[r]) for r in rows}


def _cap_per_article(order: list[int], articles: list[str], cap: int, k: int) -> list[int]:
    """The first k rows of `order`, taking at most `cap` per article unless too few others remain."""
    taken: list[int] = []
    per: Counter[str] = Counter()
    overflow: list[int] = []
    for row, article in zip(order, articles, strict=True):
        if len(taken) == k:
            break
        if per[article] < cap:
            taken.append(row)
            per[article] += 1
        else:
            overflow.append(row)
    for row in overflow:  # a corpus of one or two articles still fills k
        if len(taken) == k:
            break
        taken.append(row)
    return sorted(taken, key=order.index)
