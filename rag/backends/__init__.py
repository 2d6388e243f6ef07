"""Chat backends: the `ChatBackend` role and the model-spec registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings; temperature 0 by default so answers are reproducible."""

    temperature: float = 0.0
    max_tokens: int = 96
    seed: int = 0


class ChatBackend(Protocol):
    """A chat model that streams its reply; the full text is the chunks joined."""

    name: str
    context_tokens: int

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...
