import gzip
import json

import pytest

from rag.errors import InputError
from rag.evals.bench_realtimeqa import published_table, summarise
from rag.evals.metrics import exact_match, realtimeqa_normalise, token_f1
from rag.evals.realtimeqa import (
    load_questions,
    parse_choice,
    skipped_in_generation,
    weeks_in,
    write_corpus,
)


@pytest.fixture
def data(tmp_path):
    """Two weeks in the benchmark's own format, with a url repeated across weeks."""
    root = tmp_path / "rtqa"
    (root / "search_results").mkdir(parents=True)
    (root / "gold_articles").mkdir()
    questions = [
        {"question_id": "20220101_0", "question_date": "2022/01/01", "question_sentence": "Which show got a new season?",
         "choices": ["Friends", "Squid Game"], "answer": ["1"]},
        {"question_id": "20220108_0", "question_date": "2022/01/08", "question_sentence": "All are planets except",
         "choices": ["Mars", "Pluto", "Venus"], "answer": ["1"]},
    ]
    (root / "questions_qa.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    pages = {"20220101": [{"url": "u1", "title": "Squid Game renewed", "text": "Netflix renewed Squid Game.",
                           "publish_date": "2022/01/01"},
                          {"url": "u2", "title": "Empty", "text": " "}],
             "20220108": [{"url": "u1", "title": "Squid Game renewed", "text": "Netflix renewed Squid Game.",
                           "publish_date": "2022/01/01"},
                          {"url": "u3", "title": "Pluto", "text": "Pluto is a dwarf planet.", "publish_date": ""}]}
    for week, results in pages.items():
        with gzip.open(root / "search_results" / f"{week}_gcs.jsonl.gz", "wt") as f:
            f.write(json.dumps({"question_id": f"{week}_0", "search_result": results}) + "\n")
        (root / "gold_articles" / f"{week}_gold.jsonl").write_text(json.dumps(
            {"question_id": f"{week}_0", "search_result": [{"url": f"gold-{week}", "text": "Gold text.", "title": "G"}]}) + "\n")
    return root


def test_weeks_questions_and_a_deduplicated_corpus(data, tmp_path):
    assert weeks_in(data) == ["20220101", "20220108"]
    assert [q.id for q in load_questions(data, ["20220108"], "gen")] == ["20220108_0"]
    q = load_questions(data, ["20220101"], "mc")[0]
    assert (q.gold_text, q.choices) == ("Squid Game", ("Friends", "Squid Game"))
    assert write_corpus(data, ["20220101", "20220108"], tmp_path / "corpus") == 2  # u1 once, empty u2 dropped
    texts = sorted(p.read_text() for p in (tmp_path / "corpus").iterdir())
    assert texts == ["Pluto\n\nPluto is a dwarf planet.",
                     "Squid Game renewed\nPublished 2022-01-01\n\nNetflix renewed Squid Game."]
    assert write_corpus(data, ["20220101", "20220108"], tmp_path / "with_gold", with_gold_articles=True) == 4
    with pytest.raises(InputError, match="missing benchmark file"):
        write_corpus(data, ["20991231"], tmp_path / "none")


def test_the_benchmark_scoring_rules():
    assert realtimeqa_normalise("The “Squid Game”!  年") == "the “squid game”"  # only ASCII punctuation goes; articles stay
    assert exact_match("squid game", ("Squid Game.",), realtimeqa_normalise) == 1.0
    assert exact_match("Squid Game", ("The Squid Game",), realtimeqa_normalise) == 0.0
    assert exact_match("Squid Game", ("The Squid Game",)) == 1.0  # our gold sets drop articles (SQuAD)
    assert token_f1("the Squid Game show", ("Squid Game",), realtimeqa_normalise) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert parse_choice("2. Squid Game", 4) == 1 and parse_choice("Choice 7 or 3", 4) == 2 and parse_choice("none", 4) is None


def test_except_questions_are_left_out_of_generation_scores(data):
    questions = load_questions(data, ["20220101", "20220108"], "gen")
    assert [skipped_in_generation(q) for q in questions] == [False, True]
    rows = [{"scored": True, "em": 1.0, "f1": 1.0, "abstained": False},
            {"scored": False, "em": 0.0, "f1": 0.0, "abstained": True}]
    assert summarise(rows, "gen") == {"questions": 2, "scored": 1, "em": 1.0, "f1": 1.0, "abstained": 0.5}
    table = published_table("gen", summarise(rows, "gen"), "rag (test)")
    assert table.splitlines()[1].split()[-3:] == ["1.0", "/", "1.0"]
    assert "GPT-3 + Google search top-5" in table and "0.311 / 0.431" in table


def test_a_free_answer_is_matched_to_the_closest_choice():
    from rag.evals.bench_realtimeqa import match_choice

    choices = ("“Game of Thrones”", "“Squid Game”", "“Breaking Bad”")
    assert match_choice("Netflix renewed Squid Game", choices) == 1  # curly quotes do not block a match
    assert match_choice("Europe, mostly", ("Europe", "North America", "Asia")) == 0
    assert match_choice("The ban on military-style assault weapons", ("Investment in mental health",
                        "Ban on military-style assault weapons")) == 1
    assert match_choice("Nothing relevant", ("Europe", "Asia")) is None


def test_the_bench_report_page_escapes_page_text():
    from rag.evals.bench_realtimeqa import render_html

    report = {"mode": "gen", "meta": {"model": "m"}, "metrics": {"questions": 1, "scored": 1, "em": 0.0, "f1": 0.0,
                                                                "abstained": 0.0}}
    page = render_html(report, [{"id": "q", "question": "<b>Who?</b>", "gold": "x", "prediction": "<script>", "em": 0}])
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Who?&lt;/b&gt;" in page
    assert "GPT-3 + Google search top-5" in page


def test_as_of_its_date_a_question_sees_only_the_pages_published_by_then(data, tmp_path):
    from rag import store
    from rag.assistant import Assistant
    from rag.evals.bench_realtimeqa import ask_one
    from rag.evals.realtimeqa import RTQuestion
    from rag.index.build import build_index
    from rag.retrieval import DenseRetriever
    from tests.fakes import HashEmbedder, ScriptedBackend

    write_corpus(data, ["20220101", "20220108"], tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [tmp_path / "corpus"], embedder)
    assistant = Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), ScriptedBackend("Squid Game", "Squid Game"))
    asked = RTQuestion("20220101_0", "20220101", "2022/01/01", "Which show did Netflix renew?", ("Friends", "Squid Game"), 1)
    on_the_day = ask_one(asked, "gen", assistant, as_of=True)
    assert (on_the_day["prediction"], on_the_day["em"]) == ("Squid Game", 1.0)  # published that day: visible
    before = ask_one(RTQuestion("x", "20211231", "2021/12/31", asked.question, asked.choices, 1), "gen", assistant, as_of=True)
    assert (before["abstained"], before["retrieved"]) == (True, [])  # nothing was published yet (the Pluto page has no date)
    anytime = ask_one(RTQuestion("x", "20211231", "2021/12/31", asked.question, asked.choices, 1), "gen", assistant)
    assert anytime["prediction"] == "Squid Game"


def test_a_question_without_a_usable_date_cannot_be_asked_as_of_it():
    from rag.evals.bench_realtimeqa import question_window
    from rag.evals.realtimeqa import RTQuestion

    with pytest.raises(InputError) as err:
        question_window(RTQuestion("20220101_3", "20220101", "soon", "Who?", ("A", "B"), 0))
    assert str(err.value) == ("question 20220101_3 has no usable date ('soon', expected YYYY/MM/DD): "
                              "it cannot be asked as of its date")
