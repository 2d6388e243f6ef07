"""Model specs (`local`, `local:NAME`, `local:PATH.gguf`) mapped to backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.backends import ChatBackend
from rag.errors import InputError
from rag.models import DEFAULT_LOCAL_MODEL, PACKAGED_MODELS, check_gguf, model_path


def _local(arg: str, models_dir: Path, say: Callable[[str], None], context_tokens: int) -> ChatBackend:
    from rag.backends.local import LlamaCppBackend

    name = arg or DEFAULT_LOCAL_MODEL
    if name in PACKAGED_MODELS:
        return LlamaCppBackend(model_path(name, models_dir, say), f"local:{name}", context_tokens)
    if name.endswith(".gguf"):
        return LlamaCppBackend(check_gguf(Path(name).expanduser()), f"local:{name}", context_tokens)
    known = ", ".join(f"local:{n}" for n in PACKAGED_MODELS)
    raise InputError(f"unknown local model {name!r}: use one of {known}, or local:PATH.gguf")


BACKENDS: dict[str, Callable[..., ChatBackend]] = {"local": _local}


def known_specs() -> str:
    """Human list of accepted spec forms, for error messages and --help."""
    return "local, " + ", ".join(f"local:{n}" for n in PACKAGED_MODELS) + ", local:PATH.gguf"


def open_backend(spec: str, models_dir: Path, say: Callable[[str], None] = lambda _: None,
                 context_tokens: int = 4096) -> ChatBackend:
    """Build the backend a spec names; an unknown spec lists the known ones."""
    kind, _, arg = spec.partition(":")
    if kind not in BACKENDS:
        raise InputError(f"unknown model {spec!r}: known models are {known_specs()}")
    return BACKENDS[kind](arg, models_dir, say, context_tokens)
