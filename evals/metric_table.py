"""The metrics `rag eval` reports, in one table: the printed summary, the HTML report, `--compare` and the
threshold flags are all built from it, and a test holds `rag.evals.runner.summary` to the same keys.

Kept free of heavy imports because the command-line parser builds its flags from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One headline figure of an eval run."""

    key: str  # its name in report.json's "metrics"
    meaning: str  # one line for the report (the README's "Evals" defines each in full)
    better: str  # "higher", "lower", or "" for counts
    flag: str | None = None  # the `rag eval` threshold flag that holds it, e.g. "min_accuracy"
    compared: bool = True  # shown side by side by `rag eval --compare`


METRICS: tuple[Metric, ...] = (
    Metric("questions", "questions asked", "", compared=False),
    Metric("accuracy", "questions handled right: answered right, or rightly abstained", "higher", "min_accuracy"),
    Metric("answer_accuracy", "answerable questions answered right", "higher", "min_answer_accuracy"),
    Metric("exact_match", "answers equal to a gold alias (SQuAD normalisation)", "higher", compared=False),
    Metric("token_f1", "best token F1 against a gold alias", "higher", compared=False),
    Metric("citation_accuracy", "answered right and citing a passage of the evidence article", "higher",
           "min_citation_accuracy"),
    Metric("citation_precision", "cited passages that come from the evidence article", "higher", compared=False),
    Metric("abstention_recall", "unanswerable questions that got the abstention", "higher", "min_abstention_recall"),
    Metric("false_abstention_rate", "answerable questions that got the abstention", "lower",
           "max_false_abstention_rate"),
    Metric("mrr", "mean reciprocal rank of the evidence article's first passage", "higher"),
    Metric("nugget_recall", "gold nuggets an answer states, averaged over questions with nuggets", "higher"),
    Metric("completeness", "answers that state every nugget", "higher"),
    Metric("truthfulness", "CRAG: (right - hallucinated) / questions; an abstention scores 0", "higher"),
    Metric("right_rate", "questions scored right (CRAG)", "higher"),
    Metric("hallucination_rate", "questions answered wrongly, or answered when unanswerable (CRAG)", "lower"),
    Metric("missing_rate", "questions abstained on (CRAG)", "lower"),
    Metric("abstention_precision", "abstentions on questions that are unanswerable", "higher"),
    Metric("claim_citation_recall", "kept claims whose cited passages support them (ALCE)", "higher"),
    Metric("claim_citation_precision", "citations that help their claim (ALCE)", "higher"),
    Metric("claims_per_answer", "kept claims per answer", ""),
    Metric("removed_claims", "claims removed per answer as unsupported", "lower"),
)
BY_KEY = {m.key: m for m in METRICS}

# flag name -> (metric, the direction it must lie in)
THRESHOLDS = {m.flag: (m.key, ">=" if m.better == "higher" else "<=") for m in METRICS if m.flag}


def threshold_failures(metrics: dict, limits: dict[str, float | None]) -> list[str]:
    """Human lines for every threshold the metrics miss (empty when all pass)."""
    failed = []
    for flag, limit in limits.items():
        if limit is None:
            continue
        metric, direction = THRESHOLDS[flag]
        value = metrics.get(metric)
        ok = value is not None and (value >= limit if direction == ">=" else value <= limit)
        if not ok:
            failed.append(f"{metric} is {value}, needs {direction} {limit} (--{flag.replace('_', '-')})")
    return failed
