"""`rag chat`: questions from stdin, follow-ups rewritten, against the real index and a scripted OpenAI server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import RAG_TEST_ENV, Run
from tests.http_stubs import StubServer, error, openai_stream

CATL = "Who is the chairman of CATL?"
FOLLOW_UP = "On which day did Musk meet him?"
REWRITTEN = "On which day did Musk meet Zeng Yuqun?"
CATL_ARTICLE = "004_93dc4c72c663ac72"


def chat(stdin: str, server: StubServer, index: Path, cwd: Path) -> Run:
    """`rag chat` with `stdin` piped in (not a TTY), answering through the scripted server."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))} | RAG_TEST_ENV
    done = subprocess.run([sys.executable, "-m", "rag.cli", "chat", "--index", str(index), "--model", "openai:stub",
                           "--base-url", f"{server.url}/v1"], input=stdin, cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=600)
    return Run(done.returncode, done.stdout, done.stderr)


def asked(server: StubServer) -> list[str]:
    """The question at the end of each prompt the server received."""
    return [seen.body["messages"][1]["content"].rsplit("\n\n", 1)[1] for seen in server.seen]


def test_a_follow_up_is_rewritten_searched_for_and_answered_with_citations(tmp_path, seed_index):
    with StubServer(openai_stream("Zeng Yuqun"), openai_stream("Tuesday")) as server:
        result = chat(f"{CATL}\n{FOLLOW_UP}\n", server, seed_index, tmp_path)
    assert result.code == 0, result.err
    assert len(server.seen) == 2
    assert server.seen[1].body["messages"][1]["content"].endswith(f"Question: {REWRITTEN}")
    assert asked(server) == [f"Question: {CATL}", f"Question: {REWRITTEN}"]
    assert result.err == f"rag: (searched for: {REWRITTEN})\n"
    first, first_sources, second, second_sources, end = result.out.split("\n\n")
    # the follow-up is shown first the passage the model read first for the question before (reuse_passages), so
    # the passage that answers it, ranked first, is [2]
    first_prompt, second_prompt = (seen.body["messages"][1]["content"] for seen in server.seen)
    read_first = first_prompt.split("\n\n[2] (")[0]  # an API model's prompt heads each passage with its marker
    assert read_first.startswith("[1] (") and second_prompt.startswith(read_first + "\n\n[2] (")
    assert (first, second, end) == ("Zeng Yuqun [2]", "Tuesday [2]", "")
    for marker, sources in (("[2] ", first_sources), ("[2] ", second_sources)):
        assert sources.startswith(marker) and sources.splitlines()[0].endswith(f"({CATL_ARTICLE})")
    assert "“On Tuesday, Musk reportedly had a meeting with Zeng Yuqun" in second_sources


def test_reset_forgets_the_conversation_and_quit_ends_the_chat(tmp_path, seed_index):
    with StubServer(openai_stream("Zeng Yuqun"), openai_stream("Tuesday")) as server:
        result = chat(f"\n{CATL}\n   \n/reset\n{FOLLOW_UP}\n/quit\nWho is Li Qiang?\n", server, seed_index, tmp_path)
    assert result.code == 0, result.err
    assert asked(server) == [f"Question: {CATL}", f"Question: {FOLLOW_UP}"]  # not rewritten; nothing after /quit
    assert result.err == "rag: conversation cleared\n"
    # unrewritten, the question ranks the passage that answers it third instead of first
    assert [block for block in result.out.split("\n\n") if not block.startswith("[")] == [
        "Zeng Yuqun [2]", "Tuesday [3]", ""]


def test_a_failed_question_is_reported_and_the_chat_goes_on_without_it(tmp_path, seed_index):
    with StubServer(openai_stream("Zeng Yuqun"), error(401), openai_stream("Tuesday")) as server:
        result = chat(f"{CATL}\nWhere is it based?\n\x00\n{FOLLOW_UP}", server, seed_index, tmp_path)
    assert result.code == 0, result.err
    # the failed question left no turn: the follow-up is still rewritten from the first exchange
    assert asked(server) == [f"Question: {CATL}", "Question: Where is CATL based?", f"Question: {REWRITTEN}"]
    assert result.err == (
        "rag: (searched for: Where is CATL based?)\n"
        "rag: error: openai:stub: the server rejected the API key (HTTP 401): check OPENAI_API_KEY\n"
        'rag: error: the question is empty: ask something, e.g. rag ask "Why did Musk visit Beijing?"\n'
        f"rag: (searched for: {REWRITTEN})\n")
    assert [block for block in result.out.split("\n\n") if not block.startswith("[")] == [
        "Zeng Yuqun [2]", "Tuesday [2]", ""]  # [2]: the passages read for the question before lead (reuse_passages)
