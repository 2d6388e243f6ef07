"""Benchmark (not a test): what showing a follow-up the passages the model has just read, first, saves and costs.

    .venv/bin/python scripts/bench_followups.py [--gold evals/followups.jsonl] [--index var/index/default] [--limit N]

Each conversation of the gold file (earlier questions in `history`, then the follow-up `question`) is run twice
through the real assistant and the local model, in a fresh `Conversation` each time: with the follow-up's passages
in rank order (the default), and with `reuse_passages` (rag.prompting.cached_first), alternating which goes first
so both see the same machine load. For the follow-up it prints time to first token and total, the prompt tokens,
how many of them llama.cpp could take from the KV cache of the prompt before (the shared token prefix), and
whether the answer is right: a gold alias in an answer, or "Not in the documents." for an unanswerable question.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path


def _right(answer, case: dict) -> bool:
    if not case["answerable"]:
        return answer.abstained
    text = answer.text.casefold()
    return not answer.abstained and any(alias.casefold() in text for alias in case["answers"])


def main() -> None:
    """Print the follow-ups' first-token times, reused prompt tokens and right answers in both passage orders."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="var/index/default")
    parser.add_argument("--gold", default="evals/followups.jsonl")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--out", help="write one JSON line per follow-up and mode here")
    args = parser.parse_args()

    from rag.compose import build_assistant
    from rag.config import load_settings
    from rag.evals.bench_speed import percentile
    from rag.followups import Conversation

    assistant = build_assistant(load_settings({"index": args.index}))
    backend = assistant.backend
    cases = [json.loads(line) for line in Path(args.gold).read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = cases[: args.limit] if args.limit else cases
    prompts: list[list[int]] = []  # the token ids of every prompt the model was sent, in order
    stream = backend.stream

    def recording(messages, params):
        prompts.append(backend._prompt_tokens(messages))
        return stream(messages, params)

    backend.stream = recording
    base = assistant.settings
    assistant.answer("Which company did Tesla partner with on mapping?")  # warm-up: page the model in
    rows = []
    for i, case in enumerate(cases):
        modes = ("rank", "reuse") if i % 2 == 0 else ("reuse", "rank")
        for mode in modes:
            assistant.settings = replace(base, reuse_passages=mode == "reuse")
            conversation = Conversation(assistant)
            for earlier in case["history"]:
                conversation.ask(earlier)
            before = len(prompts)
            rewrite, answer = conversation.ask(case["question"])
            called = len(prompts) > before
            row = {"id": case["id"], "mode": mode, "rewritten": rewrite.question, "text": answer.text,
                   "right": _right(answer, case), "called": called,
                   "first_token_s": answer.timings["first_token"] / 1000, "total_s": answer.timings["total"] / 1000,
                   "prompt_tokens": len(prompts[-1]) if called else 0,
                   "reused_tokens": (backend._llm.longest_token_prefix(prompts[-2], prompts[-1])
                                     if called and len(prompts) > 1 else 0),
                   "passages": [p.chunk.id for p in answer.passages]}
            rows.append(row)
            print(f"{case['id']} {mode:5} right={row['right']!s:5} first token {row['first_token_s']:.2f} s, "
                  f"{row['reused_tokens']}/{row['prompt_tokens']} prompt tokens reused: {answer.text[:70]!r}", flush=True)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print()
    for mode in ("rank", "reuse"):
        mine = [r for r in rows if r["mode"] == mode]
        called = [r for r in mine if r["called"]]
        first = [r["first_token_s"] for r in called]
        total = [r["total_s"] for r in called]
        read = [r["prompt_tokens"] - r["reused_tokens"] for r in called]
        print(f"{mode:5}: right {sum(r['right'] for r in mine)}/{len(mine)}; over the {len(called)} that reached the "
              f"model: first token p50 {percentile(first, 0.5):.2f} s p95 {percentile(first, 0.95):.2f} s, "
              f"total p50 {percentile(total, 0.5):.2f} s, prompt tokens read p50 {percentile(read, 0.5):.0f} "
              f"(of {percentile([r['prompt_tokens'] for r in called], 0.5):.0f})")
    changed = [c["id"] for c in cases
               if len({r["right"] for r in rows if r["id"] == c["id"]}) > 1]
    print(f"follow-ups right in one order only: {', '.join(changed) or 'none'}")


if __name__ == "__main__":
    main()
