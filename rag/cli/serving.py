"""`rag serve` (OpenAI-compatible HTTP) and `rag ui` (the Gradio chat): one loaded assistant for every client."""

from __future__ import annotations

import os
from pathlib import Path

from rag.compose import build_assistant
from rag.config import Settings
from rag.errors import InputError
from rag.terminal import say


def _server_token(args, lowest_port: int) -> str | None:
    """RAG_SERVE_TOKEN (an empty variable is no token), after the checks that must pass before any model loads."""
    from rag.serve.auth import TOKEN_ENV, require_token_off_loopback

    token = os.environ.get(TOKEN_ENV) or None
    require_token_off_loopback(args.host, token)
    if not lowest_port <= args.port <= 65535:
        raise InputError(f"--port must be between {lowest_port} and 65535, not {args.port}")
    return token


def cmd_ui(args, settings: Settings) -> int:
    """The browser chat, with uploads into the configured index."""
    from rag.serve.auth import TOKEN_ENV

    password = _server_token(args, lowest_port=1)  # Gradio needs a real port
    assistant = build_assistant(settings, say)  # one model for every browser tab
    from rag.ui.app import Services, build_app, launch
    from rag.ui.library import Library

    services = Services(assistant, Library(settings.index, assistant.retriever.embedder), Path(args.feedback), settings)
    app = build_app(services, assistant.backend.name)
    guard = f" (user rag, password from {TOKEN_ENV})" if password else ""
    try:
        launch(app, args.host, args.port, password,
               announce=lambda url: say(f"chat UI for {assistant.backend.name} on {url}{guard}; Ctrl-C stops it"))
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    return 0


def cmd_serve(args, settings: Settings) -> int:
    """The assistant as an OpenAI-compatible model over HTTP."""
    token = _server_token(args, lowest_port=0)  # 0: the server picks a free port and announces it
    assistant = build_assistant(settings, say)  # once per server: every request shares the loaded model
    from rag.serve.server import run

    guard = "token required" if token else "no token"
    run(assistant, args.host, args.port, token,
        announce=lambda url: say(f"serving rag ({assistant.backend.name}) on {url} ({guard})"))
    return 0
