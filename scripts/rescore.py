"""Re-score a `rag eval` run's predictions against a gold file with today's metrics (no model is run).

    .venv/bin/python scripts/rescore.py RUN_DIR [--gold evals/open.jsonl]

For runs made before a metric existed (nugget recall, truthfulness, abstention precision): the
predictions are the `rag ask --json` objects, so every metric that needs only the answer can be
computed again. Claim citation metrics need the passages and are left out (None) for such runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Print the headline metrics of RUN_DIR/predictions.jsonl scored against the gold file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--gold", type=Path, default=Path("evals/open.jsonl"))
    args = parser.parse_args()

    from rag.evals.command import format_metrics
    from rag.evals.gold import load_gold
    from rag.evals.runner import score, summary

    gold = {q.id: q for q in load_gold(args.gold)}
    rows = [json.loads(line) for line in (args.run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    results = [score(gold[row["id"]], row) for row in rows if row["id"] in gold]
    print(format_metrics(summary(results)))


if __name__ == "__main__":
    main()
