"""The sentences a claim may be supported by: those of the shown passages that the model was shown too."""

from __future__ import annotations

from dataclasses import dataclass

from rag.checks.quarantine import INLINE_MARKER, model_view
from rag.sentences import split_sentences
from rag.types import Passage, Support


@dataclass(frozen=True)
class Source:
    """One sentence of a shown passage, with what a pronoun in it may refer to."""

    marker: int  # the passage's number in the prompt
    passage: Passage
    text: str
    start: int  # offsets in the chunk's text
    end: int
    previous: str  # the sentence before it in the same passage ("" for the first)

    def support(self) -> Support:
        """This sentence as the support of a claim, with offsets in the article."""
        chunk = self.passage.chunk
        return Support(self.marker, chunk.id, chunk.article_id, self.text, chunk.start + self.start, chunk.start + self.end)


def _unmarked(text: str) -> str:
    return " ".join(INLINE_MARKER.sub("", text).split())


def sources_of(passages: list[Passage]) -> list[Source]:
    """Every sentence of `passages` that survived quarantine (`rag.checks.quarantine`): a sentence the model was not
    shown, or shown only in part, supports nothing."""
    found = []
    for number, passage in enumerate(passages, start=1):
        view = _unmarked(model_view(passage.chunk.text)[0])
        previous = ""
        for sentence in split_sentences(passage.chunk.text):
            if _unmarked(sentence.text) in view:
                found.append(Source(number, passage, sentence.text, sentence.start, sentence.end, previous))
            previous = sentence.text
    return found
