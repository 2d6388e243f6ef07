"""Sentences of a text with their character offsets, by pysbd (rule-based, offline).

pysbd keeps a quotation with several sentences in it together ("Honored to meet … Shanghai days,"
Musk posted) and knows abbreviations and decimals, which is what attributing a quote needs."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    """`text == source[start:end]`, without the whitespace around it."""

    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


@functools.lru_cache(maxsize=8192)
def split_sentences(text: str) -> tuple[Sentence, ...]:
    """The sentences of `text` (cached: the same passages are checked for every claim)."""
    found = []
    cursor = 0
    for span in _segmenter().segment(text):
        # pysbd's spans include trailing whitespace; look each sentence up from the cursor so offsets stay exact
        body = span.sent.strip()
        if not body:
            continue
        start = text.find(body, cursor)
        if start < 0:  # pysbd changed the text (it should not with clean=False): keep its own span
            start, body = span.start, text[span.start:span.end].strip()
        found.append(Sentence(body, start, start + len(body)))
        cursor = start + len(body)
    return tuple(found)
