"""`rag eval --compare RUN_A RUN_B`: which questions changed between two runs."""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import InputError
from rag.evals.metric_table import METRICS

HEADLINE = tuple(m.key for m in METRICS if m.compared)


def _load(run: Path) -> tuple[dict, dict[str, dict]]:
    try:
        report = json.loads((run / "report.json").read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError) as exc:
        raise InputError(f"{run} is not an eval run folder (needs report.json and predictions.jsonl): {exc}") from exc
    unscored = next((n for n, row in enumerate(rows, start=1) if not {"id", "answer", "score"} <= set(row)), None)
    if unscored is not None or "metrics" not in report:
        where = f"line {unscored} of predictions.jsonl" if unscored is not None else "report.json"
        raise InputError(f"{run} is not an eval run folder: {where} was not written by `rag eval` (no id, answer, "
                         "score or metrics)")
    return report, {row["id"]: row for row in rows}


def compare(run_a: Path, run_b: Path) -> str:
    """A readable diff: headline metrics side by side, then fixed, broken and changed questions."""
    report_a, a = _load(run_a)
    report_b, b = _load(run_b)
    lines = [f"{'metric':24} {'A':>8} {'B':>8}"]
    for key in HEADLINE:
        va, vb = report_a["metrics"].get(key), report_b["metrics"].get(key)
        lines.append(f"{key:24} {va if va is not None else '-':>8} {vb if vb is not None else '-':>8}")
    fixed = [q for q in a if q in b and not a[q]["score"]["correct"] and b[q]["score"]["correct"]]
    broken = [q for q in a if q in b and a[q]["score"]["correct"] and not b[q]["score"]["correct"]]
    changed = [q for q in a if q in b and a[q]["answer"] != b[q]["answer"] and q not in fixed + broken]
    for title, ids in (("fixed (wrong in A, right in B)", fixed), ("broken (right in A, wrong in B)", broken),
                       ("answer changed, score did not", changed)):
        lines.append(f"\n{title}: {len(ids)}")
        lines.extend(f"  {q}: {a[q]['answer']!r} -> {b[q]['answer']!r}" for q in ids)
    only = sorted(set(a) ^ set(b))
    if only:
        lines.append(f"\nin one run only: {', '.join(only)}")
    return "\n".join(lines)
