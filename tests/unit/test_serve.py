"""`rag serve`'s application, driven in-process with the fakes: routes, streaming, errors, token, queueing."""

import json
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from rag.answer_view import answer_dict
from rag.assistant import Assistant
from rag.errors import BackendError, InputError, ModelError
from rag.followups import Rewrite
from rag.serve.app import create_app
from rag.serve.auth import bearer_matches, is_loopback, require_token_off_loopback
from rag.serve.openai_history import exchanges, question_from
from rag.serve.protocol import ChatMessage
from rag.serve.server import listen, url_of
from tests.fakes import ScriptedBackend

CATL = "Who is the chairman of CATL?"
BEIJING = "Who did Elon Musk meet in Beijing on Sunday?"
INVENTED = "How much did Tesla pay Baidu?"
TOKEN = "t0ken-Zq9-unit-secret"
NO_ROUTE = "no route {}: this server has GET /v1/models and POST /v1/chat/completions"
NOT_OBJECT = "the request body must be a JSON object with model and messages (Content-Type: application/json)"
CONTENT = 'messages.0.content: Input should be a string or a list of parts {"type": "text", "text": "..."}'


def ask(question: str, stream: bool = False) -> dict:
    return {"model": "rag", "messages": [{"role": "user", "content": question}], "stream": stream}


def events(body: str) -> list[str]:
    """The `data:` payloads of an SSE body, checking every event is exactly one data line."""
    assert body.endswith("\n\n")
    blocks = body[:-2].split("\n\n")
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks), body
    return [block[len("data: "):] for block in blocks]


def error(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def test_models_lists_the_served_model_and_its_backend(retriever):
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend()), None))
    listing = client.get("/v1/models")
    assert listing.status_code == 200
    [card] = listing.json()["data"]
    assert listing.json() == {"object": "list", "data": [card]}
    assert card == {"id": "rag", "object": "model", "created": card["created"], "owned_by": "rag", "backend": "scripted"}
    assert abs(card["created"] - time.time()) < 60
    assert client.get("/v1/models/rag").json() == card


def test_a_question_gets_the_verified_answer_with_citations_and_usage(retriever):
    expected = Assistant(retriever, ScriptedBackend("Zeng Yuqun")).answer(CATL)
    backend = ScriptedBackend("Zeng Yuqun", "Zeng Yuqun")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    response = client.post("/v1/chat/completions", json=ask(CATL))
    assert response.status_code == 200
    data = response.json()
    assert data["id"].startswith("chatcmpl-") and len(data["id"]) == len("chatcmpl-") + 24
    assert data == {
        "id": data["id"], "object": "chat.completion", "created": data["created"], "model": "rag",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Zeng Yuqun [4]"}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": expected.usage["prompt_tokens"], "completion_tokens": 2,
                  "total_tokens": expected.usage["prompt_tokens"] + 2},
        "citations": answer_dict(expected)["citations"],
        "abstained": False,
        "claims": answer_dict(expected)["claims"],
    }
    assert data["citations"][0]["doc_id"] == "004_93dc4c72c663ac72" and data["citations"][0]["marker"] == 4
    [claim] = data["claims"]
    assert (claim["text"], claim["markers"], claim["supported"]) == ("Zeng Yuqun", [4], True)
    assert claim["support"][0]["sentence"] == ("Tesla CEO Elon Musk and Zeng Yuqun, chairman of Chinese electric battery "
                                               "giant CATL, walk side by side in the lobby of a hotel.")
    assert client.post("/v1/chat/completions", json=ask(CATL)).json()["id"] != data["id"]


def test_an_invented_answer_is_withdrawn(retriever):
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend("Tesla paid 9 billion dollars.")), None))
    data = client.post("/v1/chat/completions", json=ask(INVENTED)).json()
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Not in the documents."}
    assert (data["abstained"], data["citations"], data["usage"]["completion_tokens"]) == (True, [], 5)


@pytest.mark.parametrize(("question", "reply", "pieces", "abstained"), [
    (CATL, "Zeng Yuqun", ["Zeng ", "Yuqun ", "[4]"], False),
    (INVENTED, "Tesla paid 9 billion dollars.", ["Not ", "in ", "the ", "documents."], True),
])
def test_a_stream_sends_only_the_verified_text_then_the_sources(retriever, question, reply, pieces, abstained):
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend(reply, reply)), None))
    whole = client.post("/v1/chat/completions", json=ask(question)).json()
    response = client.post("/v1/chat/completions", json=ask(question, stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    *payloads, done = events(response.text)
    assert done == "[DONE]"
    chunks = [json.loads(p) for p in payloads]
    first, *middle, last = chunks
    assert {c["id"] for c in chunks} == {first["id"]} and first["id"].startswith("chatcmpl-")
    assert {(c["object"], c["model"], c["created"]) for c in chunks} == {("chat.completion.chunk", "rag", first["created"])}
    assert first["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                                 "finish_reason": None}]
    assert [c["choices"] for c in middle] == [[{"index": 0, "delta": {"content": p}, "logprobs": None, "finish_reason": None}]
                                              for p in pieces]
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert last == {"id": first["id"], "object": "chat.completion.chunk", "created": first["created"], "model": "rag",
                    "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
                    "citations": whole["citations"], "abstained": abstained, "claims": whole["claims"]}


def test_earlier_messages_are_accepted_and_the_last_user_message_is_the_question(retriever):
    backend = ScriptedBackend("Zeng Yuqun")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    response = client.post("/v1/chat/completions", json={
        "model": "rag", "temperature": 0.7, "max_tokens": 5, "top_p": 0.9, "n": 1, "user": "u1", "seed": 3,
        "stream": False, "stream_options": {"include_usage": True}, "frequency_penalty": 0,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": "Cite sources."},
            {"role": "user", "content": "Who founded BYD?", "name": "ana"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "content": "{}", "tool_call_id": "c1"},
            {"role": "assistant", "content": "Not in the documents."},
            {"role": "user", "content": [{"type": "text", "text": "Who is the chairman"}, {"type": "text", "text": "of CATL?"}]},
        ]})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Zeng Yuqun [4]"
    [prompt] = backend.calls
    assert prompt[1]["content"].endswith("\n\nQuestion: Who is the chairman of CATL?")
    assert "BYD" not in prompt[1]["content"] and "terse" not in json.dumps(prompt)


def test_question_from_takes_the_last_user_message_even_after_an_assistant_turn():
    messages = [ChatMessage(role="user", content="first?"), ChatMessage(role="user", content=" second\x00 one? "),
                ChatMessage(role="assistant", content="an answer")]
    assert question_from(messages) == Rewrite("second one?", "")


FOLLOW_UP = [{"role": "user", "content": CATL}, {"role": "assistant", "content": "Zeng Yuqun [1]"},
             {"role": "user", "content": "On which day did Musk meet him?"}]
REWRITTEN = "On which day did Musk meet Zeng Yuqun?"


def test_a_follow_up_is_answered_as_a_standalone_question_and_says_so(retriever):
    expected = Assistant(retriever, ScriptedBackend("Sunday")).answer(REWRITTEN)
    backend = ScriptedBackend("Sunday")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    response = client.post("/v1/chat/completions", json={"model": "rag", "messages": FOLLOW_UP})
    assert response.status_code == 200, response.text
    [prompt] = backend.calls
    assert prompt[1]["content"].endswith(f"\n\nQuestion: {REWRITTEN}")
    data = response.json()
    assert data["choices"][0]["message"]["content"] == expected.text
    assert {k: data[k] for k in ("citations", "abstained", "rewritten_question")} == {
        "citations": answer_dict(expected)["citations"], "abstained": expected.abstained, "rewritten_question": REWRITTEN}
    assert list(data)[-4:] == ["citations", "abstained", "claims", "rewritten_question"]


def test_a_streamed_follow_up_carries_the_rewritten_question_in_its_last_chunk(retriever):
    backend = ScriptedBackend("Sunday", "Sunday")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    whole = client.post("/v1/chat/completions", json={"model": "rag", "messages": FOLLOW_UP}).json()
    response = client.post("/v1/chat/completions", json={"model": "rag", "messages": FOLLOW_UP, "stream": True})
    *payloads, done = events(response.text)
    chunks = [json.loads(p) for p in payloads]
    assert done == "[DONE]"
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert all("rewritten_question" not in c for c in chunks[:-1])
    assert {k: chunks[-1][k] for k in ("citations", "abstained", "rewritten_question")} == {
        "citations": whole["citations"], "abstained": whole["abstained"], "rewritten_question": REWRITTEN}
    assert [call[1]["content"].rsplit("\n\n", 1)[1] for call in backend.calls] == [f"Question: {REWRITTEN}"] * 2


def test_a_follow_up_is_shown_the_passages_the_model_has_just_read_first_and_a_new_question_is_not(retriever):
    ccpit = "Who heads the China Council for the Promotion of International Trade?"
    backend = ScriptedBackend("Ren Hongbin", "Tesla's future development", "Ren Hongbin", "Tesla's future development")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    standalone = "What did Musk and Ren Hongbin talk about?"
    follow_up = [{"role": "user", "content": ccpit}, {"role": "assistant", "content": "Ren Hongbin [1]"},
                 {"role": "user", "content": "What did Musk and he talk about?"}]
    for messages in ([{"role": "user", "content": ccpit}], follow_up, [{"role": "user", "content": ccpit}],
                     [{"role": "user", "content": standalone}]):
        assert client.post("/v1/chat/completions", json={"model": "rag", "messages": messages}).status_code == 200
    first, again, _, alone = (call[1]["content"] for call in backend.calls)
    read = first.split("\n\nPassage 2")[0]  # the first passage the model read
    assert read.startswith("Passage 1 (") and again.startswith(read + "\n\nPassage 2")
    # the same standalone question with no earlier answer: its passages in rank order, another one first
    assert alone.endswith(f"Question: {standalone}") and not alone.startswith(read)


@pytest.mark.parametrize(("messages", "expected"), [
    # system, developer and tool messages and text-less assistant turns are not part of an exchange
    ([("system", "Be terse."), ("user", CATL), ("assistant", None), ("tool", "{}"), ("developer", "Cite."),
      ("assistant", " Zeng\tYuqun [4] "), ("system", "Still terse."), ("user", "When did Musk meet him?")],
     Rewrite("When did Musk meet Zeng Yuqun?", "him → Zeng Yuqun (the previous answer)")),
    # only the exchange just before counts; an earlier user message no answer follows is ignored
    ([("user", CATL), ("user", "Who did Musk meet in Beijing?"), ("user", "When did Musk meet him?")],
     Rewrite("When did Musk meet him?", "")),
    ([("user", CATL), ("assistant", "Zeng Yuqun [4]"), ("user", "Who runs Baidu?"), ("user", "When did Musk meet him?")],
     Rewrite("When did Musk meet Zeng Yuqun?", "him → Zeng Yuqun (the previous answer)")),
    # an abstained answer is never the referent: the name in the question is
    ([("user", CATL), ("assistant", "Not in the documents."), ("user", "On which day did Musk meet him?")],
     Rewrite("On which day did Musk meet CATL?", "him → CATL (the name in the previous question)")),
    # an empty earlier user message is no question
    ([("user", " \x00 "), ("assistant", "Zeng Yuqun [4]"), ("user", "When did Musk meet him?")],
     Rewrite("When did Musk meet him?", "")),
    # a reply after the last user message is not an earlier exchange
    ([("user", "When did Musk meet him?"), ("assistant", "Zeng Yuqun [4]")], Rewrite("When did Musk meet him?", "")),
])
def test_question_from_pairs_earlier_user_and_assistant_messages_into_exchanges(messages, expected):
    assert question_from([ChatMessage(role=role, content=content) for role, content in messages]) == expected


def test_exchanges_pair_each_user_message_with_the_answer_right_after_it():
    messages = [ChatMessage(role=role, content=content) for role, content in [
        ("user", "a?"), ("assistant", "A"), ("assistant", "A again"), ("user", "b?"), ("user", "c?"), ("tool", "x"),
        ("assistant", "C [1]"), ("system", "s"), ("user", "d?")]]
    assert exchanges(messages) == [("a?", "A"), ("c?", "C [1]")]


@pytest.mark.parametrize(("body", "status", "expected"), [
    (b'{"model": "rag",', 400, error("the request body is not valid JSON (Expecting property name enclosed in double quotes)",
                                     "invalid_request_error", "invalid_json")),
    (b"", 400, error(NOT_OBJECT, "invalid_request_error", "invalid_body")),
    (b"[]", 400, error(NOT_OBJECT, "invalid_request_error", "invalid_body")),
    ({"model": "rag"}, 400, error("messages: Field required", "invalid_request_error", "missing_required_parameter",
                                  "messages")),
    ({"messages": [{"role": "user", "content": CATL}]}, 400,
     error("model: Field required", "invalid_request_error", "missing_required_parameter", "model")),
    ({"model": "rag", "messages": []}, 400, error("messages: List should have at least 1 item after validation, not 0",
                                                  "invalid_request_error", "invalid_value", "messages")),
    ({"model": "rag", "messages": [{"role": "bot", "content": CATL}]}, 400,
     error("messages.0.role: Input should be 'system', 'user', 'assistant', 'tool' or 'developer'",
           "invalid_request_error", "invalid_value", "messages.0.role")),
    ({"model": "rag", "messages": [{"role": "user", "content": 5}]}, 400,
     error(CONTENT, "invalid_request_error", "invalid_value", "messages.0.content")),
    ({"model": "rag", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, 400,
     error(CONTENT, "invalid_request_error", "invalid_value", "messages.0.content")),
    ({"model": "rag", "stream": "sometimes", "messages": [{"role": "user", "content": CATL}]}, 400,
     error("stream: Input should be a valid boolean, unable to interpret input", "invalid_request_error", "invalid_value",
           "stream")),
    ({"model": "rag", "messages": [{"role": "system", "content": "Answer."}]}, 400,
     error("messages holds no user message: the last user message is the question to answer", "invalid_request_error",
           "invalid_input")),
    ({"model": "rag", "messages": [{"role": "user", "content": CATL}, {"role": "user", "content": " \n\x00\t"}]}, 400,
     error("the last user message is empty: it should hold the question to answer", "invalid_request_error", "invalid_input")),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": CATL}]}, 404,
     error("the model 'gpt-4o' does not exist: this server serves the model 'rag'", "invalid_request_error",
           "model_not_found", "model")),
])
def test_bad_requests_get_openai_shaped_errors_and_never_reach_the_model(retriever, body, status, expected):
    backend = ScriptedBackend("Zeng Yuqun")
    client = TestClient(create_app(Assistant(retriever, backend), None))
    for stream in (False, True):
        if isinstance(body, dict):
            response = client.post("/v1/chat/completions", json={**body, "stream": stream} if "stream" not in body else body)
        else:
            response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert (response.status_code, response.json()) == (status, expected)
        assert response.headers["content-type"] == "application/json"
    assert backend.calls == []


def test_unknown_routes_and_methods_use_the_same_shape(retriever):
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend()), None))
    for method, path in [("GET", "/"), ("POST", "/v1/completions"), ("GET", "/docs"), ("GET", "/openapi.json")]:
        response = client.request(method, path)
        assert (response.status_code, response.json()) == (404, error(NO_ROUTE.format(f"{method} {path}"),
                                                                      "invalid_request_error", "not_found"))
    response = client.get("/v1/chat/completions")
    assert (response.status_code, response.json()) == (405, error("GET is not allowed on /v1/chat/completions",
                                                                  "invalid_request_error", "method_not_allowed"))
    response = client.get("/v1/models/gpt-4o")
    assert (response.status_code, response.json()) == (404, error(
        "the model 'gpt-4o' does not exist: this server serves the model 'rag'", "invalid_request_error",
        "model_not_found", "model"))


def test_a_question_too_long_for_the_model_is_a_400_and_an_error_event_when_streaming(retriever):
    question = "Tesla " * 600
    with pytest.raises(InputError) as raised:
        Assistant(retriever, ScriptedBackend(context_tokens=512)).answer(question)
    expected = error(str(raised.value), "invalid_request_error", "invalid_input")
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend(context_tokens=512)), None))
    response = client.post("/v1/chat/completions", json=ask(question))
    assert (response.status_code, response.json()) == (400, expected)
    assert expected["error"]["message"].startswith("the question is too long for scripted: with no passages the prompt needs")
    response = client.post("/v1/chat/completions", json=ask(question, stream=True))
    assert response.status_code == 200  # the status was sent with the first chunk, before the model ran
    role, failure = events(response.text)
    assert json.loads(role)["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert json.loads(failure) == expected


class FailingBackend(ScriptedBackend):
    """A model that fails while answering."""

    def __init__(self, exc: Exception):
        super().__init__()
        self.exc = exc

    def stream(self, messages, params):
        raise self.exc
        yield  # a generator, like a real backend


@pytest.mark.parametrize("exc", [BackendError("local:qwen2.5-coder-0.5b: llama_decode returned -3"),
                                 ModelError("cannot load var/models/x.gguf: bad magic")])
def test_a_failing_model_is_a_502_server_error_with_its_message(retriever, exc):
    client = TestClient(create_app(Assistant(retriever, FailingBackend(exc)), None))
    expected = error(str(exc), "server_error", "model_error")
    response = client.post("/v1/chat/completions", json=ask(CATL))
    assert (response.status_code, response.json()) == (502, expected)
    response = client.post("/v1/chat/completions", json=ask(CATL, stream=True))
    assert [json.loads(e) for e in events(response.text)][1:] == [expected]


def test_an_unexpected_failure_is_a_500_without_a_traceback(retriever):
    client = TestClient(create_app(Assistant(retriever, FailingBackend(RuntimeError("internal detail 42"))), None),
                        raise_server_exceptions=False)
    response = client.post("/v1/chat/completions", json=ask(CATL))
    expected = error("internal error: see the server log", "server_error", "internal_error")
    assert (response.status_code, response.json()) == (500, expected)
    assert "Traceback" not in response.text and "internal detail 42" not in response.text
    response = client.post("/v1/chat/completions", json=ask(CATL, stream=True))
    assert [json.loads(e) for e in events(response.text)][1:] == [expected]
    assert "Traceback" not in response.text and "internal detail 42" not in response.text


def test_with_a_token_every_request_needs_it_and_it_is_never_echoed(retriever):
    client = TestClient(create_app(Assistant(retriever, ScriptedBackend("Zeng Yuqun", "Zeng Yuqun")), TOKEN))
    missing = error("missing bearer token: send the server's RAG_SERVE_TOKEN as the API key (Authorization: Bearer ...)",
                    "authentication_error", "invalid_api_key")
    invalid = error("invalid bearer token: send the server's RAG_SERVE_TOKEN as the API key (Authorization: Bearer ...)",
                    "authentication_error", "invalid_api_key")
    responses = []
    for headers, expected in [({}, missing), ({"Authorization": "Bearer nope"}, invalid),
                              ({"Authorization": f"Bearer {TOKEN}x"}, invalid), ({"Authorization": f"Basic {TOKEN}"}, invalid),
                              ({"Authorization": TOKEN}, invalid), ({"Authorization": f"Bearer {TOKEN[:-1]}"}, invalid)]:
        for response in (client.get("/v1/models", headers=headers),
                         client.post("/v1/chat/completions", json=ask(CATL), headers=headers),
                         client.post("/v1/chat/completions", content=b"{", headers=headers),  # auth comes before parsing
                         client.get("/nowhere", headers=headers)):
            assert (response.status_code, response.json()) == (401, expected)
            assert response.headers["www-authenticate"] == "Bearer"
            responses.append(response)
    right = {"Authorization": f"Bearer {TOKEN}"}
    responses += [client.get("/v1/models", headers=right), client.post("/v1/chat/completions", json=ask(CATL), headers=right),
                  client.post("/v1/chat/completions", json=ask(CATL, stream=True), headers={"authorization": f"bearer {TOKEN}"})]
    assert [r.status_code for r in responses[-3:]] == [200, 200, 200]
    assert responses[-2].json()["choices"][0]["message"]["content"] == "Zeng Yuqun [4]"
    assert client.get("/nowhere", headers=right).status_code == 404
    for response in responses:
        assert TOKEN[:8] not in response.text and TOKEN[:8] not in str(response.headers)


def test_bearer_matching():
    assert bearer_matches(b"Bearer abc", "abc") and bearer_matches(b"BEARER  abc ", "abc")
    assert not bearer_matches(None, "abc") and not bearer_matches(b"", "abc") and not bearer_matches(b"Bearer", "abc")
    assert not bearer_matches(b"Bearer ab", "abc") and not bearer_matches(b"Token abc", "abc")
    assert not bearer_matches("Bearer \u00e9".encode(), "abc")  # non-ASCII must not make compare_digest raise


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
                                                ("LocalHost", True), ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                                ("192.168.1.5", False), ("example.com", False), ("", False)])
def test_only_loopback_may_go_without_a_token(host, loopback):
    assert is_loopback(host) is loopback
    require_token_off_loopback(host, "t")
    if loopback:
        require_token_off_loopback(host, None)
    else:
        with pytest.raises(InputError, match=f"^refusing to serve on {host} without a token: set RAG_SERVE_TOKEN "):
            require_token_off_loopback(host, None)


def test_a_busy_port_is_an_input_error_naming_the_address():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"^cannot listen on 127.0.0.1:{port}: Address already in use$"):
            listen("127.0.0.1", port)
    assert (url_of("127.0.0.1", 8000), url_of("::1", 8001)) == ("http://127.0.0.1:8000/v1", "http://[::1]:8001/v1")


class ObservedLock:
    """A lock that records when someone had to wait for it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def __enter__(self):
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc_info):
        self._lock.release()


class GatedBackend(ScriptedBackend):
    """A scripted model that holds its first answer until released, counting how many answers run at once."""

    def __init__(self, *replies: str):
        super().__init__(*replies)
        self.entered, self.release = threading.Event(), threading.Event()
        self.active = self.most_active = 0
        self._count = threading.Lock()

    def stream(self, messages, params):
        with self._count:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.entered.set()
        try:
            assert self.release.wait(10)
            yield from super().stream(messages, params)
        finally:
            with self._count:
                self.active -= 1


def test_concurrent_requests_queue_for_the_model_and_each_gets_its_own_answer(retriever):
    backend = GatedBackend("Zeng Yuqun", "Li Qiang")
    app = create_app(Assistant(retriever, backend), None)
    app.state.answer_lock = lock = ObservedLock()
    client = TestClient(app)
    answers: dict[str, str] = {}

    def post(question: str, stream: bool) -> None:
        response = client.post("/v1/chat/completions", json=ask(question, stream))
        answers[question] = response.text if stream else response.json()["choices"][0]["message"]["content"]

    first = threading.Thread(target=post, args=(CATL, False))
    first.start()
    assert backend.entered.wait(10)  # the first answer holds the model
    second = threading.Thread(target=post, args=(BEIJING, True))
    second.start()
    assert lock.contended.wait(10)  # the second waits its turn instead of entering llama.cpp alongside
    assert (backend.active, len(backend.calls)) == (1, 0)
    backend.release.set()
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()
    assert answers[CATL] == "Zeng Yuqun [4]"
    streamed = [json.loads(e) for e in events(answers[BEIJING])[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in streamed) == "Li Qiang [2]"
    assert backend.most_active == 1 and [call[1]["content"].rsplit("Question: ", 1)[1] for call in backend.calls] == [
        CATL, BEIJING]
