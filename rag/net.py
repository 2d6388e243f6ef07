"""One question about the network: does anything listen at HOST:PORT?"""

from __future__ import annotations

import socket


def connect_error(host: str, port: int, timeout: float = 5.0) -> OSError | None:
    """The error a TCP connection to `host`:`port` fails with within `timeout` seconds, or None when one opens.

    Clients that retry a dead address for minutes (Ray, gRPC) are asked this first, so a server that is down is
    named in seconds."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout):
            return None
    except OSError as exc:
        return exc
