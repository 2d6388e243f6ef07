"""Questions about the present ("What is the latest on…", "… this week?") answered from the newest articles.

An archive holds many stories on one subject, and for "what is Tesla's current plan" the newest one that
bears on it is the answer; similarity alone ranks a detailed old story first. So for a question that asks
for the latest or current state (`asks_for_latest`), `RecentFirst` fetches a wider pool from the retriever
it wraps and ranks it by similarity plus a freshness bonus, `weight * 0.5 ** (age / half_life)`, where age
is the days between an article's date and the reference day: the window's last day (`--as-of`, `--until`),
else the newest article in the pool. An undated article gets no bonus. Every other question keeps the
wrapped retriever's ranking, and each passage keeps its own similarity as its score, so the score floor
and the shown scores mean what they meant.

An answer to such a question depends on when it was true, so it names the date of its newest cited
article: "As of 2024-04-28: …" (`as_of_prefix`; a colon, so what follows keeps its capital). Evals
compare the answer without it (`without_as_of`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from rag.retrieval.window import DateWindow
from rag.types import Citation, Passage

# the words of a question about the present state; "new" alone is left out ("a new season" is a fact, not a time)
_LATEST = re.compile(r"\b(latest|most recent(?:ly)?|newest|recent(?:ly)?|current(?:ly)?|now|nowadays|today|"
                     r"this (?:week|month|year)|so far|to date|as things stand|still|yet|any more|anymore)\b",
                     re.IGNORECASE)
POOL = 3  # a recency question ranks this many times k candidates
_AS_OF = re.compile(r"^As of \d{4}-\d{2}-\d{2}: ")


def asks_for_latest(question: str) -> bool:
    """Whether `question` asks for the latest or current state of something."""
    return bool(_LATEST.search(question))


def freshness(published: str | None, reference: date, half_life: float) -> float:
    """1 for an article of the reference day, halving every `half_life` days before it; 0 when undated.

    An article dated after the reference day (only possible when no window set it) counts as of the day."""
    if published is None:
        return 0.0
    age = max((reference - date.fromisoformat(published)).days, 0)
    return 0.5 ** (age / half_life)


def prefer_recent(pool: list[Passage], k: int, weight: float, half_life: float,
                  reference: date | None = None) -> list[Passage]:
    """The best `k` of `pool` by similarity plus `weight` times freshness, ranked 1..k, scores unchanged."""
    dated = [date.fromisoformat(p.chunk.published) for p in pool if p.chunk.published]
    if not dated or weight <= 0:
        return pool[:k]
    day = reference or max(dated)
    ranked = sorted(pool, key=lambda p: (-(p.score + weight * freshness(p.chunk.published, day, half_life)), p.rank))
    return [replace(p, rank=rank) for rank, p in enumerate(ranked[:k], start=1)]


class RecentFirst:
    """A retriever whose answers to questions about the present come from the newest passages that bear on them."""

    def __init__(self, inner, weight: float, half_life: float):
        self.inner = inner
        self.weight = weight
        self.half_life = half_life

    @property
    def store(self):
        """The wrapped retriever's store."""
        return self.inner.store

    @property
    def embedder(self):
        """The wrapped retriever's embedder (the claim judge and the UI reuse it)."""
        return self.inner.embedder

    @property
    def window(self) -> DateWindow:
        """The wrapped retriever's date window."""
        return self.inner.window

    def within(self, window: DateWindow) -> RecentFirst:
        """The same ranking inside `window`."""
        return RecentFirst(self.inner.within(window), self.weight, self.half_life)

    def retrieve(self, query: str, k: int) -> list[Passage]:
        """Top-k passages; for a question about the present, fresher ones first among those that bear on it."""
        if self.weight <= 0 or not asks_for_latest(query):
            return self.inner.retrieve(query, k)
        pool = self.inner.retrieve(query, k * POOL)
        return prefer_recent(pool, k, self.weight, self.half_life, self.window.until)


def as_of_prefix(text: str, citations: tuple[Citation, ...]) -> str:
    """`text` opened by the date of its newest cited article ("As of 2024-04-28: …"); unchanged when none is dated."""
    dates = [c.passage.chunk.published for c in citations if c.passage.chunk.published]
    if not dates or _AS_OF.match(text):
        return text
    return f"As of {max(dates)}: {text}"


def without_as_of(text: str) -> str:
    """An answer without the date `as_of_prefix` opened it with."""
    return _AS_OF.sub("", text, count=1)
