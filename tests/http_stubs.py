"""A scripted HTTP server on 127.0.0.1 that speaks just enough of the OpenAI and Anthropic APIs.

Each request takes the next scripted `Reply` (the last one repeats) and is recorded, so tests can check
what an adapter sent and count its attempts. Used for the API backends' unit tests; the real
OpenAI-compatible path is tested against llama.cpp's own server in the model tier.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted response: a status, headers, and either a JSON body or server-sent events."""

    status: int = 200
    body: dict | None = None
    events: tuple[tuple[str | None, dict | str], ...] = ()  # (event name or None, data)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict


def openai_stream(*pieces: str, model: str = "stub", finish: str | None = "stop") -> Reply:
    """A chat-completions stream delivering `pieces` as separate deltas.

    `finish=None` ends it as llama.cpp's Python server ends a reply another request cut: `[DONE]` with no
    chunk carrying a finish reason."""
    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [(None, chunk({"role": "assistant", "content": ""}))]
    events += [(None, chunk({"content": p})) for p in pieces]
    events += ([(None, chunk({}, finish))] if finish else []) + [(None, "[DONE]")]
    return Reply(events=tuple(events))


def anthropic_stream(*pieces: str, model: str = "stub", finished: bool = True) -> Reply:
    """A Messages API stream with every event type Anthropic sends for a text reply.

    `finished=False` drops the closing events (`message_delta` with its stop reason, `message_stop`)."""
    events: list[tuple[str | None, dict | str]] = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_stub", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
    ]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": p}}) for p in pieces]
    events += [("content_block_stop", {"type": "content_block_stop", "index": 0})]
    if not finished:
        return Reply(events=tuple(events))
    events += [
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": len(pieces)}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return Reply(events=tuple(events))


def error(status: int, message: str = "stub error", **headers: str) -> Reply:
    """An error in the shape both APIs use."""
    return Reply(status, {"type": "error", "error": {"message": message, "type": "stub_error"}}, headers=headers)


class StubServer:
    """Serve scripted replies on a free loopback port; use as a context manager so it always stops."""

    def __init__(self, *replies: Reply):
        self.replies = list(replies)
        self.seen: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server calls handlers by this name
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                stub.seen.append(Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                      json.loads(raw or b"{}")))
                reply = stub.replies[min(len(stub.seen), len(stub.replies)) - 1]
                time.sleep(reply.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
                    self._send(reply)

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name.replace("_", "-"), value)
                if reply.events:
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for name, data in reply.events:
                        text = data if isinstance(data, str) else json.dumps(data)
                        self.wfile.write(((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode())
                        self.wfile.flush()
                    return
                payload = json.dumps(reply.body or {}).encode()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StubServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
