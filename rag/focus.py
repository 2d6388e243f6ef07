"""Show the model only the sentences of the retrieved passages that bear on the question.

A passage is a window of about 128 tokens cut without regard to the question; most of its sentences
are about something else. The small models read prompts at 90-190 tokens/s, so every sentence shown
costs time to first token, and an off-topic sentence is one more place for a small model to pick its
answer from. `focus` keeps the `keep` sentences (over all passages) closest to the question by MiniLM
cosine, each with `window` neighbours on either side of it in its passage, so "since then" keeps the
sentence that names the year. Passages left with no sentence are not shown at all.

The checks still judge claims against the whole passages (`rag.checks.verify`): a sentence the model was not
shown is still in the article, and quoting (`rag.checks.claims.quotes`) may still use it as context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.checks.quarantine import model_view
from rag.embedders.minilm import Embedder
from rag.sentences import split_sentences
from rag.types import Passage

GAP = " … "  # marks sentences left out between two shown ones


@dataclass(frozen=True)
class Focused:
    """The passages to show, in retrieval order, and the text of each the model reads."""

    passages: tuple[Passage, ...]
    views: tuple[str, ...]


def focus(question: str, passages: list[Passage], embedder: Embedder, keep: int, window: int = 1) -> Focused:
    """The `keep` sentences closest to `question`, with `window` neighbours each, grouped by passage."""
    spans = [split_sentences(model_view(p.chunk.text)[0]) for p in passages]
    flat = [(i, j) for i, sentences in enumerate(spans) for j in range(len(sentences))]
    if not flat or keep <= 0:
        return Focused(tuple(passages), tuple(model_view(p.chunk.text)[0] for p in passages))
    texts = [spans[i][j].text for i, j in flat]
    vectors = embedder.embed_documents(texts)
    scores = vectors @ np.asarray(embedder.embed_query(question), dtype=np.float32)
    chosen: dict[int, set[int]] = {}
    for rank in np.argsort(-scores, kind="stable")[:keep]:
        i, j = flat[rank]
        chosen.setdefault(i, set()).update(range(max(0, j - window), min(len(spans[i]), j + window + 1)))
    shown, views = [], []
    for i, passage in enumerate(passages):
        if i in chosen:
            shown.append(passage)
            views.append(_join([spans[i][j].text for j in sorted(chosen[i])], sorted(chosen[i]), len(spans[i])))
    return Focused(tuple(shown), tuple(views))


def _join(texts: list[str], indices: list[int], total: int) -> str:
    """The chosen sentences in passage order, with GAP where sentences were left out."""
    out = GAP.strip() + " " if indices[0] > 0 else ""
    for n, (text, index) in enumerate(zip(texts, indices, strict=True)):
        if n:
            out += GAP if index > indices[n - 1] + 1 else " "
        out += text
    return out + (" " + GAP.strip() if indices[-1] < total - 1 else "")
