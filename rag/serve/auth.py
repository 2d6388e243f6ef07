"""Who may call the server: a bearer token, required whenever the server is reachable off this machine."""

from __future__ import annotations

import hmac
import ipaddress

from rag.errors import InputError

TOKEN_ENV = "RAG_SERVE_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to any interface
        return False


def require_token_off_loopback(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token (anyone on the network could ask)."""
    if token is None and not is_loopback(host):
        raise InputError(f"refusing to serve on {host} without a token: set {TOKEN_ENV} to a secret that clients "
                         "send as their API key (only 127.0.0.1, ::1 and localhost may go without one)")


def bearer_matches(authorization: bytes | None, token: str) -> bool:
    """Whether an `Authorization` header value carries `token` as a bearer token.

    Compared as bytes with hmac.compare_digest, so the time taken does not reveal how much of a
    guess was right (and non-ASCII input cannot make the comparison raise)."""
    if not authorization:
        return False
    scheme, _, credentials = authorization.partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(credentials.strip(), token.encode("utf-8"))
