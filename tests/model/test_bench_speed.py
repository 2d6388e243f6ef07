"""`rag bench speed` for real: both pipelines index the seeds and answer with the packaged 0.5B."""

from __future__ import annotations

import json

from tests.conftest import ROOT, rag
from tests.model.conftest import MODELS_DIR


def test_both_pipelines_are_timed_in_one_run(tmp_path, backend):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "Which rival Chinese automaker has rolled out software similar to FSD?"}\n'
                         '{"question": "Which company did Tesla partner with on mapping?"}\n', encoding="utf-8")
    result = rag("bench", "speed", "--corpus", str(ROOT / "seeds"), "--questions", str(questions), "--out", "run",
                 cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)}, timeout=1200)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"rag bench speed: {ROOT / 'seeds'}, 2 questions (+1 warm-up), model local, ")
    assert lines[1].split() == ["rag", "LangChain", "recipe", "ratio"]
    assert lines[2].split() == ["passages", "indexed", "51", "28"]  # our 128-token chunks; its 1,000 characters
    assert [line.split()[0] for line in lines[3:15]] == ["index", "passages/s", "peak", "peak", "retrieval", "first",
                                                         "total", "answer", "cold", "cold", "prompt", "model"]
    assert lines[11].startswith("cold `rag search`: wall p50 / peak memory") and lines[11].split()[-2:] == ["no", "command"]
    checks = next(line for line in lines if line.startswith("answer checks p50 / p95"))
    assert checks.split()[-1] == "none" and checks.split()[8] == "ms"  # rag's check time; the recipe has no checks
    assert lines[-1].startswith("rag: sentence-transformers/all-MiniLM-L6-v2, IndexFlatIP, dense retrieval")
    report = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    assert report["questions"] == ["Which rival Chinese automaker has rolled out software similar to FSD?",
                                   "Which company did Tesla partner with on mapping?"]
    for pipeline in ("rag", "langchain"):
        figures = report[pipeline]
        assert figures["questions"] == 2 and figures["model_called"] == 2
        assert 0 < figures["first_token_s"][0] <= figures["total_s"][0]
        assert figures["peak_build_mib"] <= figures["peak_mib"]
    cold = report["rag"]["cold"]  # new processes on the index rag built: search loads no model, ask loads the 0.5B
    assert cold["search"]["runs"] == cold["ask"]["runs"] == 3
    assert 0 < cold["search"]["wall_s"] < cold["ask"]["wall_s"] and cold["search"]["peak_mib"] < cold["ask"]["peak_mib"]
    # the recipe's 1,000-character chunks make longer prompts than rag's 128-token passages
    assert report["langchain"]["prompt_tokens_p50"] > report["rag"]["prompt_tokens_p50"] > 300
