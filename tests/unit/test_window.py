"""Date windows (`--since`, `--until`, `--as-of`): retrieval sees only the articles published inside them."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from rag import compose, store
from rag.config import Settings, load_settings
from rag.errors import InputError
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.retrieval.window import DateWindow
from tests.fakes import HashEmbedder

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
QUESTION = "Who did Musk meet in Beijing?"


@pytest.fixture
def dated(tmp_path):
    """Articles of 2024-04-28 .. 2024-05-02 and one without a date, from the format fixtures."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("musk-beijing.html", "wire.jsonl", "archive.csv", "lingang-data.pdf"):
        shutil.copy(FORMATS / name, docs / name)
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [docs], embedder, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    return store.load(tmp_path / "ix"), embedder


def published(passages) -> list[str | None]:
    return [p.chunk.published for p in passages]


@pytest.mark.parametrize("retrieval", ["dense", "hybrid"])
def test_a_window_keeps_only_articles_published_inside_it(dated, retrieval):
    loaded, embedder = dated
    everything = compose.open_retriever(Settings(retrieval=retrieval), loaded, embedder).retrieve(QUESTION, 20)
    assert None in published(everything) and "2024-05-02" in published(everything)
    window = Settings(retrieval=retrieval, since=date(2024, 4, 29), until=date(2024, 4, 30))
    inside = compose.open_retriever(window, loaded, embedder).retrieve(QUESTION, 20)
    assert sorted({p.chunk.article_id for p in inside}) == ["archive-a1", "wire-w-101"]
    assert [p.rank for p in inside] == list(range(1, len(inside) + 1))
    # the same passages in the same order as the unfiltered ranking, the others taken out
    assert [p.chunk.id for p in inside] == [p.chunk.id for p in everything if p.chunk.article_id in {"archive-a1",
                                                                                                      "wire-w-101"}]


def test_as_of_hides_later_articles(dated):
    loaded, embedder = dated
    retriever = compose.open_retriever(Settings(until=date(2024, 4, 28)), loaded, embedder)
    assert set(published(retriever.retrieve(QUESTION, 20))) == {"2024-04-28"}
    assert DateWindow(until=date(2024, 4, 28)).admits("2024-04-29") is False
    assert DateWindow().admits(None) and not DateWindow(since=date(2024, 1, 1)).admits(None)


def test_a_window_that_holds_nothing_retrieves_nothing(dated):
    loaded, embedder = dated
    retriever = compose.open_retriever(Settings(since=date(2030, 1, 1)), loaded, embedder)
    assert retriever.retrieve(QUESTION, 4) == []


def test_an_inverted_window_is_a_settings_error(monkeypatch):
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    with pytest.raises(InputError) as err:
        load_settings({"since": "2024-05-01", "until": "2024-04-01"})
    assert str(err.value) == ("bad setting (config: Value error, since (2024-05-01) is after until (2024-04-01): "
                              "no article could be searched)")
    with pytest.raises(InputError, match=r"^bad setting \(since: Input should be a valid date"):
        load_settings({"since": "last week"})


def test_one_question_can_be_asked_inside_a_window_without_rebuilding_the_retriever(dated):
    from rag.assistant import Assistant
    from tests.fakes import ScriptedBackend

    loaded, embedder = dated
    retriever = compose.open_retriever(Settings(retrieval="hybrid"), loaded, embedder)
    assistant = Assistant(retriever, ScriptedBackend("Zeng Yuqun [1]", "Zeng Yuqun [1]"))
    windowed = assistant.answer("Who is the chairman of CATL?", window=DateWindow(until=date(2024, 4, 29)))
    assert windowed.passages and {p.chunk.published for p in windowed.passages} <= {"2024-04-28", "2024-04-29"}
    anytime = assistant.answer("Who is the chairman of CATL?")
    assert "2024-04-30" in {p.chunk.published for p in anytime.passages}  # the assistant's own window is untouched
    assert assistant.retriever is retriever and assistant.retriever.window == DateWindow()


def test_rag_serve_takes_a_window_per_request(dated):
    from fastapi.testclient import TestClient

    from rag.assistant import Assistant
    from rag.serve.app import create_app
    from tests.fakes import ScriptedBackend

    loaded, embedder = dated
    backend = ScriptedBackend("Zeng Yuqun [1]", "Zeng Yuqun [1]")
    client = TestClient(create_app(Assistant(compose.open_retriever(Settings(), loaded, embedder), backend), None))
    ask = {"model": "rag", "messages": [{"role": "user", "content": "Who is the chairman of CATL?"}]}
    reply = client.post("/v1/chat/completions", json={**ask, "as_of": "2024-04-29"}).json()
    prompt = backend.calls[-1][-1]["content"]
    assert "2024-04-30" not in prompt and "Zeng Yuqun, chairman of battery maker CATL" not in prompt
    assert all(c["published"] <= "2024-04-29" for c in reply["citations"])
    later = client.post("/v1/chat/completions", json={**ask, "since": "2024-04-30", "until": "2024-04-30"}).json()
    assert later["citations"][0]["doc_id"] == "wire-w-101" and later["choices"][0]["message"]["content"] == \
        "As of 2024-04-30: Zeng Yuqun [1]"  # read inside a window, the answer names the day of its source
    clash = client.post("/v1/chat/completions", json={**ask, "until": "2024-04-30", "as_of": "2024-04-29"})
    assert (clash.status_code, clash.json()["error"]["message"]) == (400, "give until or as_of, not two different days")
