"""Reading, chunking and embedding the articles a build has decided to (re)index.

`rag.index.build` decides what changed and writes the index; a `Pipeline` turns the articles to index
into chunks and vectors. `LocalPipeline` does it in this process; `rag.index.distributed.RayPipeline`
runs the same `prepare` and the same embedder on a Ray cluster. Either way, a passage gets the same vector:
the MiniLM vectors do not depend on a passage's batch-mates (tests/model/test_ray_index.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from rag.embedders.minilm import Embedder
from rag.index.anchoring import date_chunks
from rag.index.chunking import Chunker, ChunkingSettings
from rag.index.sources import Skipped, SourceFile, read_article
from rag.types import Article, Chunk

EMBED_SLICE = 256  # passages per embedding call: progress granularity, and a bound on tokenizer memory


@dataclass(frozen=True)
class Work:
    """One article to (re)index: a whole file still to read (`source`), or a dump's row already read (`article`)."""

    slot: int  # its place in the build's plan, so results can come back in any order
    source: SourceFile | None = None
    article: Article | None = None


@dataclass(frozen=True)
class Prepared:
    """One piece of work read and chunked: the article without its text (the chunks hold it), or why it was skipped."""

    slot: int
    article: Article | Skipped
    chunks: tuple[Chunk, ...] = ()
    date_conflicts: int = 0


@dataclass(frozen=True)
class Indexed:
    """A prepared article and its chunks' vectors, one row per chunk."""

    prepared: Prepared
    vectors: np.ndarray


class Pipeline(Protocol):
    """Turns work into indexed articles; the result is in `work`'s order."""

    def run(self, work: Sequence[Work], say: Callable[[str], None], progress: bool) -> list[Indexed]: ...


def prepare(work: Work, chunker: Chunker) -> Prepared:
    """Read (a file) and chunk one article, dating each chunk's relative days at index time, not per question."""
    article = work.article if work.article is not None else read_article(work.source)
    if isinstance(article, Skipped):
        return Prepared(work.slot, article)
    chunks, conflicts = date_chunks(chunker.chunk(article))
    return Prepared(work.slot, replace(article, text="", pages=()), tuple(chunks), conflicts)


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk], say: Callable[[str], None] = lambda _: None,
                 progress: bool = False) -> np.ndarray:
    """Embed every chunk, longest first, in slices that drive the progress bar; rows in chunk order.

    Sorting the whole corpus by length (not only within each call) puts passages of similar length
    in the same batch, so little compute goes to padding.
    """
    out = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    if not chunks:
        return out
    say(f"embedding {len(chunks)} passages")
    order = sorted(range(len(chunks)), key=lambda i: -len(chunks[i].text))
    from tqdm import tqdm

    with tqdm(total=len(chunks), unit="passage", desc="embedding", disable=not progress) as bar:
        for start in range(0, len(order), EMBED_SLICE):
            rows = order[start : start + EMBED_SLICE]
            out[rows] = embedder.embed_documents([chunks[i].text for i in rows])
            bar.update(len(rows))
    return out


def split_rows(prepared: Sequence[Prepared], matrix: np.ndarray) -> list[Indexed]:
    """Hand each prepared article its rows of `matrix`, which holds every chunk's vector in order."""
    out, offset = [], 0
    for p in prepared:
        out.append(Indexed(p, matrix[offset : offset + len(p.chunks)]))
        offset += len(p.chunks)
    return out


class LocalPipeline:
    """Reads and chunks in order, then embeds every new passage in one sorted pass, in this process."""

    def __init__(self, embedder: Embedder, settings: ChunkingSettings):
        self.embedder = embedder
        self.settings = settings

    def run(self, work: Sequence[Work], say: Callable[[str], None], progress: bool) -> list[Indexed]:
        """Every piece of work read, chunked and embedded, in `work`'s order."""
        chunker = Chunker(self.embedder.count_tokens, self.settings)
        prepared = [prepare(w, chunker) for w in work]
        matrix = embed_chunks(self.embedder, [c for p in prepared for c in p.chunks], say, progress)
        return split_rows(prepared, matrix)
