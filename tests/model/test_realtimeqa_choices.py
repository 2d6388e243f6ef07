"""Multiple choice by log-likelihood with the real packaged 0.5B GGUF (`LlamaCppBackend.choice_logprobs`)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, rag
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model
UPSTREAM = ROOT / "tests" / "fixtures" / "realtimeqa_upstream"


def passage(text: str, title: str):
    from rag.types import Chunk, Passage

    return Passage(Chunk("a:0", "a", 0, text, 0, len(text), title, "2024-04-28"), 0.9, 1)


def test_the_choice_a_passage_states_scores_highest(backend):
    from rag.evals.bench_realtimeqa import choice_scores, pick
    from rag.prompting import build_messages

    question = "Which Chinese premier did Elon Musk meet in Beijing?"
    choices = ("Xi Jinping", "Li Qiang", "Wang Yi", "None of the above")
    shown = [passage("Tesla chief executive Elon Musk met Chinese Premier Li Qiang in Beijing on Sunday to discuss "
                     "self-driving software.", "Musk visits Beijing")]
    given = backend.choice_logprobs(build_messages(question, shown), choices)
    alone = backend.choice_logprobs(build_messages(question, []), choices)
    assert [len(t) for t in given] == [backend.count_tokens(c) for c in choices]
    assert all(lp <= 0 for t in given for lp in t)
    scores = choice_scores(given, alone)
    assert {rule: pick(values) for rule, values in scores.items()} == {"mean": 1, "sum": 1, "calibrated": 1}
    # the KV cache the scoring leaves behind is the prompt's: asking again scores the same, and a reply still follows
    again = backend.choice_logprobs(build_messages(question, shown), choices)
    assert [sum(t) for t in again] == pytest.approx([sum(t) for t in given], abs=0.2)
    from rag.backends import GenerationParams

    assert "Li Qiang" in "".join(backend.stream(build_messages(question, shown), GenerationParams(max_tokens=8)))


def test_rag_bench_on_a_clone_scores_choices_and_the_authors_baselines_of_the_same_questions(tmp_path, backend):
    out = tmp_path / "mc"
    result = rag("bench", "realtimeqa", "--data", str(UPSTREAM), "--mode", "mc", "--limit", "3", "--out", str(out),
                 cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)}, timeout=1200)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[2:4] == [f"{'GPT-3 + Google search top-5':50} 0.667", f"{'GPT-3, no retrieval':50} 0.333"]
    assert lines[4] == (f"(baselines: the authors' predictions in {UPSTREAM / 'baseline_results'}, scored on the same "
                        "3 questions; corpus: search results only (the published setting))")
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["choice_method"].startswith("log-likelihood of each choice's text, picked by ")
    assert report["meta"]["settings"]["data_layout"] == "upstream"
    assert report["meta"]["gold"]["paths"] == [str(UPSTREAM / "past/2021/20211231_qa.jsonl"),
                                               str(UPSTREAM / "past/2022/20220107_qa.jsonl")]  # both weeks, a file each
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["20211231_0", "20211231_1", "20211231_2"]
    assert set(rows[0]["picks"]) == {"mean", "sum", "calibrated"} and set(report["metrics"]["by_rule"]) == set(rows[0]["picks"])
