"""The FAISS index type follows corpus size: exact flat search while small, HNSW beyond, then a compressed index.

The switch points and parameters come from `rag bench scale` (README, "Scale").
- Flat and HNSW keep the vectors themselves, so incremental rebuilds and hybrid retrieval read them
  back with `reconstruct`.
- The compressed index (IVF-PQ: inverted lists over product-quantised codes, 96 bytes a vector) keeps
  only codes in memory. Its exact vectors go to a file beside it that is memory-mapped, not read:
  a search takes the index's best `RERANK` candidates and re-scores them exactly from that file, so
  the ranking at the top is exact inner product, and a window of rows is searched exactly.
"""

from __future__ import annotations

import math

import numpy as np

HNSW_FROM = 200_000  # vectors; below this an exact search is fast enough that approximation buys nothing
HNSW_M = 32  # graph neighbours per vector
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 96  # candidates per search: recall@10 against exact search is measured with this

COMPRESSED_FROM = 500_000  # vectors; from here HNSW's recall@10 falls below 0.95 and it holds 1.7 KB a vector
PQ_BYTES = 96  # sub-quantisers of 8 bits: MiniLM's 384 dimensions in 96 codes of 4 (48 codes re-rank worse)
PQ_CENTROIDS = 256  # per sub-quantiser (8 bits); training needs at least this many vectors
NPROBE = 64  # inverted lists visited per search
RERANK = 200  # candidates re-scored exactly from the memory-mapped vectors
TRAIN_PER_LIST = 64  # training vectors per inverted list (FAISS warns below 39)
SEED = 1234  # k-means and the training sample are seeded, so a build is reproducible

COMPRESSED = "IndexIVFPQ"


def kind_for(n: int, hnsw_from: int | None = None, compressed_from: int | None = None) -> str:
    """`flat`, `hnsw` or `ivfpq` for a corpus of `n` vectors."""
    if n >= max(COMPRESSED_FROM if compressed_from is None else compressed_from, PQ_CENTROIDS):
        return "ivfpq"
    if n >= (HNSW_FROM if hnsw_from is None else hnsw_from):
        return "hnsw"
    return "flat"


def build(vectors: np.ndarray, dim: int, hnsw_from: int | None = None, compressed_from: int | None = None,
          trained=None, kind: str | None = None):
    """An inner-product index over L2-normalised `vectors`, of the type their number calls for (or `kind`, which
    `rag bench scale` sets to compare the types at one size).

    `trained` is a previous compressed index whose lists and codebooks still fit this corpus
    (`reusable`): it is then filled again without training."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
    kind = kind or kind_for(len(vectors), hnsw_from, compressed_from)
    if kind == "ivfpq":
        return build_ivfpq(vectors, trained)
    if kind == "hnsw":
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


def lists_for(n: int) -> int:
    """Inverted lists for `n` vectors: the power of two nearest 2·√n (2,048 at a million, at least 16).

    A power of two changes only when the corpus grows or shrinks about fourfold, so a trained index
    stays reusable across many incremental builds."""
    return max(16, 2 ** round(math.log2(2 * math.sqrt(max(n, 1)))))


def pq_bytes_for(dim: int) -> int:
    """Codes per vector: `PQ_BYTES`, or the largest number under it that divides `dim` (PQ splits it evenly)."""
    return max(m for m in range(1, min(PQ_BYTES, dim) + 1) if dim % m == 0)


def build_ivfpq(vectors: np.ndarray, trained=None):
    """IVF-PQ over `vectors`, trained on a seeded sample of them unless `trained` fits (`reusable`)."""
    import faiss

    n, dim = vectors.shape
    if trained is not None and reusable(trained, n, dim):
        index = faiss.clone_index(trained)
        index.reset()  # keeps the trained lists and codebooks, drops the codes
    else:
        nlist = lists_for(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, pq_bytes_for(dim), PQ_CENTROIDS.bit_length() - 1,
                                 faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = SEED
        index.pq.cp.seed = SEED
        sample = np.random.default_rng(SEED).choice(n, size=min(n, nlist * TRAIN_PER_LIST), replace=False)
        index.train(vectors[np.sort(sample)])
    index.nprobe = NPROBE
    index.add(vectors)
    return index


def reusable(index, n: int, dim: int) -> bool:
    """Whether a compressed index's training suits a corpus of `n` vectors (same lists, codes and dimension)."""
    return (type_name(index) == COMPRESSED and index.d == dim and index.nlist == lists_for(n)
            and pq_bytes_for(dim) == index.pq.M)


def is_compressed(type_or_index) -> bool:
    """Whether an index (or the type name a manifest records) keeps codes only, with the vectors in a file."""
    name = type_or_index if isinstance(type_or_index, str) else type_name(type_or_index)
    return name == COMPRESSED


def type_name(index) -> str:
    """The FAISS class name recorded in the manifest, e.g. `IndexFlatIP`, `IndexHNSWFlat` or `IndexIVFPQ`."""
    return type(index).__name__
