"""Running the application with uvicorn on a socket this module binds itself.

Binding first turns "address already in use" into a one-line `rag: error:` (uvicorn would log
it and exit 3), and lets the announced URL carry the real port, even for `--port 0`.
"""

from __future__ import annotations

import copy
import os
import socket
from collections.abc import Callable

from rag.assistant import Assistant
from rag.errors import InputError


def url_of(host: str, port: int) -> str:
    """The base URL clients use (`.../v1`), with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; a failure is an InputError naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        # create_server's message repeats the address, and turns a name that does not resolve
        # into a negative (getaddrinfo) errno: say each plainly.
        if exc.errno is not None and exc.errno < 0:
            reason = "the host name does not resolve"
        else:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise InputError(f"cannot listen on {host}:{port}: {reason}") from None


def _log_config() -> dict:
    """uvicorn's logging, quieter: access lines and errors on stderr, without its startup chatter.

    Access lines hold the client address, request line and status: no bodies, no headers, so
    never the token."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    return config


def run(assistant: Assistant, host: str, port: int, token: str | None,
        announce: Callable[[str], None] | None = None) -> None:
    """Serve `assistant` on host:port until interrupted; `announce` gets the base URL once listening."""
    import uvicorn

    from rag.serve.app import create_app

    sock = listen(host, port)
    with sock:
        if announce:
            announce(url_of(host, sock.getsockname()[1]))
        config = uvicorn.Config(create_app(assistant, token), log_config=_log_config(), timeout_graceful_shutdown=10)
        uvicorn.Server(config).run(sockets=[sock])
