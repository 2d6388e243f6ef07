"""The `openai:` backend against a real OpenAI-compatible server: llama.cpp's own, serving the packaged 0.5B."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.conftest import ROOT, rag, require, stop_process
from tests.http_stubs import closed_port
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model

SERVED_NAME = "qwen2.5-coder-0.5b"
THREADS = str(os.cpu_count() or 2)  # as the in-process backend uses (llama.cpp's server defaults to half)
QUESTIONS = [  # answered, answered, and one the seeds cannot answer
    "Which Chinese tech company did Tesla partner with on mapping and navigation?",
    "Who is the chairman of CATL?",
    "What is Tesla's dividend policy?",
]


@pytest.fixture(scope="module")
def llama_server(backend, tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port, with the GGUF and context the local backend uses."""
    gguf = MODELS_DIR / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    require(gguf.exists(), f"{gguf} not assembled")
    port = closed_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", SERVED_NAME,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", THREADS,
             "--n_threads_batch", THREADS, "--seed", "0", "--verbose", "False"],
            stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:
                    assert json.load(reply)["data"][0]["id"] == SERVED_NAME
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        stop_process(server)


@pytest.fixture(scope="module")
def remote_assistant(llama_server, assistant):
    from rag.assistant import Assistant
    from rag.backends.registry import BackendOptions, open_backend

    backend = open_backend(f"openai:{SERVED_NAME}", BackendOptions(base_url=llama_server))
    return Assistant(assistant.retriever, backend, assistant.settings)


def _key(answer) -> tuple:
    return answer.text, answer.abstained, [(c.marker, c.passage.chunk.id) for c in answer.citations]


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_http_path_gives_the_same_answer_and_citations_as_the_in_process_model(question, assistant, remote_assistant):
    assert _key(remote_assistant.answer(question)) == _key(assistant.answer(question))


def test_the_http_path_streams_in_several_deltas(remote_assistant):
    pieces: list[str] = []
    answer = remote_assistant.answer(QUESTIONS[0], on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.draft
    assert "Baidu" in answer.text and [c.passage.chunk.article_id for c in answer.citations] == ["002_9ad4130286e12838"]


def test_rag_ask_with_base_url(llama_server, seed_index, tmp_path):
    result = rag("ask", "--json", "--model", f"openai:{SERVED_NAME}", "--base-url", llama_server, QUESTIONS[0],
                 "--index", str(seed_index), cwd=tmp_path, env={"OPENAI_API_KEY": ""})
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["model"] == f"openai:{SERVED_NAME}" and data["abstained"] is False and "Baidu" in data["answer"]
    assert [c["doc_id"] for c in data["citations"]] == ["002_9ad4130286e12838"]
    assert data["usage"]["prompt_tokens"] > 0  # counted with tiktoken, not the local tokenizer


def test_the_readme_langchain_example_runs_as_written(llama_server, seed_index, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### LangChain"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]
    (tmp_path / "var" / "index").mkdir(parents=True)
    (tmp_path / "var" / "index" / "default").symlink_to(seed_index)
    (tmp_path / "var" / "models").symlink_to(MODELS_DIR)  # the int8 MiniLM the index uses, prepared once
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OPENAI_BASE_URL": llama_server, "OPENAI_API_KEY": "none",
                               "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "Baidu" in done.stdout


def test_a_reply_another_request_cuts_is_reported_not_taken_for_an_answer(llama_server):
    """llama_cpp.server (interrupt_requests on, its default) ends a reply with [DONE] when a second request comes."""
    from rag.backends import GenerationParams
    from rag.backends.registry import BackendOptions, open_backend
    from rag.errors import BackendError

    backend = open_backend(f"openai:{SERVED_NAME}", BackendOptions(base_url=llama_server))
    reply = backend.stream([{"role": "user", "content": "Count from 1 to 300, one number per line."}],
                           GenerationParams(max_tokens=600))
    pieces = [next(reply)]  # the server is now generating this reply
    second: list[str] = []
    request = urllib.request.Request(
        f"{llama_server}/chat/completions", headers={"content-type": "application/json"},
        data=json.dumps({"model": SERVED_NAME, "max_tokens": 4,
                         "messages": [{"role": "user", "content": "Say yes."}]}).encode())

    def ask_again() -> None:
        with urllib.request.urlopen(request, timeout=120) as answer:
            second.append(json.load(answer)["choices"][0]["finish_reason"])

    other = threading.Thread(target=ask_again)
    other.start()
    with pytest.raises(BackendError) as err:
        pieces.extend(reply)
    other.join(timeout=120)
    assert str(err.value) == (
        f"openai:{SERVED_NAME}: the server ended the reply without saying it was finished (no finish reason): it was "
        "cut, often by another request to the same model; for llama_cpp.server serving several clients, start it "
        "with --interrupt_requests False")
    assert "300" not in "".join(pieces)  # cut well before the end
    assert second and second[0] in ("stop", "length")  # the request that cut it was answered
