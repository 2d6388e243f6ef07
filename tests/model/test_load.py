"""scripts/load_serve.py: the mix-up check on real retrievals, and the CI short form of the load against `rag serve`."""

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import asdict

import pytest

from tests.conftest import RAG_TEST_ENV, ROOT

pytestmark = pytest.mark.model

SCRIPT = ROOT / "scripts" / "load_serve.py"
MAPPING = "Which company did Tesla partner with on mapping?"
CATL = "Who is the chairman of CATL?"


def _load_script():
    spec = importlib.util.spec_from_file_location("load_serve", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_serve"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


load_serve = _load_script()


@pytest.mark.parametrize("url", ["http://192.168.1.5:8000/v1", "http://example.com/v1", "http://0.0.0.0:8000/v1",
                                 "ftp://127.0.0.1/v1"])
def test_a_url_off_loopback_is_refused_before_anything_runs(url, capsys):
    assert load_serve.main(["--url", url]) == 2
    assert "load_serve: " in capsys.readouterr().err


def test_loopback_urls_are_accepted():
    for url in ("http://127.0.0.1:8000/v1", "http://[::1]:8000/v1", "http://localhost:8000/v1", "http://127.0.0.2/v1"):
        assert load_serve.loopback_problem(url) is None


@pytest.fixture(scope="module")
def expected(seed_store, embedder):
    from rag.retrieval import DenseRetriever

    questions = [load_serve.Question("mapping", MAPPING, True), load_serve.Question("catl", CATL, True)]
    return {q.id: q for q in questions}, load_serve.retrieve_all(DenseRetriever(seed_store, embedder), questions, 4)


def _reply(answer: str, cited: list, **changes) -> "load_serve.Reply":
    citations = [{"marker": p.rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "text": p.text, "score": p.score}
                 for p in cited]
    for citation in citations:
        citation.update(changes)
    return load_serve.Reply(answer, False, citations, ("chatcmpl-1",), None)


def _cited(passages, words: str):
    return next(p for p in passages if words in p.text)


def test_a_reply_meant_for_another_question_is_cross_talk(expected):
    questions, retrieved = expected
    baidu = _cited(retrieved["mapping"], "Baidu")
    honest = _reply(f"Baidu [{baidu.rank}]", [baidu])
    assert load_serve.mixups(questions["mapping"], honest, retrieved) == []
    [problem] = load_serve.mixups(questions["catl"], honest, retrieved)
    assert problem.startswith("cross-talk:") and "mapping retrieved" in problem


def test_the_same_passage_with_another_questions_score_is_caught(expected):
    questions, retrieved = expected
    baidu = _cited(retrieved["mapping"], "Baidu")
    # A passage both questions retrieved would carry the other question's similarity: a score off by 0.01 is enough.
    problems = load_serve.mixups(questions["mapping"], _reply(f"Baidu [{baidu.rank}]", [baidu], score=baidu.score + 0.01),
                                 retrieved)
    assert problems and "nor any pool question's" in problems[0]


def test_answers_that_do_not_match_their_citations_are_caught(expected):
    questions, retrieved = expected
    baidu = _cited(retrieved["mapping"], "Baidu")
    assert any("none of the answer's terms" in p for p in
               load_serve.mixups(questions["mapping"], _reply(f"Zeng Yuqun [{baidu.rank}]", [baidu]), retrieved))
    assert any("markers" in p for p in load_serve.mixups(questions["mapping"], _reply("Baidu [9]", [baidu]), retrieved))
    withdrawn = load_serve.Reply("Baidu [1]", True, [], ("chatcmpl-1",), None)
    assert load_serve.mixups(questions["mapping"], withdrawn, retrieved)[0].startswith("abstained, yet")
    interleaved = load_serve.Reply("Not in the documents.", True, [], ("chatcmpl-1", "chatcmpl-2"), None)
    assert "2 completion ids" in load_serve.mixups(questions["mapping"], interleaved, retrieved)[0]


def test_every_swap_between_the_two_questions_would_be_caught(expected):
    _, retrieved = expected
    caught, possible = load_serve.swap_coverage(retrieved)
    assert (caught, possible) == (8, 8), [asdict(p) for p in retrieved["mapping"] + retrieved["catl"]]


def _load(tmp_path, seed_index, *flags: str) -> tuple[str, str]:
    """Run the script on the seed index with `flags`; its stdout and what to show when an assertion fails, once it
    exited 0 with no errors and no mixed-up answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
    done = subprocess.run([sys.executable, str(SCRIPT), *flags, "--index", str(seed_index),
                           "--questions", str(ROOT / "evals" / "gold.jsonl"), "--sample-every", "3"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    print(done.stdout)  # the figures, for `pytest -s` or `-rP`
    shown = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, shown
    assert re.search(r"^errors\s+0$", done.stdout, re.MULTILINE), shown
    assert re.search(r"^mixed-up\s+0$", done.stdout, re.MULTILINE), shown
    return done.stdout, shown


def test_the_short_load_has_no_errors_and_no_mixed_up_answers(seed_index, backend, tmp_path):
    """The CI form: 4 clients for 25 s against the script's own server; a liveness check, not a timing assert."""
    out, shown = _load(tmp_path, seed_index, "--clients", "4", "--duration", "25", "--token")
    requests = int(re.search(r"^requests done\s+(\d+) \((\d+) streamed, (\d+) not\)", out, re.MULTILINE).group(1))
    assert requests >= 4, shown  # every client finished at least its first request
    assert re.search(r"^memory\s+server VmRSS \(pid \d+\): start \d+ MiB", out, re.MULTILINE), shown
    assert re.search(r"^\s+t \(s\)\s+RSS \(MiB\)\s+requests done$", out, re.MULTILINE), shown
    assert "stream, first content" in out, shown


@pytest.mark.parametrize("argv, message", [
    (["--replicas", "0"], "--replicas must be positive"),
    (["--replicas", "2", "--url", "http://127.0.0.1:8000/v1"], "--replicas starts our own servers; for running ones, "
                                                                 "give --url once per replica"),
    (["--pid", "1", "--url", "http://127.0.0.1:8000/v1", "--url", "http://127.0.0.1:8001/v1"],
     "--pid only goes with one --url"),
])
def test_replica_arguments_that_cannot_work_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_serve.parse_args(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_two_replicas_share_the_clients_and_are_reported_together(seed_index, backend, tmp_path):
    """Two `rag serve` processes, clients 0 and 2 on the first, 1 and 3 on the second; a liveness check."""
    out, shown = _load(tmp_path, seed_index, "--replicas", "2", "--clients", "4", "--duration", "15")
    assert len(re.findall(r"^load: rag serve at http://127\.0\.0\.1:\d+/v1 ", out, re.MULTILINE)) == 2, shown
    for replica in (0, 1):  # each replica answered requests of its own clients
        assert re.search(rf"^replica {replica} log\s+.*POST /v1/chat/completions 200 ×\d+", out, re.MULTILINE), shown
    assert re.search(r"^memory\s+servers' VmRSS summed \(pids \d+, \d+\): start \d+ MiB", out, re.MULTILINE), shown
