"""Which MiniLM builds and queries an index, through the real `rag` command."""

from __future__ import annotations

import json

from tests.conftest import SEEDS, rag

TORCH = "sentence-transformers/all-MiniLM-L6-v2"
INT8 = "sentence-transformers/all-MiniLM-L6-v2@onnx-qint8"
MAPPING = "Which company did Tesla partner with on mapping?"


def embedder_of(index, cwd) -> str:
    return json.loads(rag("status", "--json", "--index", str(index), cwd=cwd).out)["manifest"]["embedder"]["id"]


def test_an_index_keeps_its_embedder_and_reindexing_it_embeds_nothing(tmp_path):
    ix = tmp_path / "ix"
    first = rag("index", str(SEEDS), "--index", str(ix), "--embedder", "minilm", cwd=tmp_path)
    assert first.code == 0, first.err
    assert "embedded 51 of 51 passages" in first.err and embedder_of(ix, tmp_path) == TORCH

    again = rag("index", "--index", str(ix), cwd=tmp_path, env={"RAG_EMBEDDER": "auto"})  # keeps the index's model
    assert again.code == 0, again.err
    assert "(0 added, 0 updated, 0 removed, 5 unchanged); embedded 0 of 51 passages" in again.err
    assert embedder_of(ix, tmp_path) == TORCH

    switched = rag("index", "--index", str(ix), "--embedder", "minilm-int8", cwd=tmp_path)  # a pinned choice wins
    assert switched.code == 0, switched.err
    assert "rag: previous index used another embedder; re-embedding everything\n" in switched.err
    assert "embedded 51 of 51 passages" in switched.err and embedder_of(ix, tmp_path) == INT8


def test_queries_use_the_model_the_index_was_built_with(tmp_path):
    for choice in ("minilm", "minilm-int8"):
        ix = tmp_path / choice
        assert rag("index", str(SEEDS), "--index", str(ix), "--embedder", choice, cwd=tmp_path).code == 0
        # RAG_EMBEDDER names the other model: it only matters for new indexes, never for queries
        other = "minilm-int8" if choice == "minilm" else "minilm"
        found = rag("search", "--json", MAPPING, "--index", str(ix), cwd=tmp_path, env={"RAG_EMBEDDER": other})
        assert found.code == 0, found.err
        assert [p["chunk_id"] for p in json.loads(found.out)][:2] == ["002_9ad4130286e12838:4", "000_ebc01fc2445bc94e:5"]


def test_an_unknown_embedder_setting_is_refused(tmp_path):
    result = rag("index", str(SEEDS), "--index", str(tmp_path / "ix"), cwd=tmp_path, env={"RAG_EMBEDDER": "bert"})
    assert result.code == 2
    assert result.err.startswith("rag: error: bad setting (embedder: Input should be 'auto', 'minilm' or 'minilm-int8'")
    assert not (tmp_path / "ix").exists()
