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

    pieces: list[str] = []
    between = []  # text since the last kept marker, with dropped markers taken out
    last = 0
    for match in MARKER.finditer(answer):
        between.append(answer[last : match.start()])
        last = match.end()
        kept = []
        for raw in re.split(r"[,;]", match.group(1)):
            number = int(raw)
            if 1 <= number <= len(passages):
                kept.append(number)
                cited.setdefault(number, Citation(number, passages[number - 1]))
            else:
                warnings.append(f"dropped citation [{number}]: only {len(passages)} passages were shown")
        if kept:
            # taking markers out can join their neighbours into a new one (`[[7]1]` leaves `[1]`):
            # that is not a citation the model made, so it goes too
            pieces.append(_without_markers("".join(between)))
            pieces.append("".join(f"[{n}]" for n in kept))
            between = []
    between.append(answer[last:])
    pieces.append(_without_markers("".join(between)))
    text = "".join(pieces)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # no space left before punctuation
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return ParsedCitations(text, tuple(cited.values()), tuple(warnings))


def strip_markers(text: str) -> str:
    """The answer without any `[n]` markers (for term checks and scoring)."""
    text = re.sub(r"\s+([.,;:!?])", r"\1", _without_markers(text))
    return re.sub(r"\s+", " ", text).strip()


def _without_markers(text: str) -> str:
    """`text` with every marker removed, including any that removing one forms (`[1[2]]` -> `[1]` -> ``)."""
    while (removed := MARKER.sub("", text)) != text:
        text = removed
    return text
