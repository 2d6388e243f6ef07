"""Benchmark (not a test): re-run the answer checks on the drafts of an earlier `rag eval` run, without the model.

    .venv/bin/python scripts/reverify.py RUN_DIR [--gold evals/gold.jsonl] [--index var/index/default]
        [--min-support 0.5] [--min-topic-share 0.5] [--words-only] [--quotes] [--out DIR]

The run's predictions keep each question's draft and the ids of the passages shown; the checks are
deterministic given those, so a change to `rag.checks.verify` or its judge can be measured on the same
drafts in seconds. `--quotes` renders the answers in the passages' own sentences, as the setting `quote`
does (`rag.checks.claims.quotes`), so one run's drafts measure both renderings.
Prints the headline metrics and the questions whose verdict changed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Re-verify every draft of RUN_DIR and score the new answers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--gold", type=Path, default=Path("evals/gold.jsonl"))
    parser.add_argument("--index", type=Path, default=Path("var/index/default"))
    parser.add_argument("--min-support", type=float, default=0.5)
    parser.add_argument("--min-topic-share", type=float, default=0.5)
    parser.add_argument("--words-only", action="store_true", help="the judge without MiniLM")
    parser.add_argument("--wrong", action="store_true", help="also list every question scored wrong")
    parser.add_argument("--quotes", action="store_true", help="answer in the passages' own sentences")
    parser.add_argument("--out", type=Path, help="also write the new run (predictions, report) into this folder")
    args = parser.parse_args()

    from rag import store
    from rag.answer_view import answer_dict
    from rag.checks.claims.align import AlignmentJudge
    from rag.embedders import embedder_for
    from rag.evals.command import format_metrics
    from rag.evals.gold import load_gold
    from rag.evals.recheck import recheck, shown_passages
    from rag.evals.runner import score, summary
    from rag.types import Answer

    loaded = store.load(args.index)
    chunks = {c.id: c for c in loaded.chunks}
    judge = AlignmentJudge(None if args.words_only else embedder_for(loaded, Path("var/models"), print),
                           min_score=args.min_support)
    gold = {q.id: q for q in load_gold(args.gold)}
    results = []
    for line in (args.run / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
        old = json.loads(line)
        shown = shown_passages(old, chunks)
        v = recheck(old, shown, judge, args.quotes, args.min_topic_share)
        if v is None:  # abstained before the model was asked (score floor)
            new = old
        else:
            answer = Answer(old["question"], "Not in the documents." if v.abstained else v.text, v.citations,
                            tuple(shown), old["model"], v.abstained, v.warnings, old["timings_ms"], old["draft"],
                            old["usage"], v.claims)
            new = answer_dict(answer)
        result = score(gold[old["id"]], new)
        before = score(gold[old["id"]], old)
        if (result.correct, result.truth) != (before.correct, before.truth):
            print(f"{old['id']}: {before.truth:+d} -> {result.truth:+d}  {new['answer'][:70]!r}  "
                  f"{'; '.join(new['warnings'])[:120]}")
        elif args.wrong and result.truth < 1 and (result.truth or gold[old["id"]].answerable):
            print(f"{old['id']}: {result.truth:+d}  {old['draft'][:50]!r} -> {new['answer'][:50]!r}  "
                  f"{'; '.join(new['warnings'])[:110]}")
        results.append(result)
    print(format_metrics(summary(results)))
    if args.out:  # a run folder like `rag eval`'s, so `rag eval --compare` reads it
        from rag.evals.report import build_report, write_run

        meta = json.loads((args.run / "report.json").read_text(encoding="utf-8"))["meta"]
        meta["reverified"] = {"from": str(args.run), "quotes": args.quotes, "min_support": args.min_support,
                              "min_topic_share": args.min_topic_share, "words_only": args.words_only}
        write_run(args.out, results, build_report(results, meta))


if __name__ == "__main__":
    main()
