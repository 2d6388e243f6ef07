"""Benchmark (not a test): precision and recall of the claim-support judges on a labelled claim set.

    .venv/bin/python scripts/bench_judges.py [--claims evals/claims-dev.jsonl] [--model] [--sweep]
        [--pmi [--pmi-out FEATURES.jsonl] | --pmi-features FEATURES.jsonl] [--pmi-thresholds MEAN MIN]
        [--reask [--reask-out REPLIES.jsonl] | --reask-replies REPLIES.jsonl]

Each row of the claim set is a claim, the passages shown with it, the ones it cites and a human label
(supported or not). A judge sees the cited passages (all of them when the claim cites none), as
`rag.checks.verify` does first. "Accepted" means the judge calls the claim supported; precision is the share
of accepted claims that are supported, recall the share of supported claims accepted, and
`rejects` lists, per kind, how many unsupported claims were caught.

Judges:
- words: `AlignmentJudge` without an embedder (names, numbers, units, quotes, speakers, negation, word coverage)
- align: the same with MiniLM cosine blended in (the product's judge)
- model: the 0.5B's own yes/no, read from llama.cpp's log-probabilities of " Yes" and " No"
  (`--model`; about a second a claim on 2 cores)
- align+model: both must accept
- pmi: how much the cited passages raise the 0.5B's likelihood of the claim, teacher-forced as its reply to the
  question with and without them (`--pmi`): per-token log-probability gain (mean), and the least likely claim
  token given the passages (min). Without `--pmi-thresholds` each threshold is the best F1 on the set being run,
  which is tuning: for a held-out set pass the dev set's (printed by its run)
- align+pmi: both must accept
- reask: option (c) of issue 12, the question asked again over the cited passages alone (the product's short
  prompt, `--reask`; `--reask-out` keeps the replies): the claim is accepted when it holds at least half of the
  new words of the reply (those the question lacks), and refused when the model finds no answer there
- align+reask: both must accept
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from collections import Counter
from pathlib import Path

MODEL_PROMPT = ("Passages:\n{passages}\n\nClaim: {claim}\n\n"
                "Do the passages state the claim, with the same people, numbers and meaning? Answer Yes or No.")


def load_rows(path: Path) -> list[dict]:
    """The labelled claims of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def saved_for(path: str, rows: list[dict]) -> list[dict]:
    """The records of an earlier `--pmi-out`/`--reask-out` file, in the order of `rows` (matched by claim id)."""
    saved = {record["id"]: record for record in load_rows(Path(path))}
    return [saved[row["id"]] for row in rows]


def save_for(path: str, rows: list[dict], records: list[dict]) -> None:
    """Write one record per claim, keyed by its id, for a later run to read with `saved_for`."""
    Path(path).write_text("".join(json.dumps({"id": row["id"], **record}) + "\n"
                                  for row, record in zip(rows, records, strict=True)), encoding="utf-8")


def sources_for(row: dict) -> list:
    """The sentences a judge may use for `row`: those of its cited passages, or of all when it cites none."""
    from rag.checks.claims.sources import sources_of
    from rag.types import Chunk, Passage

    passages = [Passage(Chunk(f"p{i}:0", f"p{i}", 0, text, 0, len(text), ""), 1.0, i)
                for i, text in enumerate(row["passages"], start=1)]
    found = sources_of(passages)
    return [s for s in found if s.marker in row["cited"]] if row["cited"] else found


class ModelJudge:
    """The local model's yes/no on "do the passages state the claim", as P(yes) from two log-probabilities."""

    name = "model"

    def __init__(self, model_file: str):
        import os

        from llama_cpp import Llama

        # its own instance: log-probabilities need logits for every position, which the product's backend skips
        self.llm = Llama(model_path=model_file, n_ctx=2048, n_threads=os.cpu_count() or 2, logits_all=True, verbose=False)

    def p_yes(self, claim: str, sources: list) -> float:
        passages = "\n".join(s.text for s in sources)
        messages = [{"role": "user", "content": MODEL_PROMPT.format(passages=passages, claim=claim)}]
        reply = self.llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, logprobs=True,
                                                top_logprobs=20)
        top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        yes = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == "yes")
        no = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == "no")
        return yes / (yes + no) if yes + no else 0.0


PMI_SYSTEM = "Answer the question from the passages."


class LikelihoodJudge:
    """Option (b) of issue 12: the model's own evidence. Each claim is scored as the model's reply to its question,
    teacher-forced through `LlamaCppBackend.choice_logprobs`, once after the cited passages and once with none.
    A claim the passages state gains likelihood from them on every token; a swapped name or number is a token the
    passages make no likelier (or less likely)."""

    def __init__(self, backend):
        self.backend = backend

    def features(self, claim: str, question: str, sources: list) -> dict[str, float]:
        """mean: mean per-token gain in log-probability from the passages; min: the least likely claim token
        given them; low: share of claim tokens below log-probability -4 given them."""
        passages = "\n\n".join(dict.fromkeys(s.passage.chunk.text for s in sources))
        given = [{"role": "system", "content": PMI_SYSTEM},
                 {"role": "user", "content": f"Passages:\n{passages}\n\nQuestion: {question}"}]
        bare = [{"role": "system", "content": PMI_SYSTEM}, {"role": "user", "content": f"Question: {question}"}]
        with_passages = self.backend.choice_logprobs(given, [claim])[0]
        without = self.backend.choice_logprobs(bare, [claim])[0]
        gains = [a - b for a, b in zip(with_passages, without, strict=True)]
        return {"mean": sum(gains) / len(gains), "min": min(with_passages),
                "low": sum(lp < -4 for lp in with_passages) / len(with_passages)}


class ReaskJudge:
    """Option (c) of issue 12: does the model, asked the question over the claim's passages alone, say the same?"""

    def __init__(self, backend):
        self.backend = backend

    def reply(self, question: str, sources: list) -> str:
        """The model's short answer to `question` over the passages of `sources` (the product's prompt, temperature 0)."""
        from rag.backends import GenerationParams
        from rag.prompting import build_messages

        passages = list({s.passage.chunk.id: s.passage for s in sources}.values())
        messages = build_messages(question, passages, "short")
        return "".join(self.backend.stream(messages, GenerationParams(max_tokens=96))).strip()

    @staticmethod
    def agrees(claim: str, reply: str, question: str, share: float = 0.5) -> bool:
        """Whether `claim` holds at least `share` of the new words of `reply`; a reply that declines agrees with nothing."""
        from rag.checks.abstention import declines
        from rag.checks.grounding import Evidence
        from rag.checks.verify import new_terms

        said = new_terms(reply, question)
        if not reply or declines(reply) or not said:
            return False
        return 1.0 - len(Evidence.of(claim).missing(said)) / len(said) >= share


def auc(values: list[float], labels: list[bool]) -> float:
    """ROC AUC of `values` for telling supported (True) from unsupported claims; ties count a half."""
    pos = [v for v, y in zip(values, labels, strict=True) if y]
    neg = [v for v, y in zip(values, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg)) if pos and neg else float("nan")


def best_threshold(values: list[float], rows: list[dict]) -> float:
    """The threshold (accept at >=) with the best F1 of accepting supported claims."""
    candidates = sorted(set(values))
    return max(candidates, key=lambda t: (scores([v >= t for v in values], rows)["f1"], -t))


def scores(accepted: list[bool], rows: list[dict]) -> dict:
    """Precision and recall of accepting supported claims, and what was caught per kind."""
    tp = sum(a and r["supported"] for a, r in zip(accepted, rows, strict=True))
    fp = sum(a and not r["supported"] for a, r in zip(accepted, rows, strict=True))
    fn = sum(not a and r["supported"] for a, r in zip(accepted, rows, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    caught = Counter(r["kind"] for a, r in zip(accepted, rows, strict=True) if not a and not r["supported"])
    total = Counter(r["kind"] for r in rows if not r["supported"])
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "accuracy": round(sum(a == r["supported"] for a, r in zip(accepted, rows, strict=True)) / len(rows), 3),
            "rejects": {k: f"{caught[k]}/{n}" for k, n in sorted(total.items())}}


def main() -> None:
    """Run every judge on the claim set and print one line of figures each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", default="evals/claims-dev.jsonl")
    parser.add_argument("--model", action="store_true", help="also the 0.5B's yes/no judge (slow)")
    parser.add_argument("--gguf", default="var/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                        help="the model file of the yes/no judge (assembled by any `rag ask`)")
    parser.add_argument("--sweep", action="store_true", help="precision/recall of align at several thresholds")
    parser.add_argument("--pmi-out", help="write the pmi features of each claim to this JSONL file")
    parser.add_argument("--reask", action="store_true", help="also the re-asking judge (slow: a generation a claim)")
    parser.add_argument("--reask-out", help="write each claim's re-asked reply to this JSONL file")
    parser.add_argument("--reask-replies", help="the replies of an earlier --reask-out run, instead of the model")
    parser.add_argument("--pmi-features", help="the pmi features of an earlier --pmi-out run, instead of the model")
    parser.add_argument("--pmi", action="store_true", help="also the likelihood-gain judge (slow: ~2 s a claim)")
    parser.add_argument("--pmi-thresholds", type=float, nargs=2, metavar=("MEAN", "MIN"),
                        help="fixed thresholds of the pmi judge (default: the best F1 on this set, printed)")
    args = parser.parse_args()

    from rag.checks.claims.align import AlignmentJudge
    from rag.embedders.minilm import MiniLMEmbedder

    rows = load_rows(Path(args.claims))
    sources = [sources_for(r) for r in rows]
    print(f"{args.claims}: {len(rows)} claims, {sum(r['supported'] for r in rows)} supported")
    results: dict[str, list[bool]] = {}
    words = AlignmentJudge(None)
    results["words"] = [words.judge(r["claim"], r["question"], s).supported for r, s in zip(rows, sources, strict=True)]
    align = AlignmentJudge(MiniLMEmbedder())
    started = time.perf_counter()
    verdicts = [align.judge(r["claim"], r["question"], s) for r, s in zip(rows, sources, strict=True)]
    align_ms = (time.perf_counter() - started) * 1000 / len(rows)
    results["align"] = [v.supported for v in verdicts]
    if args.sweep:
        for threshold in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
            judge = AlignmentJudge(align.embedder, min_score=threshold)
            results[f"align@{threshold}"] = [judge.judge(r["claim"], r["question"], s).supported
                                            for r, s in zip(rows, sources, strict=True)]
    if args.model:
        model = ModelJudge(args.gguf)
        started = time.perf_counter()
        p_yes = [model.p_yes(r["claim"], s) for r, s in zip(rows, sources, strict=True)]
        model_ms = (time.perf_counter() - started) * 1000 / len(rows)
        for threshold in (0.3, 0.5, 0.7):
            results[f"model@{threshold}"] = [p >= threshold for p in p_yes]
        results["align+model@0.5"] = [a and p >= 0.5 for a, p in zip(results["align"], p_yes, strict=True)]
        print(f"model judge: {model_ms:.0f} ms per claim")
    @functools.cache
    def local_model():
        """The 0.5B, loaded once for whichever model-based judges run."""
        from rag.backends.local import LlamaCppBackend

        return LlamaCppBackend(Path(args.gguf), "local", context_tokens=4096)

    if args.pmi or args.pmi_features:
        started = time.perf_counter()
        if args.pmi_features:
            feats = saved_for(args.pmi_features, rows)
        else:
            pmi = LikelihoodJudge(local_model())
            feats = [pmi.features(r["claim"], r["question"], s) for r, s in zip(rows, sources, strict=True)]
        pmi_ms = (time.perf_counter() - started) * 1000 / len(rows)
        labels = [r["supported"] for r in rows]
        for key in ("mean", "min", "low"):
            sign = -1 if key == "low" else 1
            print(f"pmi {key}: ROC AUC {auc([sign * f[key] for f in feats], labels):.3f}")
        mean_t, min_t = args.pmi_thresholds or (best_threshold([f["mean"] for f in feats], rows),
                                                best_threshold([f["min"] for f in feats], rows))
        timing = "features read from file" if args.pmi_features else f"{pmi_ms:.0f} ms per claim"
        print(f"pmi thresholds: mean >= {mean_t:.3f}, min >= {min_t:.3f}; {timing}")
        results["pmi-mean"] = [f["mean"] >= mean_t for f in feats]
        results["pmi-min"] = [f["min"] >= min_t for f in feats]
        results["align+pmi-mean"] = [a and p for a, p in zip(results["align"], results["pmi-mean"], strict=True)]
        results["align+pmi-min"] = [a and p for a, p in zip(results["align"], results["pmi-min"], strict=True)]
        if args.pmi_out:
            save_for(args.pmi_out, rows, feats)
    if args.reask or args.reask_replies:
        started = time.perf_counter()
        if args.reask_replies:
            replies = [record["reply"] for record in saved_for(args.reask_replies, rows)]
        else:
            reask = ReaskJudge(local_model())
            replies = [reask.reply(r["question"], s) for r, s in zip(rows, sources, strict=True)]
            print(f"reask judge: {(time.perf_counter() - started) * 1000 / len(rows):.0f} ms per claim")
        if args.reask_out:
            save_for(args.reask_out, rows, [{"reply": reply} for reply in replies])
        results["reask"] = [ReaskJudge.agrees(r["claim"], a, r["question"]) for r, a in zip(rows, replies, strict=True)]
        results["align+reask"] = [a and b for a, b in zip(results["align"], results["reask"], strict=True)]
    print(f"align judge: {align_ms:.1f} ms per claim (sentence split, MiniLM, clauses)")
    for name, accepted in results.items():
        s = scores(accepted, rows)
        print(f"{name:18} precision {s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}  "
              f"accuracy {s['accuracy']:.3f}  caught {s['rejects']}")


if __name__ == "__main__":
    main()
