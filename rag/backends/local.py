"""The embedded default: a GGUF model run in-process by llama-cpp-python."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from rag.backends import GenerationParams
from rag.config import DEFAULTS
from rag.errors import BackendError, ModelError


class LlamaCppBackend:
    """Loads the model once; llama-cpp-python reuses the KV cache of the longest prompt
    prefix shared with the previous call, so a fixed system prompt is read only once."""

    def __init__(self, model_file: Path, name: str, context_tokens: int = DEFAULTS.context_tokens, threads: int | None = None,
                 seed: int = 0):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed: run ./scripts/setup.sh") from exc
        self.name = name
        self.context_tokens = context_tokens
        try:
            self._llm = Llama(
                model_path=str(model_file),
                n_ctx=context_tokens,
                n_threads=threads or os.cpu_count() or 2,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {model_file}: {exc}") from exc

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        """Yield the reply piece by piece."""
        try:
            for part in self._llm.create_chat_completion(
                messages=messages,
                temperature=params.temperature,
                max_tokens=params.max_tokens,
                seed=params.seed,
                stream=True,
            ):
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        except ValueError as exc:  # llama.cpp reports an over-long prompt this way
            raise BackendError(f"{self.name}: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` under the model's own tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
