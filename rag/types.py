"""Core data types shared by the read path (`rag`) and the write path (`index`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One source document. `id` is the file name without its extension (a dump's rows: FILE-KEY)."""

    id: str
    title: str
    text: str
    source: str
    published: str | None = None  # ISO date (YYYY-MM-DD) from the file's metadata or its text
    url: str | None = None  # the page's canonical URL, a feed entry's or a dump row's link
    pages: tuple[int, ...] = ()  # PDFs: the offset in `text` where each page starts


@dataclass(frozen=True)
class Chunk:
    """A span of an article: `article.text[start:end] == text`."""

    id: str
    article_id: str
    ordinal: int
    text: str
    start: int
    end: int
    title: str
    published: str | None = None
    page: int | None = None  # PDFs: the page the chunk starts on, from 1
    # ISO days the passage speaks of other than `published` ("yesterday", "on Sunday"), sorted; a passage can
    # name several ("arrived on Tuesday ... met on Wednesday"), so a tuple. Filled in at index time by
    # rag.index.anchoring; empty in indexes saved before it, and for articles without a date.
    speaks_of: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # chunks.jsonl gives a list: keep the field a tuple, so loaded chunks equal the ones that were saved
        if not isinstance(self.speaks_of, tuple):
            object.__setattr__(self, "speaks_of", tuple(self.speaks_of))


@dataclass(frozen=True)
class Passage:
    """A chunk returned by retrieval, with its similarity score and 1-based rank."""

    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class Citation:
    """An `[n]` marker in an answer and the passage it points to."""

    marker: int
    passage: Passage


@dataclass(frozen=True)
class Support:
    """A sentence of a shown passage that states (part of) a claim."""

    marker: int  # the passage's number in the prompt, 1-based
    chunk_id: str
    article_id: str
    sentence: str
    start: int  # offsets of `sentence` in the article's text
    end: int


@dataclass(frozen=True)
class Claim:
    """One statement of an answer (a sentence, or the part of one before a marker) and its verdict."""

    text: str  # without markers
    markers: tuple[int, ...]  # the passages it cites after the checks (for a removed claim: what the model cited)
    supported: bool
    score: float  # the judge's support score, 0..1
    support: tuple[Support, ...] = ()  # the sentences that state it (one, or two joined)
    reason: str = ""  # why it is unsupported


@dataclass(frozen=True)
class Answer:
    """The checked result of asking one question."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]  # every passage shown to the model, in rank order
    model: str
    abstained: bool
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds
    draft: str = ""  # the model's raw output before checks, for debugging and evals
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens (model's tokenizer)
    claims: tuple[Claim, ...] = ()  # every claim of the draft, supported or removed
