"""`rag eval`: run a gold file through an assistant, write the run folder, check thresholds."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rag import __version__
from rag.checks.claims.judge import SupportJudge
from rag.evals.gold import GoldQuestion
from rag.evals.metric_table import METRICS
from rag.evals.report import build_report, write_run
from rag.evals.runner import Scored, run
from rag.hashing import file_sha256
from rag.store import Manifest
from rag.types import Answer


def run_meta(gold_path: Path, model: str, settings: dict, manifest: Manifest | None, note: str = "",
             model_file: Path | None = None) -> dict:
    """What makes a run reproducible: gold file hash, model spec, settings, index manifest, versions, and the
    weights file a local model loaded (`settings` says what was asked for; after a fallback the file says what ran)."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rag_version": __version__,
        "gold": {"path": str(gold_path), "sha256": file_sha256(gold_path)},
        "model": model,
        "model_file": model_file.name if model_file else None,
        "temperature": 0.0,
        "seed": 0,
        "settings": settings,
        "index": {k: v for k, v in manifest.to_dict().items()
                  if k in ("created", "embedder", "chunking", "sources", "articles", "packages")} if manifest else None,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "note": note,
    }


def evaluate(questions: list[GoldQuestion], ask: Callable[[str], Answer], out_dir: Path, meta: dict,
             progress: bool = True, judge: SupportJudge | None = None) -> dict:
    """Ask every question with a progress bar, write the run folder, return the report.

    `judge` scores the kept claims' citations (`rag.evals.runner.run`); the assistant's own keeps the eval
    judging as the product did.
    """
    from tqdm import tqdm

    with tqdm(total=len(questions), unit="question", desc="eval", disable=not progress) as bar:
        def advance(result: Scored) -> None:
            bar.set_postfix_str(f"{result.gold.id} {'ok' if result.correct else 'wrong'}")
            bar.update()

        results = run(questions, ask, advance, judge)
    report = build_report(results, meta)
    write_run(out_dir, results, report)
    return report


def format_metrics(metrics: dict) -> str:
    """The headline metrics as a short aligned table for the terminal."""
    # .get: a report written before a metric existed prints "None" for it rather than failing
    lines = [f"{m.key:24} {metrics.get(m.key)}" for m in METRICS]
    lines.append(f"{'hit_at_k':24} " + ", ".join(f"@{k} {v}" for k, v in metrics["hit_at_k"].items()))
    lines.append(f"{'latency_ms p50/p95':24} {metrics['latency_ms']['p50']} / {metrics['latency_ms']['p95']}")
    lines.append(f"{'first_token_ms p50/p95':24} {metrics['first_token_ms']['p50']} / {metrics['first_token_ms']['p95']}")
    lines.append(f"{'tokens in/out (mean)':24} {metrics['tokens']['prompt_mean']} / {metrics['tokens']['completion_mean']}")
    return "\n".join(lines)
