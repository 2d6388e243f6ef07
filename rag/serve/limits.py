"""A cap on request bodies, enforced before anything parses them.

Without it a client could send hundreds of MB: the server would hold the body, parse it, and then
tokenize the question while holding the one model lock that every other request waits for.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.serve.protocol import ApiError

# The largest context the settings allow is 131,072 tokens: about 0.5 MB of English, about 0.8 MB of
# Chinese once JSON escapes each character as \uXXXX. 4 MB leaves room for that question plus a long
# conversation history sent along with it, and still parses in well under a second.
MAX_BODY_BYTES = 4_000_000


def too_large(limit: int) -> ApiError:
    """The 413 for a body over `limit` bytes."""
    return ApiError(413, f"the request body is over the {limit / 1e6:.0f} MB limit: a question and its conversation "
                    "fit in far less", "invalid_request_error", "request_too_large")


class BodyLimit:
    """ASGI middleware: refuse a body over `limit` bytes with a 413, by its Content-Length when it has one,
    else by counting while reading it (chunked uploads); the body read is replayed to the application."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(parts), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect a streaming response listens for

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = too_large(self.limit)
        await JSONResponse(error.body(), status_code=error.status, headers={"Connection": "close"})(scope, receive, send)
