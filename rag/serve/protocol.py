"""The slice of the OpenAI chat API that `rag serve` speaks: request schema, responses, errors.

Requests ignore fields this server has no use for (temperature, max_tokens, top_p, n, user,
stream_options...): the assistant's generation settings are fixed because its checks were
measured with them. Responses carry extra top-level fields: `citations` (the objects of
`rag ask --json`), `abstained`, and `rewritten_question` (the standalone question answered, only
when a follow-up was rewritten). Requests may carry rag's own `since`, `until` and `as_of` (YYYY-MM-DD):
that question is answered from the articles published in that window only.
"""

from __future__ import annotations

import secrets
import time
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from rag.retrieval.window import DateWindow

MODEL_ID = "rag"  # the one model this server serves, whatever backend answers


class TextPart(BaseModel):
    """A content part of a message; only text parts are understood."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """One message of the conversation (tool and developer messages are accepted and not used)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[TextPart] | None = None  # None: an assistant turn that only called tools

    @field_validator("content", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        # One clear message instead of pydantic's error per member of the union.
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                                           for p in value):
            return value
        raise PydanticCustomError("content_type", 'Input should be a string or a list of parts {"type": "text", "text": "..."}')

    @property
    def text(self) -> str:
        """The message's text, its parts joined by newlines."""
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """The body of `POST /v1/chat/completions`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = False
    # rag's own fields: search only the articles published in this window (`as_of` is `until` by another name)
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _one_window(self) -> ChatRequest:
        if self.until and self.as_of and self.until != self.as_of:
            raise ValueError("give until or as_of, not two different days")
        DateWindow(self.since, self.until or self.as_of)  # raises ValueError for a window that holds no day
        return self

    def window(self) -> DateWindow | None:
        """The request's date window, or None when it names none (the server's own settings apply)."""
        window = DateWindow(self.since, self.until or self.as_of)
        return window if window else None


class ApiError(Exception):
    """An error answered in the OpenAI shape with an HTTP status."""

    def __init__(self, status: int, message: str, type_: str, code: str | None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """`{"error": {...}}` as OpenAI clients parse it."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def completion_id() -> str:
    """A fresh id shared by a response or by all the chunks of one stream."""
    return f"chatcmpl-{secrets.token_hex(12)}"


def now() -> int:
    """The `created` timestamp (Unix seconds)."""
    return int(time.time())


def model_card(backend: str, created: int) -> dict[str, Any]:
    """The served model as `GET /v1/models` lists it; `backend` names the model that answers."""
    return {"id": MODEL_ID, "object": "model", "created": created, "owned_by": "rag", "backend": backend}


def completion(id_: str, created: int, text: str, usage: dict[str, int], extra: dict[str, Any]) -> dict[str, Any]:
    """A non-streaming `chat.completion` with the usage and the extra fields."""
    prompt, generated = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    return {
        "id": id_, "object": "chat.completion", "created": created, "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": generated, "total_tokens": prompt + generated},
        **extra,
    }


def chunk(id_: str, created: int, delta: dict[str, str], finish_reason: str | None = None,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One `chat.completion.chunk` of a stream; the last one carries `finish_reason` and the extra fields."""
    return {
        "id": id_, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **(extra or {}),
    }
