"""Damage done to a saved index on purpose, and what loading it then says."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import store
from rag.errors import IndexCorruptError


def flip_byte(path: Path, offset: int = -1) -> None:
    """Invert one byte of `path` in place: a file of the right size whose checksum no longer matches."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def load_error(index_dir: Path) -> str:
    """The message `store.load` refuses `index_dir` with (it must refuse it as corrupt)."""
    with pytest.raises(IndexCorruptError) as err:
        store.load(index_dir)
    return str(err.value)
