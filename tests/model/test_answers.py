"""The real 0.5B model answering the held-out questions in tests/model/questions.jsonl.

Those 25 questions were written from the articles before the model was first run and were not
used for tuning. Measured on 2 CPU cores (README): 12/18 answerable correct with a correct
citation, 6/7 unanswerable abstained. The thresholds sit one question below that, so a
regression fails CI while llama.cpp's bit-level differences between CPUs do not.
"""

from pathlib import Path

import pytest

from rag.evals.gold import load_gold
from rag.evals.runner import run, summary

pytestmark = pytest.mark.model
QUESTIONS = Path(__file__).with_name("questions.jsonl")


@pytest.fixture(scope="module")
def results(assistant):
    return {r.gold.id: r for r in run(load_gold(QUESTIONS), assistant.answer)}


def test_accuracy_citations_and_abstention_meet_the_measured_bar(results):
    figures = summary(list(results.values()))
    answerable = [r for r in results.values() if r.gold.answerable]
    correct_and_cited = sum(r.correct and r.cited_evidence for r in answerable)
    abstained = sum(r.correct for r in results.values() if not r.gold.answerable)
    assert correct_and_cited >= 11, figures
    assert abstained >= 5, figures
    assert figures["false_abstention_rate"] <= 0.34, figures


def test_every_citation_resolves_to_a_shown_passage_holding_a_supporting_sentence(results):
    for r in results.values():
        p = r.prediction
        shown = {x["chunk_id"] for x in p["retrieved"]}
        cited = {c["marker"]: c for c in p["citations"]}
        for c in p["citations"]:
            assert c["chunk_id"] in shown, r.gold.id
            assert f"[{c['marker']}]" in p["answer"], r.gold.id
        kept = [claim for claim in p["claims"] if claim["supported"]]
        if p["abstained"]:  # supported claims may still be withdrawn: the question is about something else
            continue
        assert kept, r.gold.id
        for claim in kept:  # each kept claim cites exactly the passages whose sentences support it
            assert claim["markers"] == sorted({s["marker"] for s in claim["support"]}), r.gold.id
            for support in claim["support"]:
                assert support["sentence"] in cited[support["marker"]]["text"], r.gold.id


@pytest.mark.parametrize(("qid", "fragment", "doc_id"), [
    ("t02", "2.4%", "002_9ad4130286e12838"),
    ("t04", "Blinken", "002_9ad4130286e12838"),
    ("t07", "lithium iron phosphate", "004_93dc4c72c663ac72"),
    ("t14", "decoupling", "004_93dc4c72c663ac72"),
    ("t15", "People's Daily", "001_a97cac3138bdc646"),
])
def test_specific_answers_and_their_sources(results, qid, fragment, doc_id):
    p = results[qid].prediction
    assert not p["abstained"]
    assert fragment.lower() in p["answer"].lower()
    assert [c["doc_id"] for c in p["citations"]] == [doc_id]


@pytest.mark.parametrize("qid", ["t20", "t23", "t25"])  # false premises and a year the articles do not cover
def test_unanswerable_questions_get_not_in_the_documents(results, qid):
    p = results[qid].prediction
    assert (p["abstained"], p["answer"], p["citations"]) == (True, "Not in the documents.", [])
    assert p["draft"], "the model did answer; the checks withdrew it"


def test_the_answer_streams_in_several_pieces(assistant):
    pieces = []
    answer = assistant.answer("What did Musk tell Qin Gang that Tesla objects to?", on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.draft
    assert answer.timings["first_token"] > 0 and answer.timings["total"] >= answer.timings["first_token"]
