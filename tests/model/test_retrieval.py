"""Exact rankings of the real MiniLM over the seed articles."""

import itertools

import pytest

pytestmark = pytest.mark.model


@pytest.mark.parametrize(("query", "top_chunks"), [
    ("Who is the chairman of CATL?", ["004_93dc4c72c663ac72:1", "004_93dc4c72c663ac72:0"]),
    ("What percentage of its global workforce did Tesla say it would lay off?",
     ["001_a97cac3138bdc646:7", "001_a97cac3138bdc646:8"]),
    ("Which Japanese prime minister talked up the benefits of a weaker yen?", ["001_a97cac3138bdc646:12"]),
])
def test_top_ranked_chunks(seed_store, embedder, query, top_chunks):
    from rag.retrieval import DenseRetriever

    ranked = DenseRetriever(seed_store, embedder).retrieve(query, 4)
    assert [p.chunk.id for p in ranked[: len(top_chunks)]] == top_chunks
    assert [p.rank for p in ranked] == [1, 2, 3, 4]
    assert all(a.score >= b.score for a, b in itertools.pairwise(ranked))


def test_chunks_fit_minilm_window(seed_store, embedder):
    assert max(embedder.count_tokens(c.text) for c in seed_store.chunks) <= 254
    assert len({c.article_id for c in seed_store.chunks}) == 5
