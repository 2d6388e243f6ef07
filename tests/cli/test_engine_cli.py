"""`rag index --store milvus:URI` through the real command, against a real Milvus server on loopback.

The server is Milvus Lite's own (`milvus-lite server`), started and stopped by the module fixture: the same gRPC
protocol a Milvus cluster speaks, so the URI path is the one production takes. Builds are killed with SIGKILL.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_crash_safety import write_articles
from tests.conftest import RAG_TEST_ENV, SEEDS, rag, stop_process
from tests.http_stubs import closed_port

SERVER = Path(sys.executable).parent / "milvus-lite"
QUESTIONS = ["Which company did Tesla partner with on mapping?", "Who did Musk meet in Beijing?",
             "What did Tesla say about its sales in China?"]


def _start_server(data: Path, port: int) -> subprocess.Popen:
    """`milvus-lite server` on 127.0.0.1:`port`, once it listens; its log goes beside its data folder."""
    log = data.with_name(data.name + ".log")
    with log.open("ab") as out:
        proc = subprocess.Popen([str(SERVER), "server", "--data-dir", str(data), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("milvus-lite server did not listen within 60 s")


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    """A Milvus server on 127.0.0.1, its data in a private folder; its URI."""
    port = closed_port()
    proc = _start_server(tmp_path_factory.mktemp("milvus") / "data", port)
    yield f"http://127.0.0.1:{port}"
    stop_process(proc)


def _files(index_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(index_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def _search(index_dir: Path, question: str, cwd: Path) -> list[tuple[str, float]]:
    import json

    result = rag("search", question, "--index", str(index_dir), "--json", cwd=cwd)
    assert result.code == 0, result.err
    return [(p["chunk_id"], p["score"]) for p in json.loads(result.out)]


def _engine_keys(uri: str, collection: str) -> set[str]:
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    try:
        return {r["key"] for r in client.query(collection, filter='key != ""', output_fields=["key"])}
    finally:
        client.close()


def test_rag_index_into_a_milvus_server_answers_searches_as_the_faiss_index_does(tmp_path, seed_index, milvus):
    from rag import store

    index = tmp_path / "ix"
    result = rag("index", str(SEEDS), "--index", str(index), "--store", f"milvus:{milvus}", cwd=tmp_path)
    assert result.code == 0, result.err
    assert f"rag: writing 51 vectors to Milvus at {milvus}" in result.err.splitlines()
    for question in QUESTIONS:
        ours, theirs = _search(index, question, tmp_path), _search(seed_index, question, tmp_path)
        assert [c for c, _ in ours] == [c for c, _ in theirs], question
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-4)  # shown to 4 places
    status = rag("status", "--index", str(index), cwd=tmp_path)
    manifest = store.load(index, open_engine=False).manifest
    assert (f"vectors   51 passages, in milvus:{milvus} (collection {manifest.collection}, FLAT index)"
            in status.out.splitlines())
    assert _engine_keys(milvus, manifest.collection) == set(store.load(index, open_engine=False).keys())

    again = rag("index", "--index", str(index), cwd=tmp_path)  # re-sync: the recorded store, nothing embedded
    assert again.code == 0, again.err
    assert "rag: nothing changed: the index is as it was" in again.err.splitlines()


def test_a_milvus_that_is_down_is_named_in_one_line_and_no_index_is_harmed(tmp_path):
    index = tmp_path / "ix"
    dead = f"http://127.0.0.1:{closed_port()}"
    built = rag("index", str(SEEDS), "--index", str(index), cwd=tmp_path)
    assert built.code == 0, built.err
    before = _files(index)
    result = rag("index", "--index", str(index), "--store", f"milvus:{dead}", cwd=tmp_path)
    assert (result.code, result.err) == (2, f"rag: error: cannot reach Milvus at {dead}: Connection refused\n")
    assert _files(index) == before

    # an index whose server goes away: every command that needs the vectors says so, and nothing is lost
    port = closed_port()
    proc = _start_server(tmp_path / "data", port)
    uri = f"http://127.0.0.1:{port}"
    try:
        moved = rag("index", "--index", str(index), "--store", f"milvus:{uri}", cwd=tmp_path)
        assert moved.code == 0, moved.err
    finally:
        stop_process(proc)
    kept = _files(index)
    for args in (("search", "Tesla"), ("ask", "Who did Musk meet?"), ("index",)):
        result = rag(*args, "--index", str(index), cwd=tmp_path)
        assert (result.code, result.err) == (2, f"rag: error: cannot reach Milvus at {uri}: Connection refused\n"), args
    assert _files(index) == kept
    proc = _start_server(tmp_path / "data", port)  # back up: the same index answers again
    try:
        assert _search(index, QUESTIONS[0], tmp_path)[0][0] == "002_9ad4130286e12838:4"
    finally:
        stop_process(proc)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_a_build_killed_while_it_writes_to_milvus_leaves_the_old_articles_or_the_new(tmp_path, milvus, delay):
    from rag import store

    index, articles = tmp_path / "ix", tmp_path / "articles"
    old = write_articles(articles, "old", random.Random(1), 30)
    assert rag("index", str(articles), "--index", str(index), "--store", f"milvus:{milvus}", cwd=tmp_path).code == 0
    new = old | write_articles(articles / "more", "new", random.Random(2), 60)  # folders are read recursively
    (articles / "old_00.txt").unlink()
    new -= {"old_00"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "--index", str(index)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = index / ".engine-journal.json"
    deadline = time.monotonic() + 300
    while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    print(f"killed {delay} s after the journal appeared; journal left: {journal.exists()}")

    loaded = store.load(index, open_engine=False)
    seen = {c.article_id for c in loaded.chunks}
    assert seen in (old, new)
    hits = _search(index, "battery factory Shanghai", tmp_path)
    assert len(hits) == 4 and {h.split(":")[0] for h, _ in hits} <= seen  # hits come from the current articles only

    finished = rag("index", "--index", str(index), cwd=tmp_path)
    assert finished.code == 0, finished.err
    loaded = store.load(index, open_engine=False)
    assert {c.article_id for c in loaded.chunks} == new
    assert _engine_keys(milvus, loaded.manifest.collection) == set(loaded.keys())  # nothing stray, nothing missing
    assert not journal.exists()


def test_a_milvus_lite_index_open_in_another_process_is_named(tmp_path):
    from rag.store import engine

    index = tmp_path / "ix"
    assert rag("index", str(SEEDS), "--index", str(index), "--store", "milvus", cwd=tmp_path).code == 0
    lite = index / "milvus.db"
    holder = engine.connect(str(lite))  # this process now serves the file, as a running `rag serve` would
    try:
        result = rag("search", "Tesla", "--index", str(index), cwd=tmp_path)
    finally:
        holder.close()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(lite))
    assert (result.code, result.err) == (2, (
        f"rag: error: Milvus Lite at {lite} is open in another process (Milvus Lite serves one process: for several, "
        f"serve it with `milvus-lite server --data-dir {lite}` and index with --store milvus:http://127.0.0.1:19530)\n"))
    assert rag("search", "Tesla", "--index", str(index), cwd=tmp_path).code == 0  # released: it answers again
