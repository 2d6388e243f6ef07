"""Benchmark (not a test): llama.cpp settings and weight formats for the local model, on the prompts `rag ask` builds.

    .venv/bin/python scripts/bench_llama.py [--gold evals/gold.jsonl] [--limit 20] [--model local]
        [--variant NAME=FILE[,key=value...]] ...

The prompts are those the assistant would give the model for the first N gold questions (`Assistant.prompt_for`:
the same retrieval, style and context budget). Each variant is a GGUF file and `Llama` keyword arguments, loaded
side by side; the questions run in turn through every variant (so all see the same machine load), with the KV
cache kept between questions as `rag` keeps it. Per variant: the time to read the prompt (first token) and to the
last token, p50 / p95, the prompt-reading rate, and how many replies differ from the first variant's (greedy
decoding, so any difference is the variant's arithmetic).

Without `--variant`, the packaged file as `rag` loaded it before `weights` (no flash attention) is compared with
threads 1, `n_batch` 128 and 2048, flash attention, rag's own Q8_0 and F16 copies (`rag.backends.weights`, made in
the models folder if missing) and a whole-file Q4_0 conversion, written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def requantize(source: Path, target: Path, ftype: str) -> Path:
    """`source` written whole as llama.cpp type `ftype` (e.g. "Q4_0") at `target`, unless it exists."""
    from rag.backends.weights import convert

    if not target.exists():
        convert(source, target, ftype, None)
    return target


def parse_variant(text: str) -> tuple[str, Path, dict]:
    """NAME=FILE[,key=value...] -> (name, file, Llama kwargs); values are read as JSON where they parse."""
    name, _, rest = text.partition("=")
    file, *pairs = rest.split(",")
    kwargs = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return name, Path(file), kwargs


def main() -> None:
    """Print, per variant, prompt-reading and answer times and the replies that differ from the first variant's."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", default="evals/gold.jsonl")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--model", default="local")
    parser.add_argument("--answer-style", default="auto", choices=["auto", "short", "sentences"])
    parser.add_argument("--variant", action="append", default=[], help="NAME=FILE[,key=value...]; repeatable")
    args = parser.parse_args()

    import os

    from llama_cpp import Llama

    from rag.compose import build_assistant
    from rag.config import load_settings
    from rag.evals.bench_speed import percentile
    from rag.evals.gold import questions_of
    from rag.prompting import MAX_TOKENS, resolve_style

    # the packaged file, whatever `weights` says: the copies are variants below
    settings = load_settings({"model": args.model, "answer_style": args.answer_style, "weights": "packaged"})
    assistant = build_assistant(settings, print)
    backend = assistant.backend
    packaged = Path(backend._llm.model_path)
    prompts = [assistant.prompt_for(q)[1] for q in questions_of(Path(args.gold))[: args.limit]]
    lengths = [sum(backend.count_tokens(m["content"]) for m in p) for p in prompts]
    # the system prompt with no passages: it warms each model up and is cached, as in rag, without caching a test prompt
    warm_up = assistant.prompt_for("Which company is this about?", with_passages=False)[1]
    max_tokens = settings.max_tokens or MAX_TOKENS[resolve_style(settings.answer_style, settings.model)]
    del assistant, backend  # free the product's copy of the model

    threads = os.cpu_count() or 2
    scratch = Path(tempfile.mkdtemp(prefix="rag-llama-"))
    if args.variant:
        variants = [parse_variant(v) for v in args.variant]
    else:
        from rag.backends.gguf import PACKAGED_MODELS
        from rag.backends.weights import weights_file

        model = PACKAGED_MODELS[settings.model.partition(":")[2] or "qwen2.5-coder-0.5b"]
        copy = {w: weights_file(model, packaged, w, print) for w in ("q8_0", "f16")}
        variants = [("packaged, as rag loaded it before", packaged, {"flash_attn": False}),
                    ("threads 1", packaged, {"n_threads": 1, "flash_attn": False}),
                    ("n_batch 128", packaged, {"n_batch": 128, "n_ubatch": 128, "flash_attn": False}),
                    ("n_batch 2048", packaged, {"n_batch": 2048, "n_ubatch": 2048, "flash_attn": False}),
                    ("flash attention", packaged, {"flash_attn": True}),
                    ("Q8_0 copy + flash attention", copy["q8_0"], {"flash_attn": True}),
                    ("F16 copy + flash attention (the 0.5B's default)", copy["f16"], {"flash_attn": True}),
                    ("Q4_0, whole file", requantize(packaged, scratch / "q4_0.gguf", "Q4_0"), {"flash_attn": False})]
    models = {}
    for name, file, kwargs in variants:
        options = {"n_ctx": settings.context_tokens, "n_threads": threads, "seed": 0, "verbose": False, **kwargs}
        models[name] = Llama(model_path=str(file), **options)
        size = file.stat().st_size / 2**20
        print(f"loaded {name}: {file.name} ({size:.0f} MiB), {kwargs or 'defaults'}", flush=True)
    for llm in models.values():  # page the weights in and leave the system prompt cached
        for _ in llm.create_chat_completion(messages=warm_up, temperature=0.0, max_tokens=4, stream=True):
            pass

    rows: dict[str, list[tuple[float, float, str, int]]] = {name: [] for name in models}
    for n, messages in enumerate(prompts, start=1):
        for name, llm in models.items():
            started = time.perf_counter()
            first, pieces = 0.0, []
            for part in llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens,
                                                   seed=0, stream=True):
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    first = first or time.perf_counter() - started
                    pieces.append(piece)
            rows[name].append((first, time.perf_counter() - started, "".join(pieces).strip(), len(pieces)))
        print(f"{n}/{len(prompts)}", flush=True)

    reference = [r[2] for r in next(iter(rows.values()))]
    print(f"\n{len(prompts)} prompts, {percentile(lengths, 0.5):.0f} tokens p50, {threads} threads unless stated\n")
    print("| variant | first token p50 / p95 | whole answer p50 / p95 | prompt tokens/s p50 | reply tokens/s p50 | "
          "replies unlike the first |")
    print("|---|---|---|---|---|---|")
    for name, found in rows.items():
        first = [r[0] for r in found if r[0]]
        total = [r[1] for r in found]
        rate = [length / r[0] for length, r in zip(lengths, found, strict=True) if r[0]]
        # a streamed piece is one token; the first comes with the prompt, the rest are decoding
        decode = [(r[3] - 1) / (r[1] - r[0]) for r in found if r[3] > 1 and r[1] > r[0]]
        differ = sum(r[2] != ref for r, ref in zip(found, reference, strict=True))
        print(f"| {name} | {percentile(first, 0.5):.2f} / {percentile(first, 0.95):.2f} s | "
              f"{percentile(total, 0.5):.2f} / {percentile(total, 0.95):.2f} s | {percentile(rate, 0.5):.0f} | "
              f"{percentile(decode, 0.5):.0f} | "
              f"{differ} of {len(found)} |")
    for name, found in rows.items():
        for i, (r, ref) in enumerate(zip(found, reference, strict=True)):
            if r[2] != ref:
                print(f"  {name}, prompt {i + 1}: {ref!r} -> {r[2]!r}")


if __name__ == "__main__":
    main()
