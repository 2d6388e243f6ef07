"""The exact MiniLM as fp32 ONNX (what `rag` runs for the `minilm` embedder) against sentence-transformers' torch model.

Indexes built with torch must keep answering identically: the same vectors to float rounding and the same
rankings for every gold question."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.embedders.minilm import MINILM_ID
from rag.errors import ModelError
from tests.conftest import ROOT, require
from tests.model.conftest import MODELS_DIR


@pytest.fixture(scope="module")
def exact():
    from rag.embedders import open_embedder

    try:
        return open_embedder(MINILM_ID, MODELS_DIR)
    except ModelError as exc:
        require(False, f"fp32 ONNX MiniLM unavailable: {exc}")


def _questions() -> list[str]:
    return [json.loads(line)["question"] for name in ("gold.jsonl", "open.jsonl")
            for line in (ROOT / "evals" / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_onnx_vectors_are_torch_vectors_to_float_rounding(exact, embedder, seed_store):
    assert exact.model_id == embedder.model_id == MINILM_ID
    texts = [c.text for c in seed_store.chunks]
    assert np.abs(exact.embed_documents(texts) - embedder.embed_documents(texts)).max() < 1e-5
    questions = _questions()
    ours = np.stack([exact.embed_query(q) for q in questions])
    theirs = np.stack([embedder.embed_query(q) for q in questions])
    assert np.abs(ours - theirs).max() < 1e-5


def test_a_torch_built_index_ranks_every_gold_question_the_same(exact, embedder, seed_store):
    from rag.retrieval import DenseRetriever

    assert seed_store.manifest.embedder.id == MINILM_ID  # built by the torch model (tests/model/conftest.py)
    ours, theirs = DenseRetriever(seed_store, exact), DenseRetriever(seed_store, embedder)
    for question in _questions():
        assert [p.chunk.id for p in ours.retrieve(question, 10)] == [p.chunk.id for p in theirs.retrieve(question, 10)], question


def test_token_counts_match_the_torch_tokenizer(exact, embedder, seed_store):
    texts = [c.text for c in seed_store.chunks] + ["x " * 600]
    assert [exact.count_tokens(t) for t in texts] == [embedder.count_tokens(t) for t in texts]


def test_answering_a_question_does_not_import_torch(exact, seed_store):
    index_dir = seed_store.path
    # a new process, as `rag ask` is: the embedder an exact index opens, then a query and a search
    script = ("import sys; from pathlib import Path; from rag import store; from rag.embedders import embedder_for; "
              "from rag.retrieval import DenseRetriever; "
              f"loaded = store.load(Path({str(index_dir)!r})); "
              f"e = embedder_for(loaded, Path({str(MODELS_DIR)!r})); "
              "hits = DenseRetriever(loaded, e).retrieve('Who is the chairman of CATL?', 2); "
              "print(hits[0].chunk.article_id, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.split() == ["004_93dc4c72c663ac72", "False", "False"]
