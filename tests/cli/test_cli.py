"""The `rag` command: exit codes and exact messages for every documented error."""

import json
import shutil

import pytest

from tests.conftest import SEEDS, rag

EMPTY = 'rag: error: the question is empty: ask something, e.g. rag ask "Why did Musk visit Beijing?"\n'


def test_version(tmp_path):
    result = rag("--version", cwd=tmp_path)
    assert (result.code, result.out) == (0, "rag 0.1.0\n")


@pytest.mark.parametrize("question", ["", "   \t  "])
def test_an_empty_question_exits_2_with_one_line(tmp_path, question):
    result = rag("ask", question, cwd=tmp_path)
    assert (result.code, result.out, result.err) == (2, "", EMPTY)


def test_no_index_and_no_articles(tmp_path):
    result = rag("ask", "Who is the chairman of CATL?", cwd=tmp_path)
    assert result.code == 2
    assert result.err == ("rag: error: no index at var/index/default and no articles in ./seeds: "
                          "build one with `rag index PATH --index var/index/default`\n")


@pytest.mark.parametrize("command", ["ask", "search"])
def test_a_mistyped_index_is_an_error_not_an_index_of_the_seeds(tmp_path, command):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    result = rag(command, "Who is the chairman of CATL?", "--index", "var/index/defualt", cwd=tmp_path)
    assert (result.code, result.out) == (2, "")
    assert result.err == ("rag: error: no index at var/index/defualt: build one with "
                          "`rag index ARTICLES... --index var/index/defualt`\n")
    assert not (tmp_path / "var").exists()


def test_unknown_flag_and_bad_config_value(tmp_path):
    result = rag("ask", "--frobnicate", "q", cwd=tmp_path)
    assert result.code == 2 and "unrecognized arguments: --frobnicate" in result.err
    result = rag("search", "q", cwd=tmp_path, env={"RAG_TOP_K": "0"})
    assert (result.code, result.err) == (2, "rag: error: bad setting (top_k: Input should be greater than or equal to 1)\n")


def test_index_skips_unreadable_files_names_them_and_exits_1(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / "latin1.txt").write_bytes("Caf\xe9 news".encode("latin-1"))
    result = rag("index", str(docs), "--index", str(tmp_path / "ix"), cwd=tmp_path)
    assert result.code == 1
    assert f"rag: warning: skipped {docs / 'latin1.txt'}: not UTF-8 text (byte 3)\n" in result.err
    assert "rag: indexed 5 articles (5 added, 0 updated, 0 removed, 0 unchanged); embedded" in result.err
    status = json.loads(rag("status", "--json", "--index", str(tmp_path / "ix"), cwd=tmp_path).out)
    assert sorted(status["manifest"]["articles"]) == sorted(p.stem for p in SEEDS.glob("*.txt"))


def test_reindexing_unchanged_articles_embeds_nothing(tmp_path, seed_index):
    index_copy = tmp_path / "ix"
    shutil.copytree(seed_index, index_copy, symlinks=True)
    result = rag("index", "--index", str(index_copy), cwd=tmp_path)
    assert result.code == 0
    assert "(0 added, 0 updated, 0 removed, 5 unchanged); embedded 0 of " in result.err


def test_a_corrupt_index_is_reported_with_the_repair_command_and_left_alone(tmp_path, seed_index):
    index_copy = tmp_path / "ix"
    shutil.copytree(seed_index, index_copy, symlinks=True)
    chunks = index_copy / "current" / "chunks.jsonl"
    chunks.write_text(chunks.read_text()[:-40])
    before = {p: p.read_bytes() for p in (index_copy / "current").iterdir()}
    for command in (["ask", "Who is the chairman of CATL?"], ["search", "CATL"]):
        result = rag(*command, "--index", str(index_copy), cwd=tmp_path)
        assert result.code == 2
        assert result.err == (f"rag: error: index at {index_copy} is corrupt (chunks.jsonl fails its checksum): "
                              f"rebuild it with `rag index --rebuild --index {index_copy}`\n")
    assert {p: p.read_bytes() for p in (index_copy / "current").iterdir()} == before
    repaired = rag("index", "--rebuild", "--index", str(index_copy), cwd=tmp_path)
    assert repaired.code == 0 and rag("search", "CATL", "--index", str(index_copy), cwd=tmp_path).code == 0


def test_a_model_file_with_the_wrong_hash_is_refused(tmp_path, seed_index):
    models = tmp_path / "models"
    models.mkdir()
    (models / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF" + b"\x00" * 100)
    result = rag("ask", "Who is the chairman of CATL?", "--index", str(seed_index), cwd=tmp_path,
                 env={"RAG_MODELS_DIR": str(models)})
    assert result.code == 2
    assert result.err.endswith(f"rag: error: model file {models / 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf'} is corrupt "
                               "(size or sha256 mismatch): delete it and run again to reassemble it\n")
    assert "Traceback" not in result.err


def test_search_json_ranks_the_catl_passage_first(tmp_path, seed_index):
    result = rag("search", "--json", "-k", "3", "Who is the chairman of CATL?", "--index", str(seed_index), cwd=tmp_path)
    assert result.code == 0
    ranked = json.loads(result.out)
    assert [r["chunk_id"] for r in ranked] == ["004_93dc4c72c663ac72:1", "004_93dc4c72c663ac72:0", "004_93dc4c72c663ac72:3"]
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert "Zeng Yuqun, chairman of Chinese electric battery giant CATL" in ranked[0]["text"]


def test_hybrid_search_keeps_the_best_passage_and_lets_other_articles_in(tmp_path, seed_index):
    query = "Which company did Tesla partner with on mapping?"
    result = rag("search", "--json", "--retrieval", "hybrid", query, "--index", str(seed_index), cwd=tmp_path)
    assert result.code == 0, result.err
    ranked = json.loads(result.out)
    assert [r["chunk_id"] for r in ranked] == ["002_9ad4130286e12838:4", "000_ebc01fc2445bc94e:6",
                                               "002_9ad4130286e12838:2", "001_a97cac3138bdc646:5"]
    assert "Baidu (BIDU) to form a partnership on mapping" in ranked[0]["text"]
    result = rag("search", "--retrieval", "sparse", query, cwd=tmp_path)
    assert result.code == 2 and "argument --retrieval: invalid choice: 'sparse' (choose from 'dense', 'hybrid')" in result.err


def test_status_lists_the_articles(tmp_path, seed_index):
    result = rag("status", "--index", str(seed_index), cwd=tmp_path)
    assert result.code == 0
    assert "articles  5\n" in result.out
    assert "002_9ad4130286e12838  2024-04-28" in result.out
    assert "vectors   51 passages, FAISS IndexFlatIP\n" in result.out


def test_status_says_where_a_compressed_index_keeps_its_exact_vectors(tmp_path, monkeypatch):
    import numpy as np

    from rag import store
    from rag.store import vector_index
    from rag.types import Chunk

    monkeypatch.setattr(vector_index, "COMPRESSED_FROM", 300)  # in this process only: the index is written here
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"a:{i}", "a", i, f"text {i}", 0, 6, "A") for i in range(300)]
    manifest = store.Manifest("2024-01-01T00:00:00+00:00", store.EmbedderInfo("test/e", 16, 256), {}, (),
                              {"a": store.ArticleEntry("a.txt", "x", "A", None, 300)})
    store.save(tmp_path / "ix", manifest, chunks, vectors)
    result = rag("status", "--index", str(tmp_path / "ix"), cwd=tmp_path)
    assert result.code == 0, result.err
    assert "vectors   300 passages, FAISS IndexIVFPQ, exact vectors memory-mapped from vectors.npy\n" in result.out


def test_eval_and_bench_refuse_bad_input_before_loading_a_model(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    cases = [
        (["eval", "--gold", str(tmp_path / "nope.jsonl")],
         f"rag: error: cannot read gold file {tmp_path / 'nope.jsonl'}: [Errno 2] No such file or directory: "
         f"'{tmp_path / 'nope.jsonl'}'\n"),
        (["eval", "--gold", str(tmp_path / "empty.jsonl")], f"rag: error: {tmp_path / 'empty.jsonl'} holds no questions\n"),
        (["eval", "--compare", str(tmp_path), str(tmp_path)],
         f"rag: error: {tmp_path} is not an eval run folder (needs report.json and predictions.jsonl): "
         f"[Errno 2] No such file or directory: '{tmp_path / 'report.json'}'\n"),
        (["bench", "realtimeqa"],
         "rag: error: rag bench realtimeqa needs --data DIR: the benchmark's folder, with questions_qa.jsonl and "
         "search_results/<week>_gcs.jsonl.gz (rag does not ship the data)\n"),
        (["bench", "realtimeqa", "--data", str(tmp_path), "--query", "choices"],
         "rag: error: --query choices is for --mode mc or nota: a free answer is retrieved for its question\n"),
        (["bench", "scale"],
         "rag: error: rag bench scale needs --data DIR: the benchmark's folder, with questions_qa.jsonl and "
         "search_results/<week>_gcs.jsonl.gz (rag does not ship the data)\n"),
        (["bench", "realtimeqa", "--data", str(tmp_path)],
         f"rag: error: no RealTime QA weeks in {tmp_path}: looked for search_results/<week>_gcs.jsonl.gz beside "
         "questions_qa.jsonl (the development split's layout), and for past/<year>/<week>_gcs.jsonl beside "
         "<week>_qa.jsonl (a clone of realtimeqa/realtimeqa_public)\n"),
    ]
    for args, message in cases:
        result = rag(*args, cwd=tmp_path)
        assert (result.code, result.out, result.err) == (2, "", message), args
    (tmp_path / "search_results").mkdir()
    (tmp_path / "search_results" / "20220617_gcs.jsonl.gz").write_bytes(b"")
    result = rag("bench", "realtimeqa", "--data", str(tmp_path), "--weeks", "20990101", cwd=tmp_path)
    assert (result.code, result.err) == (2, f"rag: error: no search results for week(s) 20990101 in {tmp_path}/search_results\n")
    result = rag("eval", "--limit", "0", cwd=tmp_path)
    assert result.code == 2 and "argument --limit: must be 1 or more" in result.err


def test_status_names_the_weights_copy_each_packaged_model_loads(tmp_path, seed_index):
    models = tmp_path / "models"
    models.mkdir()
    (models / "qwen2.5-coder-0.5b-instruct-q4_k_m.f16.gguf").write_bytes(b"GGUF")  # made: it exists
    shown = rag("status", "--index", str(seed_index), cwd=tmp_path, env={"RAG_MODELS_DIR": str(models)})
    assert shown.code == 0
    assert shown.out.splitlines()[-2:] == [
        "model     local:qwen2.5-coder-0.5b: not assembled yet (assembled on first use); f16 copy made",
        "model     local:qwen2.5-coder-1.5b: not assembled yet (assembled on first use)"]
    q8 = json.loads(rag("status", "--json", "--index", str(seed_index), cwd=tmp_path,
                        env={"RAG_MODELS_DIR": str(models), "RAG_WEIGHTS": "q8_0"}).out)
    assert (q8["weights"], q8["weights_copies_made"]) == ("q8_0", {"qwen2.5-coder-0.5b": False,
                                                                   "qwen2.5-coder-1.5b": False})
    bad = rag("ask", "Who is the chairman of CATL?", "--weights", "int4", "--index", str(seed_index), cwd=tmp_path)
    assert bad.code == 2 and "argument --weights: invalid choice: 'int4'" in bad.err and "Traceback" not in bad.err
