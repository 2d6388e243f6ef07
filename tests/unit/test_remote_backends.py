"""The API backends against a scripted loopback server: requests sent, streams read, failures mapped."""

from __future__ import annotations

import os

import pytest

from rag import store
from rag.assistant import Assistant
from rag.backends import GenerationParams
from rag.backends.api import anthropic_backend, openai_backend
from rag.backends.registry import BackendOptions, open_backend
from rag.errors import BackendError, InputError
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.retrieval import DenseRetriever
from tests.fakes import HashEmbedder
from tests.http_stubs import Reply, StubServer, anthropic_stream, closed_port, error, openai_stream

OPENAI_KEY = "sk-test-0penai-k3y-that-must-not-leak"
ANTHROPIC_KEY = "sk-ant-test-k3y-that-must-not-leak"
LIVE_ANTHROPIC_KEY = os.environ.get("ANTHROPIC_API_KEY")  # read before the fixture below replaces it
MESSAGES = [{"role": "system", "content": "Use the passages."}, {"role": "user", "content": "Who?"}]


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _run(backend) -> list[str]:
    return list(backend.stream(MESSAGES, GenerationParams(max_tokens=50)))


def test_openai_request_and_stream():
    with StubServer(openai_stream("Bai", "du", ".")) as server:
        pieces = _run(openai_backend("qwen", f"{server.url}/v1", 4096))
    assert pieces == ["Bai", "du", "."]
    [seen] = server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert seen.body == {"model": "qwen", "stream": True, "messages": [
        {"role": "system", "content": "Use the passages."}, {"role": "user", "content": "Who?"}],
        "seed": 0, "temperature": 0.0, "max_tokens": 50}


def test_openai_base_url_comes_from_the_environment_and_a_keyless_local_server_works(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with StubServer(openai_stream("ok")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        backend = open_backend("openai:qwen", BackendOptions())
        assert _run(backend) == ["ok"]
    assert backend.name == "openai:qwen"
    assert server.seen[0].headers["authorization"] == "Bearer not-needed"


def test_anthropic_request_and_stream():
    with StubServer(anthropic_stream("Zeng", " Yuqun")) as server:
        pieces = _run(anthropic_backend("claude-test", server.url, 4096))
    assert pieces == ["Zeng", " Yuqun"]
    [seen] = server.seen
    assert seen.path == "/v1/messages"
    assert ANTHROPIC_KEY in (seen.headers.get("x-api-key"), seen.headers.get("authorization", "").removeprefix("Bearer "))
    assert "anthropic-version" in seen.headers
    # Anthropic takes the system prompt as a field of its own, not as a message
    assert seen.body == {"model": "claude-test", "system": "Use the passages.", "stream": True, "max_tokens": 50,
                         "temperature": 0.0, "messages": [{"role": "user", "content": "Who?"}]}


def test_anthropic_base_url_comes_from_the_environment(monkeypatch):
    with StubServer(anthropic_stream("ok")) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        assert _run(open_backend("anthropic:claude-test", BackendOptions())) == ["ok"]


def test_missing_keys_and_names_are_explained(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(InputError) as err:
        open_backend("openai:gpt-4o-mini", BackendOptions())
    assert str(err.value) == ("openai:gpt-4o-mini needs an API key: set OPENAI_API_KEY, or pass --base-url for a "
                              "local server that needs none")
    with pytest.raises(InputError) as err:
        open_backend("anthropic:claude-haiku-4-5", BackendOptions())
    assert str(err.value) == "anthropic:claude-haiku-4-5 needs an API key: set ANTHROPIC_API_KEY"
    with pytest.raises(InputError, match=r"^openai: needs a model name, e\.g\. openai:gpt-4o-mini$"):
        open_backend("openai:", BackendOptions(base_url="http://127.0.0.1:1/v1"))


def _failure(*replies: Reply, retries: int = 2, timeout: float = 60.0, kind: str = "openai"):
    """The BackendError message (the stub's URL written as URL), requests the server saw, pauses taken."""
    with StubServer(*replies) as server:
        make = openai_backend if kind == "openai" else anthropic_backend
        backend = make("m", f"{server.url}/v1" if kind == "openai" else server.url, 4096, timeout, retries)
        pauses: list[float] = []
        backend.sleep = pauses.append
        with pytest.raises(BackendError) as err:
            _run(backend)
    assert backend.attempts == len(server.seen)
    return str(err.value).replace(server.url, "URL"), len(server.seen), pauses


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_401_is_not_retried_and_names_the_key_variable(kind):
    message, attempts, _ = _failure(error(401, "invalid x-api-key"), kind=kind)
    variable = "OPENAI_API_KEY" if kind == "openai" else "ANTHROPIC_API_KEY"
    assert message == f"{kind}:m: the server rejected the API key (HTTP 401): check {variable}"
    assert attempts == 1


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_429_is_retried_with_backoff_then_explained(kind):
    message, attempts, pauses = _failure(error(429), kind=kind)
    assert message == f"{kind}:m: rate limited (HTTP 429) after 3 attempts: wait a minute, or check your account's limits"
    assert attempts == 3 and pauses == [1.0, 2.0]


def test_retry_after_is_honoured_and_a_retry_can_succeed():
    with StubServer(error(429, retry_after="3"), error(503), openai_stream("fine")) as server:
        backend = openai_backend("m", f"{server.url}/v1", 4096)
        pauses: list[float] = []
        backend.sleep = pauses.append
        assert _run(backend) == ["fine"]
    assert len(server.seen) == 3 and pauses == [3.0, 2.0]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_a_bounded_number_of_times(status):
    message, attempts, _ = _failure(error(status), retries=1)
    assert message == f"openai:m: the server failed (HTTP {status}) after 2 attempts: check the server's logs or status page"
    assert attempts == 2


def test_no_retries_when_configured_so():
    message, attempts, pauses = _failure(error(500), retries=0)
    assert message == "openai:m: the server failed (HTTP 500): check the server's logs or status page"
    assert attempts == 1 and pauses == []


def test_404_points_at_the_model_name_and_base_url():
    message, attempts, _ = _failure(error(404, "model 'm' not found"))
    assert message == ("openai:m: not found at URL/v1 (HTTP 404): check the model name and that "
                       "the base URL is the API root (usually ending in /v1)")
    assert attempts == 1


def test_other_refusals_quote_the_server_without_the_key():
    message, attempts, _ = _failure(error(400, f"bad request from key {OPENAI_KEY}: context too long"))
    assert message == "openai:m: the server refused the request (HTTP 400): bad request from key ***: context too long"
    assert attempts == 1


def test_timeout_names_the_wait_and_the_setting():
    message, attempts, _ = _failure(Reply(delay=2.0, events=openai_stream("late").events), timeout=0.3)
    assert message == ("openai:m: no reply from URL/v1 within 0.3 s: the server is overloaded or the model is slow; "
                       "check the server, or raise request_timeout (RAG_REQUEST_TIMEOUT)")
    assert attempts == 1


CUT = ("the server ended the reply without saying it was finished{tried} (no finish reason): it was cut, often by "
       "another request to the same model; for llama_cpp.server serving several clients, start it with "
       "--interrupt_requests False")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_reply_cut_after_its_first_words_is_an_error_not_a_short_answer(kind):
    cut = openai_stream("Tesla", " met", finish=None) if kind == "openai" else anthropic_stream("Tesla", " met",
                                                                                                  finished=False)
    message, attempts, pauses = _failure(cut, kind=kind)
    assert message == f"{kind}:m: " + CUT.format(tried="")
    assert attempts == 1 and pauses == []


def test_a_reply_cut_before_any_words_is_not_retried():
    message, attempts, pauses = _failure(openai_stream(finish=None), openai_stream("Baidu"))
    assert message == "openai:m: " + CUT.format(tried="")
    assert attempts == 1 and pauses == []


def test_a_reply_stopped_by_the_token_limit_is_complete():
    with StubServer(openai_stream("Tesla", " met", finish="length")) as server:
        assert _run(openai_backend("m", f"{server.url}/v1", 4096)) == ["Tesla", " met"]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_connection_refused_names_the_url_and_how_to_change_it(kind):
    port = closed_port()
    make = openai_backend if kind == "openai" else anthropic_backend
    url = f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")
    backend = make("m", url, 4096, 5.0, 2)
    with pytest.raises(BackendError) as err:
        _run(backend)
    variable = "OPENAI_BASE_URL" if kind == "openai" else "ANTHROPIC_BASE_URL"
    assert str(err.value) == f"{kind}:m: cannot connect to {url}: is the server running? Check --base-url or {variable}"
    assert backend.attempts == 1


def test_the_assistant_cites_and_abstains_the_same_way_through_an_api_backend(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [seeds_copy], embedder, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    retriever = DenseRetriever(store.load(tmp_path / "ix"), embedder)
    with StubServer(openai_stream("Zeng", " Yuqun"), openai_stream("Tesla paid 9 billion dollars.")) as server:
        assistant = Assistant(retriever, openai_backend("stub", f"{server.url}/v1", 4096))
        cited = assistant.answer("Who is the chairman of CATL?")
        invented = assistant.answer("How much did Tesla pay Baidu?")
    assert cited.text.startswith("Zeng Yuqun [") and not cited.abstained
    assert cited.citations[0].passage.chunk.article_id == "004_93dc4c72c663ac72"
    assert cited.model == "openai:stub"
    assert invented.abstained and invented.text == "Not in the documents."
    # the prompt sent is the assistant's own: the passages are in the user message, numbered
    assert server.seen[0].body["messages"][1]["content"].startswith("Passage 1 (")


def test_prompt_budget_counts_with_tiktoken_and_drops_whole_passages(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [seeds_copy], embedder, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    retriever = DenseRetriever(store.load(tmp_path / "ix"), embedder)
    with StubServer(openai_stream("Zeng Yuqun")) as server:
        backend = openai_backend("stub", f"{server.url}/v1", context_tokens=400)
        answer = Assistant(retriever, backend).answer("Who is the chairman of CATL?", top_k=8)
    user = server.seen[0].body["messages"][1]["content"]
    assert len(answer.passages) < 8
    assert answer.usage["prompt_tokens"] <= 400 - 96
    for passage in answer.passages:  # every passage shown is whole
        assert passage.chunk.text in user


@pytest.mark.skipif(not LIVE_ANTHROPIC_KEY, reason="live Anthropic test: runs only when ANTHROPIC_API_KEY is set")
def test_live_anthropic(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", LIVE_ANTHROPIC_KEY)
    pieces = list(open_backend("anthropic:claude-haiku-4-5", BackendOptions()).stream(
        [{"role": "user", "content": "Reply with the single word: yes"}], GenerationParams(max_tokens=5)))
    assert "yes" in "".join(pieces).lower()
