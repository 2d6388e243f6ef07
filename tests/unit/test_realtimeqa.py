import gzip
import json
from pathlib import Path

import pytest

from rag.errors import InputError
from rag.evals.bench_realtimeqa import published_table, summarise
from rag.evals.metrics import exact_match, realtimeqa_normalise, token_f1
from rag.evals.realtimeqa import (
    Baselines,
    load_questions,
    parse_choice,
    skipped_in_generation,
    weeks_in,
    write_corpus,
)
from tests.fakes import HashEmbedder, ScriptedBackend


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
    published = Baselines("published", "published", {"GPT-3 + Google search top-5": {"gen_em": 0.311, "gen_f1": 0.431}})
    table = published_table("gen", summarise(rows, "gen"), "rag (test)", published)
    assert table.splitlines()[1].split()[-3:] == ["1.0", "/", "1.0"]
    assert table.splitlines()[2] == f"{'GPT-3 + Google search top-5':50} 0.311 / 0.431"
    assert published_table("gen", summarise(rows, "gen"), "rag (test)", Baselines("none", "none", {})).splitlines() == \
        [f"{'system':50} EM / F1", f"{'rag (test)':50} 1.0 / 1.0"]


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
                                                                "abstained": 0.0},
              "baselines": {"source": "computed", "note": "scored <here>", "left_out": [],
                            "figures": {"GPT-3 + Google search top-5": {"gen_em": 0.5, "gen_f1": 0.6}}}}
    page = render_html(report, [{"id": "q", "question": "<b>Who?</b>", "gold": "x", "prediction": "<script>", "em": 0}])
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Who?&lt;/b&gt;" in page
    assert "<td>GPT-3 + Google search top-5</td><td>0.5 / 0.6</td>" in page and "<p>scored &lt;here&gt;</p>" in page


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


UPSTREAM = Path(__file__).resolve().parents[1] / "fixtures" / "realtimeqa_upstream"  # its README says what is in it


def test_a_clone_of_the_upstream_repository_is_read_as_it_is_laid_out(tmp_path):
    from rag.evals.realtimeqa import data_layout, question_files

    layout = data_layout(UPSTREAM)
    assert (layout.kind, weeks_in(UPSTREAM)) == ("upstream", ["20211231", "20220107"])  # not 20220114, the union, latest/
    assert [q.id for q in load_questions(UPSTREAM, ["20220107"], "mc")] == ["20220107_0", "20220107_1"]
    assert [q.id for q in load_questions(UPSTREAM, ["20211231", "20220107"], "nota")] == [
        "20211231_0_nota", "20211231_1_nota", "20211231_2_nota", "20220107_0_nota", "20220107_1_nota"]
    q = load_questions(UPSTREAM, ["20211231"], "nota")[0]
    assert (q.week, q.date, q.choices[q.answer]) == ("20211231", "2021/12/30", "None of the above")
    assert question_files(UPSTREAM, ["20211231", "20220107"], "mc") == [
        UPSTREAM / "past/2021/20211231_qa.jsonl", UPSTREAM / "past/2022/20220107_qa.jsonl"]
    assert write_corpus(UPSTREAM, ["20211231", "20220107"], tmp_path / "corpus") == 5  # the squid page once
    assert write_corpus(UPSTREAM, ["20211231"], tmp_path / "gold", with_gold_articles=True) == 4
    with pytest.raises(InputError) as err:  # upstream, only some weeks have gold articles
        write_corpus(UPSTREAM, ["20220107"], tmp_path / "nogold", with_gold_articles=True)
    assert str(err.value) == f"missing benchmark file {UPSTREAM / 'past/2022/20220107_gold.jsonl'}"
    assert data_layout(Path(__file__).resolve().parents[1] / "fixtures" / "realtimeqa").kind == "folder"


def test_a_folder_in_neither_layout_is_an_error_naming_both(tmp_path):
    (tmp_path / "past" / "2022").mkdir(parents=True)
    (tmp_path / "past" / "2022" / "20220613_gcs.jsonl").write_text("")  # search results without their quiz
    with pytest.raises(InputError) as err:
        weeks_in(tmp_path)
    assert str(err.value) == (
        f"no RealTime QA weeks in {tmp_path}: looked for search_results/<week>_gcs.jsonl.gz beside questions_qa.jsonl "
        "(the development split's layout), and for past/<year>/<week>_gcs.jsonl beside <week>_qa.jsonl "
        "(a clone of realtimeqa/realtimeqa_public)")


def test_weeks_are_chosen_by_name_in_either_layout(tmp_path, monkeypatch, data):
    from rag.evals.bench_realtimeqa import prepare_corpus

    monkeypatch.chdir(tmp_path)  # the corpus goes to var/bench/ under the working folder
    said: list[str] = []
    home, weeks = prepare_corpus(str(UPSTREAM), ["20220107"], False, said.append)
    assert weeks == ["20220107"] and said == [f"3 unique pages from 1 week(s) in {home / 'corpus'}"]
    assert prepare_corpus(str(UPSTREAM), None, False, said.append)[1] == ["20211231", "20220107"]
    with pytest.raises(InputError) as err:
        prepare_corpus(str(UPSTREAM), ["20220114", "20220107"], False, said.append)
    assert str(err.value) == f"no search results for week(s) 20220114 in {UPSTREAM}/past/<year>"
    with pytest.raises(InputError) as err:
        prepare_corpus(str(data), ["20220107"], False, said.append)
    assert str(err.value) == f"no search results for week(s) 20220107 in {data}/search_results"


def test_baselines_are_the_authors_files_scored_on_exactly_the_questions_run():
    from rag.evals.realtimeqa import baselines_for

    both = ["20211231", "20220107"]
    mc = baselines_for(UPSTREAM, both, load_questions(UPSTREAM, both, "mc"), "mc")
    assert (mc.source, mc.figures, mc.left_out) == (
        "computed", {"GPT-3 + Google search top-5": {"mc": 0.6}}, ("GPT-3, no retrieval (3 of 5)",))
    assert mc.note == f"baselines: the authors' predictions in {UPSTREAM / 'baseline_results'}, scored on the same 5 questions"
    first = baselines_for(UPSTREAM, both, load_questions(UPSTREAM, both, "mc")[:3], "mc")  # --limit 3: week one only
    assert first.figures == {"GPT-3 + Google search top-5": {"mc": 0.667}, "GPT-3, no retrieval": {"mc": 0.333}}
    two = baselines_for(UPSTREAM, both, load_questions(UPSTREAM, both, "mc")[:2], "mc")
    assert two.figures == {"GPT-3 + Google search top-5": {"mc": 0.5}, "GPT-3, no retrieval": {"mc": 0.5}}
    assert baselines_for(UPSTREAM, both, load_questions(UPSTREAM, both, "nota"), "nota").figures == {
        "GPT-3 + Google search top-5": {"nota": 0.4}}
    # generation: EM 2 of the 4 scored (the "except" question has no say), F1 (1 + 2/3 + 1 + 0) / 4
    assert baselines_for(UPSTREAM, both, load_questions(UPSTREAM, both, "gen"), "gen").figures == {
        "GPT-3 + Google search top-5": {"gen_em": 0.5, "gen_f1": 0.667}}


def test_the_published_figures_stand_only_for_the_whole_development_split(tmp_path):
    from rag.evals.realtimeqa import DEV_SPLIT_WEEKS, PUBLISHED, RTQuestion, baselines_for

    weeks = list(DEV_SPLIT_WEEKS)
    questions = [RTQuestion(f"{weeks[i % 9]}_{i}", weeks[i % 9], "2022/06/16", "Who?", ("A", "B"), 0) for i in range(269)]
    whole = baselines_for(tmp_path, weeks, questions, "nota")  # no baseline_results/ in tmp_path
    assert (whole.source, whole.figures) == ("published", {name: {"nota": f["nota"]} for name, f in PUBLISHED.items()})
    part = baselines_for(tmp_path, weeks, questions[:60], "nota")
    assert (part.source, part.figures) == ("none", {})
    assert part.note == (
        "no baseline figures for these 60 questions (week(s) 20220617..20220812 (9 weeks)): the published ones are for "
        f"all 269 questions of weeks 20220617..20220812, and {tmp_path} holds no authors' predictions for all of these "
        "(baseline_results/<year>/<week>_qa_<system>.jsonl in a clone of realtimeqa/realtimeqa_public)")
    assert baselines_for(tmp_path, weeks[:8], questions, "mc").source == "none"
    first_week = baselines_for(tmp_path, weeks, [q for q in questions if q.week == weeks[0]], "mc")
    assert first_week.note.startswith("no baseline figures for these 30 questions (week(s) 20220617): ")


class FakeScorer(ScriptedBackend):
    """A chat model that also scores replies: fixed token log-probabilities per choice, with and without passages."""

    def __init__(self, with_passages: dict[str, tuple[float, ...]], alone: dict[str, tuple[float, ...]]):
        super().__init__()
        self.tables = (with_passages, alone)
        self.scored: list[tuple[list[dict[str, str]], tuple[str, ...]]] = []

    def choice_logprobs(self, messages, continuations):
        self.scored.append((messages, tuple(continuations)))
        table = self.tables[0] if "Passage 1" in messages[-1]["content"] else self.tables[1]
        return [table[c] for c in continuations]


def test_choices_are_picked_by_their_score_and_every_rule_is_recorded(data, tmp_path):
    from rag import store
    from rag.assistant import Assistant
    from rag.evals.bench_realtimeqa import CHOICE_RULE, ask_one, choice_method, choice_scores, pick, run_bench
    from rag.evals.realtimeqa import RTQuestion
    from rag.index.build import build_index
    from rag.retrieval import DenseRetriever

    # mean: Friends -1 > Squid Game -2.5; sum: Squid Game -2.5 > Friends -4;
    # calibrated (sum minus the sum without passages): Squid Game -2.5 - -4 = 1.5 > Friends -4 - -2 = -2
    backend = FakeScorer({"Friends": (-1.0, -1.0, -1.0, -1.0), "Squid Game": (-2.5,), "None of the above": (-3.0, -3.0)},
                         {"Friends": (-0.5, -0.5, -0.5, -0.5), "Squid Game": (-4.0,), "None of the above": (-0.1, -0.1)})
    write_corpus(data, ["20220101", "20220108"], tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [tmp_path / "corpus"], embedder)
    assistant = Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), backend)
    question = RTQuestion("20220101_0", "20220101", "2022/01/01", "Which show did Netflix renew?", ("Friends", "Squid Game"), 1)
    row = ask_one(question, "mc", assistant)
    assert row["picks"] == {"mean": 0, "sum": 1, "calibrated": 1}
    assert row["scores"] == {"mean": [-1.0, -2.5], "sum": [-4.0, -2.5], "calibrated": [-2.0, 1.5]}
    assert (row["choice"], row["correct"], row["how"]) == (row["picks"][CHOICE_RULE], row["picks"][CHOICE_RULE] == 1,
                                                          f"log-likelihood ({CHOICE_RULE})")
    (passages, given), (bare, alone) = backend.scored
    assert given == alone == ("Friends", "Squid Game") and backend.calls == []  # scored, never asked to write
    assert "Netflix renewed Squid Game." in passages[-1]["content"] and "Passage" not in bare[-1]["content"]
    assert row["retrieved"] and bare[-1]["content"].endswith("Question: Which show did Netflix renew?")
    assert pick([-1.0, 2.0, 2.0]) == 1 and choice_scores([(), (-1.0,)], [(), (-2.0,)])["calibrated"][0] == float("-inf")

    nota = RTQuestion("20220101_0_nota", "20220101", "2022/01/01", question.question, ("Friends", "None of the above"), 1)
    report = run_bench([question, nota], "nota", assistant, tmp_path / "run", {"model": "fake"},
                       Baselines("none", "no baselines", {}), progress=False)
    metrics = report["metrics"]
    # the nota question (gold: None of the above): Friends wins by every rule (mean -1 > -3, sum -4 > -6,
    # calibrated -2 > -6 - -0.2), so only sum and calibrated get one of the two right (Squid Game, above)
    assert metrics["by_rule"] == {"mean": 0.0, "sum": 0.5, "calibrated": 0.5}
    assert metrics["none_of_the_above"] == {"gold": 1, "picked": 0, "picked_right": 0, "picked_wrong": 0,
                                            "picked_by_rule": {"mean": [0, 0], "sum": [0, 0], "calibrated": [0, 0]}}
    assert report["meta"]["choice_method"] == choice_method(backend, "nota") == (
        f"log-likelihood of each choice's text, picked by {CHOICE_RULE}: "
        + {"mean": "mean log-probability per token, given the passages and the question",
           "sum": "summed log-probability, given the passages and the question",
           "calibrated": "summed log-probability given the passages and the question, minus that given the question "
                         "alone"}[CHOICE_RULE])
    written = json.loads((tmp_path / "run" / "report.json").read_text())
    assert written["baselines"] == {"source": "none", "note": "no baselines", "figures": {}, "left_out": []}
    assert written["meta"]["choice_method"] == report["meta"]["choice_method"]


def test_none_of_the_above_is_scored_like_any_choice_and_counted_when_picked(data, tmp_path):
    from rag import store
    from rag.assistant import Assistant
    from rag.evals.bench_realtimeqa import run_bench
    from rag.evals.realtimeqa import RTQuestion
    from rag.index.build import build_index
    from rag.retrieval import DenseRetriever

    backend = FakeScorer({"Friends": (-5.0,), "Dark": (-6.0,), "None of the above": (-1.0, -1.0)},
                         {"Friends": (-5.0,), "Dark": (-6.0,), "None of the above": (-1.0, -1.0)})
    write_corpus(data, ["20220101"], tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [tmp_path / "corpus"], embedder)
    assistant = Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), backend)
    right = RTQuestion("a_nota", "a", "2022/01/01", "Which show did Netflix renew?", ("Friends", "Dark", "None of the above"), 2)
    wrong = RTQuestion("b_nota", "b", "2022/01/01", "Which show did Netflix renew?", ("Friends", "Dark", "None of the above"), 0)
    report = run_bench([right, wrong], "nota", assistant, tmp_path / "run", {}, Baselines("none", "", {}), progress=False)
    # None of the above wins by mean (-1) and sum (-2); calibrated, every choice scores 0 and the tie goes to the first
    assert [r["picks"] for r in report_rows(tmp_path / "run")] == [{"mean": 2, "sum": 2, "calibrated": 0}] * 2
    nota = report["metrics"]["none_of_the_above"]
    assert (nota["gold"], nota["picked_by_rule"]) == (1, {"mean": [1, 1], "sum": [1, 1], "calibrated": [0, 0]})


def report_rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]


def test_a_backend_that_cannot_score_text_answers_freely_and_says_so(data, tmp_path):
    from rag import store
    from rag.assistant import Assistant
    from rag.evals.bench_realtimeqa import choice_method, run_bench
    from rag.evals.realtimeqa import RTQuestion
    from rag.index.build import build_index
    from rag.retrieval import DenseRetriever

    write_corpus(data, ["20220101"], tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [tmp_path / "corpus"], embedder)
    backend = ScriptedBackend("Squid Game")
    assistant = Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), backend)
    question = RTQuestion("20220101_0", "20220101", "2022/01/01", "Which show did Netflix renew?", ("Friends", "Squid Game"), 1)
    report = run_bench([question], "mc", assistant, tmp_path / "run", {}, Baselines("none", "", {}), progress=False)
    row = report_rows(tmp_path / "run")[0]
    assert (row["choice"], row["how"], "picks" in row) == (1, "matched the free answer", False)
    assert "by_rule" not in report["metrics"]
    assert report["meta"]["choice_method"] == choice_method(backend, "mc") == (
        "free answer matched to a choice by word overlap (scripted cannot score given text, so no log-likelihood)")


def test_multiple_choice_can_retrieve_with_its_options(data, tmp_path):
    from rag import store
    from rag.assistant import Assistant, AssistantSettings
    from rag.evals.bench_realtimeqa import ask_one, choice_query
    from rag.evals.realtimeqa import RTQuestion
    from rag.index.build import build_index
    from rag.retrieval import DenseRetriever

    write_corpus(data, ["20220101", "20220108"], tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [tmp_path / "corpus"], embedder)
    scores = {"Pluto dwarf planet": (-1.0,), "Mars": (-2.0,), "None of the above": (-3.0,)}
    backend = FakeScorer(scores, scores)
    assistant = Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), backend, AssistantSettings(top_k=1))
    question = RTQuestion("20220108_1_nota", "20220108", "2022/01/08", "Which did Netflix renew?",
                          ("Mars", "Pluto dwarf planet", "None of the above"), 1)
    assert choice_query(question) == "Which did Netflix renew? Mars Pluto dwarf planet"  # "None of the above" says nothing
    # the question alone finds the Netflix page; with its options, the page about one of them
    plain, by_options = ask_one(question, "nota", assistant), ask_one(question, "nota", assistant, query="choices")
    assert plain["retrieved"] != by_options["retrieved"]
    (with_question, _), _, (with_options, _), _ = backend.scored
    assert "Netflix renewed Squid Game." in with_question[-1]["content"] and "Pluto" not in with_question[-1]["content"]
    assert "Pluto is a dwarf planet." in with_options[-1]["content"] and "Netflix" not in with_options[-1]["content"][:-30]
    assert with_options[-1]["content"].endswith("Question: Which did Netflix renew?")  # the prompt asks the question only
