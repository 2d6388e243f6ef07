"""The abstention: the one sentence a user sees when the articles do not answer, and how to recognise it.

Every check that abstains says this sentence; every place that must know an abstention when it sees one
(a follow-up after it, an article that quotes it to the model, a model that declines in its own words)
asks this module rather than matching the text itself.
"""

from __future__ import annotations

import re

from rag.checks.citations import strip_markers

NOT_IN_DOCUMENTS = "Not in the documents."
_PHRASE = NOT_IN_DOCUMENTS.rstrip(".").lower()

# How models decline in their own words, besides our sentence
DECLINE = re.compile(
    r"not in the (documents|passages)|(do|does|did) not (contain|state|mention|provide|say|include)"
    r"|no information|not (mentioned|provided|stated|specified)|(don't|do not|cannot) know|unable to (answer|determine)",
    re.IGNORECASE,
)


def is_abstention(answer: str) -> bool:
    """Whether an answer text (markers and all) is our abstention, e.g. one a client sends back in a conversation."""
    return strip_markers(answer).strip() == NOT_IN_DOCUMENTS


def says_abstention(text: str) -> bool:
    """Whether `text` contains our abstention phrase anywhere: an article sentence that does is quarantined,
    since a model shown it may repeat it as the answer."""
    return _PHRASE in text.lower()


def declines(text: str) -> bool:
    """Whether a model's sentence declines to answer, in our words or its own."""
    return bool(DECLINE.search(text))


def floor_reason(best_score: float | None, floor: float) -> str | None:
    """Why no passage is on topic (the best retrieval score is below the floor), or None when one is."""
    if best_score is not None and best_score >= floor:
        return None
    best = f"{best_score:.2f}" if best_score is not None else "none"
    return f"no passage is close enough to the question (best score {best} < {floor})"
