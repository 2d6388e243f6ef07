"""`rag serve` end to end: the real models behind HTTP, called with the official `openai` client."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from tests.conftest import RAG_TEST_ENV, stop_process
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model

TOKEN = "serve-model-test-7f3a9c"  # never a real secret, but the server must treat it as one
MAPPING = "Which company did Tesla partner with on mapping?"
# asked this way the 0.5B extracts one word (the README's MAPPING gets a sentence from the F16 copy), from passage 3
NAVIGATION = "Which Chinese tech company did Tesla partner with on mapping and navigation?"
BAIDU_CITATION = {"marker": 3, "doc_id": "002_9ad4130286e12838", "chunk_id": "002_9ad4130286e12838:4"}
ANNOUNCED = re.compile(r"^rag: serving rag \(local:qwen2\.5-coder-0\.5b\) on http://127\.0\.0\.1:(\d+)/v1 \(token required\)$",
                       re.MULTILINE)


class Server:
    """A `rag serve` process and where its stderr goes."""

    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log
        self.base_url = ""

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")


def _start(seed_index: Path, cwd: Path, deadline_s: float = 300) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
    env |= {"RAG_SERVE_TOKEN": TOKEN, "RAG_MODELS_DIR": str(MODELS_DIR)}
    log = cwd / "serve.log"
    with log.open("w") as stderr:  # a file, not a pipe: access lines must never block the server
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", "0", "--index", str(seed_index)],
                                   cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    server = Server(process, log)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rag serve exited with {process.returncode}:\n{server.stderr()}")
        announced = ANNOUNCED.search(server.stderr())  # --port 0: the server names the port it got
        if announced:
            server.base_url = f"http://127.0.0.1:{announced.group(1)}/v1"
            try:
                if httpx.get(f"{server.base_url}/models", headers={"Authorization": f"Bearer {TOKEN}"},
                             timeout=5).status_code == 200:
                    return server
            except httpx.TransportError:
                pass  # bound but uvicorn not accepting yet
        time.sleep(0.25)
    stop_process(process)
    pytest.fail(f"rag serve did not answer within {deadline_s:.0f} s:\n{server.stderr()}")


@pytest.fixture(scope="module")
def server(seed_index, backend, tmp_path_factory):
    """One server for the module; `backend` only skips when the model is unavailable, as in test_cli_model."""
    running = _start(seed_index, tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        stop_process(running.process)


@pytest.fixture
def client(server) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=TOKEN, max_retries=0, timeout=300)


def _citations(extra: dict) -> list[dict]:
    return [{k: c[k] for k in ("marker", "doc_id", "chunk_id")} for c in extra["citations"]]


def test_models_lists_rag_and_the_backend(client):
    [model] = client.models.list().data
    assert (model.id, model.object, model.owned_by, model.model_extra) == ("rag", "model", "rag",
                                                                           {"backend": "local:qwen2.5-coder-0.5b"})


def test_an_answer_comes_back_with_its_marker_citation_and_usage(client):
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": NAVIGATION}])
    [choice] = completion.choices
    assert (choice.message.role, choice.message.content, choice.finish_reason) == ("assistant", "Baidu [3]", "stop")
    assert completion.model == "rag" and completion.id.startswith("chatcmpl-")
    assert completion.model_extra["abstained"] is False
    assert _citations(completion.model_extra) == [BAIDU_CITATION]
    assert "Tesla has also reached a deal with Chinese tech giant Baidu" in completion.model_extra["citations"][0]["text"]
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (553, 2, 555)


def test_a_stream_yields_the_verified_words_then_the_sources(client):
    stream = client.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! Ask me about the articles."},
        {"role": "user", "content": NAVIGATION}], stream=True, temperature=0.9, max_tokens=3)  # ignored by design
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content] == ["Baidu ", "[3]"]
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["abstained"] is False
    assert _citations(last.model_extra) == [BAIDU_CITATION]


def test_an_unanswerable_question_abstains(client):
    completion = client.chat.completions.create(model="rag", messages=[
        {"role": "user", "content": "What is Tesla's dividend policy?"}])
    assert completion.choices[0].message.content == "Not in the documents."
    assert (completion.model_extra["abstained"], completion.model_extra["citations"]) == (True, [])


def test_a_wrong_api_key_is_an_authentication_error_and_the_log_never_shows_the_token(server):
    wrong = OpenAI(base_url=server.base_url, api_key="not-the-token", max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.chat.completions.create(model="rag", messages=[{"role": "user", "content": MAPPING}])
    assert (raised.value.status_code, raised.value.code, raised.value.type) == (401, "invalid_api_key", "authentication_error")
    with pytest.raises(openai.NotFoundError) as raised:
        OpenAI(base_url=server.base_url, api_key=TOKEN, max_retries=0, timeout=30).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": MAPPING}])
    assert raised.value.code == "model_not_found" and "'rag'" in raised.value.message
    log = server.stderr()
    assert '"POST /v1/chat/completions HTTP/1.1" 401' in log and '"POST /v1/chat/completions HTTP/1.1" 404' in log
    assert TOKEN not in log and "not-the-token" not in log and MAPPING not in log
