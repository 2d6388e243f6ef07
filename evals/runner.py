"""Run gold questions through the assistant (the same path as `rag ask`) and score them."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from evals.gold import GoldQuestion
from evals.metrics import alias_in, exact_match, token_f1
from rag.render import answer_dict
from rag.types import Answer


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


def score(gold: GoldQuestion, prediction: dict) -> Scored:
    """Score one prediction (a `rag ask --json` object) against its gold question."""
    cited = [c["doc_id"] for c in prediction["citations"]]
    evidence = set(gold.evidence)
    abstained = prediction["abstained"]
    if gold.answerable:
        correct = not abstained and alias_in(prediction["answer"], gold.answers)
        exact = 0.0 if abstained else exact_match(prediction["answer"], gold.answers)
        f1 = 0.0 if abstained else token_f1(prediction["answer"], gold.answers)
    else:
        correct, exact, f1 = abstained, float(abstained), float(abstained)
    ranks = [i for i, r in enumerate(prediction["retrieved"], start=1) if r["doc_id"] in evidence]
    return Scored(gold, prediction, correct, bool(set(cited) & evidence),
                  sum(d in evidence for d in cited) / len(cited) if cited else None,
                  ranks[0] if ranks else None, exact, f1)


def run(questions: list[GoldQuestion], ask: Callable[[str], Answer],
        on_result: Callable[[Scored], None] = lambda _: None) -> list[Scored]:
    """Ask every question in order; `on_result` sees each as it finishes (for progress)."""
    results = []
    for gold in questions:
        result = score(gold, answer_dict(ask(gold.question)))
        on_result(result)
        results.append(result)
    return results


def _share(rows: list[Scored], test: Callable[[Scored], bool]) -> float | None:
    return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


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
    }


def by_category(results: list[Scored]) -> dict[str, dict]:
    """Accuracy and count per gold category."""
    groups: dict[str, list[Scored]] = {}
    for r in results:
        groups.setdefault(r.gold.category, []).append(r)
    return {name: {"questions": len(rows), "accuracy": _share(rows, lambda r: r.correct)}
            for name, rows in sorted(groups.items())}
