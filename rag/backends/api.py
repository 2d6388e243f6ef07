"""`openai:MODEL` and `anthropic:MODEL`: API models through LangChain's chat models.

Keys are read from the providers' own environment variables at the moment the backend is
built, handed to LangChain as secrets, and never stored, printed or put in a report.
"""

from __future__ import annotations

import os

from rag.backends import GenerationParams
from rag.backends.remote import Endpoint, RemoteBackend
from rag.config import DEFAULTS
from rag.errors import InputError

NO_KEY = "not-needed"  # local OpenAI-compatible servers (llama.cpp, Ollama, vLLM) accept any key


def openai_backend(model: str, base_url: str | None, context_tokens: int, timeout: float = DEFAULTS.request_timeout,
                   retries: int = DEFAULTS.retries) -> RemoteBackend:
    """Any server that speaks OpenAI's chat-completions API (OpenAI, vLLM, Ollama, llama.cpp, LM Studio)."""
    if not model:
        raise InputError("openai: needs a model name, e.g. openai:gpt-4o-mini")
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = os.environ.get("OPENAI_API_KEY", "")
    if not key and not base_url:
        raise InputError(f"openai:{model} needs an API key: set OPENAI_API_KEY, or pass --base-url for a local "
                         f"server that needs none")
    endpoint = Endpoint(f"openai:{model}", base_url or "https://api.openai.com/v1", "OPENAI_API_KEY",
                        "--base-url or OPENAI_BASE_URL", timeout, retries)

    def make_chat(params: GenerationParams):
        from langchain_openai import ChatOpenAI

        # OpenAI itself wants `max_completion_tokens` (LangChain's name for max_tokens); llama.cpp's server
        # and older compatible servers only know the classic `max_tokens`, so they get that in the body.
        limit = {"extra_body": {"max_tokens": params.max_tokens}} if base_url else {"max_tokens": params.max_tokens}
        return ChatOpenAI(model=model, base_url=base_url, api_key=key or NO_KEY, temperature=params.temperature,
                          seed=params.seed, timeout=timeout, max_retries=0, stream_usage=False, **limit)

    return RemoteBackend(endpoint, make_chat, context_tokens, secrets=(key,))


def anthropic_backend(model: str, base_url: str | None, context_tokens: int, timeout: float = DEFAULTS.request_timeout,
                      retries: int = DEFAULTS.retries) -> RemoteBackend:
    """Anthropic's Messages API (or anything that speaks it at ANTHROPIC_BASE_URL)."""
    if not model:
        raise InputError("anthropic: needs a model name, e.g. anthropic:claude-haiku-4-5")
    key = os.environ.get("ANTHROPIC_API_KEY", "")
    if not key:
        raise InputError(f"anthropic:{model} needs an API key: set ANTHROPIC_API_KEY")
    base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
    endpoint = Endpoint(f"anthropic:{model}", base_url or "https://api.anthropic.com", "ANTHROPIC_API_KEY",
                        "--base-url or ANTHROPIC_BASE_URL", timeout, retries)

    def make_chat(params: GenerationParams):
        from langchain_anthropic import ChatAnthropic

        # stream_usage changes nothing sent; without it LangChain drops the `message_delta` event, and with it
        # the stop reason that tells a finished reply from a cut one.
        return ChatAnthropic(model=model, base_url=base_url, api_key=key, temperature=params.temperature,
                             max_tokens=params.max_tokens, timeout=timeout, max_retries=0, stream_usage=True)

    return RemoteBackend(endpoint, make_chat, context_tokens, secrets=(key,))
