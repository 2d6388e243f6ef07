"""API models through LangChain chat models: streaming, bounded retries, and one clear message per failure.

The OpenAI and Anthropic SDKs (under `langchain-openai` / `langchain-anthropic`) raise exceptions of the
same names and shapes, so one mapping serves both. Their own retry loops are switched off (`max_retries=0`)
so that ours is the only one: it retries 429 and 5xx a bounded number of times, only before the first
token arrived (a half-streamed answer cannot be taken back), and its attempts are what the tests count.

A reply is complete only when the server says why it stopped (OpenAI's `finish_reason`, Anthropic's
`stop_reason`). A stream that ends without one was cut: llama.cpp's Python server, for one, ends a reply
with `[DONE]` and no reason when another request arrives. Taken as complete, a cut draft would fail the
answer checks and reach the user as "Not in the documents."; it is reported as the server's failure instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.backends import GenerationParams
from rag.backends.tokens import count_prompt_tokens
from rag.config import DEFAULTS
from rag.errors import BackendError

RETRY_AFTER_CAP = 30.0  # seconds: never sleep longer than this on a server's say-so


@dataclass(frozen=True)
class Endpoint:
    """Where a remote model lives and what the user can fix when it fails."""

    name: str  # the spec, e.g. "openai:gpt-4o-mini"; it leads every error message
    url: str  # shown in connection errors; never holds a key
    key_hint: str  # the variable that holds the key, e.g. "OPENAI_API_KEY"
    url_hint: str  # how to point at another server, e.g. "--base-url or OPENAI_BASE_URL"
    timeout: float = DEFAULTS.request_timeout
    retries: int = DEFAULTS.retries  # extra attempts on 429 and 5xx
    backoff: float = 1.0  # first pause in seconds; doubled after each retry


class RemoteBackend:
    """A `ChatBackend` over any LangChain chat model that talks to an API.

    `make_chat` builds the LangChain model for given generation settings (built per call because
    temperature, seed and the token limit are constructor arguments in LangChain). `secrets` are
    scrubbed from every message this class produces, server-supplied text included.
    """

    def __init__(self, endpoint: Endpoint, make_chat: Callable[[GenerationParams], object], context_tokens: int,
                 secrets: tuple[str, ...] = (), sleep: Callable[[float], None] = time.sleep):
        self.endpoint = endpoint
        self.name = endpoint.name
        self.context_tokens = context_tokens
        self._make_chat = make_chat
        self._secrets = tuple(s for s in secrets if s)
        self.sleep = sleep  # replaceable, so tests can record the backoff instead of waiting
        self.attempts = 0  # requests sent, retries included (read by tests and benchmarks)

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        """Yield the reply piece by piece, retrying 429/5xx before the first piece."""
        chat = self._make_chat(params)
        history = _to_langchain(messages)
        for attempt in range(self.endpoint.retries + 1):
            self.attempts += 1
            started = finished = False
            try:
                for chunk in chat.stream(history):
                    finished = finished or _stop_reason(chunk) is not None
                    piece = str(chunk.text)  # text blocks joined, whatever the provider's content shape
                    if piece:
                        started = True
                        yield piece
                if finished:
                    return
                # Not retried: on llama_cpp.server the retry would cut the request that cut this one (measured:
                # two clients retrying each other's cuts finished 3 answers a minute).
                raise BackendError(self._message(None, "cut", attempt + 1))
            except BackendError:
                raise
            except Exception as exc:  # the SDKs' errors share no base class we could import cheaply
                failure = classify(exc)
                if failure is None:
                    raise
                status, wait = failure
                if started or not _retryable(status) or attempt == self.endpoint.retries:
                    raise BackendError(self._message(exc, status, attempt + 1)) from None
                self.sleep(min(wait or self.endpoint.backoff * 2 ** attempt, RETRY_AFTER_CAP))

    def count_tokens(self, text: str) -> int:
        """Tokens under tiktoken's cl100k_base: exact for OpenAI's older models, close for the rest."""
        return count_prompt_tokens(text)

    def _message(self, exc: Exception | None, status: int | str, attempts: int) -> str:
        e = self.endpoint
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        if status == "cut":
            return (f"{e.name}: the server ended the reply without saying it was finished{tried} (no finish reason): "
                    f"it was cut, often by another request to the same model; for llama_cpp.server serving several "
                    f"clients, start it with --interrupt_requests False")
        if status == "timeout":
            return (f"{e.name}: no reply from {e.url} within {e.timeout:g} s: the server is overloaded or the model "
                    f"is slow; check the server, or raise request_timeout (RAG_REQUEST_TIMEOUT)")
        if status == "connection":
            return f"{e.name}: cannot connect to {e.url}: is the server running? Check {e.url_hint}"
        if status in (401, 403):
            return f"{e.name}: the server rejected the API key (HTTP {status}): check {e.key_hint}"
        if status == 404:
            return (f"{e.name}: not found at {e.url} (HTTP 404): check the model name and that the base URL "
                    f"is the API root (usually ending in /v1)")
        if status == 429:
            return f"{e.name}: rate limited (HTTP 429){tried}: wait a minute, or check your account's limits"
        if isinstance(status, int) and status >= 500:
            return f"{e.name}: the server failed (HTTP {status}){tried}: check the server's logs or status page"
        return f"{e.name}: the server refused the request (HTTP {status}): {self._scrub(_server_text(exc))}"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:300]


def classify(exc: Exception) -> tuple[int | str, float] | None:
    """("timeout" | "connection" | HTTP status, seconds the server asked us to wait) for an SDK error, else None.

    LangChain re-raises the SDK's errors as its own classes, so the whole chain of causes is read."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = {type(e).__name__ for e in chain}
    for e in chain:
        status = getattr(e, "status_code", None)
        if isinstance(status, int):
            return status, _retry_after(e)
    if names & {"APITimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout"}:
        return "timeout", 0.0
    if names & {"APIConnectionError", "ConnectError", "RemoteProtocolError"}:
        return "connection", 0.0
    return None


def _stop_reason(chunk: object) -> str | None:
    """Why the server stopped, if this chunk says: OpenAI's `finish_reason`, Anthropic's `stop_reason`."""
    meta = getattr(chunk, "response_metadata", None) or {}
    return meta.get("finish_reason") or meta.get("stop_reason")


def _retryable(status: int | str) -> bool:
    return status == 429 or (isinstance(status, int) and status >= 500)


def _retry_after(exc: BaseException) -> float:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        return max(0.0, float(headers.get("retry-after", 0)))
    except (TypeError, ValueError):  # an HTTP date instead of seconds: use our own backoff
        return 0.0


def _server_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return str(getattr(exc, "message", "")) or type(exc).__name__


def _to_langchain(messages: list[dict[str, str]]) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]
