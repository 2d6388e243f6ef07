"""The one vocabulary of answer metrics: normalisation, exact match and token F1 against aliases, nuggets, and
per-claim citation recall and precision. `rag eval` normalises SQuAD-style (`normalise`); RealTime QA keeps
its benchmark's own rules (`realtimeqa_normalise`), passed to the same functions."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.checks.citations import strip_markers
from rag.checks.claims.judge import SupportJudge
from rag.checks.claims.sources import Source, sources_of
from rag.evals.gold import Nugget
from rag.types import Answer, Claim

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}’‘“”–—…]")
_BENCHMARK_DROPS = set(string.punctuation) | set("年歳人년")
Normaliser = Callable[[str], str]


def normalise(text: str) -> str:
    """Lower-case, join thousands separators, punctuation to spaces, drop a/an/the, fold spaces."""
    text = strip_markers(text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def realtimeqa_normalise(text: str) -> str:
    """RealTime QA's normalisation: lower-case, drop ASCII punctuation and 年歳人년, fold spaces
    (articles are kept, unlike SQuAD)."""
    return " ".join("".join(ch for ch in text.lower() if ch not in _BENCHMARK_DROPS).split())


def alias_in(answer: str, aliases: tuple[str, ...]) -> bool:
    """Whether any normalised alias occurs in the normalised answer, on word boundaries."""
    haystack = f" {normalise(answer)} "
    return any(f" {normalise(a)} " in haystack for a in aliases if normalise(a))


def exact_match(answer: str, aliases: tuple[str, ...], normaliser: Normaliser = normalise) -> float:
    """1.0 when the normalised answer equals a normalised alias."""
    return float(any(normaliser(answer) == normaliser(a) for a in aliases))


def overlap_f1(predicted: list[str], gold: list[str]) -> float:
    """Token-overlap F1 of two already-normalised token lists (0.0 when they share none)."""
    common = sum((Counter(predicted) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, aliases: tuple[str, ...], normaliser: Normaliser = normalise) -> float:
    """Best token-overlap F1 over the aliases."""
    pred = normaliser(answer).split()
    return max((overlap_f1(pred, normaliser(alias).split()) for alias in aliases), default=0.0)


def nuggets_found(answer: str, nuggets: Sequence[Nugget]) -> tuple[bool, ...]:
    """For each nugget, whether the answer states it: one of its aliases occurs (`alias_in`)."""
    return tuple(alias_in(answer, nugget.aliases) for nugget in nuggets)


@dataclass(frozen=True)
class ClaimCitations:
    """ALCE-style citation counts over the claims one answer kept (Gao et al. 2023, "Enabling LLMs to cite")."""

    supported: int = 0  # kept claims whose cited passages, joined, support them (citation recall's hits)
    claims: int = 0  # kept claims
    false: int = 0  # citations that neither support their claim alone nor are needed by the others
    citations: int = 0  # (claim, marker) pairs


def _supports(judge: SupportJudge, claim: Claim, question: str, sources: list[Source], markers: set[int]) -> bool:
    # no passage supports nothing: decided here so a judge is never asked about an empty set
    cited = [s for s in sources if s.marker in markers]
    return bool(cited) and judge.judge(claim.text, question, cited).supported


def claim_citation_scores(answer: Answer, judge: SupportJudge) -> ClaimCitations:
    """Citation recall and precision counts for the claims `answer` kept, judged on the passages they cite.

    A kept claim counts for recall when its cited passages together support it (no marker: it does not).
    A citation (claim, m) is false when passage m alone does not support the claim and the claim's other
    cited passages still do: m adds nothing. An abstention kept no claim, so it counts nothing.
    """
    if answer.abstained:
        return ClaimCitations()
    sources = sources_of(list(answer.passages))  # markers are 1-based positions in answer.passages
    supported = false = citations = 0
    kept = [c for c in answer.claims if c.supported]
    for claim in kept:
        markers = set(claim.markers)
        supported += _supports(judge, claim, answer.question, sources, markers)  # no marker: cites nothing
        citations += len(markers)
        false += sum(not _supports(judge, claim, answer.question, sources, {m})
                     and _supports(judge, claim, answer.question, sources, markers - {m}) for m in markers)
    return ClaimCitations(supported, len(kept), false, citations)
