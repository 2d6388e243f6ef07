import numpy as np
import pytest

from rag import store
from rag.store import vector_index
from rag.types import Chunk
from tests.damage import flip_byte, load_error


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


def test_the_type_follows_the_corpus_size():
    assert [vector_index.kind_for(n) for n in (0, 199_999, 200_000, 499_999, 500_000)] == \
        ["flat", "flat", "hnsw", "hnsw", "ivfpq"]
    assert vector_index.kind_for(300, hnsw_from=10, compressed_from=40) == "ivfpq"
    assert vector_index.kind_for(255, hnsw_from=10, compressed_from=40) == "hnsw"  # too few to train PQ's codebooks


def test_inverted_lists_are_a_power_of_two_near_twice_the_root():
    assert [vector_index.lists_for(n) for n in (10, 3_000, 100_000, 1_000_000, 2_000_000, 4_000_000)] == \
        [16, 128, 512, 2048, 2048, 4096]


def test_pq_codes_divide_the_dimension():
    assert [vector_index.pq_bytes_for(d) for d in (384, 768, 16, 100)] == [96, 96, 16, 50]


@pytest.fixture
def compressed_corpus(monkeypatch):
    monkeypatch.setattr(vector_index, "COMPRESSED_FROM", 1_000)
    vectors = unit_vectors(3_000, seed=3)
    chunks = [Chunk(f"a{i // 10}:{i % 10}", f"a{i // 10}", i % 10, f"text {i}", 0, 6, "T") for i in range(3_000)]
    manifest = store.Manifest("2024-01-01T00:00:00+00:00", store.EmbedderInfo("test/e", 16, 256), {}, (), {})
    return vectors, chunks, manifest


def test_a_compressed_index_keeps_its_exact_vectors_beside_it(tmp_path, compressed_corpus):
    vectors, chunks, manifest = compressed_corpus
    gen = store.save(tmp_path / "ix", manifest, chunks, vectors)
    loaded = store.load(tmp_path / "ix")
    assert loaded.manifest.faiss_index == "IndexIVFPQ"
    assert set(loaded.manifest.checksums) == {"chunks.jsonl", "vectors.faiss", "vectors.npy"}
    assert (loaded.faiss_index.nlist, loaded.faiss_index.nprobe, loaded.faiss_index.pq.M) == (128, 64, 16)
    assert isinstance(loaded.raw, np.memmap)
    np.testing.assert_array_equal(loaded.vectors(), vectors)  # exact, not decoded from the codes
    np.testing.assert_array_equal(loaded.vectors([7, 2]), vectors[[7, 2]])
    assert (gen / "vectors.npy").stat().st_size > 3_000 * 16 * 4


def test_compressed_search_scores_exactly_and_finds_the_exact_top(tmp_path, compressed_corpus):
    vectors, chunks, manifest = compressed_corpus
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    loaded = store.load(tmp_path / "ix")
    hits = loaded.search(vectors[37], 5)
    exact = vectors @ vectors[37]
    assert [row for row, _ in hits] == np.argsort(-exact)[:5].tolist()
    assert [score for _, score in hits] == pytest.approx(np.sort(exact)[::-1][:5].tolist(), abs=1e-6)


def test_a_small_window_of_a_compressed_index_is_searched_exactly(tmp_path, compressed_corpus):
    vectors, chunks, manifest = compressed_corpus
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    loaded = store.load(tmp_path / "ix")
    window = list(range(500, 900))
    scores = vectors[window] @ vectors[37]
    expected = [window[i] for i in np.argsort(-scores)[:3]]
    assert [row for row, _ in loaded.search(vectors[37], 3, allowed=window)] == expected


def test_a_damaged_vectors_file_is_detected(tmp_path, compressed_corpus):
    vectors, chunks, manifest = compressed_corpus
    gen = store.save(tmp_path / "ix", manifest, chunks, vectors)
    flip_byte(gen / "vectors.npy", -3)
    assert load_error(tmp_path / "ix") == (f"index at {tmp_path / 'ix'} is corrupt (vectors.npy fails its checksum): "
                              f"rebuild it with `rag index --rebuild --index {tmp_path / 'ix'}`")


def test_a_refill_reuses_the_trained_lists_and_codebooks(compressed_corpus):
    vectors, _, _ = compressed_corpus
    first = vector_index.build(vectors, 16)
    grown = np.vstack([vectors, unit_vectors(200, seed=9)])
    refilled = vector_index.build(grown, 16, trained=first)
    np.testing.assert_array_equal(faiss_centroids(refilled), faiss_centroids(first))
    assert refilled.ntotal == 3_200
    retrained = vector_index.build(unit_vectors(100_000, seed=4)[:3_200], 16)  # another sample trains other lists
    assert not np.array_equal(faiss_centroids(retrained), faiss_centroids(first))


def faiss_centroids(index) -> np.ndarray:
    return index.quantizer.reconstruct_n(0, index.nlist)
