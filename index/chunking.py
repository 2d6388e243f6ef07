"""Token-aware chunking on sentence and paragraph boundaries, with character offsets.

Every chunk is an exact slice of its article (`article.text[start:end] == chunk.text`),
never crosses articles, and is checked with the embedder's own tokenizer to fit its window.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from rag.types import Article, Chunk

# A sentence ends at . ! ? (or the CJK forms), optionally followed by closing quotes or
# brackets, then whitespace. Lines are paragraphs in scraped news, so newlines end spans too.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?。！？])[ \t]+|(?<=[.!?。！？][\"'”’)\]])[ \t]+|[ \t]*\n\s*")
_WORD = re.compile(r"\S+")
# Bump when the cutting logic changes, so `rag index` re-embeds instead of mixing old and new chunks.
CHUNKER_VERSION = 1


@dataclass(frozen=True)
class ChunkingSettings:
    """How articles are cut. Part of the index manifest: changing it means re-indexing."""

    max_tokens: int = 254  # MiniLM's 256-token window minus [CLS] and [SEP]
    target_tokens: int = 128  # tight passages keep the local model's prompt short
    overlap_tokens: int = 40  # about one sentence carried into the next chunk

    def to_dict(self) -> dict[str, int]:
        """Plain-dict form for the manifest, with the version of the cutting logic."""
        return {**asdict(self), "chunker_version": CHUNKER_VERSION}


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    opens_paragraph: bool


class Chunker:
    """Cuts articles into chunks whose token counts come from `count_tokens`."""

    def __init__(self, count_tokens: Callable[[str], int], settings: ChunkingSettings | None = None):
        self.count_tokens = count_tokens
        self.settings = settings or ChunkingSettings()
        if not 0 <= self.settings.overlap_tokens < self.settings.target_tokens <= self.settings.max_tokens:
            raise ValueError("chunking needs 0 <= overlap < target <= max tokens")

    def chunk(self, article: Article) -> list[Chunk]:
        """All chunks of `article`, in reading order."""
        units = self._units(article.text)
        spans = self._pack(article.text, units)
        return [
            Chunk(
                id=f"{article.id}:{ordinal}",
                article_id=article.id,
                ordinal=ordinal,
                text=article.text[start:end],
                start=start,
                end=end,
                title=article.title,
                published=article.published,
                page=bisect.bisect_right(article.pages, start) if article.pages else None,
            )
            for ordinal, (start, end) in enumerate(spans)
        ]

    def _units(self, text: str) -> list[_Unit]:
        """Sentences (split further when one alone overflows the window)."""
        units: list[_Unit] = []
        position = 0
        opens_paragraph = True
        for brk in [*_SENTENCE_BREAK.finditer(text), None]:
            end = brk.start() if brk else len(text)
            segment = text[position:end]
            stripped = segment.strip()
            if stripped:
                start = position + segment.index(stripped)
                for s, e in self._fit(text, start, start + len(stripped)):
                    units.append(_Unit(s, e, self.count_tokens(text[s:e]), opens_paragraph))
                    opens_paragraph = False
            if brk is None:
                break
            opens_paragraph = opens_paragraph or "\n" in brk.group()
            position = brk.end()
        return units

    def _fit(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Split [start, end) at word boundaries (characters as a last resort) to fit the window."""
        limit = self.settings.max_tokens
        if self.count_tokens(text[start:end]) <= limit:
            return [(start, end)]
        words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
        if len(words) == 1:  # one enormous "word": halve by characters until each half fits
            middle = (start + end) // 2
            return self._fit(text, start, middle) + self._fit(text, middle, end)
        middle = len(words) // 2
        return self._fit(text, words[0][0], words[middle - 1][1]) + self._fit(text, words[middle][0], words[-1][1])

    def _pack(self, text: str, units: list[_Unit]) -> list[tuple[int, int]]:
        """Greedily group units up to the target size, carrying a little overlap forward."""
        s = self.settings
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j, total = i + 1, units[i].tokens
            while j < len(units) and total + units[j].tokens <= s.target_tokens:
                # A paragraph break is a better place to stop once the chunk is substantial.
                if units[j].opens_paragraph and total >= s.target_tokens * 0.6:
                    break
                total += units[j].tokens
                j += 1
            # Sums of per-sentence counts can differ from the count of the joined text.
            while j - 1 > i and self.count_tokens(text[units[i].start : units[j - 1].end]) > s.max_tokens:
                j -= 1
            spans.append((units[i].start, units[j - 1].end))
            if j >= len(units):
                break
            k, back = j, 0
            while k - 1 > i and back + units[k - 1].tokens <= s.overlap_tokens:
                back += units[k - 1].tokens
                k -= 1
            i = k
        return spans
