"""The FAISS index type follows corpus size: exact flat search while small, HNSW beyond.

The switch point and the HNSW parameters come from `scripts/bench_faiss.py` (README, "Scale").
Both types keep the vectors themselves, so incremental rebuilds and hybrid retrieval can read
them back with `reconstruct`.
"""

from __future__ import annotations

import numpy as np

HNSW_FROM = 200_000  # vectors; below this an exact search is fast enough that approximation buys nothing
HNSW_M = 32  # graph neighbours per vector
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 96  # candidates per search: recall@10 against exact search is measured with this


def build(vectors: np.ndarray, dim: int, hnsw_from: int | None = None):
    """An inner-product index over L2-normalised `vectors`, of the type their number calls for."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
    if len(vectors) >= (HNSW_FROM if hnsw_from is None else hnsw_from):
        return build_hnsw(vectors)
    flat = faiss.IndexFlatIP(dim)
    if len(vectors):
        flat.add(vectors)
    return flat


def build_hnsw(vectors: np.ndarray):
    """An HNSW graph over `vectors` with our parameters (efSearch is saved with the index)."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def type_name(index) -> str:
    """The FAISS class name recorded in the manifest, e.g. `IndexFlatIP` or `IndexHNSWFlat`."""
    return type(index).__name__
