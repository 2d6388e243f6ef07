import json
import os

import numpy as np
import pytest

from rag import store
from rag.errors import IndexCorruptError, IndexMissingError
from rag.types import Chunk
from tests.damage import flip_byte, load_error


def sample(dim=4):
    chunks = [Chunk(f"a:{i}", "a", i, f"text {i}", i * 10, i * 10 + 6, "Title A") for i in range(3)]
    vectors = np.eye(3, dim, dtype=np.float32)
    manifest = store.Manifest("2024-01-01T00:00:00+00:00", store.EmbedderInfo("test/e", dim, 256), {}, (),
                              {"a": store.ArticleEntry("a.txt", "x", "Title A", None, 3)})
    return manifest, chunks, vectors


def test_round_trip_and_search(tmp_path):
    manifest, chunks, vectors = sample()
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    loaded = store.load(tmp_path / "ix", expect_embedder="test/e")
    assert loaded.chunks == tuple(chunks)
    assert loaded.manifest.format_version == store.FORMAT_VERSION
    assert set(loaded.manifest.checksums) == {"chunks.jsonl", "vectors.faiss"}
    assert loaded.manifest == manifest.sealed("IndexFlatIP", loaded.manifest.checksums)
    np.testing.assert_array_equal(loaded.vectors(), vectors)
    np.testing.assert_array_equal(loaded.vectors([2, 0]), vectors[[2, 0]])
    assert loaded.search(np.array([0, 1, 0, 0], np.float32), 2) == [(1, 1.0), (0, 0.0)]


def test_missing_index_names_the_command_that_builds_one(tmp_path):
    with pytest.raises(IndexMissingError) as err:
        store.load(tmp_path / "none")
    assert str(err.value) == f"no index at {tmp_path / 'none'}: build one with `rag index PATH --index {tmp_path / 'none'}`"


def test_a_flipped_byte_is_detected_by_checksum(tmp_path):
    manifest, chunks, vectors = sample()
    gen = store.save(tmp_path / "ix", manifest, chunks, vectors)
    flip_byte(gen / "vectors.faiss")
    assert load_error(tmp_path / "ix") == (f"index at {tmp_path / 'ix'} is corrupt (vectors.faiss fails its checksum): "
                              f"rebuild it with `rag index --rebuild --index {tmp_path / 'ix'}`")


def test_a_truncated_manifest_is_a_clear_error(tmp_path):
    manifest, chunks, vectors = sample()
    gen = store.save(tmp_path / "ix", manifest, chunks, vectors)
    (gen / "manifest.json").write_text('{"format_vers')
    with pytest.raises(IndexCorruptError, match=r"cannot be read \(JSONDecodeError\): rebuild it with `rag index --rebuild"):
        store.load(tmp_path / "ix")


def test_another_embedder_is_refused(tmp_path):
    manifest, chunks, vectors = sample()
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    with pytest.raises(IndexCorruptError, match="was built with test/e, not other/model: rebuild it with"):
        store.load(tmp_path / "ix", expect_embedder="other/model")


def test_another_format_version_is_refused(tmp_path):
    manifest, chunks, vectors = sample()
    gen = store.save(tmp_path / "ix", manifest, chunks, vectors)
    data = json.loads((gen / "manifest.json").read_text())
    (gen / "manifest.json").write_text(json.dumps({**data, "format_version": 99}))
    with pytest.raises(IndexCorruptError, match="has format 99, this rag reads 1"):
        store.load(tmp_path / "ix")


def test_a_crash_before_the_switch_leaves_the_previous_index(tmp_path, monkeypatch):
    manifest, chunks, vectors = sample()
    store.save(tmp_path / "ix", manifest, chunks, vectors)

    def crash(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save(tmp_path / "ix", manifest, chunks[:1], vectors[:1])
    monkeypatch.undo()
    assert len(store.load(tmp_path / "ix").chunks) == 3
    # the next writer cleans up the abandoned generation
    with store.writer(tmp_path / "ix", lambda _: None):
        store.save(tmp_path / "ix", manifest, chunks[:2], vectors[:2])
    # (no reader ever saw the abandoned gen-000002, so its number is free again)
    assert sorted(p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith("gen-")) == ["gen-000002"]
    assert len(store.load(tmp_path / "ix").chunks) == 2
