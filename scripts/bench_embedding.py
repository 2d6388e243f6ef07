"""Benchmark (not a test): MiniLM embedding throughput, torch fp32 vs the fp32 and int8 ONNX models.

    .venv/bin/python scripts/bench_embedding.py [--index var/bench/realtimeqa-*/index] [--passages 800]

Takes every 40th passage of an index (real news passages, about 100 tokens each on RealTime QA),
embeds them with sentence-transformers' torch model (batch 32, its default; it sorts each call by
length) and with `OnnxMiniLMEmbedder`: the exact fp32 export (batch 16, what `rag` runs, then 32) and int8
(batch 1, its default, then 8 and 32); prints passages/s and the cosine between each ONNX vector and its torch vector.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    """Print one line per embedder and batch size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="default: the first var/bench/realtimeqa-*/index")
    parser.add_argument("--passages", type=int, default=800)
    parser.add_argument("--models-dir", default="var/models")
    args = parser.parse_args()

    from rag import store
    from rag.embedders.minilm import MINILM_ID, MiniLMEmbedder
    from rag.embedders.onnx import OnnxMiniLMEmbedder
    from rag.embedders.onnx_export import fp32_model, int8_model

    path = Path(args.index) if args.index else sorted(Path("var/bench").glob("realtimeqa-*/index"))[0]
    texts = [c.text for c in store.load(path).chunks[::40]][: args.passages]
    torch_model = MiniLMEmbedder()
    tokens = np.mean([torch_model.count_tokens(t) for t in texts])
    print(f"{len(texts)} passages from {path}, {tokens:.0f} tokens on average")

    def timed(embed) -> tuple[np.ndarray, float]:
        embed(texts[:16])  # warm-up
        started = time.perf_counter()
        vectors = embed(texts)
        return vectors, len(texts) / (time.perf_counter() - started)

    reference, rate = timed(torch_model.embed_documents)
    print(f"torch fp32 (sentence-transformers, batch 32): {rate:6.1f} passages/s")
    exact_file = fp32_model(Path(args.models_dir))
    for batch in (16, 32):
        vectors, rate = timed(OnnxMiniLMEmbedder(exact_file, batch_size=batch, model_id=MINILM_ID).embed_documents)
        cosine = (vectors * reference).sum(axis=1)
        print(f"fp32 ONNX, batch {batch:2}:                     {rate:6.1f} passages/s; cosine to torch "
              f"min {cosine.min():.4f}, max abs difference {np.abs(vectors - reference).max():.1e}")
    model_file = int8_model(Path(args.models_dir))
    for batch in (1, 8, 32):
        vectors, rate = timed(OnnxMiniLMEmbedder(model_file, batch_size=batch).embed_documents)
        cosine = (vectors * reference).sum(axis=1)
        print(f"int8 ONNX, batch {batch:2}:                     {rate:6.1f} passages/s; cosine to torch "
              f"min {cosine.min():.4f}, mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
