"""Settings: `rag.toml`, overridden by `RAG_*` environment variables, overridden by flags.

Commands read settings and `rag.compose` turns them into components, which take plain arguments;
where a component has a default, it is `DEFAULTS`, so every default is written here once. Secrets
are never settings: API keys come only from the providers' own environment variables.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.errors import InputError
from rag.retrieval.window import DateWindow

CONFIG_FILE = "rag.toml"
EmbedderChoice = Literal["auto", "minilm", "minilm-int8"]  # `typing.get_args` gives the CLI its choices
AnswerStyle = Literal["auto", "short", "sentences"]
Weights = Literal["auto", "f16", "q8_0", "packaged"]


class Settings(BaseModel):
    """Every user-tunable setting with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: Path = Path("var/index/default")
    model: str = "local"
    top_k: int = Field(4, ge=1, le=50)
    retrieval: Literal["dense", "hybrid"] = "dense"  # hybrid: BM25 + dense, fused by reciprocal rank
    # only articles published in this window are searched (rag.retrieval.window); `--as-of DATE` sets until
    since: date | None = None
    until: date | None = None
    # questions about the present ("the latest…", "this week") rank passages by similarity plus this weight times
    # freshness, which halves every recency_half_life days (rag.retrieval.recency); 0 turns it off
    recency: float = Field(0.1, ge=0.0, le=1.0)
    recency_half_life: float = Field(7.0, gt=0.0, le=3650.0)
    # MiniLM for new indexes: int8 ONNX where the CPU has VNNI ("auto"), or pinned; an index keeps its own
    embedder: EmbedderChoice = "auto"
    models_dir: Path = Path("var/models")
    context_tokens: int = Field(4096, ge=512, le=131072)
    # a packaged GGUF's weight matrices re-encoded once as F16 or Q8_0, which llama.cpp reads prompts with faster,
    # or the file as shipped; auto: what measured fastest for the model (rag.backends.weights; README "Speed")
    weights: Weights = "auto"
    # short: a few extracted words (the 0.5B); sentences: concise sentences each ending in its [n];
    # auto: chosen per model from measurements (README, "Answer style")
    answer_style: AnswerStyle = "auto"
    # a checked sentence answer given in the articles' own sentences (rag.checks.claims.quotes); None: local models only
    quote: bool | None = None
    # show the model only the N sentences closest to the question, with focus_window neighbours each (rag.focus);
    # 0: whole passages
    focus: int = Field(0, ge=0, le=100)
    focus_window: int = Field(1, ge=0, le=5)
    # a follow-up question's passages that the model read for the previous question come first, in the places they
    # had, so llama.cpp reuses their KV cache and reads only the rest (rag.prompting.cached_first)
    reuse_passages: bool = True
    # rag ui: while the user types, the local model reads the prompt the question so far would get (ui.app read_ahead)
    read_ahead: bool = True
    max_tokens: int | None = Field(None, ge=16, le=4096)  # longest draft; default by style: 96 short, 256 sentences
    score_floor: float = Field(0.25, ge=-1.0, le=1.0)
    min_anchor_share: float = Field(1.0, ge=0.0, le=1.0)
    min_topic_share: float = Field(0.5, ge=0.0, le=1.0)
    min_support: float = Field(0.5, ge=0.0, le=1.0)  # the claim judge's support score a sentence claim needs
    base_url: str | None = None  # API models: another server than the provider's own
    request_timeout: float = Field(60.0, gt=0, le=3600)  # API models: seconds to wait for a reply
    retries: int = Field(2, ge=0, le=10)  # API models: extra attempts after a 429 or 5xx

    @model_validator(mode="after")
    def _window(self) -> Settings:
        DateWindow(self.since, self.until)  # raises ValueError for a window that holds no day
        return self

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value


DEFAULTS = Settings()  # what components fall back to when built without settings (tests, library use)


def _from_file(path: Path, named: bool) -> dict:
    """The settings in a TOML file (its `[rag]` table, or its top level); `named`: the user chose the file."""
    if not path.exists():
        if named:  # a RAG_CONFIG that points nowhere is a typo, not a wish for the defaults
            raise InputError(f"RAG_CONFIG names {path}, which does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:  # a folder or an unreadable file: was a traceback
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from exc
    settings = data.get("rag", data)
    if not isinstance(settings, dict):  # `rag = 5` was a TypeError traceback
        raise InputError(f"{path}: rag must be a table of settings ([rag]), not {type(settings).__name__}")
    return settings


def _from_env() -> dict:
    prefix = "RAG_"
    names = set(Settings.model_fields)
    return {k[len(prefix):].lower(): v for k, v in os.environ.items()
            if k.startswith(prefix) and k[len(prefix):].lower() in names}


def load_settings(flags: dict | None = None) -> Settings:
    """Merge file, environment and flags (flags given as None are ignored)."""
    named = os.environ.get("RAG_CONFIG")
    config_path = Path(named or CONFIG_FILE)
    merged = {**_from_file(config_path, bool(named)), **_from_env(), **{k: v for k, v in (flags or {}).items() if v is not None}}
    try:
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise InputError(f"bad setting ({problems})") from exc
