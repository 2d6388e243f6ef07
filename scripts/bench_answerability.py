"""Benchmark (not a test): would a second model's "do the passages state the answer?" improve the checked answers?

    .venv/bin/python scripts/bench_answerability.py RUN_DIR --gold evals/gold.jsonl [--judge local:qwen2.5-coder-1.5b]
        [--scores FILE] [--index var/index/default]

For every gold question the judge model reads the passages `rag ask` would show it (retrieval and focus as
configured, no score floor), with the system prompt `SYSTEM`, and P(yes) is read from its log-probabilities of
"Yes" and "No" as the first token of its reply (`LlamaCppBackend.choice_logprobs`). The scores are written to
(or, when it exists, read from) `--scores`, so the simulation can be re-run without the model.

The product's verdicts are re-derived from the drafts of an earlier `rag eval` run (RUN_DIR, the 0.5B's)
with the current checks and quoting (as `scripts/reverify.py --quotes` does), then two uses of P(yes) are
simulated over a grid of thresholds:
- veto: an answer whose P(yes) is below `veto` becomes "Not in the documents.";
- rescue: an answer the checks withdrew whose P(yes) is at least `rescue` becomes the shown passages' story
  sentences nearest the question by MiniLM cosine (the top k, each quoted once).
Prints the AUC of P(yes) (answerable against unanswerable) and, per grid point, answer accuracy, truthfulness,
right/wrong answers, abstention recall and false abstention, scored as `rag eval` scores (nugget recall >= 0.5
for questions with nuggets, an alias in the answer otherwise).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

SYSTEM = ("Read the passages, then say whether they state the answer to the question. "
          "Reply with one word: Yes or No.")


def judge_scores(gold_file: Path, judge: str) -> dict[str, float]:
    """P(yes) of the judge model for each gold question, over the passages `rag ask` would show it
    (`Assistant.prompt_for`: the same retrieval and focus, no score floor)."""
    from rag.compose import build_assistant
    from rag.config import load_settings
    from rag.evals.gold import load_gold
    from rag.prompting import format_passage

    assistant = build_assistant(load_settings({"model": judge, "answer_style": "sentences"}), print)
    scores = {}
    for question in load_gold(gold_file):
        shown, _ = assistant.prompt_for(question.question)
        body = "\n\n".join(format_passage(i, p) for i, p in enumerate(shown, start=1))
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"{body}\n\nQuestion: {question.question}\n\nDo the passages state the answer?"}]
        yes, no = (lp[0] for lp in assistant.backend.choice_logprobs(messages, ["Yes", "No"]))
        scores[question.id] = math.exp(yes) / (math.exp(yes) + math.exp(no))
        print(f"{question.id}: P(yes) {scores[question.id]:.3f}", flush=True)
    return scores


def outcomes(run: Path, gold_file: Path, index: Path, scores: dict[str, float]) -> list[dict]:
    """Per question: answerable or not, the product's verdict today, and whether the top-k rescue would be right."""
    import numpy as np

    from rag import store
    from rag.checks.claims.align import AlignmentJudge
    from rag.checks.claims.quotes import _dedupe_key, _statement
    from rag.checks.claims.sources import sources_of
    from rag.embedders import embedder_for
    from rag.evals.gold import load_gold
    from rag.evals.metrics import alias_in, nuggets_found
    from rag.evals.recheck import recheck, shown_passages

    loaded = store.load(index)
    chunks = {c.id: c for c in loaded.chunks}
    embedder = embedder_for(loaded, Path("var/models"), print)
    judge = AlignmentJudge(embedder)
    gold = {q.id: q for q in load_gold(gold_file)}
    rows = []
    for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
        old = json.loads(line)
        if old["id"] not in scores:  # a partial scores file: simulate the questions it covers
            continue
        question = gold[old["id"]]
        shown = shown_passages(old, chunks)

        def right(text: str, question=question) -> bool:
            if question.nuggets:
                return sum(nuggets_found(text, question.nuggets)) / len(question.nuggets) >= 0.5
            return alias_in(text, question.answers)

        withdrawn, abstained, text = False, True, ""
        verdict = recheck(old, shown, judge, quotes=True)
        if verdict is not None:
            abstained, text = verdict.abstained, verdict.text
            withdrawn = abstained and not any("found no answer" in w for w in verdict.warnings)
        statements = [s for s in sources_of(shown) if _statement(s)]
        ranked: list[str] = []
        if statements:
            similarity = embedder.embed_documents([s.text for s in statements]) @ embedder.embed_query(old["question"])
            for i in np.argsort(-similarity, kind="stable"):
                if _dedupe_key(statements[i].text) not in {_dedupe_key(t) for t in ranked}:
                    ranked.append(statements[i].text)
        rows.append({"id": old["id"], "answerable": question.answerable, "abstained": abstained, "withdrawn": withdrawn,
                     "right": not abstained and question.answerable and right(text),
                     "rescue_right": [question.answerable and right(" ".join(ranked[:k])) for k in (1, 2, 4)],
                     "p_yes": scores[old["id"]]})
    return rows


def simulate(rows: list[dict], veto: float, rescue: float, k_index: int) -> dict:
    """The gold metrics if P(yes) vetoed answers below `veto` and rescued withdrawn ones at or above `rescue`."""
    right = wrong = rejected = withdrawn_answerable = 0
    for row in rows:
        answered, correct = not row["abstained"] and row["p_yes"] >= veto, row["right"]
        if row["withdrawn"] and row["p_yes"] >= rescue:
            answered, correct = True, row["rescue_right"][k_index]
        if answered:
            right += correct
            wrong += not correct
        else:
            rejected += not row["answerable"]
            withdrawn_answerable += row["answerable"]
    answerable = sum(r["answerable"] for r in rows)
    unanswerable = len(rows) - answerable
    return {"accuracy": round((right + rejected) / len(rows), 3), "truthfulness": round((right - wrong) / len(rows), 3),
            "right": right, "wrong": wrong, "abstention_recall": round(rejected / unanswerable, 3) if unanswerable else None,
            "false_abstention": round(withdrawn_answerable / answerable, 3) if answerable else None}


def main() -> None:
    """Score (or load) P(yes) for RUN_DIR's questions, then print the AUC and the simulated grid."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--gold", type=Path, default=Path("evals/gold.jsonl"))
    parser.add_argument("--judge", default="local:qwen2.5-coder-1.5b")
    parser.add_argument("--scores", type=Path, help="a JSONL of {id, p_yes}: read when it exists, else written")
    parser.add_argument("--index", type=Path, default=Path("var/index/default"))
    args = parser.parse_args()

    if args.scores and args.scores.exists():
        scores = {r["id"]: r["p_yes"] for r in map(json.loads, args.scores.read_text(encoding="utf-8").splitlines())}
    else:
        scores = judge_scores(args.gold, args.judge)
        if args.scores:
            args.scores.write_text("".join(json.dumps({"id": i, "p_yes": p}) + "\n" for i, p in scores.items()),
                                   encoding="utf-8")
    rows = outcomes(args.run, args.gold, args.index, scores)
    yes = [r["p_yes"] for r in rows if r["answerable"]]
    no = [r["p_yes"] for r in rows if not r["answerable"]]
    if yes and no:
        auc = sum((a > b) + 0.5 * (a == b) for a in yes for b in no) / (len(yes) * len(no))
        print(f"P(yes) AUC, answerable against unanswerable: {auc:.3f} ({len(yes)} / {len(no)} questions)")
    print("today", simulate(rows, 0.0, 2.0, 0))
    for veto in (0.0, 0.4, 0.5, 0.55):
        for rescue in (0.55, 0.6, 0.7, 0.8, 2.0):
            for k_index, k in enumerate((1, 2, 4)):
                print(f"veto < {veto}, rescue >= {rescue} with {k} sentence(s):", simulate(rows, veto, rescue, k_index))


if __name__ == "__main__":
    main()
