"""The embedded default: a GGUF model run in-process by llama-cpp-python."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rag.backends import GenerationParams
from rag.config import DEFAULTS
from rag.errors import BackendError, ModelError

# Tokens read per step while reading ahead: a waiting answer waits for at most one step (64 tokens, about 0.3 s for the
# 0.5B on 2 cores); smaller steps read more slowly (scripts/bench_llama.py: 178 tokens/s at 64, 216 at 512)
PREFILL_SLICE = 64


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
        self.model_file = model_file  # the weights actually loaded: a re-encoded copy, or the packaged file
        self.context_tokens = context_tokens
        try:
            self._llm = Llama(
                model_path=str(model_file),
                n_ctx=context_tokens,
                n_threads=threads or os.cpu_count() or 2,
                # measured on the gold prompts (scripts/bench_llama.py): the same replies, prompts read ~5-10% faster
                flash_attn=True,
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

    def prefill(self, messages: list[dict[str, str]], stop: Callable[[], bool] = lambda: False) -> int:
        """Read the prompt of `messages` into the KV cache now, so that a later `stream` of the same messages, or of
        messages that share its start, reads only the rest (llama-cpp-python reuses the longest cached prefix).

        The UI calls this while the user is still typing. It reads in slices of `PREFILL_SLICE` tokens and stops
        between two once `stop()` is true, keeping what it has read. Returns the prompt tokens cached. Like every
        call on one llama.cpp context, it must not run beside another: the caller serialises them."""
        llm = self._llm
        prompt = self._prompt_tokens(messages)
        # the last token is left to the answer, which samples from its logits
        end = len(prompt) - 1
        keep = self._cached_prefix(prompt)
        llm.n_tokens = keep  # eval drops the KV cache past n_tokens before decoding
        for start in range(keep, end, PREFILL_SLICE):
            if stop():
                break
            llm.eval(prompt[start : min(start + PREFILL_SLICE, end)])
        return llm.n_tokens

    def cached_tokens(self, messages: list[dict[str, str]]) -> int:
        """How many of the prompt tokens of `messages` the KV cache already holds: the part `stream` will not read
        (at least the prompt's last token is always read again)."""
        return self._cached_prefix(self._prompt_tokens(messages))

    def _cached_prefix(self, prompt: list[int]) -> int:
        """The length of the start of `prompt` the KV cache holds, at most all but its last token: that token is
        always read again, because its logits are what the next step samples from or scores."""
        llm = self._llm
        return min(llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), prompt), len(prompt) - 1)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` under the model's own tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def choice_logprobs(self, messages: list[dict[str, str]], continuations: Sequence[str]) -> list[tuple[float, ...]]:
        """The log-probability of each token of each continuation as the start of the reply to `messages`
        (teacher-forced, at temperature 1: the model's own distribution).

        The prompt is read once, reusing the KV cache of the prefix it shares with the previous call; each
        continuation is then decoded in one batch after it and cut off again, so four short choices cost four
        small decodes on top of one prompt. An empty continuation gets an empty tuple."""
        import llama_cpp
        import numpy as np

        llm = self._llm
        prompt = self._prompt_tokens(messages)
        pieces = [llm.tokenize(c.encode("utf-8"), add_bos=False, special=False) for c in continuations]
        longest = max((len(p) for p in pieces), default=0)
        needed = len(prompt) + longest
        if needed > llm.n_ctx():
            raise BackendError(f"{self.name}: scoring needs {needed} tokens and the context holds {llm.n_ctx()}")

        def logprobs_at(i: int) -> np.ndarray:
            """Log-softmax of the logits the last decode gave its i-th token (-1: the last one)."""
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, i), shape=(llm.n_vocab(),))
            shifted = logits.astype(np.float64) - logits.max()
            return shifted - np.log(np.exp(shifted).sum())

        # Llama.eval keeps the prompt's bookkeeping (input_ids, n_tokens) that later generation reuses. It re-reads
        # at least the prompt's last token: that token's logits (the first continuation token's distribution) are
        # gone once anything else has been decoded.
        keep = self._cached_prefix(prompt)
        llm.n_tokens = keep  # eval drops the KV cache past n_tokens before decoding
        llm.eval(prompt[keep:])
        first = logprobs_at(-1)
        memory = llama_cpp.llama_get_memory(llm.ctx)
        # Llama.eval asks for the last position's logits only (logits_all=True would hold n_ctx x vocabulary floats,
        # 2.5 GB here), so a continuation goes through llama.cpp's own batch API with logits for every position.
        batch = llama_cpp.llama_batch_init(max(longest, 1), 0, 1)
        try:
            scored = []
            for piece in pieces:
                fed = piece[:-1]  # the last token is only predicted, never read
                if fed:
                    batch.n_tokens = len(fed)
                    for i, token in enumerate(fed):
                        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, len(prompt) + i, 1, True
                        batch.seq_id[i][0] = 0
                    llama_cpp.llama_memory_seq_rm(memory, 0, len(prompt), -1)  # cut off the previous continuation
                    if llama_cpp.llama_decode(llm.ctx, batch) != 0:
                        raise BackendError(f"{self.name}: llama.cpp could not decode a choice")
                rows = [first] + [logprobs_at(i) for i in range(len(fed))]
                scored.append(tuple(float(row[token]) for row, token in zip(rows, piece, strict=False)))
        finally:
            llama_cpp.llama_batch_free(batch)
            # What Llama knows it holds: the prompt but its last token, so the next call, even with this very
            # prompt, re-reads that token instead of sampling from a continuation's logits.
            llama_cpp.llama_memory_seq_rm(memory, 0, len(prompt) - 1, -1)
            llm.n_tokens = len(prompt) - 1
        return scored

    def _prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """`messages` as `create_chat_completion` reads them: the GGUF's chat template, then the assistant's turn."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{self.name}: the GGUF has no chat template, so its replies cannot be scored")

        def text(token: int) -> str:  # what Llama itself hands the template as its eos/bos token (-1: none)
            return llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

        formatted = Jinja2ChatFormatter(template, eos_token=text(llm.token_eos()), bos_token=text(llm.token_bos()))(
            messages=messages)
        return llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
