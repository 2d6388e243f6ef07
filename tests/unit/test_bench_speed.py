from pathlib import Path

import pytest

from rag.errors import InputError, RagError
from rag.evals.bench_speed import percentile, summarise, table
from rag.evals.gold import questions_of


def test_percentiles_interpolate():
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) == 0.0


def raw(totals, first_tokens, passages=100, build_s=4.0):
    return {"passages": passages, "build_s": build_s, "peak_build_mib": 500.0, "peak_mib": 900.0, "model_load_s": 1.0,
            "embedder": "e", "faiss_index": "IndexFlatIP",
            "questions": [{"question": f"q{i}", "retrieve_ms": 10.0 * (i + 1), "first_token_ms": f, "total_ms": t,
                           "abstained": f == 0, "prompt_tokens": 400 if f else 0}
                          for i, (t, f) in enumerate(zip(totals, first_tokens, strict=True))]}


def test_early_abstentions_count_in_totals_but_not_in_first_token():
    figures = summarise(raw([2000.0, 3000.0, 50.0], [1800.0, 2600.0, 0.0]))
    assert figures["first_token_s"] == [2.2, 2.56]
    assert figures["total_s"] == [2.0, 2.9]
    assert figures["retrieve_ms"] == [20.0, 29.0]
    assert (figures["model_called"], figures["questions"], figures["passages_per_s"]) == (2, 3, 25.0)


def test_the_table_puts_the_recipe_beside_rag_with_ratios():
    ours = summarise(raw([2000.0, 3000.0], [1800.0, 2600.0], passages=100, build_s=2.0))
    theirs = summarise(raw([6000.0, 8000.0], [5400.0, 7000.0], passages=40, build_s=8.0))
    lines = table(ours, theirs).splitlines()
    assert lines[0].split() == ["rag", "LangChain", "recipe", "ratio"]
    assert lines[2].split() == ["index", "build", "(from", "scratch)", "2", "s", "8", "s", "4.00x"]
    assert lines[3].split() == ["passages/s", "50", "5", "10.00x"]
    assert lines[7].split() == ["first", "token", "p50", "/", "p95", "2.2", "/", "2.56", "s", "6.2", "/", "6.92", "s", "2.82x"]
    assert lines[-1].split() == ["model", "called", "for", "2/2", "2/2"]


def test_questions_files_need_a_question_on_every_line(tmp_path):
    good = tmp_path / "q.jsonl"
    good.write_text('{"question": "Who?"}\n\n{"question": "Where?", "id": 2}\n', encoding="utf-8")
    assert questions_of(good) == ["Who?", "Where?"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who?"}\n{"q": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        questions_of(bad)
    assert str(exc.value) == f'{bad}:2: expected a JSON object with a "question" (KeyError)'
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"question": "  "}\n', encoding="utf-8")
    with pytest.raises(InputError, match="non-empty text"):
        questions_of(blank)


def test_cold_rows_appear_when_measured():
    ours = summarise(raw([2000.0], [1800.0]))
    ours["cold"] = {"search": {"wall_s": 0.61, "peak_mib": 150.2, "runs": 3},
                    "ask": {"wall_s": 1.9, "peak_mib": 900.0, "runs": 3}}
    lines = table(ours, summarise(raw([4000.0], [3000.0]))).splitlines()
    assert lines[10].split() == ["cold", "`rag", "search`:", "wall", "p50", "/", "peak", "memory", "0.61", "s", "/",
                                 "150.2", "MiB", "no", "command"]
    assert lines[11].split()[:3] == ["cold", "`rag", "ask`:"] and "1.9 s / 900 MiB" in lines[11]


def test_a_cold_command_reports_wall_time_and_its_own_peak_memory(tmp_path):
    import os

    from rag.evals.bench_speed import cold_command

    ballast = bytearray(b"x") * (600 * 2**20)  # a big parent (pytest after the model tier is 2 GB) must not count
    figures = cold_command(["--version"], dict(os.environ), tmp_path, runs=2)
    assert figures["runs"] == 2 and 0 < figures["wall_s"] < 60 and 10 < figures["peak_mib"] < 200 < len(ballast) / 2**20
    with pytest.raises(RagError, match=r"^cold `rag ask` failed: rag: error: the question is empty"):
        cold_command(["ask", ""], dict(os.environ), tmp_path, runs=1)


def test_the_cold_commands_answer_with_the_settings_of_the_in_process_run(tmp_path, monkeypatch):
    import rag.evals.bench_speed as bench

    seen = []
    monkeypatch.setattr(bench, "cold_command", lambda args, env, cwd: seen.append((args, env)) or {})
    from rag.config import Settings

    settings = Settings(model="local:qwen2.5-coder-1.5b", retrieval="hybrid", top_k=6, score_floor=0.3,
                        answer_style="short", quote=False, min_anchor_share=0.8, focus=4)
    job = {"questions": ["Who?", "Where?"], "settings": settings.model_dump(mode="json")}
    bench.cold_figures(job, tmp_path / "index", tmp_path)
    assert [args for args, _ in seen] == [["search", "Who?"], ["ask", "Who?"]]
    env = seen[1][1]
    assert (env["RAG_INDEX"], env["RAG_MODEL"], env["RAG_RETRIEVAL"], env["RAG_TOP_K"]) == (
        str(tmp_path / "index"), "local:qwen2.5-coder-1.5b", "hybrid", "6")
    assert (env["RAG_ANSWER_STYLE"], env["RAG_QUOTE"], env["RAG_SCORE_FLOOR"]) == ("short", "False", "0.3")
    assert (env["RAG_MIN_ANCHOR_SHARE"], env["RAG_FOCUS"], env["RAG_MODELS_DIR"]) == (
        "0.8", "4", str(Path("var/models").resolve()))
    assert "RAG_MAX_TOKENS" not in env  # unset: the style's own default
    assert "RAG_BASE_URL" not in env
