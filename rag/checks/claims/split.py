"""Split an answer into claims: its sentences, cut again after a marker that ends a clause.

"Musk met Li Qiang [2] and Tesla signed with Baidu [1]." is two claims, each with the passage it
cites: markers belong to the words before them, so a sentence that cites two passages for two facts
is judged fact by fact. A sentence's leading markers ("… Li. [2] Tesla …") belong to the one before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.checks.citations import MARKER
from rag.sentences import split_sentences

_WORD = re.compile(r"\w")
_LEADING_JOINER = re.compile(r"^(?:[,;:]\s*)?(?:and|but|while|whereas|also)\b\s*", re.IGNORECASE)
_CLAUSE_START = re.compile(r"^\s*(?:[,;]\s*)?(?:and|but|while|whereas)\s+\w|^\s*;", re.IGNORECASE)


@dataclass(frozen=True)
class DraftClaim:
    """A claim as the model wrote it, before judging: its text (no markers) and the markers it carries."""

    text: str
    markers: tuple[int, ...]


def _markers(raw: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.split(r"[,;]", raw))


def _clean(text: str) -> str:
    text = _LEADING_JOINER.sub("", text.strip())
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip(" ,;:")


def split_claims(answer: str) -> list[DraftClaim]:
    """The claims of `answer`, whose markers have already been resolved (`rag.checks.citations.parse_citations`)."""
    sentences = [s.text for s in split_sentences(answer)]
    # a sentence that opens with markers: they close the sentence before
    for i in range(1, len(sentences)):
        lead = re.match(r"^(\s*\[[\d,;\s]+\])+", sentences[i])
        if lead:
            sentences[i - 1] += " " + lead.group(0).strip()
            sentences[i] = sentences[i][lead.end():]
    claims: list[DraftClaim] = []
    for sentence in sentences:
        claims.extend(_sentence_claims(sentence))
    return [c for c in claims if _WORD.search(c.text)]


def _sentence_claims(sentence: str) -> list[DraftClaim]:
    """Segments between markers; a segment that opens a new clause ("and Tesla …", "; Musk …") starts a new claim,
    any other ("… Baidu [1] on mapping [2]") continues the one before and adds its markers."""
    claims: list[tuple[str, list[int]]] = []
    last = 0
    for match in [*MARKER.finditer(sentence), None]:
        segment = sentence[last:match.start() if match else len(sentence)]
        markers = list(_markers(match.group(1))) if match else []
        if match:
            last = match.end()
        new_clause = not claims or _CLAUSE_START.match(segment)
        if new_clause and _WORD.search(segment):
            claims.append((segment, markers))
        elif claims:
            claims[-1] = (claims[-1][0] + segment, claims[-1][1] + markers)
    return [DraftClaim(_clean(text), tuple(dict.fromkeys(markers))) for text, markers in claims]
