"""Hybrid retrieval (BM25 + dense, reciprocal rank fusion, per-article cap) over the seeds with the hashed embedder."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rag.assistant import Assistant, AssistantSettings
from rag.config import Settings
from rag.retrieval.hybrid import HybridRetriever, _cap_per_article
from rag.types import Passage
from tests.fakes import ScriptedBackend


@pytest.fixture
def hybrid(retriever):
    return HybridRetriever(retriever.store, retriever.embedder)


def test_an_exact_rare_name_is_ranked_first_by_its_bm25_match(retriever, hybrid):
    assert [p.chunk.id for p in retriever.retrieve("Lingang", 2)] == ["003_f3c21960676e82a2:3", "004_93dc4c72c663ac72:4"]
    top = hybrid.retrieve("Lingang", 4)
    assert [p.chunk.id for p in top] == ["003_f3c21960676e82a2:1", "003_f3c21960676e82a2:3", "004_93dc4c72c663ac72:4",
                                         "002_9ad4130286e12838:27"]
    assert "Lingang" in top[0].chunk.text and [p.rank for p in top] == [1, 2, 3, 4]


def test_scores_stay_the_dense_cosine_so_the_floor_means_the_same(retriever, hybrid):
    query = "Which analyst called approval a game changer?"
    vector = retriever.embedder.embed_query(query)
    for p in hybrid.retrieve(query, 4):
        row = retriever.store.chunks.index(p.chunk)
        assert p.score == pytest.approx(float(retriever.store.faiss_index.reconstruct(row) @ vector), abs=1e-6)


def test_one_article_cannot_crowd_out_the_rest(retriever):
    query = "Which analyst called approval a game changer?"
    capped = HybridRetriever(retriever.store, retriever.embedder, per_article=1).retrieve(query, 4)
    assert [p.chunk.article_id for p in capped] == ["002_9ad4130286e12838", "001_a97cac3138bdc646",
                                                    "004_93dc4c72c663ac72", "003_f3c21960676e82a2"]


def test_the_cap_gives_way_when_too_few_articles_are_left():
    order = [10, 11, 12, 20, 13]
    articles = ["a", "a", "a", "b", "a"]
    assert _cap_per_article(order, articles, cap=1, k=3) == [10, 11, 20]  # fused order kept
    assert _cap_per_article(order, articles, cap=2, k=4) == [10, 11, 12, 20]
    assert _cap_per_article(order, articles, cap=1, k=9) == order


def test_a_query_of_stopwords_falls_back_to_the_dense_side(retriever, hybrid):
    assert hybrid._lexical("the of and", 10) == []
    assert hybrid.retrieve("the of and", 1)[0].chunk.id == retriever.retrieve("the of and", 1)[0].chunk.id


def test_the_abstention_floor_uses_the_best_similarity_not_the_first_passage(retriever):
    passages = retriever.retrieve("Who is the chairman of CATL?", 2)
    reordered = [Passage(passages[1].chunk, 0.1, 1), Passage(passages[0].chunk, passages[0].score, 2)]

    class Fixed:
        def retrieve(self, query: str, k: int) -> list[Passage]:
            return reordered

    backend = ScriptedBackend("Zeng Yuqun")
    Assistant(Fixed(), backend, AssistantSettings(score_floor=0.3)).answer("Who is the chairman of CATL?")
    assert len(backend.calls) == 1  # the model was asked: the second passage clears the floor
    best = max(p.score for p in reordered)
    assert np.isclose(best, passages[0].score) and best > 0.3
    floor = round(best + 0.01, 2)
    answer = Assistant(Fixed(), backend, AssistantSettings(score_floor=floor)).answer("Who is the chairman of CATL?")
    assert len(backend.calls) == 1 and answer.abstained
    assert answer.warnings == (f"no passage is close enough to the question (best score {best:.2f} < {floor})",)


def test_an_upload_in_the_ui_keeps_the_hybrid_retriever(retriever, tmp_path):
    from rag.ui.app import Services
    from rag.ui.library import Library

    index_dir = retriever.store.path.parent if retriever.store.path.name.startswith("gen-") else retriever.store.path
    services = Services(Assistant(HybridRetriever(retriever.store, retriever.embedder), ScriptedBackend()),
                        Library(index_dir, retriever.embedder), tmp_path / "feedback.jsonl", Settings(retrieval="hybrid"))
    report = services.library.add([("zorblat.txt", b"Zorblat Motors builds the Quarkmobile in Tallinn.\n")])
    services.reload_index()
    assert [a.article_id for a in report.accepted] == ["zorblat"]
    assert isinstance(services.assistant.retriever.inner, HybridRetriever)
    assert services.assistant.retriever.retrieve("Quarkmobile", 1)[0].chunk.article_id == "zorblat"


def test_a_compressed_index_retrieves_what_the_exact_one_does(tmp_path, seeds_copy, monkeypatch):
    import json

    from rag import store
    from rag.index.build import build_index
    from rag.index.chunking import ChunkingSettings
    from rag.retrieval import DenseRetriever
    from rag.store import vector_index
    from tests.fakes import HashEmbedder

    rows = [json.dumps({"id": f"n{i}", "title": f"Note {i}", "text": f"Note {i} on lot {i * 7} in bay {i % 13}."})
            for i in range(300)]  # with the seeds, enough passages to train PQ's codebooks
    (seeds_copy / "notes.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    embedder, chunking = HashEmbedder(), ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8)
    build_index(tmp_path / "flat", [seeds_copy], embedder, chunking)
    monkeypatch.setattr(vector_index, "COMPRESSED_FROM", 1)
    build_index(tmp_path / "ivf", [seeds_copy], embedder, chunking)
    exact, compressed = (DenseRetriever(store.load(tmp_path / name), embedder) for name in ("flat", "ivf"))
    assert (exact.store.manifest.faiss_index, compressed.store.manifest.faiss_index) == ("IndexFlatIP", "IndexIVFPQ")
    pairs = ((exact, compressed), (HybridRetriever(exact.store, embedder), HybridRetriever(compressed.store, embedder)))
    queries = ("Lingang", "Which analyst called approval a game changer?", "Who did Musk meet in Beijing?",
               "Tesla data security checks")
    for (want, got), query in itertools.product(pairs, queries):
        expected, found = want.retrieve(query, 4), got.retrieve(query, 4)
        assert [p.score for p in found] == pytest.approx([p.score for p in expected], abs=1e-6)  # exact scores
        # the same passages, except among those tied with the last score (bags of words tie often)
        last = expected[-1].score + 1e-6
        assert [p.chunk.id for p in found if p.score > last] == [p.chunk.id for p in expected if p.score > last]
