"""Which MiniLM to run: exact (fp32 ONNX) for small corpora, int8 ONNX for large ones on VNNI CPUs.

A query must be embedded by the same model as the passages it is compared with, so an existing
index decides its embedder; the `embedder` setting only chooses for new indexes and `--rebuild`.

Why `auto` depends on size: the int8 model embeds 2.3x faster and keeps retrieval within a point
(top-5), but its vectors differ slightly and the 0.5B model is sensitive to the order of near-tied
passages: on the seed gold set it answered 3 fewer of 69 questions right (README, "Speed").
Where indexing takes seconds either way that trade buys nothing; where it takes a quarter of an
hour it does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.embedders.minilm import MINILM_ID, Embedder
from rag.embedders.onnx import INT8_ID
from rag.errors import IndexCorruptError

IDS = {"minilm": MINILM_ID, "minilm-int8": INT8_ID}  # the pinned choices of rag.config.EmbedderChoice
EXACT_BATCH = 16  # fp32 ONNX texts per run: no quantisation, so batch-mates do not change a vector
INT8_FROM_BYTES = 2_000_000  # about 4,600 passages of news: torch needs about 85 s for them on 2 cores, int8 35 s


def cpu_has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has VNNI int8 dot products (AVX-512 VNNI or AVX-VNNI), which make int8 fast."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False  # not Linux, or hidden: take the path that is right everywhere
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx512_vnni" in flags or "avx_vnni" in flags


def resolve(choice: str, corpus_bytes: int = 0, has_vnni: Callable[[], bool] = cpu_has_vnni) -> str:
    """The embedder id a setting names; `auto` takes int8 for corpora of INT8_FROM_BYTES or more, where VNNI makes it pay."""
    if choice == "auto":
        return INT8_ID if corpus_bytes >= INT8_FROM_BYTES and has_vnni() else MINILM_ID
    return IDS[choice]


def open_embedder(model_id: str, models_dir: Path, say: Callable[[str], None] = lambda _: None,
                  threads: int | None = None) -> Embedder:
    """Load the embedder an index was (or will be) built with; `threads` bounds its CPU threads (default: one a core)."""
    if model_id == INT8_ID:
        from rag.embedders.onnx import OnnxMiniLMEmbedder
        from rag.embedders.onnx_export import int8_model

        return OnnxMiniLMEmbedder(int8_model(models_dir, say), threads=threads)
    if model_id == MINILM_ID:
        # the same vectors as sentence-transformers' torch model (cosine 1.0000, the same rankings:
        # tests/model/test_exact_onnx.py) without importing torch, which was 5 s of every cold `rag ask`
        from rag.embedders.onnx import OnnxMiniLMEmbedder
        from rag.embedders.onnx_export import fp32_model

        return OnnxMiniLMEmbedder(fp32_model(models_dir, say), batch_size=EXACT_BATCH, threads=threads, model_id=MINILM_ID)
    raise IndexCorruptError(f"index was built with {model_id}, which this rag cannot load: rebuild it with `rag index --rebuild`")


def embedder_for(loaded, models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Embedder:
    """The embedder a loaded index (`rag.store.Store`) was built with: queries must use the same model."""
    return open_embedder(loaded.manifest.embedder.id, models_dir, say)
