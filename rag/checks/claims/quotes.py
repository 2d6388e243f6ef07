"""Answers in the articles' own words: each checked sentence claim replaced by the sentences that support it.

A small model asked to extract copies or paraphrases a sentence when the question wants more than a
name ("What happened…", "Why…"). Its paraphrase is where it goes wrong (a subject swapped, a reason
invented), and one sentence rarely holds a complete answer. So with the setting `quote`, once the claims
are checked (`rag.checks.verify`), the answer becomes the sentences that support its claims, then the sentences
near them (two either side, in the same passage) nearest the question by MiniLM cosine, up to three, where their
cosine with it is at least 0.35; then,
up to four in all, the sentences of any shown passage nearest the question, where their cosine with it is at
least 0.6 (a list or a two-article question has its facts in several passages). Only full sentences of the
story are added (no headline, photo caption, byline, newsletter plug or request for comment), passage by passage
in the order they stand in the article. Every quoted sentence is a claim supported by itself. A short
extraction ("Baidu") stays as it is: the sentence behind it is already shown with its source.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.checks.claims.align import FRAGMENT_WORDS
from rag.checks.claims.sources import Source, sources_of
from rag.checks.grounding import _TOKEN
from rag.embedders.minilm import Embedder
from rag.types import Citation, Claim, Passage

if TYPE_CHECKING:
    from rag.checks.verify import Verdict

MAX_QUOTED = 3  # sentences from the supporting passages, as many as the sentences style asks of a model
# sentences in all once the other shown passages add theirs, and the cosine with the question they need. On the
# open gold file's 0.5B drafts (scripts/reverify.py --quotes), adding from other passages (a sentence two of them
# share quoted once) took truthfulness 0.109 -> 0.145 and complete answers 0.189 -> 0.243 at 4 sentences and 0.5
# or 0.6 (0.65: complete 0.216; 5 sentences: no better), and changed no factoid answer. 0.6, because at 0.5 a
# mapping answer drew in "Tesla's vice president in China emphasized the importance of autonomous driving …" (0.54)
# from another article: in a corpus about one company most of its sentences stand that near a short question
MAX_WITH_OTHERS = 4
MIN_OTHER_SIMILARITY = 0.6
# context comes from at most this many sentences either side of a supporting one: on the open gold file's 0.5B
# drafts 1 gave truthfulness 0.000, 2 gave 0.073, and 3 or more the same as 2 (passages hold about five sentences)
WINDOW = 2
# and a neighbour must bear on the question at least this much: "since 2021 … store local user data" (0.29) beside
# the Baidu sentence is no part of an answer about mapping. On both gold files' 0.5B drafts, floors 0.2-0.4 gave
# the same truthfulness as none (and room for a relevant sentence from another passage: open answer accuracy
# 0.351 -> 0.378); 0.5 lost a complete answer
MIN_NEAR_SIMILARITY = 0.35
# what scrapers keep besides the story, never quoted as context: newsletter plugs, "read more" lines, bylines
# ("Benzinga - by Anan Ashraf, Benzinga Editor.") and requests for comment ("CNN has reached out to Tesla.")
_BOILERPLATE = re.compile(r"\b(sign up|newsletter|subscribe|editor[’']s note|click here|read more|follow us|"
                          r"all rights reserved|contributed to this report|reached out to|request for comment|"
                          r"(declined|did not respond|could not be reached) (to|for) comment|reporting by|editing by)\b"
                          r"|^\W*(by|photo|image)\b|\bby (?-i:[A-Z])[\w.]+ (?-i:[A-Z])[\w.]+,[^.]*\b(editor|reporter|writer|"
                          r"correspondent)\b", re.IGNORECASE)
# a photo caption reads as a sentence ("Tesla CEO Elon Musk, left, met with …"; "… (pictured) …"; "Photo: Reuters")
_CAPTION = re.compile(r",\s*(left|right|centre|center|second from (left|right)|pictured|in file photo)\s*,|\(pictured\)|"
                      r"\b(getty images|ap photo|file photo)\b", re.IGNORECASE)
_STATEMENT_END = ('.', '!', '?', '"', '”', '’', "'")


def _statement(source: Source) -> bool:
    """A full sentence of the story: not a headline (no final punctuation), a photo caption, nor boilerplate."""
    return (source.text.rstrip().endswith(_STATEMENT_END) and len(_TOKEN.findall(source.text)) >= 6
            and not _BOILERPLATE.search(source.text) and not _CAPTION.search(source.text))


def _key(source: Source) -> tuple[int, int]:
    return source.marker, source.start


def _nearest_elsewhere(sources: list[Source], chosen: list[Source], nearness: dict[tuple[int, int], float],
                       room: int) -> list[Source]:
    """Up to `room` full story sentences of any shown passage, not yet chosen, nearest the question (`nearness`:
    cosine by `_key`) and at least `MIN_OTHER_SIMILARITY` from it."""
    said = {_dedupe_key(s.text) for s in chosen}
    candidates = sorted((s for s in sources if _key(s) in nearness and s not in chosen), key=lambda s: -nearness[_key(s)])
    added: list[Source] = []
    for source in candidates:
        if len(added) >= room or nearness[_key(source)] < MIN_OTHER_SIMILARITY:
            break
        # the same sentence often stands in two articles (wire copy) or two overlapping chunks: quote it once
        if _dedupe_key(source.text) not in said:
            said.add(_dedupe_key(source.text))
            added.append(source)
    return added


# two outlets print the same wire sentence with straight or curly quotes, hyphens or dashes, and other spaces
_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-",
                             "\u00a0": " "})


def _dedupe_key(text: str) -> str:
    return " ".join(text.translate(_TYPOGRAPHY).lower().split())


def quote_answer(question: str, verdict: Verdict, passages: list[Passage], embedder: Embedder | None,
                 limit: int = MAX_QUOTED) -> Verdict:
    """The verdict with its sentence claims replaced by the passages' own sentences.

    Unchanged when it abstained or its answer is one short extraction. Without an embedder only the
    supporting sentences are quoted.
    """
    kept = [c for c in verdict.claims if c.supported]
    if verdict.abstained or not kept:
        return verdict
    if len(kept) == 1 and len(_TOKEN.findall(kept[0].text)) <= FRAGMENT_WORDS:
        return verdict
    sources = sources_of(passages)
    by_offset = {(s.marker, s.passage.chunk.start + s.start): s for s in sources}
    chosen: list[Source] = []
    for claim in kept:
        for support in claim.support:
            source = by_offset.get((support.marker, support.start))
            if source is not None and source not in chosen:
                chosen.append(source)
    chosen = chosen[:limit]
    markers = {s.marker for s in chosen}
    position = {_key(s): i for i, s in enumerate(sources)}
    near = {i for s in chosen for i in range(position[_key(s)] - WINDOW, position[_key(s)] + WINDOW + 1)}
    statements = [s for s in sources if s not in chosen and _statement(s)]
    others = [s for s in statements if position[_key(s)] in near and s.marker in markers]
    if embedder is not None and statements:
        # one MiniLM batch serves both steps: the near sentences are among the statements of every shown passage
        similarity = embedder.embed_documents([s.text for s in statements]) @ embedder.embed_query(question)
        nearness = {_key(s): float(v) for s, v in zip(statements, similarity, strict=True)}
        others = [s for s in others if nearness[_key(s)] >= MIN_NEAR_SIMILARITY]
        chosen += sorted(others, key=lambda s: -nearness[_key(s)])[: max(0, limit - len(chosen))]
        chosen += _nearest_elsewhere(sources, chosen, nearness, MAX_WITH_OTHERS - len(chosen))
    markers = {s.marker for s in chosen}
    chosen.sort(key=_key)
    claims = tuple(Claim(s.text, (s.marker,), True, 1.0, (s.support(),)) for s in chosen)
    text = " ".join(f"{s.text.rstrip()} [{s.marker}]" for s in chosen)
    citations = tuple(Citation(m, passages[m - 1]) for m in sorted(markers))
    return replace(verdict, text=text, citations=citations, claims=claims)
