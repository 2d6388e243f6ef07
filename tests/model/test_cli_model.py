"""`rag ask` end to end with the real models, as a user runs it."""

import json

import pytest

from tests.conftest import rag
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model


def test_ask_json_answers_with_the_right_citation(tmp_path, seed_index, backend):
    result = rag("ask", "--json", "Which Chinese tech company did Tesla partner with on mapping and navigation?",
                 "--index", str(seed_index), cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["abstained"] is False and "Baidu" in data["answer"]
    assert [c["doc_id"] for c in data["citations"]] == ["002_9ad4130286e12838"]
    assert data["model"] == "local:qwen2.5-coder-0.5b"
    assert len(data["retrieved"]) == 4
    assert set(data["timings_ms"]) == {"retrieve", "first_token", "generate", "check", "total"}
    [claim] = data["claims"]
    assert claim["supported"] and claim["markers"] == [data["citations"][0]["marker"]]
    assert claim["support"][0]["sentence"] in data["citations"][0]["text"]


def test_ask_text_prints_the_answer_and_its_source(tmp_path, seed_index, backend):
    result = rag("ask", "Who is the chairman of CATL?", "--index", str(seed_index), cwd=tmp_path,
                 env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    first, *rest = result.out.splitlines()
    assert first.startswith("Zeng Yuqun") or first == "Not in the documents."
    if first != "Not in the documents.":
        assert "[1] " in "\n".join(rest) or "[2] " in "\n".join(rest)


def test_a_question_longer_than_the_context_exits_2(tmp_path, seed_index, backend):
    question = "Why did Musk visit Beijing? " * 900
    result = rag("ask", question, "--index", str(seed_index), cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 2
    assert result.err.startswith("rag: error: the question is too long for local:qwen2.5-coder-0.5b: with no passages "
                                 "the prompt needs ")
    assert result.err.endswith("tokens and the model's context leaves 4000\n")
