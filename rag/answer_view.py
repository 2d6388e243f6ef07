"""Answers as JSON objects and as text for the terminal."""

from __future__ import annotations

import re
import textwrap

from rag.checks.grounding import Evidence, key_terms
from rag.types import Answer, Claim, Passage

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*[\"'”’)]*")


def passage_dict(passage: Passage) -> dict:
    """The `retrieved` entry of a passage (`speaks_of`: the days it speaks of besides its published date)."""
    return {"doc_id": passage.chunk.article_id, "chunk_id": passage.chunk.id, "score": round(passage.score, 4),
            "speaks_of": list(passage.chunk.speaks_of)}


def date_text(published: str | None, speaks_of: tuple[str, ...]) -> str:
    """An article's date for people, with the days the passage speaks of: "2024-04-29, speaks of 2024-04-28"."""
    if not published:
        return ""
    return f"{published}, speaks of {', '.join(speaks_of)}" if speaks_of else published


def answer_dict(answer: Answer) -> dict:
    """The `rag ask --json` object (keys keep their meaning across versions)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {"marker": c.marker, "doc_id": c.passage.chunk.article_id, "chunk_id": c.passage.chunk.id,
             "title": c.passage.chunk.title, "text": c.passage.chunk.text, "score": round(c.passage.score, 4),
             "published": c.passage.chunk.published, "page": c.passage.chunk.page,
             "speaks_of": list(c.passage.chunk.speaks_of)}
            for c in answer.citations
        ],
        "retrieved": [passage_dict(p) for p in answer.passages],
        "model": answer.model,
        "warnings": list(answer.warnings),
        "draft": answer.draft,
        "timings_ms": answer.timings,
        "usage": answer.usage,
        "claims": [claim_dict(c) for c in answer.claims],
    }


def claim_dict(claim: Claim) -> dict:
    """A claim of `rag ask --json` (and `rag serve`): its verdict and the sentences that state it."""
    return {
        "text": claim.text,
        "markers": list(claim.markers),
        "supported": claim.supported,
        "score": claim.score,
        "support": [{"marker": s.marker, "doc_id": s.article_id, "chunk_id": s.chunk_id, "sentence": s.sentence,
                     "start": s.start, "end": s.end} for s in claim.support],
        "reason": claim.reason,
    }


def excerpt(text: str, width: int = 240) -> str:
    """A passage shortened for the terminal."""
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


def supporting_sentence(passage_text: str, answer_text: str, width: int = 240) -> str:
    """The sentence of a passage that holds most of the answer's terms (what the user should read)."""
    terms = key_terms(answer_text)
    sentences = [m.group().strip() for m in _SENTENCE.finditer(passage_text) if m.group().strip()]
    if not sentences or not terms:
        return excerpt(passage_text, width)
    best = max(sentences, key=lambda sent: len(terms) - len(Evidence.of(sent).missing(terms)))
    return excerpt(best, width)


def support_spans(answer: Answer, marker: int) -> list[tuple[int, int]]:
    """Offsets, within passage `marker`'s text, of the sentences that support the answer's claims there."""
    spans = []
    for claim in answer.claims:
        for s in claim.support if claim.supported else ():
            if s.marker == marker:
                chunk = answer.passages[marker - 1].chunk
                spans.append((s.start - chunk.start, s.end - chunk.start))
    return sorted(set(spans))


def sources_text(answer: Answer) -> str:
    """The cited sources under an answer (or, on abstention, the closest passages)."""
    lines = []
    if answer.abstained and answer.passages:
        lines.append("Closest passages (none states the answer):")
        for p in answer.passages[:3]:
            lines.append(f"  - {p.chunk.title} [{p.chunk.article_id}] {excerpt(p.chunk.text, 160)}")
    for c in answer.citations:
        chunk = c.passage.chunk
        date = f", {date_text(chunk.published, chunk.speaks_of)}" if chunk.published else ""
        page = f", p. {chunk.page}" if chunk.page else ""
        lines.append(f"[{c.marker}] {chunk.title} ({chunk.article_id}{date}{page})")
        spans = support_spans(answer, c.marker)
        quotes = [excerpt(chunk.text[a:b]) for a, b in spans] or [supporting_sentence(chunk.text, answer.text)]
        for quote in quotes:
            lines.append(textwrap.indent(textwrap.fill(f"“{quote}”", width=88), "    "))
    for warning in answer.warnings:
        lines.append(f"note: {warning}")
    return "\n".join(lines)
