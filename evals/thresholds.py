"""The thresholds `rag eval` can be held to: one table for the flags, the checks and their messages.

Kept free of heavy imports because the command-line parser builds its flags from it.
"""

from __future__ import annotations

# flag name -> (metric in the report, direction the metric must lie in)
THRESHOLDS = {
    "min_accuracy": ("accuracy", ">="),
    "min_answer_accuracy": ("answer_accuracy", ">="),
    "min_citation_accuracy": ("citation_accuracy", ">="),
    "min_abstention_recall": ("abstention_recall", ">="),
    "max_false_abstention_rate": ("false_abstention_rate", "<="),
}


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
