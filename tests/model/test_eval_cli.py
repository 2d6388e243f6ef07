"""`rag eval` and `rag bench realtimeqa` end to end with the real models (small --limit runs)."""

import json

import pytest

from tests.conftest import ROOT, rag
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model
GOLD = ROOT / "evals" / "gold.jsonl"
RTQA = ROOT / "tests" / "fixtures" / "realtimeqa"  # the benchmark's format, the seeds' content


def env():
    return {"RAG_MODELS_DIR": str(MODELS_DIR)}


def test_eval_writes_the_run_folder_and_enforces_thresholds(tmp_path, seed_index, backend):
    out = tmp_path / "run"
    result = rag("eval", "--gold", str(GOLD), "--limit", "4", "--out", str(out), "--index", str(seed_index),
                 "--min-answer-accuracy", "0.5", cwd=tmp_path, env=env())
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["name-01", "name-02", "name-03", "name-04"]
    assert {"question", "answer", "abstained", "citations", "retrieved", "timings_ms", "usage"} <= set(rows[0])
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["model"] == "local:qwen2.5-coder-0.5b" and report["meta"]["temperature"] == 0.0
    assert report["meta"]["model_file"] == "qwen2.5-coder-0.5b-instruct-q4_k_m.f16.gguf"  # what `weights = auto` loads
    assert report["meta"]["index"]["embedder"]["id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert report["metrics"]["questions"] == 4
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 3
    assert "answer_accuracy " in result.out

    strict = rag("eval", "--gold", str(GOLD), "--limit", "2", "--out", str(tmp_path / "strict"), "--index", str(seed_index),
                 "--min-abstention-recall", "0.9", cwd=tmp_path, env=env())
    assert strict.code == 1
    assert "rag: threshold missed: abstention_recall is None, needs >= 0.9 (--min-abstention-recall)" in strict.err

    diff = rag("eval", "--compare", str(out), str(tmp_path / "strict"), cwd=tmp_path)
    assert diff.code == 0 and "in one run only: name-03, name-04" in diff.out


def test_the_langchain_baseline_runs_and_counts_retrieved_articles_as_cited(tmp_path, seed_index, backend):
    out = tmp_path / "lc"
    result = rag("eval", "--baseline", "langchain", "--gold", str(GOLD), "--limit", "2", "--out", str(out),
                 "--index", str(seed_index), cwd=tmp_path, env=env())
    assert result.code == 0, result.err
    assert "note: LangChain tutorial recipe: it does not cite, so every retrieved article counts as cited." in result.out
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for row in rows:
        assert row["model"] == "langchain-recipe+local:qwen2.5-coder-0.5b"
        assert [c["chunk_id"] for c in row["citations"]] == [r["chunk_id"] for r in row["retrieved"]]
        assert len(row["retrieved"]) == 4 and all(":lc" in r["chunk_id"] for r in row["retrieved"])


def test_realtimeqa_smoke_run_on_one_week(tmp_path, backend):
    for mode in ("mc", "gen"):
        out = tmp_path / mode
        result = rag("bench", "realtimeqa", "--data", str(RTQA), "--weeks", "20240428", "--mode", mode, "--limit", "3",
                     "--out", str(out), cwd=tmp_path, env=env(), timeout=1200)
        assert result.code == 0, result.err
        assert "GPT-3 + Google search top-5" in result.out
        report = json.loads((out / "report.json").read_text())
        assert report["metrics"]["questions"] == 3 and (out / "report.html").exists()
        rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == ["20240428_0", "20240428_1", "20240428_2"]
    assert "5 unique pages from 1 week(s)" in result.err
    # as of each question's date (2024/04/29) every page of the week (published 2024/04/28) is still visible
    as_of = rag("bench", "realtimeqa", "--data", str(RTQA), "--weeks", "20240428", "--mode", "gen", "--limit", "3",
                "--as-of-question-date", "--out", str(tmp_path / "as-of"), cwd=tmp_path, env=env(), timeout=1200)
    assert as_of.code == 0, as_of.err
    assert "each question answered as of its date" in as_of.out
    report = json.loads((tmp_path / "as-of" / "report.json").read_text())
    assert report["meta"]["settings"]["as_of_question_date"] is True
    dated = [json.loads(line) for line in (tmp_path / "as-of" / "predictions.jsonl").read_text().splitlines()]
    assert [(r["retrieved"], r["prediction"]) for r in dated] == [(r["retrieved"], r["prediction"]) for r in rows]
