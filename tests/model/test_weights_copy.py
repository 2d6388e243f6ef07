"""The 0.5B's F16 copy (rag.backends.weights), made by the real llama.cpp from the real packaged file, answering real
questions over the seed passages as the packaged file does.

Measured (README "Speed"): the copy's greedy replies equalled the packaged file's on the first 12 gold prompts, and
68 of 69 / 55 of 55 checked answers on the gold files; near-ties can still flip ("Baidu" became "Tesla partnered
with Baidu on mapping." for the README's question), so each reply must hold the answer and most must be equal."""

from __future__ import annotations

import pytest

from rag.backends import GenerationParams
from rag.backends.gguf import PACKAGED_MODELS
from rag.backends.weights import copy_name
from rag.prompting import build_messages
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model
QUESTIONS = {"Which company did Tesla partner with on mapping?": "Baidu",
             "Who heads the China Council for the Promotion of International Trade?": "Ren Hongbin",
             "What is the name of Tesla's vice president in charge of external relations in China?": "Grace Tao",
             "Which Chinese tech company did Tesla partner with on mapping and navigation?": "Baidu",
             "Which rival Chinese automaker has rolled out software similar to FSD?": "Xpeng"}


@pytest.fixture(scope="module")
def packaged_backend():
    from rag.backends.registry import BackendOptions, open_backend

    return open_backend("local", BackendOptions(models_dir=MODELS_DIR, weights="packaged"))


def test_the_default_backend_loads_the_f16_copy(backend):
    assert backend._llm.model_path == str(MODELS_DIR / copy_name(PACKAGED_MODELS["qwen2.5-coder-0.5b"], "f16"))


def test_the_copy_answers_as_the_packaged_file_does(backend, packaged_backend, seed_store, embedder):
    from rag.retrieval import DenseRetriever

    retriever = DenseRetriever(seed_store, embedder)
    params = GenerationParams(max_tokens=48)
    same = 0
    for question, answer in QUESTIONS.items():
        messages = build_messages(question, retriever.retrieve(question, 4))
        copy, packaged = ("".join(b.stream(messages, params)).strip() for b in (backend, packaged_backend))
        assert answer in copy, (question, copy)
        same += copy == packaged
    assert same >= 3, same
