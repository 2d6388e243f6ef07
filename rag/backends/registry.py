"""Model specs mapped to backends: `local[:NAME|:PATH.gguf]`, `openai:MODEL`, `anthropic:MODEL`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.backends import ChatBackend
from rag.backends.gguf import DEFAULT_LOCAL_MODEL, PACKAGED_MODELS, check_gguf, model_path
from rag.config import DEFAULTS
from rag.errors import InputError


@dataclass(frozen=True)
class BackendOptions:
    """What a backend may need besides its spec; each kind reads its own fields."""

    models_dir: Path = DEFAULTS.models_dir
    context_tokens: int = DEFAULTS.context_tokens
    weights: str = DEFAULTS.weights  # packaged local models: the packaged file or a re-encoded copy
    base_url: str | None = DEFAULTS.base_url  # API kinds: another server than the provider's own
    timeout: float = DEFAULTS.request_timeout  # API kinds: seconds to wait for a reply
    retries: int = DEFAULTS.retries  # API kinds: extra attempts on 429 and 5xx
    say: Callable[[str], None] = lambda _: None  # progress messages (assembling a packaged model)


def _local(arg: str, o: BackendOptions) -> ChatBackend:
    from rag.backends.local import LlamaCppBackend

    name = arg or DEFAULT_LOCAL_MODEL
    if name in PACKAGED_MODELS:
        from rag.backends.weights import weights_file

        packaged = model_path(name, o.models_dir, o.say)
        return LlamaCppBackend(weights_file(PACKAGED_MODELS[name], packaged, o.weights, o.say), f"local:{name}",
                               o.context_tokens)
    if name.endswith(".gguf"):
        return LlamaCppBackend(check_gguf(Path(name).expanduser()), f"local:{name}", o.context_tokens)
    known = ", ".join(f"local:{n}" for n in PACKAGED_MODELS)
    raise InputError(f"unknown local model {name!r}: use one of {known}, or local:PATH.gguf")


def _openai(arg: str, o: BackendOptions) -> ChatBackend:
    from rag.backends.api import openai_backend

    return openai_backend(arg, o.base_url, o.context_tokens, o.timeout, o.retries)


def _anthropic(arg: str, o: BackendOptions) -> ChatBackend:
    from rag.backends.api import anthropic_backend

    return anthropic_backend(arg, o.base_url, o.context_tokens, o.timeout, o.retries)


BACKENDS: dict[str, Callable[[str, BackendOptions], ChatBackend]] = {
    "local": _local, "openai": _openai, "anthropic": _anthropic}


def known_specs() -> str:
    """Human list of accepted spec forms, for error messages and --help."""
    return ("local, " + ", ".join(f"local:{n}" for n in PACKAGED_MODELS)
            + ", local:PATH.gguf, openai:MODEL, anthropic:MODEL")


def open_backend(spec: str, options: BackendOptions | None = None) -> ChatBackend:
    """Build the backend a spec names; an unknown spec lists the known ones."""
    kind, _, arg = spec.partition(":")
    if kind not in BACKENDS:
        raise InputError(f"unknown model {spec!r}: known models are {known_specs()}")
    return BACKENDS[kind](arg.strip(), options or BackendOptions())
