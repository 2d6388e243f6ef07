"""The FastAPI application: one Assistant behind OpenAI-compatible routes.

Routes: `GET /v1/models`, `GET /v1/models/rag`, `POST /v1/chat/completions` (with or without
`stream: true`). Every error, including unknown routes, is `{"error": {"message", "type",
"param", "code"}}` with a 4xx/5xx status and never a traceback; a body over 4 MB is a 413 before
it is parsed (`rag.serve.limits`).

Follow-ups are answered in context: the last user message is rewritten into a standalone question
from the earlier exchanges (`rag.serve.openai_history`), and when the rewrite changed it, the response
(the last chunk of a stream) carries the question actually answered as `rewritten_question`, so a
client can show what was searched for.

Streaming sends only verified text. The model's raw draft is unverified: the verifier may
withdraw it ("Not in the documents.") or add `[n]` markers after generation, and the OpenAI
streaming protocol cannot take back text a client has already appended. So a stream sends the
assistant role at once, waits for the checked answer, then sends its words as deltas and a last
chunk with `finish_reason: "stop"`, `citations`, `abstained` (and `rewritten_question`), then
`data: [DONE]`. Answers are a few words, so waiting for the whole answer adds only the generation
of those few tokens to the time before the first word (reading the prompt dominates: on 2 cores
the first draft token comes after about 2.5 s and the whole answer after about 2.8 s).

The model is loaded once per server. llama.cpp is not thread-safe, so answers run one at a
time under a lock, in a worker thread so the event loop keeps accepting requests: concurrent
requests queue rather than fail. Nothing here logs request bodies or headers.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.answer_view import answer_dict
from rag.assistant import Assistant
from rag.errors import BackendError, InputError, ModelError, RagError
from rag.followups import Rewrite
from rag.retrieval.window import DateWindow
from rag.serve.auth import bearer_matches
from rag.serve.limits import BodyLimit
from rag.serve.openai_history import exchanges, question_from
from rag.serve.protocol import MODEL_ID, ApiError, ChatRequest, chunk, completion, completion_id, model_card, now
from rag.types import Answer

log = logging.getLogger("uvicorn.error")  # shown with uvicorn's own errors

_WORD = re.compile(r"\s*\S+\s*")  # pieces that join back to the exact text
FASTAPI_PARSE_ERROR = "There was an error parsing the body"


def create_app(assistant: Assistant, token: str | None) -> FastAPI:
    """The application serving `assistant` as the model "rag"; with `token`, every request must bear it."""
    # No /docs or /openapi.json: the API is OpenAI's, and fewer routes means less to protect.
    app = FastAPI(title="rag", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.answer_lock = threading.Lock()  # on app.state so tests can watch requests queue
    started = now()

    def answer_serialized(question: str, window: DateWindow | None = None, follow_up: bool = False) -> Answer:
        with app.state.answer_lock:
            return assistant.answer(question, window=window, follow_up=follow_up)

    async def answer(question: str, window: DateWindow | None = None, follow_up: bool = False) -> Answer:
        return await run_in_threadpool(answer_serialized, question, window, follow_up)

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(assistant.backend.name, started)]}

    @app.get("/v1/models/{model_id}")
    async def retrieve_model(model_id: str) -> dict[str, Any]:
        _check_model(model_id)
        return model_card(assistant.backend.name, started)

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest) -> Any:
        _check_model(body.model)
        question = question_from(body.messages)  # a bad conversation is a 400 before any streaming starts
        id_, created = completion_id(), now()
        follow_up = bool(exchanges(body.messages))  # an earlier question answered: this continues a chat
        if body.stream:
            return StreamingResponse(_events(id_, created, partial(answer, window=body.window(), follow_up=follow_up),
                                             question),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        result = await answer(question.question, body.window(), follow_up)
        return completion(id_, created, result.text, result.usage, _extra(result, question))

    _install_error_handlers(app)
    app.add_middleware(BodyLimit)  # added before BearerAuth, so it runs inside it: a stranger gets a 401 unread
    if token is not None:
        app.add_middleware(BearerAuth, token=token)
    return app


def _check_model(name: str) -> None:
    if name != MODEL_ID:
        shown = name if len(name) <= 100 else name[:100] + "…"  # do not echo a huge field back
        raise ApiError(404, f"the model '{shown}' does not exist: this server serves the model '{MODEL_ID}'",
                       "invalid_request_error", "model_not_found", "model")


def _extra(answer: Answer, question: Rewrite) -> dict[str, Any]:
    """The fields beyond OpenAI's: what `rag ask --json` says about the answer's sources, and the
    standalone question when a follow-up was rewritten."""
    data = answer_dict(answer)
    extra = {"citations": data["citations"], "abstained": answer.abstained, "claims": data["claims"]}
    if question.changed:
        extra["rewritten_question"] = question.question
    return extra


async def _events(id_: str, created: int, answer: Callable[[str], Awaitable[Answer]],
                  question: Rewrite) -> AsyncIterator[str]:
    """The server-sent events of one streamed answer (see the module docstring for why it waits)."""
    yield _sse(chunk(id_, created, {"role": "assistant", "content": ""}))
    try:
        result = await answer(question.question)
    except RagError as exc:
        # The status line is already sent: report the failure in-band, as OpenAI does, and end the stream.
        yield _sse(error_for(exc).body())
        return
    except Exception:
        log.exception("a streamed answer failed")  # the traceback for the operator, not the client
        yield _sse(ApiError(500, "internal error: see the server log", "server_error", "internal_error").body())
        return
    for piece in _WORD.findall(result.text):
        yield _sse(chunk(id_, created, {"content": piece}))
    yield _sse(chunk(id_, created, {}, "stop", _extra(result, question)))
    yield "data: [DONE]\n\n"


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def error_for(exc: RagError) -> ApiError:
    """The HTTP error for a rag error; its message is already written for the user."""
    if isinstance(exc, InputError):
        return ApiError(400, str(exc), "invalid_request_error", "invalid_input")
    if isinstance(exc, BackendError | ModelError):
        return ApiError(502, str(exc), "server_error", "model_error")
    return ApiError(500, str(exc), "server_error", "internal_error")


def _validation_error(exc: RequestValidationError) -> ApiError:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"][1:] if error["loc"][:1] == ("body",))
        if error["type"] == "json_invalid":
            detail = error.get("ctx", {}).get("error", "")
            return ApiError(400, f"the request body is not valid JSON ({detail})" if detail else
                            "the request body is not valid JSON", "invalid_request_error", "invalid_json")
        if not where and error["type"] == "value_error":  # a rule over several fields (the date window)
            return ApiError(400, str(error["msg"]).removeprefix("Value error, "), "invalid_request_error",
                            "invalid_value")
        if not where:  # no body, or not an object: FastAPI parses JSON only when the content type says so
            return ApiError(400, "the request body must be a JSON object with model and messages "
                            "(Content-Type: application/json)", "invalid_request_error", "invalid_body")
        problems.append((where, error["type"], f"{where}: {error['msg']}"))
    first_where, first_type, _ = problems[0]
    code = "missing_required_parameter" if first_type == "missing" else "invalid_value"
    return ApiError(400, "; ".join(text for _, _, text in problems), "invalid_request_error", code, first_where)


def _install_error_handlers(app: FastAPI) -> None:
    def respond(error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return respond(exc)

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        return respond(error_for(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error = ApiError(404, f"no route {request.method} {request.url.path}: this server has GET /v1/models and "
                             "POST /v1/chat/completions", "invalid_request_error", "not_found")
        elif exc.status_code == 400 and exc.detail == FASTAPI_PARSE_ERROR:
            # FastAPI's words when json.loads fails other than with a JSONDecodeError: the body is not UTF-8, or it
            # nests deeper than Python's recursion limit. Say it as for any other bad JSON, with the same code.
            error = ApiError(400, "the request body is not valid JSON (it is not UTF-8 text, or it nests too deeply)",
                             "invalid_request_error", "invalid_json")
        elif exc.status_code == 405:
            error = ApiError(405, f"{request.method} is not allowed on {request.url.path}", "invalid_request_error",
                             "method_not_allowed")
        else:
            error = ApiError(exc.status_code, str(exc.detail), "invalid_request_error", None)
        return JSONResponse(error.body(), status_code=error.status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server's log (uvicorn prints it), never to the client.
        return respond(ApiError(500, "internal error: see the server log", "server_error", "internal_error"))


class BearerAuth:
    """ASGI middleware: every request must bear the token, checked before the body is even read."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization")
        if bearer_matches(authorization, self.token):
            await self.app(scope, receive, send)
            return
        # Never echo what was sent: a near-miss token is still a secret.
        message = ("invalid bearer token" if authorization else "missing bearer token") + \
            ": send the server's RAG_SERVE_TOKEN as the API key (Authorization: Bearer ...)"
        error = ApiError(401, message, "authentication_error", "invalid_api_key")
        response = JSONResponse(error.body(), status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)
