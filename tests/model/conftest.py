"""Real components, loaded once per session: MiniLM, the seed index, the packaged 0.5B GGUF."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, SEEDS, require

MODELS_DIR = ROOT / "var" / "models"  # shared with `rag ask`, so the GGUF is assembled once per machine


@pytest.fixture(scope="session")
def embedder():
    from rag.embedders.minilm import MiniLMEmbedder

    try:
        return MiniLMEmbedder()
    except Exception as exc:
        require(False, f"MiniLM embedder unavailable: {exc}")


@pytest.fixture(scope="session")
def seed_store(embedder, tmp_path_factory):
    from rag import store
    from rag.index.build import build_index

    index_dir = tmp_path_factory.mktemp("model") / "index"
    build_index(index_dir, [SEEDS], embedder)
    return store.load(index_dir, expect_embedder=embedder.model_id)


@pytest.fixture(scope="session")
def backend():
    from rag.backends.registry import BackendOptions, open_backend
    from rag.errors import RagError

    try:
        return open_backend("local", BackendOptions(models_dir=MODELS_DIR))
    except RagError as exc:
        require(False, f"local 0.5B model unavailable: {exc}")


@pytest.fixture(scope="session")
def assistant(seed_store, embedder, backend):
    from rag.assistant import Assistant
    from rag.retrieval import DenseRetriever

    return Assistant(DenseRetriever(seed_store, embedder), backend)

