"""Benchmark (not a test): peak memory of `rag index` over one large JSONL dump, by phase of the build.

    .venv/bin/python scripts/bench_dump_memory.py [--rows 40000] [--words 900] [--work /tmp/rag-dump-memory]

Writes a dump of ROWS articles of WORDS words each (words drawn from a seed article, a fixed seed), then builds an
index of it from scratch in this process with vectors from a hash of each passage (`SeededEmbedder`: no model, so
what is measured is reading, chunking, holding and writing, not MiniLM). A thread samples the resident memory every
0.2 s and the build's phases are marked as they start: reading and chunking, embedding, writing the store. Prints
the articles, passages, time, peak RSS and the peak of each phase.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import threading
import time
from pathlib import Path


def _rss_mib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    """Write the dump, build its index while sampling memory, print the peaks."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--words", type=int, default=900)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-dump-memory"))
    args = parser.parse_args()

    from rag import store
    from rag.evals.bench_scale import SeededEmbedder
    from rag.index import build, pipeline

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    dump = args.work / "dump.jsonl"
    rng = random.Random(7)
    words = (Path(__file__).resolve().parent.parent / "seeds" / "002_9ad4130286e12838.txt").read_text().split()
    with dump.open("w", encoding="utf-8") as f:
        for i in range(args.rows):
            text = " ".join(rng.choice(words) for _ in range(args.words)) + "."
            f.write(json.dumps({"id": f"a{i}", "title": f"Article number {i}", "date": "2024-04-28", "text": text}) + "\n")
    print(f"dump: {args.rows} rows, {dump.stat().st_size / 2**20:.0f} MiB")

    phase, peaks = ["reading and chunking"], {}

    def sample() -> None:
        while True:
            peaks[phase[0]] = max(peaks.get(phase[0], 0), _rss_mib())
            time.sleep(0.2)

    def marked(module, name: str, label: str) -> None:
        original = getattr(module, name)

        def call(*args, **kwargs):
            phase[0] = label
            return original(*args, **kwargs)

        setattr(module, name, call)

    marked(pipeline, "embed_chunks", "embedding")
    marked(store, "save", "writing the store")
    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    report = build.build_index(args.work / "index", [dump], SeededEmbedder())
    print(f"{len(report.added)} articles, {report.chunks} passages in {time.perf_counter() - started:.0f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for name, peak in peaks.items():
        print(f"  {name}: peak {peak} MiB")
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
