"""Run gold questions through the assistant (the same path as `rag ask`) and score them."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer_view import answer_dict
from rag.checks.claims.judge import SupportJudge
from rag.evals.gold import GoldQuestion
from rag.evals.metrics import ClaimCitations, alias_in, claim_citation_scores, exact_match, nuggets_found, token_f1
from rag.retrieval.recency import without_as_of
from rag.types import Answer

RIGHT, MISSING, HALLUCINATED = 1, 0, -1  # CRAG's scores of one answer (Yang et al. 2024)


@dataclass(frozen=True)
class Scored:
    """One question's prediction (the `rag ask --json` object) and its scores."""

    gold: GoldQuestion
    prediction: dict
    correct: bool  # answerable: an alias occurs in a non-abstained answer; unanswerable: abstained
    cited_evidence: bool  # at least one citation from an evidence article
    citation_precision: float | None  # share of citations from evidence articles (None: nothing cited)
    evidence_rank: int | None  # rank of the first retrieved passage from an evidence article
    exact: float
    f1: float
    found: tuple[bool, ...] = ()  # per gold nugget: stated in the (non-abstained) answer
    truth: int = MISSING  # CRAG: RIGHT, MISSING (abstained) or HALLUCINATED (answered, not right)
    claim_citations: ClaimCitations | None = None  # None: scored without the Answer, so nothing was judged

    @property
    def nugget_recall(self) -> float | None:
        """Share of the gold nuggets the answer states (None: unanswerable, or a question without nuggets)."""
        if not self.gold.answerable or not self.gold.nuggets:
            return None
        return sum(self.found) / len(self.found)


def truth_of(gold: GoldQuestion, abstained: bool, correct: bool, nugget_recall: float | None) -> int:
    """CRAG's score: an abstention is MISSING even when the question is unanswerable (it says nothing false);
    an answer is RIGHT when the question is answerable and the answer states at least half its nuggets
    (without nuggets: `correct`, an alias occurs), else HALLUCINATED."""
    if abstained:
        return MISSING
    right = gold.answerable and (nugget_recall >= 0.5 if nugget_recall is not None else correct)
    return RIGHT if right else HALLUCINATED


def score(gold: GoldQuestion, prediction: dict, claim_citations: ClaimCitations | None = None) -> Scored:
    """Score one prediction (a `rag ask --json` object) against its gold question.

    `claim_citations` (from `claim_citation_scores`) needs the passages themselves, which the prediction
    holds only for cited ones, so `run` computes it from the Answer and hands it in.
    """
    cited = [c["doc_id"] for c in prediction["citations"]]
    evidence = set(gold.evidence)
    abstained = prediction["abstained"]
    answer = without_as_of(prediction["answer"])  # the date its sources were true on is not part of what it states
    if gold.answerable:
        correct = not abstained and alias_in(answer, gold.answers)
        exact = 0.0 if abstained else exact_match(answer, gold.answers)
        f1 = 0.0 if abstained else token_f1(answer, gold.answers)
    else:
        correct, exact, f1 = abstained, float(abstained), float(abstained)
    ranks = [i for i, r in enumerate(prediction["retrieved"], start=1) if r["doc_id"] in evidence]
    # an abstention states no nugget, whatever words "Not in the documents." happens to share with an alias
    found = tuple(False for _ in gold.nuggets) if abstained else nuggets_found(answer, gold.nuggets)
    recall = sum(found) / len(found) if gold.answerable and found else None
    return Scored(gold, prediction, correct, bool(set(cited) & evidence),
                  sum(d in evidence for d in cited) / len(cited) if cited else None,
                  ranks[0] if ranks else None, exact, f1, found, truth_of(gold, abstained, correct, recall),
                  claim_citations)


def run(questions: list[GoldQuestion], ask: Callable[[str], Answer],
        on_result: Callable[[Scored], None] = lambda _: None, judge: SupportJudge | None = None) -> list[Scored]:
    """Ask every question in order; `on_result` sees each as it finishes (for progress).

    `judge` scores the citations of each kept claim; pass the assistant's own (`Assistant.judge`) so the eval
    judges as the product did. Without one, the alignment judge on words alone (no embedder to load).
    """
    if judge is None:
        from rag.checks.claims.align import AlignmentJudge

        judge = AlignmentJudge(None)
    results = []
    for gold in questions:
        answer = ask(gold.question)
        result = score(gold, answer_dict(answer), claim_citation_scores(answer, judge))
        on_result(result)
        results.append(result)
    return results


def _share(rows: list[Scored], test: Callable[[Scored], bool]) -> float | None:
    return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def summary(results: list[Scored]) -> dict:
    """Every headline metric (defined in the README, "Evals")."""
    answerable = [r for r in results if r.gold.answerable]
    unanswerable = [r for r in results if not r.gold.answerable]
    depth = max((len(r.prediction["retrieved"]) for r in results), default=0)
    totals = [r.prediction["timings_ms"]["total"] for r in results]
    firsts = [r.prediction["timings_ms"]["first_token"] for r in results if r.prediction["timings_ms"]["first_token"]]
    usage = [r.prediction.get("usage") or {} for r in results]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": _share(results, lambda r: r.correct),
        "answer_accuracy": _share(answerable, lambda r: r.correct),
        "exact_match": _mean([r.exact for r in answerable]),
        "token_f1": _mean([r.f1 for r in answerable]),
        "citation_accuracy": _share(answerable, lambda r: r.correct and r.cited_evidence),
        "citation_precision": _mean([r.citation_precision for r in answerable if r.citation_precision is not None]),
        "abstention_recall": _share(unanswerable, lambda r: r.correct),
        "false_abstention_rate": _share(answerable, lambda r: r.prediction["abstained"]),
        "hit_at_k": {k: _share(answerable, lambda r, k=k: r.evidence_rank is not None and r.evidence_rank <= k)
                     for k in range(1, depth + 1)},
        "mrr": _mean([1 / r.evidence_rank if r.evidence_rank else 0.0 for r in answerable]),
        "latency_ms": {"p50": percentile(totals, 50), "p95": percentile(totals, 95)},
        "first_token_ms": {"p50": percentile(firsts, 50), "p95": percentile(firsts, 95)},
        "tokens": {"prompt_mean": _mean([u.get("prompt_tokens", 0) for u in usage]),
                   "completion_mean": _mean([u.get("completion_tokens", 0) for u in usage]),
                   "prompt_total": sum(u.get("prompt_tokens", 0) for u in usage),
                   "completion_total": sum(u.get("completion_tokens", 0) for u in usage)},
        **open_metrics(results),
        **claim_metrics(results),
    }


def open_metrics(results: list[Scored]) -> dict:
    """Nugget recall and completeness (answerable questions with nuggets), CRAG truthfulness (all questions),
    abstention precision (abstained questions)."""
    nuggeted = [r for r in results if r.nugget_recall is not None]
    abstained = [r for r in results if r.prediction["abstained"]]
    return {
        "nugget_recall": _mean([r.nugget_recall for r in nuggeted]),
        "completeness": _share(nuggeted, lambda r: all(r.found)),
        "truthfulness": _mean([r.truth for r in results]),  # (right - hallucinated) / questions
        "right_rate": _share(results, lambda r: r.truth == RIGHT),
        "hallucination_rate": _share(results, lambda r: r.truth == HALLUCINATED),
        "missing_rate": _share(results, lambda r: r.truth == MISSING),
        "abstention_precision": _share(abstained, lambda r: not r.gold.answerable),
    }


def claim_metrics(results: list[Scored]) -> dict:
    """Citation recall and precision pooled over every kept claim, and claims kept and removed per answer.

    Counted over answers (not abstentions); the claim counts are None when no answer reports claims
    (the LangChain baseline does not split its answer), so 0 means "reported none".
    """
    answered = [r for r in results if not r.prediction["abstained"]]
    judged = [r.claim_citations for r in answered if r.claim_citations is not None]
    citations = sum(c.citations for c in judged)
    claims = [r.prediction.get("claims") or [] for r in answered]
    reported = any(claims)
    return {
        "claim_citation_recall": _ratio(sum(c.supported for c in judged), sum(c.claims for c in judged)),
        "claim_citation_precision": round(1 - sum(c.false for c in judged) / citations, 3) if citations else None,
        "claims_per_answer": _mean([sum(c["supported"] for c in cs) for cs in claims]) if reported else None,
        "removed_claims": _mean([sum(not c["supported"] for c in cs) for cs in claims]) if reported else None,
    }


def by_category(results: list[Scored]) -> dict[str, dict]:
    """Accuracy, nugget recall (None: no question with nuggets), truthfulness and count per gold category."""
    groups: dict[str, list[Scored]] = {}
    for r in results:
        groups.setdefault(r.gold.category, []).append(r)
    return {name: {"questions": len(rows), "accuracy": _share(rows, lambda r: r.correct),
                   "nugget_recall": _mean([r.nugget_recall for r in rows if r.nugget_recall is not None]),
                   "truthfulness": _mean([r.truth for r in rows])}
            for name, rows in sorted(groups.items())}
