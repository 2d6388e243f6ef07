"""Keys and tokens never leak: not in output, errors, logs, reports or any file written.

Every path runs with fake secrets against scripted loopback servers, including servers that
echo the key back in their error messages, as some real gateways do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import RAG_TEST_ENV, ROOT, rag
from tests.http_stubs import StubServer, anthropic_stream, closed_port, error, openai_stream

OPENAI_KEY = "sk-proj-FAKE0penAIkeyThatMustNeverLeak0001"
ANTHROPIC_KEY = "sk-ant-FAKEanthropicKeyThatMustNeverLeak0002"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY)
ENV = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY}
QUESTION = "Who is the chairman of CATL?"


def _assert_clean(*texts: str, folder: Path | None = None) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    for path in (p for p in (folder.rglob("*") if folder else []) if p.is_file()):
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, path


def test_answers_errors_and_eval_reports_hold_no_key(tmp_path, seed_index):
    index = ["--index", str(seed_index)]
    echo = f"Incorrect API key provided: {OPENAI_KEY}"
    with StubServer(openai_stream("Zeng", " Yuqun"), error(401, echo), error(400, echo), error(500, echo),
                    *[openai_stream("Zeng Yuqun")] * 4) as server:
        url = ["--model", "openai:stub", "--base-url", f"{server.url}/v1"]
        ok = rag("ask", "--json", QUESTION, *url, *index, cwd=tmp_path, env=ENV)
        assert ok.code == 0, ok.err
        assert json.loads(ok.out)["answer"].startswith("Zeng Yuqun [")
        rejected = rag("ask", QUESTION, *url, *index, cwd=tmp_path, env=ENV)
        refused = rag("ask", QUESTION, *url, *index, cwd=tmp_path, env={**ENV, "RAG_RETRIES": "0"})
        failed = rag("ask", QUESTION, *url, *index, cwd=tmp_path, env={**ENV, "RAG_RETRIES": "0"})
        evaluated = rag("eval", "--gold", str(ROOT / "evals" / "gold.jsonl"), "--limit", "3", "--out",
                        str(tmp_path / "run"), *url, *index, cwd=tmp_path, env=ENV)
    assert rejected.err == "rag: error: openai:stub: the server rejected the API key (HTTP 401): check OPENAI_API_KEY\n"
    assert refused.err == ("rag: error: openai:stub: the server refused the request (HTTP 400): "
                           "Incorrect API key provided: ***\n")
    assert failed.err == "rag: error: openai:stub: the server failed (HTTP 500): check the server's logs or status page\n"
    assert (rejected.code, refused.code, failed.code) == (2, 2, 2)
    assert evaluated.code == 0, evaluated.err
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"predictions.jsonl", "report.json", "report.html"}
    _assert_clean(ok.out, ok.err, rejected.out, rejected.err, refused.err, failed.err, evaluated.out, evaluated.err,
                  folder=tmp_path)


def test_anthropic_paths_hold_no_key(tmp_path, seed_index):
    index = ["--index", str(seed_index)]
    with StubServer(anthropic_stream("Zeng Yuqun"), error(403, f"key {ANTHROPIC_KEY} is disabled")) as server:
        url = ["--model", "anthropic:stub", "--base-url", server.url]
        ok = rag("ask", "--json", QUESTION, *url, *index, cwd=tmp_path, env=ENV)
        denied = rag("ask", QUESTION, *url, *index, cwd=tmp_path, env=ENV)
    down = rag("ask", QUESTION, "--model", "anthropic:stub", "--base-url", f"http://127.0.0.1:{closed_port()}",
               *index, cwd=tmp_path, env=ENV)
    assert ok.code == 0 and json.loads(ok.out)["model"] == "anthropic:stub"
    assert denied.err == "rag: error: anthropic:stub: the server rejected the API key (HTTP 403): check ANTHROPIC_API_KEY\n"
    assert down.code == 2 and "cannot connect to http://127.0.0.1:" in down.err
    _assert_clean(ok.out, ok.err, denied.out, denied.err, down.out, down.err, folder=tmp_path)


def test_serve_holds_no_key_or_token(tmp_path, seed_index):
    token = "rag-serve-FAKEtokenThatMustNeverLeak0003"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_", "ANTHROPIC_"))}
    env |= {**RAG_TEST_ENV, **ENV, "RAG_SERVE_TOKEN": token, "RAG_RETRIES": "0"}
    echo = f"Incorrect API key provided: {OPENAI_KEY}"
    bodies: list[str] = []
    with StubServer(openai_stream("Zeng Yuqun"), error(401, echo), error(400, echo)) as stub:
        log = tmp_path / "serve.log"
        with log.open("w") as sink:
            server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", "0", "--index", str(seed_index),
                                       "--model", "openai:stub", "--base-url", f"{stub.url}/v1"],
                                      cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not (found := re.search(r"on (http://127\.0\.0\.1:\d+/v1)", log.read_text())):
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            url = found.group(1)
            request = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]}
            with httpx.Client(timeout=60) as client:
                replies = [
                    client.post(f"{url}/chat/completions", json=request, headers={"Authorization": f"Bearer {token}x"}),
                    client.post(f"{url}/chat/completions", json=request, headers={"Authorization": f"Bearer {token}"}),
                    client.post(f"{url}/chat/completions", json=request, headers={"Authorization": f"Bearer {token}"}),
                    client.post(f"{url}/chat/completions", json={**request, "stream": True},
                                headers={"Authorization": f"Bearer {token}"}),
                ]
            bodies = [r.text for r in replies]
            assert [r.status_code for r in replies] == [401, 200, 502, 200]
            assert replies[1].json()["choices"][0]["message"]["content"].startswith("Zeng Yuqun [")
            assert replies[2].json()["error"]["message"] == ("openai:stub: the server rejected the API key (HTTP 401): "
                                                            "check OPENAI_API_KEY")
            assert "Incorrect API key provided: ***" in bodies[3]  # the in-band error of a stream, masked
        finally:
            server.terminate()
            server.wait(timeout=30)
    for text in (*bodies, log.read_text()):
        assert token not in text
    _assert_clean(*bodies, folder=tmp_path)
