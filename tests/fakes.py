"""Deterministic stand-ins for the embedder and the chat model (unit tier only)."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator

import numpy as np

from rag.backends import GenerationParams

_WORD = re.compile(r"\w+")


class HashEmbedder:
    """A hashed bag of words: texts sharing words are close, so rankings are real and exact."""

    model_id = "test/hashed-bag-of-words"
    dim = 64
    max_tokens = 40

    def __init__(self):
        self.embedded: list[str] = []  # every text embedded, in order (incremental-index tests count these)

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class ScriptedBackend:
    """A chat model that replies with queued texts and records every prompt (like llm's MockModel)."""

    name = "scripted"

    def __init__(self, *replies: str, context_tokens: int = 4096):
        self.replies = list(replies)
        self.context_tokens = context_tokens
        self.calls: list[list[dict[str, str]]] = []

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        self.calls.append(messages)
        reply = self.replies.pop(0)
        yield from re.findall(r"\S+\s*", reply)  # word by word, like a real stream

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class ReadingBackend(ScriptedBackend):
    """A ScriptedBackend that can read a prompt ahead (`prefill`, as the local backend can): it records each prompt
    it was given and, while `hold` is set, keeps reading until `stop()` says to give way."""

    def __init__(self, *replies: str, context_tokens: int = 4096):
        super().__init__(*replies, context_tokens=context_tokens)
        self.prefilled: list[list[dict[str, str]]] = []
        self.hold = threading.Event()
        self.reading = threading.Event()  # set once a prefill has started

    def prefill(self, messages: list[dict[str, str]], stop) -> int:
        self.prefilled.append(messages)
        self.reading.set()
        while self.hold.is_set() and not stop():
            time.sleep(0.005)
        return sum(self.count_tokens(m["content"]) for m in messages)
