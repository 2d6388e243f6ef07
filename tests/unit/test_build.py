import json
from pathlib import Path

import numpy as np
import pytest

from rag import store
from rag.errors import InputError
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from tests.fakes import HashEmbedder

SETTINGS = ChunkingSettings(max_tokens=40, target_tokens=20, overlap_tokens=5)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def build(index_dir, paths, embedder, **kw):
    return build_index(index_dir, paths, embedder, SETTINGS, **kw)


def test_reindexing_embeds_only_new_and_changed_articles(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    first = build(tmp_path / "ix", [seeds_copy], embedder)
    assert len(first.added) == 5 and first.embedded_texts == first.chunks == len(embedder.embedded)

    embedder.embedded.clear()
    again = build(tmp_path / "ix", [], embedder)  # no paths: re-sync the recorded folders
    assert (again.embedded_texts, embedder.embedded, len(again.unchanged)) == (0, [], 5)

    changed = next(seeds_copy.glob("003_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTesla opened a new showroom in Lingang.", encoding="utf-8")
    write(seeds_copy, "new_article.md", "Tesla hires engineers\n\nTesla hired 200 engineers in Shanghai.")
    (next(seeds_copy.glob("004_*.txt"))).unlink()
    third = build(tmp_path / "ix", [], embedder)
    assert third.added == ("new_article",)
    assert third.updated == ("003_f3c21960676e82a2",)
    assert third.removed == ("004_93dc4c72c663ac72",)
    loaded = store.load(tmp_path / "ix")
    new_chunks = [c for c in loaded.chunks if c.article_id in {"new_article", "003_f3c21960676e82a2"}]
    assert sorted(embedder.embedded) == sorted(c.text for c in new_chunks)  # embedded longest first
    assert "004_93dc4c72c663ac72" not in {c.article_id for c in loaded.chunks}


def test_an_unchanged_re_sync_writes_no_new_generation(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build(tmp_path / "ix", [seeds_copy], embedder)
    generation = (tmp_path / "ix" / "current").resolve()
    again = build(tmp_path / "ix", [], embedder)
    assert again.notes == ("nothing changed: the index is as it was",)
    assert (tmp_path / "ix" / "current").resolve() == generation
    write(seeds_copy, "zz.txt", "Unrelated note about gardening tomatoes.")
    third = build(tmp_path / "ix", [], embedder)
    assert (third.added, third.notes) == (("zz",), ())
    assert (tmp_path / "ix" / "current").resolve() != generation


def test_a_compressed_index_is_refilled_without_training_when_an_article_is_added(tmp_path, seeds_copy, monkeypatch):
    from rag.store import vector_index

    monkeypatch.setattr(vector_index, "COMPRESSED_FROM", 1)
    trainings = []
    real_train = vector_index.build_ivfpq

    def counting(vectors, trained=None):
        trainings.append(trained is None or not vector_index.reusable(trained, *vectors.shape))
        return real_train(vectors, trained)

    monkeypatch.setattr(vector_index, "build_ivfpq", counting)
    embedder = HashEmbedder()
    rows = [json.dumps({"id": f"n{i}", "title": f"Note {i}", "text": f"Note {i} about item {i * 7} and {i % 13}."})
            for i in range(300)]
    write(seeds_copy, "notes.jsonl", "\n".join(rows) + "\n")  # PQ's codebooks train on 256 passages or more
    build(tmp_path / "ix", [seeds_copy], embedder)
    first = store.load(tmp_path / "ix")
    write(seeds_copy, "zz.txt", "Unrelated note about gardening tomatoes.")
    build(tmp_path / "ix", [], embedder)
    loaded = store.load(tmp_path / "ix")
    assert (loaded.manifest.faiss_index, trainings) == ("IndexIVFPQ", [True, False])
    np.testing.assert_array_equal(loaded.faiss_index.quantizer.reconstruct_n(0, loaded.faiss_index.nlist),
                                  first.faiss_index.quantizer.reconstruct_n(0, first.faiss_index.nlist))
    kept = {c.id: v for c, v in zip(first.chunks, first.vectors(), strict=True)}
    for chunk, vector in zip(loaded.chunks, loaded.vectors(), strict=True):
        if chunk.article_id != "zz":
            np.testing.assert_array_equal(vector, kept[chunk.id])  # carried over exactly, from the vectors file
    row = next(r for r, c in enumerate(loaded.chunks) if c.article_id == "zz")
    assert loaded.search(embedder.embed_query(loaded.chunks[row].text), 1)[0][0] == row


def test_reused_vectors_still_find_their_chunks(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build(tmp_path / "ix", [seeds_copy], embedder)
    write(seeds_copy, "zz.txt", "Unrelated note about gardening tomatoes.")
    build(tmp_path / "ix", [], embedder)
    loaded = store.load(tmp_path / "ix")
    for row, chunk in enumerate(loaded.chunks):
        assert loaded.search(embedder.embed_query(chunk.text), 1)[0][0] == row or \
            loaded.chunks[loaded.search(embedder.embed_query(chunk.text), 1)[0][0]].text == chunk.text


def test_unreadable_files_are_skipped_and_named(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "good.txt", "Tesla news\n\nA readable article.")
    (folder / "latin1.txt").write_bytes("Caf\xe9 in Lingang".encode("latin-1"))
    (folder / "empty.md").write_text("  \n")
    (folder / "binary.txt").write_bytes(b"GGUF\x00\x01\x02")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    report = build(tmp_path / "ix", [folder], HashEmbedder())
    assert report.added == ("good",)
    assert sorted((s.path.name, s.reason) for s in report.skipped) == [
        ("binary.txt", "binary file (contains NUL bytes)"),
        ("empty.md", "empty file"),
        ("latin1.txt", "not UTF-8 text (byte 3)"),
        ("notes.pdf", "not a readable PDF (PdfStreamError)"),
    ]


def test_a_file_that_becomes_unreadable_keeps_its_indexed_version(tmp_path):
    folder = tmp_path / "docs"
    path = write(folder, "a.txt", "Tesla news\n\nTesla opened a plant in Shanghai.")
    build(tmp_path / "ix", [folder], HashEmbedder())
    path.write_bytes(b"\xff\xfe broken")
    report = build(tmp_path / "ix", [], HashEmbedder())
    assert [s.path.name for s in report.skipped] == ["a.txt"]
    assert [c.article_id for c in store.load(tmp_path / "ix").chunks] == ["a"]


def test_duplicate_ids_keep_the_first_and_warn(tmp_path):
    write(tmp_path / "one", "story.txt", "First version of the story.")
    write(tmp_path / "two", "story.md", "Second version of the story.")
    report = build(tmp_path / "ix", [tmp_path / "one", tmp_path / "two"], HashEmbedder())
    assert report.added == ("story",)
    first = tmp_path / "one" / "story.txt"
    assert [(s.path.name, s.reason) for s in report.skipped] == [("story.md", f"same article id as {first}")]


def test_changed_chunking_or_rebuild_re_embeds_everything(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build(tmp_path / "ix", [seeds_copy], embedder)
    report = build_index(tmp_path / "ix", [], embedder, ChunkingSettings(max_tokens=40, target_tokens=30, overlap_tokens=5))
    assert report.notes == ("chunking settings changed; re-embedding everything",)
    assert report.embedded_texts == report.chunks
    assert build(tmp_path / "ix", [], embedder, rebuild=True).embedded_texts > 0


def test_a_corrupt_index_is_rebuilt_from_its_recorded_sources(tmp_path, seeds_copy):
    gen = build(tmp_path / "ix", [seeds_copy], HashEmbedder()).index_dir / "current"
    (gen / "chunks.jsonl").write_text("garbage")
    report = build(tmp_path / "ix", [], HashEmbedder())
    assert report.notes[0].startswith("previous index unusable, rebuilding from scratch (index at")
    assert len(report.added) == 5
    assert len(store.load(tmp_path / "ix").chunks) == report.chunks


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no such file or folder: "):
        build(tmp_path / "ix", [tmp_path / "nope"], HashEmbedder())


def test_nothing_to_index_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"no articles to index: give a file or folder, e.g. `rag index seeds/`"):
        build(tmp_path / "ix", [], HashEmbedder())


def test_passages_are_embedded_longest_first_and_stored_in_article_order(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build(tmp_path / "ix", [seeds_copy], embedder)
    lengths = [len(text) for text in embedder.embedded]
    assert lengths == sorted(lengths, reverse=True)
    loaded = store.load(tmp_path / "ix")
    assert [(c.article_id, c.ordinal) for c in loaded.chunks] == sorted((c.article_id, c.ordinal) for c in loaded.chunks)
    for row, chunk in enumerate(loaded.chunks):  # each row holds its own chunk's vector
        assert loaded.vectors([row])[0] == pytest.approx(embedder.embed_query(chunk.text))


def test_new_vectors_that_are_the_pipelines_one_matrix_are_not_copied_again():
    import numpy as np

    from rag.index.build import _stacked

    matrix = np.arange(24, dtype=np.float32).reshape(6, 4).copy()  # owns its rows, as the pipeline's matrix does
    assert _stacked([matrix[0:2], matrix[2:2], matrix[2:6]], 4) is matrix  # an article with no passage between
    assert _stacked([matrix], 4) is matrix
    for blocks in ([matrix[0:2], matrix[3:6]], [matrix[2:6], matrix[0:2]], [matrix[0:2], matrix[2:5]],
                   [matrix[0:3], matrix[3:6].copy()]):
        stacked = _stacked(blocks, 4)
        assert stacked is not matrix and np.array_equal(stacked, np.vstack(blocks))
    assert _stacked([], 4).shape == (0, 4)
