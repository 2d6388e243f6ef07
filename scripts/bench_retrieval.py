"""Benchmark (not a test): dense vs hybrid retrieval, without the model.

    .venv/bin/python scripts/bench_retrieval.py [--index var/index/default] [--gold evals/gold.jsonl]
                                                 [--realtimeqa-index var/bench/realtimeqa-*/index]
                                                 [--realtimeqa-data RTQA_DIR]

Gold set: the rank of the first passage from an evidence article (hit@k, MRR) over the answerable
questions. RealTime QA (when its index exists, built by `rag bench realtimeqa`): whether the gold
answer's text occurs in the passage at rank 1, in the top 4, 5 and 10, and time per query.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def gold_figures(retriever, gold: list[dict], k: int = 5) -> str:
    """MRR and hit@1..k of the evidence articles."""
    hits, mrr = [0] * k, 0.0
    for question in gold:
        ranks = [p.rank for p in retriever.retrieve(question["question"], k) if p.chunk.article_id in question["evidence"]]
        if ranks:
            mrr += 1 / ranks[0]
            for i in range(ranks[0] - 1, k):
                hits[i] += 1
    n = len(gold)
    return f"MRR {mrr / n:.3f}  " + "  ".join(f"@{i + 1} {h / n:.3f}" for i, h in enumerate(hits))


def realtimeqa_figures(retriever, questions) -> str:
    """Answer recall at 1, 4 and 10, and milliseconds per query."""
    from rag.evals.metrics import alias_in

    found = {1: 0, 4: 0, 5: 0, 10: 0}
    started = time.perf_counter()
    for q in questions:
        passages = retriever.retrieve(q.question, 10)
        first = next((p.rank for p in passages if alias_in(p.chunk.text, (q.choices[q.answer],))), None)
        for k in found:
            found[k] += bool(first and first <= k)
    ms = (time.perf_counter() - started) / len(questions) * 1000
    n = len(questions)
    shares = "  ".join(f"top {k} {hits / n:.3f}" for k, hits in found.items())
    return f"answer in {shares}  ({ms:.0f} ms/query)"


def main() -> None:
    """Print the figures for both retrievers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="var/index/default")
    parser.add_argument("--gold", default="evals/gold.jsonl")
    parser.add_argument("--realtimeqa-index", help="default: the first var/bench/realtimeqa-*/index")
    parser.add_argument("--realtimeqa-data", help="the RealTime QA folder (its questions); without it, gold only")
    args = parser.parse_args()

    from rag import store
    from rag.embedders import embedder_for
    from rag.retrieval import DenseRetriever
    from rag.retrieval.hybrid import HybridRetriever

    def embedder_of(loaded):  # queries are embedded by the model the index was built with
        return embedder_for(loaded, Path("var/models"))

    gold = [json.loads(line) for line in Path(args.gold).read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [g for g in gold if g["answerable"]]
    seeds = store.load(Path(args.index))
    embedder = embedder_of(seeds)
    print(f"gold set ({len(gold)} answerable questions, {len(seeds.chunks)} passages, {embedder.model_id})")
    print(f"  dense   {gold_figures(DenseRetriever(seeds, embedder), gold)}")
    print(f"  hybrid  {gold_figures(HybridRetriever(seeds, embedder), gold)}")

    built = sorted(Path("var/bench").glob("realtimeqa-*/index"))
    rtqa = Path(args.realtimeqa_index) if args.realtimeqa_index else (built[0] if built else None)
    if not args.realtimeqa_data:
        print("RealTime QA: skipped (give --realtimeqa-data DIR, the benchmark's folder)")
        return
    if rtqa is None or not store.exists(rtqa):
        print("RealTime QA: no index (build one with `rag bench realtimeqa --limit 1`)")
        return
    from rag.evals.realtimeqa import load_questions, weeks_in

    data = Path(args.realtimeqa_data)
    questions = load_questions(data, weeks_in(data), "gen")
    loaded = store.load(rtqa)
    embedder = embedder_of(loaded)
    started = time.perf_counter()
    hybrid = HybridRetriever(loaded, embedder)
    print(f"RealTime QA ({len(questions)} questions, {len(loaded.chunks)} passages, {embedder.model_id}; BM25 built in "
          f"{time.perf_counter() - started:.1f} s)")
    print(f"  dense   {realtimeqa_figures(DenseRetriever(loaded, embedder), questions)}")
    print(f"  hybrid  {realtimeqa_figures(hybrid, questions)}")


if __name__ == "__main__":
    main()
