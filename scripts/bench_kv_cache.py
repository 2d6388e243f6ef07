"""Benchmark (not a test): what reusing the KV cache of the fixed prompt prefix saves per question.

    .venv/bin/python scripts/bench_kv_cache.py [--index var/index/default] [--limit 12]

Asks the first N gold questions twice through the real assistant and the local 0.5B: once as
`rag` runs (llama-cpp-python keeps the KV cache of the longest prefix shared with the previous
prompt: the system prompt, and more when the first passage is the same), once with the cache dropped before each
question (`Llama.reset()`), alternating question by question so both see the same machine load.
Prints time to first token and total time, p50 / p95, and the prompt tokens the model reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Print first-token and total times with and without prefix reuse."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="var/index/default")
    parser.add_argument("--gold", default="evals/gold.jsonl")
    parser.add_argument("--limit", type=int, default=12)
    args = parser.parse_args()

    from rag.compose import build_assistant
    from rag.config import load_settings
    from rag.evals.bench_speed import percentile
    from rag.prompting import build_messages

    assistant = build_assistant(load_settings({"index": args.index}))
    llm = assistant.backend._llm
    questions = [json.loads(line)["question"] for line in Path(args.gold).read_text(encoding="utf-8").splitlines()
                 if line.strip()][: args.limit]
    system = build_messages("x", [])[0]["content"]
    print(f"system prompt: {assistant.backend.count_tokens(system)} tokens plus the chat template; reused, it is "
          "read once, and so is any longer prefix the next prompt shares (the same first passage)")
    assistant.answer(questions[0])  # warm-up: page the model in
    runs = {"reused": [], "dropped": []}
    for question in questions:
        for mode in ("dropped", "reused"):
            if mode == "dropped":
                llm.reset()  # forget every cached token: the whole prompt is read again
            else:
                assistant.answer(questions[0])  # leave a different question's prompt in the cache, as in real use
            answer = assistant.answer(question)
            if answer.timings.get("first_token"):
                runs[mode].append((answer.timings["first_token"], answer.timings["total"], answer.usage["prompt_tokens"]))
    for mode, rows in runs.items():
        first = [r[0] / 1000 for r in rows]
        total = [r[1] / 1000 for r in rows]
        print(f"prefix cache {mode:8}: first token p50 {percentile(first, 0.5):.2f} s  p95 {percentile(first, 0.95):.2f} s;"
              f"  total p50 {percentile(total, 0.5):.2f} s  p95 {percentile(total, 0.95):.2f} s;"
              f"  prompt tokens p50 {percentile([r[2] for r in rows], 0.5):.0f}  ({len(rows)} questions reached the model)")


if __name__ == "__main__":
    main()
