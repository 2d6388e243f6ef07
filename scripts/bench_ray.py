"""Benchmark (not a test): `rag index` in one process against `rag index --ray` with 1 and 2 embedding workers.

    .venv/bin/python scripts/bench_ray.py --data RTQA_DIR [--limit N] [--workers 1 2] [--embedder minilm]
    .venv/bin/python scripts/bench_ray.py --corpus DIR [...]

The corpus is a folder of articles, or the first N pages of RealTime QA's development split (`--data`, written
as `rag bench realtimeqa` writes them). Each build starts from an empty index. The Ray builds share one local Ray,
started once and timed apart, so their figures are the indexing itself: actors loading the model, reading,
chunking, embedding, and collecting the vectors. Every build's chunks and vectors are compared with the
one-process build's; "identical" means every vector equal to the bit.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Build the corpus once in this process and once per worker count on Ray; print passages/s and the speed-ups."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", type=Path, help="a folder of articles")
    source.add_argument("--data", type=Path, help="RealTime QA's development split")
    parser.add_argument("--limit", type=int, default=150, help="--data: pages to index (default 150)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="embedding workers to try")
    parser.add_argument("--embedder", choices=["minilm", "minilm-int8"], default="minilm")
    args = parser.parse_args()

    import numpy as np

    from rag import store
    from rag.embedders import IDS, open_embedder
    from rag.index.build import build_index
    from rag.index.chunking import ChunkingSettings
    from rag.index.distributed import RayPipeline, ray_cluster

    models = Path("var/models")
    embedder = open_embedder(IDS[args.embedder], models)
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus or _rtqa_pages(args.data, args.limit, Path(scratch) / "pages")
        local = build_index(Path(scratch) / "local", [corpus], embedder)
        baseline = store.load(Path(scratch) / "local")
        rows = [("one process", os.cpu_count(), local.seconds, local.embedded_texts, "—")]
        started = time.perf_counter()
        with ray_cluster("local") as cpus:
            print(f"local Ray with {cpus} CPUs started in {time.perf_counter() - started:.1f} s")
            for workers in args.workers:
                folder = Path(scratch) / f"ray-{workers}"
                pipeline = RayPipeline("local", embedder.model_id, models, ChunkingSettings(), workers)
                report = build_index(folder, [corpus], embedder, pipeline=pipeline)
                built = store.load(folder)
                same = built.chunks == baseline.chunks and np.array_equal(built.vectors(), baseline.vectors())
                rows.append((f"Ray, {workers} worker(s)", workers, report.seconds, report.embedded_texts,
                             "yes" if same else "NO"))
    one_worker = next((r[2] for r in rows if r[1] == 1 and r[0].startswith("Ray")), None)
    print(f"\n{local.chunks} passages of {len(local.added)} articles, {embedder.model_id}, {os.cpu_count()} CPUs\n")
    print("| build | CPUs | wall | passages/s | vs. Ray 1 worker | vectors identical to one process |")
    print("|---|---|---|---|---|---|")
    for name, cpus, seconds, passages, same in rows:
        ratio = f"{one_worker / seconds:.2f}x" if one_worker else "—"
        print(f"| {name} | {cpus} | {seconds:.1f} s | {passages / seconds:.1f} | {ratio} | {same} |")


def _rtqa_pages(data: Path, limit: int, folder: Path) -> Path:
    """The first `limit` pages (by name) of RealTime QA's development split, as `rag bench realtimeqa` writes them."""
    from rag.evals.realtimeqa import weeks_in, write_corpus

    everything = folder.parent / "all-pages"
    write_corpus(data, weeks_in(data), everything, with_gold_articles=True)
    folder.mkdir(parents=True)
    for page in sorted(everything.glob("*.txt"))[:limit]:
        page.rename(folder / page.name)
    return folder


if __name__ == "__main__":
    main()
