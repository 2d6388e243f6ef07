"""Benchmark (not a test): how many sentences of real news the quarantine cuts from the model's view.

    .venv/bin/python scripts/bench_quarantine.py --data DIR [--weeks W ...] [--show N]

DIR is RealTime QA's development split (the layout `rag bench realtimeqa` reads). Every unique page of its search
results and gold articles is read as `rag bench realtimeqa` writes it (`rag.evals.realtimeqa.write_corpus`), and each
page goes through `rag.checks.quarantine.model_view`, as a passage does before it reaches the prompt. News holds
no instruction to an AI reader, so every sentence cut here is one the model was wrongly kept from reading.
Prints the count and the time per page, then up to N of the cut sentences.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Run the quarantine over every page of the chosen weeks and print what it cut."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="RealTime QA's development split")
    parser.add_argument("--weeks", nargs="*", help="weeks to read (default: every week in DIR)")
    parser.add_argument("--show", type=int, default=20, help="cut sentences to print")
    args = parser.parse_args()

    from rag.checks.quarantine import model_view
    from rag.evals.realtimeqa import weeks_in, write_corpus
    from rag.sentences import split_sentences

    weeks = args.weeks or weeks_in(args.data)
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(args.data, weeks, Path(folder), with_gold_articles=True)
        texts = [path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.txt"))]
    started = time.perf_counter()
    views = [model_view(text) for text in texts]
    seconds = time.perf_counter() - started
    cut = sum(n for _, n in views)
    print(f"{len(texts)} pages of {len(weeks)} weeks: {cut} sentences cut, in {sum(n > 0 for _, n in views)} pages; "
          f"{seconds * 1000 / len(texts):.2f} ms a page")
    shown = 0
    for text, (view, n) in zip(texts, views, strict=True):
        if not n or shown >= args.show:
            continue
        for sentence in split_sentences(text):
            if shown < args.show and " ".join(sentence.text.split()) not in " ".join(view.split()):
                print(f"  cut: {sentence.text[:160]}")
                shown += 1


if __name__ == "__main__":
    main()
