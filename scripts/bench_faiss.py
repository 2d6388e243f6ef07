"""Benchmark (not a test): exact flat search vs HNSW as the corpus grows, to place the switch point.

    .venv/bin/python scripts/bench_faiss.py --data RTQA_DIR [--index var/bench/realtimeqa-*/index] [--sizes 44011 100000 ...]

Vectors: the real passages of an index (the RealTime QA corpus: 44k) and, beyond its size, copies of
them with small Gaussian noise, renormalised, so larger corpora keep the clustering of real news.
Queries: the real RealTime QA questions, embedded by the index's own embedder. For each size it
prints flat and HNSW milliseconds per query (p50, one query at a time, as `rag ask` searches),
HNSW build seconds, memory, and HNSW recall@10 against the exact flat result.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np


def grow(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """`n` vectors: `base` first, then noisy renormalised copies of it."""
    rng = np.random.default_rng(seed)
    parts, have = [base[:n]], min(n, len(base))
    while have < n:
        take = base[: min(len(base), n - have)]
        noisy = take + rng.normal(0, 0.15 / np.sqrt(base.shape[1]), take.shape).astype(np.float32)
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
        have += len(take)
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def per_query_ms(index, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    """p50 milliseconds of single-query searches, and the rows found."""
    times, rows = [], []
    for q in queries:
        started = time.perf_counter()
        _, found = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - started) * 1000)
        rows.append(found[0])
    return statistics.median(times), np.array(rows)


def main() -> None:
    """Print one row per corpus size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="default: the first var/bench/realtimeqa-*/index")
    parser.add_argument("--data", required=True, help="the RealTime QA folder (its questions are the queries)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 44_011, 100_000, 200_000, 400_000])
    args = parser.parse_args()

    import faiss

    from rag import store
    from rag.embedders import open_embedder
    from rag.evals.realtimeqa import load_questions, weeks_in
    from rag.store.vector_index import build_hnsw

    path = Path(args.index) if args.index else sorted(Path("var/bench").glob("realtimeqa-*/index"))[0]
    loaded = store.load(path)
    base = loaded.vectors()
    embedder = open_embedder(loaded.manifest.embedder.id, Path("var/models"))
    questions = load_questions(Path(args.data), weeks_in(Path(args.data)), "gen")
    queries = np.vstack([embedder.embed_query(q.question) for q in questions]).astype(np.float32)
    print(f"{len(base)} real vectors from {path}, {len(queries)} real queries, faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads")
    print(f"{'vectors':>9} {'flat ms':>8} {'hnsw ms':>8} {'hnsw build s':>13} {'flat MB':>8} {'hnsw MB':>8} {'recall@10':>10}")
    for n in args.sizes:
        vectors = grow(base, n)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        flat_ms, exact = per_query_ms(flat, queries)
        started = time.perf_counter()
        hnsw = build_hnsw(vectors)
        build_s = time.perf_counter() - started
        hnsw_ms, approx = per_query_ms(hnsw, queries)
        recall = np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact, strict=True)])
        mb = [len(faiss.serialize_index(ix)) / 2**20 for ix in (flat, hnsw)]
        print(f"{n:>9} {flat_ms:>8.2f} {hnsw_ms:>8.2f} {build_s:>13.1f} {mb[0]:>8.0f} {mb[1]:>8.0f} {recall:>10.3f}")


if __name__ == "__main__":
    main()
