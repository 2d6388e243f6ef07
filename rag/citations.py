"""Parse `[n]` markers in an answer and resolve them to the passages shown to the model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.types import Citation, Passage

# [1], [1, 2], [1,2;3] — the forms small models produce.
MARKER = re.compile(r"\[(\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*)\]")


@dataclass(frozen=True)
class ParsedCitations:
    """The answer with unresolvable markers removed, what remains cited, and warnings."""

    text: str
    citations: tuple[Citation, ...]
    warnings: tuple[str, ...]


def parse_citations(answer: str, passages: list[Passage]) -> ParsedCitations:
    """Keep markers that name a passage shown to the model; drop and warn on the rest."""
    cited: dict[int, Citation] = {}
    warnings: list[str] = []

    def resolve(match: re.Match[str]) -> str:
        kept = []
        for raw in re.split(r"[,;]", match.group(1)):
            number = int(raw)
            if 1 <= number <= len(passages):
                kept.append(number)
                cited.setdefault(number, Citation(number, passages[number - 1]))
            else:
                warnings.append(f"dropped citation [{number}]: only {len(passages)} passages were shown")
        return "".join(f"[{n}]" for n in kept)

    text = MARKER.sub(resolve, answer)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # no space left before punctuation
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return ParsedCitations(text, tuple(cited.values()), tuple(warnings))


def strip_markers(text: str) -> str:
    """The answer without any `[n]` markers (for term checks and scoring)."""
    text = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text))
    return re.sub(r"\s+", " ", text).strip()
