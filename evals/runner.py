"""Run gold questions through the assistant (the same path as `rag ask`) and score them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.gold import GoldQuestion
from evals.metrics import alias_in, exact_match, token_f1
from rag.render import answer_dict
from rag.types import Answer


@dataclass(frozen=True)
class Scored:
    """One question's prediction and its scores."""

    gold: GoldQuestion
    prediction: dict
    correct: bool  # answerable: an alias in a non-abstained answer; unanswerable: abstained
    cited_evidence: bool  # at least one citation from an evidence article
    exact: float
    f1: float


def score(gold: GoldQuestion, answer: Answer) -> Scored:
    """Score an answer against its gold question."""
    prediction = answer_dict(answer)
    cited = {c["doc_id"] for c in prediction["citations"]}
    if gold.answerable:
        correct = not answer.abstained and alias_in(answer.text, gold.answers)
        exact = 0.0 if answer.abstained else exact_match(answer.text, gold.answers)
        f1 = 0.0 if answer.abstained else token_f1(answer.text, gold.answers)
    else:
        correct, exact, f1 = answer.abstained, float(answer.abstained), float(answer.abstained)
    return Scored(gold, prediction, correct, bool(cited & set(gold.evidence)), exact, f1)


def run(questions: list[GoldQuestion], ask: Callable[[str], Answer],
        on_result: Callable[[Scored], None] = lambda _: None) -> list[Scored]:
    """Ask every question in order; `on_result` sees each as it finishes (for progress)."""
    results = []
    for gold in questions:
        result = score(gold, ask(gold.question))
        on_result(result)
        results.append(result)
    return results


def summary(results: list[Scored]) -> dict[str, float]:
    """Headline figures: answer accuracy, citation accuracy, abstention recall, false abstentions."""
    answerable = [r for r in results if r.gold.answerable]
    unanswerable = [r for r in results if not r.gold.answerable]

    def share(rows, test) -> float:
        return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else 0.0

    return {
        "questions": len(results),
        "accuracy": share(results, lambda r: r.correct),
        "answer_accuracy": share(answerable, lambda r: r.correct),
        "citation_accuracy": share(answerable, lambda r: r.correct and r.cited_evidence),
        "abstention_recall": share(unanswerable, lambda r: r.correct),
        "false_abstention_rate": share(answerable, lambda r: r.prediction["abstained"]),
    }
