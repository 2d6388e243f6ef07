"""Benchmark helper (not a test): collect the claims of `rag eval` runs for a person to label by hand.

    .venv/bin/python scripts/hand_check.py RUN_DIR... --out evals/claims-hand.jsonl [--index var/index/default]

Writes one row per claim the product judged (kept or removed), in the claim-set format of
`evals/claims-dev.jsonl` (question, claim, the passages shown, the passages it cites, `supported`),
plus `judge` (the product's verdict) and `run`. `supported` starts as the judge's verdict and `kind`
as "unlabelled": a person reads each row and sets both. `scripts/bench_judges.py --claims FILE` then
gives the judge's precision and recall against those labels. A kept claim cites the passages the checks
gave it; a removed one cites nothing, since the product looked for it in every shown passage.
Rows already in `--out` (same run, question and claim) keep their labels.

`evals/claims-hand.jsonl` was made this way from the 0.5B's drafts on `evals/open.jsonl` (the checks
re-run without quoting, so the claims are the model's own) and labelled by hand: `supported` is the
person's verdict, `judge` the product's at the time, `kind` what is wrong with an unsupported claim.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Append the claims of each RUN_DIR that `--out` does not hold yet."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--index", type=Path, default=Path("var/index/default"))
    args = parser.parse_args()

    from rag import store
    from rag.checks.quarantine import model_view

    chunks = {c.id: c for c in store.load(args.index).chunks}
    rows = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines()] if args.out.exists() else []
    known = {(r["run"], r["question"], r["claim"]) for r in rows}
    added = 0
    for run in args.runs:
        for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
            prediction = json.loads(line)
            passages = [model_view(chunks[r["chunk_id"]].text)[0] for r in prediction["retrieved"]]
            for claim in prediction.get("claims", []):
                key = (run.name, prediction["question"], claim["text"])
                if key in known:
                    continue
                known.add(key)
                rows.append({"id": f"hand-{len(rows) + 1:03d}", "run": run.name, "question": prediction["question"],
                             "claim": claim["text"], "passages": passages,
                             "cited": claim["markers"] if claim["supported"] else [],
                             "judge": claim["supported"], "supported": claim["supported"], "kind": "unlabelled",
                             "support": [s["sentence"] for s in claim.get("support", [])]})
                added += 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"hand_check: {added} new claims, {len(rows)} in {args.out}")


if __name__ == "__main__":
    main()
