"""Turn a model's draft into a checked answer: verified citations, or an abstention.

Rules, in order (each measured on the seed gold set; see README):
1. A draft that says it cannot answer is an abstention.
2. The answer must add something: terms beyond the words of the question.
3. Citation: markers the model wrote are kept when their passage contains the answer's new
   terms; otherwise the best-ranked shown passage that contains them is cited instead.
   No passage contains them -> abstain (the answer is not in the documents).
4. A "how many / how much" question needs a number in its answer.
5. The cited passage must mention what the question is about: all of its names and numbers
   (catches false premises such as "what did Musk tell Xi?" and questions about another year
   or place than the articles cover) and a share of its other topic words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.citations import parse_citations, strip_markers
from rag.grounding import Evidence, anchors, key_terms, stem, topic_terms
from rag.quarantine import model_view
from rag.types import Citation, Passage

# Phrases models use to decline, besides our own "Not in the documents."
DECLINE = re.compile(
    r"not in the (documents|passages)|(do|does|did) not (contain|state|mention|provide|say|include)"
    r"|no information|not (mentioned|provided|stated|specified)|(don't|do not|cannot) know|unable to (answer|determine)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")  # a year alone does not answer "how many"
_QUANTITY_QUESTION = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|"
                         r"thousand|million|billion|half|third|quarter)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """The checked answer text (with markers), its citations, or the reason for abstaining."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    warnings: tuple[str, ...]


def _abstain(*reasons: str) -> Verdict:
    return Verdict("", (), True, tuple(r for r in reasons if r))


def new_terms(answer: str, question: str) -> list[str]:
    """Key terms of the answer that the question does not already contain."""
    asked_terms = key_terms(question)
    asked = set(asked_terms) | {stem(t) for t in asked_terms}
    return [t for t in key_terms(answer) if t not in asked and stem(t) not in asked]


def _cite(text: str, numbers: list[int]) -> str:
    """Place the markers `[n]` before the final punctuation of `text`."""
    markers = "".join(f"[{n}]" for n in numbers)
    return re.sub(r"\s*([.!?]?)\s*$", lambda m: f" {markers}{m.group(1)}", text, count=1)


def verify(question: str, passages: list[Passage], draft: str, min_anchor_share: float = 1.0,
           min_topic_share: float = 0.5) -> Verdict:
    """Check `draft` against the passages shown to the model (numbered 1..n in order)."""
    if not draft.strip() or DECLINE.search(draft):
        return _abstain("the model found no answer in the passages")
    parsed = parse_citations(draft, passages)
    answer = strip_markers(parsed.text)
    terms = new_terms(answer, question)
    if not terms:
        return _abstain(*parsed.warnings, "the draft only repeated the question")
    if _QUANTITY_QUESTION.search(question) and not _HAS_NUMBER.search(_YEAR.sub(" ", answer)):
        return _abstain(*parsed.warnings, "withdrew an answer with no quantity to a how-many/how-much question")
    # support is judged on what the model was shown: a sentence cut as hostile (rag.quarantine) supports nothing
    evidence = [Evidence.of(f"{p.chunk.title} {model_view(p.chunk.text)[0]}") for p in passages]
    supporting = [i for i, ev in enumerate(evidence) if not ev.missing(terms)]
    if not supporting:
        closest = min(range(len(passages)), key=lambda i: len(evidence[i].missing(terms)))
        missing = ", ".join(evidence[closest].missing(terms))
        return _abstain(*parsed.warnings, f"withdrew an answer no passage supports (not found: {missing})")
    warnings = list(parsed.warnings)
    claimed = [c.marker - 1 for c in parsed.citations if c.marker - 1 in supporting]
    if parsed.citations and not claimed:
        warnings.append("the model cited a passage that does not contain its answer; cited the one that does")
    about = anchors(question)

    def anchor_share(i: int) -> float:
        return 1.0 - len(evidence[i].missing(about)) / len(about) if about else 1.0

    # Prefer what the model cited, then the passage that best matches the question, then rank.
    best = max(claimed or supporting, key=lambda i: (anchor_share(i), -i))
    if anchor_share(best) < min_anchor_share:
        lacking = ", ".join(evidence[best].missing(about))
        return _abstain(*warnings, f"withdrew an answer whose passage does not mention what was asked about ({lacking})")
    topic = topic_terms(question)
    topic_missing = evidence[best].missing(topic)
    if topic and 1.0 - len(topic_missing) / len(topic) < min_topic_share:
        lacking = ", ".join(topic_missing)
        return _abstain(*warnings, f"withdrew an answer whose passage is about something else (lacks: {lacking})")
    markers = sorted({best, *claimed})
    text = _cite(answer, [i + 1 for i in markers])
    citations = tuple(Citation(i + 1, passages[i]) for i in markers)
    return Verdict(text, citations, False, tuple(warnings))
