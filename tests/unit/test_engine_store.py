"""The Milvus store (`rag index --store milvus`), against a real Milvus Lite in each test's own folder.

The embedder is the fake one (tests.fakes.HashEmbedder): what is tested is where the vectors go and how they
come back, not the model. The CLI, a Milvus server and killed builds are in tests/cli/test_engine_cli.py.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from rag import store
from rag.errors import EngineError, InputError
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.retrieval import DenseRetriever
from rag.retrieval.hybrid import HybridRetriever
from rag.retrieval.window import DateWindow
from rag.store import engine, files
from rag.store.engine import StoreSpec, parse_store
from tests.fakes import HashEmbedder

SETTINGS = ChunkingSettings(max_tokens=40, target_tokens=20, overlap_tokens=5)
MILVUS = StoreSpec("milvus")
QUERIES = ["Which company did Tesla partner with on mapping?", "Who is the premier of China?",
           "How many cars did Tesla sell in China?", "What did Musk say about Shanghai?"]


def build(index_dir: Path, paths: list[Path], embedder=None, **kw):
    return build_index(index_dir, paths, embedder or HashEmbedder(), SETTINGS, **kw)


def engine_keys(index_dir: Path) -> set[str]:
    """Every key the index's collection holds, read from Milvus itself."""
    loaded = store.load(index_dir)
    rows = loaded.engine.client.query(loaded.manifest.collection, filter='key != ""', output_fields=["key"])
    return {r["key"] for r in rows}


def ranked(hits: list[tuple[int, float]]) -> list[tuple[float, int]]:
    """Hits as (score, row), best first; rows that tie on a score are in row order (FAISS orders ties as its heap
    happens to), and the tie at the cut-off is left out, since either engine may keep any of its members."""
    last = round(hits[-1][1], 5)
    return sorted(((round(s, 5), r) for r, s in hits if round(s, 5) != last), key=lambda sr: (-sr[0], sr[1]))


def collections(index_dir: Path) -> list[str]:
    return sorted(engine.connect(str(index_dir / "milvus.db")).list_collections())


def test_a_milvus_index_ranks_and_scores_as_the_faiss_one(tmp_path, seeds_copy):
    build(tmp_path / "faiss", [seeds_copy])
    report = build(tmp_path / "milvus", [seeds_copy], store_spec=MILVUS)
    flat, milvus = store.load(tmp_path / "faiss"), store.load(tmp_path / "milvus")
    assert (milvus.manifest.store, milvus.manifest.faiss_index, milvus.faiss_index) == ("milvus", "Milvus FLAT", None)
    assert milvus.manifest.collection.startswith("rag_") and report.embedded_texts == len(milvus.chunks) == 151
    assert sorted(p.name for p in (tmp_path / "milvus" / "current").iterdir()) == ["chunks.jsonl", "manifest.json"]
    assert milvus.chunks == flat.chunks
    np.testing.assert_allclose(milvus.vectors([5, 0, 150]), flat.vectors([5, 0, 150]), atol=1e-6)
    embedder = HashEmbedder()
    for query in QUERIES:
        a, b = flat.search(embedder.embed_query(query), 10), milvus.search(embedder.embed_query(query), 10)
        assert ranked(b) == ranked(a), query
        np.testing.assert_allclose([s for _, s in b], [s for _, s in a], atol=1e-5)
    assert engine_keys(tmp_path / "milvus") == set(milvus.keys())


@pytest.mark.parametrize("exact_within", [engine.EXACT_WITHIN, 0])  # 0: a window searched through Milvus, filtered
def test_dense_hybrid_and_date_windows_retrieve_the_same_passages_from_milvus(tmp_path, seeds_copy, monkeypatch,
                                                                              exact_within):
    monkeypatch.setattr(engine, "EXACT_WITHIN", exact_within)
    build(tmp_path / "faiss", [seeds_copy])
    build(tmp_path / "milvus", [seeds_copy], store_spec=MILVUS)
    flat, milvus = store.load(tmp_path / "faiss"), store.load(tmp_path / "milvus")
    embedder = HashEmbedder()
    window = DateWindow(since=date(2024, 4, 1))  # only some seed articles are dated in April 2024 or later
    assert 0 < len(window.rows(flat.chunks)) < len(flat.chunks)
    for make in (lambda s: DenseRetriever(s, embedder), lambda s: HybridRetriever(s, embedder),
                 lambda s: DenseRetriever(s, embedder, window), lambda s: HybridRetriever(s, embedder, window=window)):
        for query in QUERIES:
            expected, got = make(flat).retrieve(query, 4), make(milvus).retrieve(query, 4)
            assert [p.chunk.id for p in got] == [p.chunk.id for p in expected], query
            assert [p.score for p in got] == pytest.approx([p.score for p in expected], abs=1e-5)


def test_a_re_sync_writes_only_new_passages_and_deletes_only_retired_ones(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    embedder = HashEmbedder()
    build(index, [seeds_copy], embedder, store_spec=MILVUS)
    first = store.load(index)
    collection = first.manifest.collection

    embedder.embedded.clear()
    again = build(index, [], embedder)  # the recorded store is kept without --store
    assert (again.notes, again.embedded_texts, embedder.embedded) == (("nothing changed: the index is as it was",), 0, [])

    changed = next(seeds_copy.glob("003_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTesla opened a new showroom in Lingang.", encoding="utf-8")
    next(seeds_copy.glob("004_*.txt")).unlink()
    third = build(index, [], embedder)
    assert (third.updated, third.removed) == (("003_f3c21960676e82a2",), ("004_93dc4c72c663ac72",))
    loaded = store.load(index)
    assert loaded.manifest.collection == collection  # the same collection, not a copy
    assert engine_keys(index) == set(loaded.keys())  # the retired rows are gone from Milvus, none is missing
    kept = set(first.keys()) & set(loaded.keys())
    assert len(kept) == len(loaded.keys()) - third.embedded_texts  # every other passage's row stayed as it was
    assert not (index / files.JOURNAL).exists()


def test_moving_an_index_between_faiss_and_milvus_keeps_its_vectors_and_drops_the_old_collection(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    build(index, [seeds_copy])
    flat = store.load(index).vectors()
    report = build(index, [], store_spec=MILVUS)
    assert report.embedded_texts == 0  # the vectors move; nothing is embedded again
    moved = store.load(index)
    np.testing.assert_allclose(moved.vectors(), flat, atol=1e-6)
    assert collections(index) == [moved.manifest.collection]

    build(index, [], store_spec=StoreSpec())
    back = store.load(index)
    assert (back.manifest.store, back.manifest.collection, back.engine) == ("faiss", "", None)
    np.testing.assert_allclose(back.vectors(), flat, atol=1e-6)
    assert collections(index) == []  # the Milvus collection is dropped once the FAISS files are current


def test_a_rebuild_writes_a_new_collection_and_drops_the_old(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    build(index, [seeds_copy], store_spec=MILVUS)
    old = store.load(index).manifest.collection
    build(index, [], rebuild=True)
    new = store.load(index).manifest.collection
    assert new != old and collections(index) == [new]


def test_what_a_killed_build_left_in_milvus_is_never_shown_and_is_removed_by_the_next_build(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    embedder = HashEmbedder()
    build(index, [seeds_copy], embedder, store_spec=MILVUS)
    loaded = store.load(index)
    query = embedder.embed_query("Which company did Tesla partner with on mapping?")
    before = loaded.search(query, 4)
    # what a build killed after writing its rows but before `current` flipped leaves: its journal and its rows,
    # here a row that matches the query exactly, and a collection a killed rebuild was filling
    uri = str(index / "milvus.db")
    stray = engine.new_collection_name()
    files.write_journal(index, engine.Journal(uri, loaded.manifest.collection, ("ghost:0@0000",), ()))
    engine.upsert(loaded.engine.client, uri, loaded.manifest.collection, ["ghost:0@0000"], query.reshape(1, -1))
    assert store.load(index).search(query, 4) == before  # a reader maps hits through `current`: the ghost is skipped
    build(index, [], embedder)  # the next writer settles the journal, even though nothing changed
    assert engine_keys(index) == set(loaded.keys()) and not (index / files.JOURNAL).exists()

    client = store.load(index).engine.client
    files.write_journal(index, engine.Journal(uri, stray, ("x",), ()))
    engine.create_collection(client, uri, stray, 8, 1)
    assert stray in collections(index)
    build(index, [], embedder)
    assert collections(index) == [loaded.manifest.collection]


@pytest.mark.parametrize(("given", "message"), [
    ("qdrant", "--store qdrant: use faiss, milvus, milvus:http://HOST:19530 or milvus:PATH.db"),
    ("faiss:x", "--store faiss:x: use faiss, milvus, milvus:http://HOST:19530 or milvus:PATH.db"),
    ("milvus:ftp://h:1", "--store milvus:ftp://h:1: a Milvus URI looks like http://HOST:19530"),
    ("milvus:news.sqlite", "--store milvus:news.sqlite: a Milvus Lite file name ends in .db (e.g. milvus:/data/news.db)"),
])
def test_a_malformed_store_is_named(given, message):
    with pytest.raises(InputError) as err:
        parse_store(given)
    assert str(err.value) == message


def test_store_specs_round_trip_through_the_manifest(tmp_path):
    assert parse_store("milvus") == StoreSpec("milvus", None)
    assert parse_store("milvus:http://10.0.0.5:19530") == StoreSpec("milvus", "http://10.0.0.5:19530")
    spec = parse_store(f"milvus:{tmp_path}/news.db")
    assert engine.spec_of(str(spec)) == spec and spec.resolved_uri(tmp_path / "ix") == f"{tmp_path}/news.db"
    assert StoreSpec("milvus").resolved_uri(tmp_path / "ix") == f"{tmp_path}/ix/milvus.db"


def test_an_engine_that_is_down_is_named_in_one_line_and_the_index_is_untouched(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    build(index, [seeds_copy])
    files = {p: p.read_bytes() for p in index.rglob("*") if p.is_file()}
    with pytest.raises(EngineError) as err:
        build(index, [], store_spec=StoreSpec("milvus", "http://127.0.0.1:9"))
    assert str(err.value) == "cannot reach Milvus at http://127.0.0.1:9: Connection refused"
    assert {p: p.read_bytes() for p in index.rglob("*") if p.is_file()} == files
    assert json.loads((index / "current" / "manifest.json").read_text())["store"] == "faiss"


def test_a_collection_that_is_gone_is_named_with_the_repair_command(tmp_path, seeds_copy):
    index = tmp_path / "ix"
    build(index, [seeds_copy], store_spec=MILVUS)
    collection = store.load(index).manifest.collection
    engine.drop(engine.connect(str(index / "milvus.db")), str(index / "milvus.db"), collection)
    with pytest.raises(EngineError) as err:
        store.load(index)
    assert str(err.value) == (f"Milvus at {index}/milvus.db has no collection {collection} for this index: "
                              f"rebuild it with `rag index --rebuild --index {index}`")
    build(index, [], rebuild=True)  # the repair it names
    assert engine_keys(index) == set(store.load(index).keys())
