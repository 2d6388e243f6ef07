"""Questions about the present: fresher passages first, and the answer names the day its sources were true."""

from __future__ import annotations

from datetime import date

import pytest

from rag import compose, store
from rag.assistant import Assistant
from rag.config import Settings
from rag.evals.gold import GoldQuestion
from rag.evals.runner import score
from rag.index.build import build_index
from rag.retrieval import DenseRetriever
from rag.retrieval.recency import RecentFirst, as_of_prefix, asks_for_latest, freshness, prefer_recent, without_as_of
from rag.retrieval.window import DateWindow
from rag.types import Chunk, Citation, Passage
from tests.fakes import HashEmbedder, ScriptedBackend

# three reports on one subject, a month apart, in nearly the same words: similarity alone does not order them by date
ARTICLES = {
    "march": "Zorblat price update\n\nMarch 1, 2024. Zorblat Motors set the Quarkmobile price at 30,000 euros. "
             "Dealers in Tallinn were surprised.\n",
    "april": "Zorblat price update\n\nApril 1, 2024. Zorblat Motors set the Quarkmobile price at 32,000 euros.\n",
    "may": "Zorblat price update\n\nMay 1, 2024. Zorblat Motors set the Quarkmobile price at 28,000 euros.\n",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("recency")
    for name, text in ARTICLES.items():
        (root / f"{name}.txt").write_text(text, encoding="utf-8")
    embedder = HashEmbedder()
    build_index(root / "ix", [root], embedder)
    return store.load(root / "ix"), embedder


def _passage(article: str, published: str | None, score: float, rank: int) -> Passage:
    return Passage(Chunk(f"{article}:0", article, 0, "text", 0, 4, article, published), score, rank)


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the latest on the Quarkmobile price?", True),
    ("What does the Quarkmobile cost now?", True),
    ("Which automaker recalled 2.9 million vehicles this week?", True),
    ("How does Tesla currently deal with the data its vehicles collect?", True),
    ("Has Tesla launched FSD in China yet?", True),
    ("Which company did Tesla partner with on mapping?", False),
    ("Which show was green lit for a new season?", False),  # "new" alone is not a time
    ("What did Li Qiang say about knowledge?", False),  # no "now" inside another word
])
def test_questions_about_the_present_are_recognised(question, expected):
    assert asks_for_latest(question) is expected


def test_freshness_halves_every_half_life_and_is_zero_without_a_date():
    day = date(2024, 5, 1)
    assert [freshness(d, day, 7.0) for d in ("2024-05-01", "2024-04-24", "2024-04-17", None)] == [1.0, 0.5, 0.25, 0.0]
    assert freshness("2024-05-03", day, 7.0) == 1.0  # after the reference day: as fresh as it can be


def test_a_fresher_passage_overtakes_a_slightly_more_similar_one_and_keeps_its_score():
    pool = [_passage("old", "2024-03-01", 0.62, 1), _passage("undated", None, 0.61, 2),
            _passage("new", "2024-05-01", 0.58, 3), _passage("far", "2024-05-01", 0.30, 4)]
    ranked = prefer_recent(pool, 3, weight=0.1, half_life=7.0)
    assert [(p.chunk.article_id, p.score, p.rank) for p in ranked] == [("new", 0.58, 1), ("old", 0.62, 2),
                                                                       ("undated", 0.61, 3)]
    # as of a day in March, the May story would be the freshest but a window hides it; here the reference moves
    as_of_march = prefer_recent(pool[:2], 2, weight=0.1, half_life=7.0, reference=date(2024, 3, 1))
    assert [p.chunk.article_id for p in as_of_march] == ["old", "undated"]
    assert prefer_recent(pool, 2, weight=0.0, half_life=7.0) == pool[:2]


def test_only_questions_about_the_present_are_reranked(reports):
    loaded, embedder = reports
    dense = DenseRetriever(loaded, embedder)
    fresh = compose.open_retriever(Settings(), loaded, embedder)
    assert isinstance(fresh, RecentFirst) and fresh.store is loaded and fresh.embedder is embedder
    plain = "What was the Quarkmobile price set by Zorblat Motors?"
    assert [p.chunk.id for p in fresh.retrieve(plain, 3)] == [p.chunk.id for p in dense.retrieve(plain, 3)]
    latest = "What is the latest Quarkmobile price set by Zorblat Motors?"
    assert [p.chunk.article_id for p in dense.retrieve(latest, 3)] == ["april", "may", "march"]
    assert [p.chunk.article_id for p in fresh.retrieve(latest, 3)] == ["may", "april", "march"]
    # as of April 15 the May report is invisible and April's is the freshest
    as_of = fresh.within(DateWindow(until=date(2024, 4, 15)))
    assert isinstance(as_of, RecentFirst) and as_of.window.until == date(2024, 4, 15)
    assert [p.chunk.article_id for p in as_of.retrieve(latest, 3)] == ["april", "march"]
    assert type(compose.open_retriever(Settings(recency=0), loaded, embedder)) is DenseRetriever


def test_the_answer_names_the_day_of_its_newest_cited_source():
    cited = (Citation(1, _passage("a", "2024-04-01", 0.5, 1)), Citation(2, _passage("b", "2024-05-01", 0.5, 2)))
    assert as_of_prefix("28,000 euros [2]", cited) == "As of 2024-05-01: 28,000 euros [2]"
    assert as_of_prefix("As of 2024-05-01: 28,000 euros [2]", cited) == "As of 2024-05-01: 28,000 euros [2]"
    assert as_of_prefix("Baidu [1]", (Citation(1, _passage("u", None, 0.5, 1)),)) == "Baidu [1]"
    assert without_as_of("As of 2024-05-01: 28,000 euros [2]") == "28,000 euros [2]"
    assert without_as_of("Baidu [1]") == "Baidu [1]"


def test_an_answer_about_the_present_or_read_as_of_a_day_is_dated_and_others_are_not(reports):
    loaded, embedder = reports
    retriever = compose.open_retriever(Settings(), loaded, embedder)
    latest = Assistant(retriever, ScriptedBackend("28,000 euros [1]")).answer(
        "What is the latest Quarkmobile price set by Zorblat Motors?")
    assert (latest.abstained, latest.text) == (False, "As of 2024-05-01: 28,000 euros [1]")
    as_of = Assistant(retriever, ScriptedBackend("32,000 euros [1]")).answer(
        "What Quarkmobile price did Zorblat Motors set?", window=DateWindow(until=date(2024, 4, 15)))
    assert (as_of.abstained, as_of.text) == (False, "As of 2024-04-01: 32,000 euros [1]")
    plain = Assistant(retriever, ScriptedBackend("30,000 euros [1]")).answer(
        "What Quarkmobile price did Zorblat Motors set first?")
    assert (plain.abstained, plain.text) == (False, "30,000 euros [3]")  # re-cited to the March report


def test_evals_score_the_answer_without_its_date():
    gold = GoldQuestion("q", "What is the latest Quarkmobile price?", ("28,000 euros",), ("may",), True, "latest")
    dated = {"answer": "As of 2024-05-01: 28,000 euros [1]", "abstained": False,
             "citations": [{"doc_id": "may"}], "retrieved": [{"doc_id": "may"}]}
    assert score(gold, dated).exact == 1.0


def test_the_weight_comes_from_the_flag_or_the_environment_and_a_bad_one_is_named(monkeypatch, capsys):
    from rag.cli.main import main
    from rag.config import load_settings

    monkeypatch.setenv("RAG_RECENCY", "0.3")
    assert load_settings({}).recency == 0.3
    assert load_settings({"recency": 0.0}).recency == 0.0  # the flag wins
    assert main(["search", "What is the latest on FSD?", "--recency", "2"]) == 2
    assert capsys.readouterr().err == "rag: error: bad setting (recency: Input should be less than or equal to 1)\n"
