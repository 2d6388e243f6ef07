import numpy as np
import pytest

from rag import store
from rag.store import vector_index
from rag.types import Chunk


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_small_corpora_get_exact_flat_search():
    index = vector_index.build(unit_vectors(50), 16, hnsw_from=100)
    assert (vector_index.type_name(index), index.ntotal) == ("IndexFlatIP", 50)


def test_large_corpora_get_hnsw_with_our_parameters():
    index = vector_index.build(unit_vectors(100), 16, hnsw_from=100)
    assert vector_index.type_name(index) == "IndexHNSWFlat"
    assert (index.hnsw.efSearch, index.hnsw.efConstruction) == (vector_index.HNSW_EF_SEARCH, vector_index.HNSW_EF_CONSTRUCTION)


def test_an_empty_corpus_is_a_flat_index():
    assert vector_index.build(np.zeros((0, 16), np.float32), 16).ntotal == 0


def test_hnsw_finds_each_vector_itself_and_gives_it_back():
    vectors = unit_vectors(300)
    index = vector_index.build(vectors, 16, hnsw_from=100)
    _, rows = index.search(vectors, 1)
    assert rows[:, 0].tolist() == list(range(300))
    np.testing.assert_array_equal(index.reconstruct_n(0, 300), vectors)  # incremental rebuilds read them back


@pytest.fixture
def big_corpus(monkeypatch):
    monkeypatch.setattr(vector_index, "HNSW_FROM", 100)
    vectors = unit_vectors(120)
    chunks = [Chunk(f"a{i // 10}:{i % 10}", f"a{i // 10}", i % 10, f"text {i}", 0, 6, "T") for i in range(120)]
    manifest = store.Manifest("2024-01-01T00:00:00+00:00", store.EmbedderInfo("test/e", 16, 256), {}, (), {})
    return vectors, chunks, manifest


def test_the_saved_index_records_and_reloads_its_type(tmp_path, big_corpus):
    vectors, chunks, manifest = big_corpus
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    loaded = store.load(tmp_path / "ix")
    assert loaded.manifest.faiss_index == "IndexHNSWFlat"
    assert type(loaded.faiss_index).__name__ == "IndexHNSWFlat"
    assert loaded.faiss_index.hnsw.efSearch == vector_index.HNSW_EF_SEARCH  # saved with the index, not reset on load
    assert loaded.search(vectors[37], 3)[0] == (37, pytest.approx(1.0, abs=1e-5))
    np.testing.assert_array_equal(loaded.vectors(), vectors)
