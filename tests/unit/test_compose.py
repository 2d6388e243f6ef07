"""`rag.compose`: every surface gets the parts the settings describe, with every answering setting carried."""

from __future__ import annotations

import dataclasses

import pytest

from rag import compose
from rag.assistant import AssistantSettings
from rag.config import DEFAULTS, Settings
from rag.errors import IndexMissingError
from rag.retrieval import DenseRetriever
from rag.retrieval.hybrid import HybridRetriever
from tests.fakes import ScriptedBackend


def test_the_retrieval_setting_chooses_the_retriever_over_the_given_store(retriever):
    dense = compose.open_retriever(Settings(), retriever.store, retriever.embedder)
    hybrid = compose.open_retriever(Settings(retrieval="hybrid"), retriever.store, retriever.embedder)
    # questions about the present are reranked by date (rag.retrieval.recency) over either of them
    assert (type(dense.inner), type(hybrid.inner)) == (DenseRetriever, HybridRetriever)
    assert hybrid.store is retriever.store and hybrid.embedder is retriever.embedder
    assert [p.chunk.id for p in dense.retrieve("Who is the chairman of CATL?", 3)] == \
        [p.chunk.id for p in retriever.retrieve("Who is the chairman of CATL?", 3)]


def test_every_answering_setting_reaches_the_assistant(retriever):
    settings = Settings(top_k=6, score_floor=0.3, min_anchor_share=0.8, min_topic_share=0.4, focus=4, focus_window=2,
                        answer_style="sentences", quote=False, max_tokens=200, min_support=0.6)
    assistant = compose.build_assistant(settings, retriever=retriever, backend=ScriptedBackend())
    assert assistant.settings == AssistantSettings(
        top_k=6, score_floor=0.3, min_anchor_share=0.8, min_topic_share=0.4, answer_style="sentences", quote=False,
        focus=4, focus_window=2, params=dataclasses.replace(assistant.settings.params, max_tokens=200))
    assert (assistant.judge.min_score, assistant.judge.embedder) == (0.6, retriever.embedder)


def test_auto_style_and_quoting_are_resolved_for_the_model():
    local = compose.assistant_settings(Settings(), "local:qwen2.5-coder-0.5b")
    api = compose.assistant_settings(Settings(), "openai:gpt-4o-mini")
    assert (local.answer_style, local.quote, local.params.max_tokens) == ("short", True, 96)
    assert (api.answer_style, api.quote, api.params.max_tokens) == ("sentences", False, 256)


def test_the_components_defaults_are_the_settings_defaults():
    from rag.backends.registry import BackendOptions

    options, knobs = BackendOptions(), AssistantSettings()
    assert (options.models_dir, options.context_tokens, options.timeout, options.retries) == (
        DEFAULTS.models_dir, DEFAULTS.context_tokens, DEFAULTS.request_timeout, DEFAULTS.retries)
    assert (knobs.top_k, knobs.score_floor, knobs.min_anchor_share, knobs.min_topic_share, knobs.focus) == (
        DEFAULTS.top_k, DEFAULTS.score_floor, DEFAULTS.min_anchor_share, DEFAULTS.min_topic_share, DEFAULTS.focus)


def test_only_the_default_index_builds_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./seeds here either
    with pytest.raises(IndexMissingError) as err:
        compose.open_store(Settings(index=tmp_path / "typo"))
    typo = tmp_path / "typo"
    assert str(err.value) == f"no index at {typo}: build one with `rag index ARTICLES... --index {typo}`"
    with pytest.raises(IndexMissingError) as err:
        compose.open_store(Settings())
    assert str(err.value) == ("no index at var/index/default and no articles in ./seeds: "
                              "build one with `rag index PATH --index var/index/default`")


def _recording_loaders(monkeypatch, retriever, calls):
    """Stand-ins for the two loaders that record, in order, which thread ran each."""
    import threading

    def open_model(settings, say=None):
        calls.append(("model", threading.current_thread() is threading.main_thread()))
        return ScriptedBackend()

    def open_retriever(settings, loaded=None, embedder=None, say=None):
        calls.append(("retriever", threading.current_thread() is threading.main_thread()))
        return retriever

    monkeypatch.setattr(compose, "open_model", open_model)
    monkeypatch.setattr(compose, "open_retriever", open_retriever)


def test_the_model_loads_in_a_thread_beside_an_existing_index(retriever, monkeypatch):
    calls: list[tuple[str, bool]] = []
    _recording_loaders(monkeypatch, retriever, calls)
    assistant = compose.build_assistant(Settings(index=retriever.store.path))
    assert sorted(calls) == [("model", False), ("retriever", True)]  # the model off the main thread
    assert assistant.retriever is retriever and assistant.backend.name == ScriptedBackend().name


def test_a_missing_index_is_reported_before_any_model_loads(tmp_path, retriever, monkeypatch):
    calls: list[tuple[str, bool]] = []
    _recording_loaders(monkeypatch, retriever, calls)
    with pytest.raises(IndexMissingError):
        compose.build_assistant(Settings(index=tmp_path / "typo"))
    assert calls == []


def test_the_first_use_builds_the_index_before_loading_the_model(tmp_path, retriever, monkeypatch):
    fresh = tmp_path / "fresh"
    (fresh / "seeds").mkdir(parents=True)
    monkeypatch.chdir(fresh)  # no default index here, and ./seeds to build it from
    calls: list[tuple[str, bool]] = []
    _recording_loaders(monkeypatch, retriever, calls)
    compose.build_assistant(Settings())
    assert calls == [("retriever", True), ("model", True)]  # one at a time, so the build's progress bar stays whole
