"""Open-question metrics: nugget recall, CRAG truthfulness, abstention precision, claim citation recall/precision."""

import json
import re
from collections.abc import Sequence

import pytest

from rag.checks.claims.align import Judgement
from rag.checks.claims.sources import Source
from rag.errors import InputError
from rag.evals.command import evaluate, format_metrics
from rag.evals.compare import compare
from rag.evals.gold import GoldQuestion, Nugget, load_gold
from rag.evals.metrics import ClaimCitations, claim_citation_scores
from rag.evals.report import build_report, failures, write_run
from rag.evals.runner import HALLUCINATED, MISSING, RIGHT, by_category, run, score, summary
from rag.types import Answer, Chunk, Citation, Claim, Passage

_WORD = re.compile(r"\w+")


class WordsJudge:
    """Supported when every word of the claim occurs in the joined sources; records what it was asked."""

    name = "words"

    def __init__(self):
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def judge(self, claim: str, question: str, sources: Sequence[Source]) -> Judgement:
        assert sources, "the scorer must not ask about an empty set of passages"
        self.calls.append((claim, tuple(sorted({s.marker for s in sources}))))
        said = set(_WORD.findall(" ".join(s.text for s in sources).lower()))
        supported = set(_WORD.findall(claim.lower())) <= said
        return Judgement(supported, float(supported), tuple(sources), "" if supported else "words missing")


def prediction(answer, abstained=False, claims=None):
    row = {"question": "q", "answer": answer, "abstained": abstained, "draft": answer, "warnings": [],
           "citations": [], "retrieved": [], "model": "m",
           "timings_ms": {"retrieve": 5.0, "first_token": 100.0, "generate": 195.0, "total": 200.0}, "usage": {}}
    if claims is not None:
        row["claims"] = claims
    return row


NUGGETS = (Nugget("Li Qiang met Musk.", ("Li Qiang", "premier")),
           Nugget("They met in Beijing.", ("Beijing",)),
           Nugget("They discussed data security.", ("data security",)))
ABSTAIN = "Not in the documents."
OPEN = [
    GoldQuestion("o1", "What happened?", ("Li Qiang",), ("d1",), True, "open", NUGGETS),  # 2 of 3: right
    GoldQuestion("o2", "Who and where?", ("Li Qiang",), ("d1",), True, "open", NUGGETS[:2]),  # 2 of 2: right
    GoldQuestion("o3", "What else?", ("Li Qiang",), ("d1",), True, "open", NUGGETS),  # 1 of 3: hallucinated
    GoldQuestion("o4", "And then?", ("Li Qiang",), ("d1",), True, "open", NUGGETS),  # abstained: missing
    GoldQuestion("a5", "Where is it?", ("Shanghai",), ("d2",), True, "closed"),  # alias: right
    GoldQuestion("u6", "CFO?", (), (), False, "unanswerable"),  # abstained: missing
    GoldQuestion("u7", "CEO of Baidu?", (), (), False, "unanswerable"),  # answered: hallucinated
    GoldQuestion("u8", "Revenue?", (), (), False, "unanswerable"),  # abstained: missing
]
ANSWERS = [
    prediction("Premier Li Qiang met Musk in Beijing [1]."),
    prediction("Li Qiang received him in Beijing [1]."),
    prediction("Li Qiang praised Tesla [1]."),
    prediction(ABSTAIN, abstained=True),
    prediction("In Shanghai [1]."),
    prediction(ABSTAIN, abstained=True),
    prediction("Robin Li [1]."),
    prediction(ABSTAIN, abstained=True),
]


def scored():
    return [score(g, p) for g, p in zip(OPEN, ANSWERS, strict=True)]


def test_gold_nuggets_load_and_a_bad_nugget_names_its_line(tmp_path):
    good = tmp_path / "open.jsonl"
    good.write_text('{"id": "o", "question": "Q?", "answerable": true, '
                    '"nuggets": [{"fact": "F.", "aliases": ["f", "eff"]}]}\n{"id": "u", "question": "U?", "answerable": false}\n')
    assert [q.nuggets for q in load_gold(good)] == [(Nugget("F.", ("f", "eff")),), ()]
    for number, nugget, error in ((2, '{"fact": "F."}', "KeyError: 'aliases'"),
                                  (2, '{"fact": "F.", "aliases": "f"}', "TypeError"),
                                  (2, '{"fact": "F.", "aliases": [" "]}', "ValueError: nugget 'F.' has no alias")):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(f'{{"id": "1", "question": "Q?", "answerable": true}}\n'
                       f'{{"id": "2", "question": "Q?", "answerable": true, "nuggets": [{nugget}]}}\n')
        with pytest.raises(InputError, match=rf"bad.jsonl:{number}: not a gold question \({re.escape(error)}"):
            load_gold(bad)


def test_nugget_recall_per_question_and_summarised():
    results = scored()
    assert results[0].found == (True, True, False)
    assert results[0].nugget_recall == pytest.approx(2 / 3)
    assert [r.nugget_recall for r in results[1:]] == [1.0, pytest.approx(1 / 3), 0.0, None, None, None, None]
    m = summary(results)
    assert m["nugget_recall"] == 0.5  # (2/3 + 1 + 1/3 + 0) / 4: the abstention counts as 0, the others are left out
    assert m["completeness"] == 0.25  # only o2 states every nugget


def test_an_abstention_states_no_nugget_even_when_an_alias_is_in_its_text():
    gold = GoldQuestion("o", "Q?", ("documents",), (), True, "open", (Nugget("F.", ("documents",)),))
    result = score(gold, prediction(ABSTAIN, abstained=True))
    assert (result.found, result.nugget_recall, result.truth) == ((False,), 0.0, MISSING)


def test_crag_truthfulness_counts_right_abstained_and_hallucinated():
    results = scored()
    assert [r.truth for r in results] == [RIGHT, RIGHT, HALLUCINATED, MISSING, RIGHT, MISSING, HALLUCINATED, MISSING]
    assert results[2].correct  # its alias occurs, but a third of the nuggets is not right
    m = summary(results)
    assert m["truthfulness"] == 0.125  # (3 right - 2 hallucinated) / 8
    assert (m["right_rate"], m["hallucination_rate"], m["missing_rate"]) == (0.375, 0.25, 0.375)
    assert m["accuracy"] == 0.75  # the existing metrics keep their meaning


def test_half_the_nuggets_is_right_and_less_is_hallucinated():
    gold = GoldQuestion("o", "Q?", ("Li Qiang",), (), True, "open", NUGGETS[1:])
    assert score(gold, prediction("In Beijing [1].")).truth == RIGHT  # 1 of 2
    assert score(OPEN[0], prediction("In Beijing [1].")).truth == HALLUCINATED  # 1 of 3


def test_abstention_precision_is_the_share_of_abstentions_that_were_unanswerable():
    m = summary(scored())
    assert (m["abstention_precision"], m["abstention_recall"]) == (0.667, 0.667)  # o4 abstained though answerable
    assert summary(scored()[:3])["abstention_precision"] is None  # nothing abstained


def test_categories_report_nugget_recall_and_truthfulness():
    categories = by_category(scored())
    assert categories["open"] == {"questions": 4, "accuracy": 0.75, "nugget_recall": 0.5, "truthfulness": 0.25}
    assert categories["closed"]["nugget_recall"] is None
    assert categories["unanswerable"]["truthfulness"] == -0.333


def test_failures_list_missing_nuggets_of_answers_that_are_not_right():
    rows = {f["id"]: f for f in failures(scored())}
    assert sorted(rows) == ["o3", "o4", "u7"]  # o3 names an alias yet states a third of the nuggets
    assert rows["o3"]["missing_nuggets"] == ["They met in Beijing.", "They discussed data security."]
    assert rows["o4"]["missing_nuggets"] == [n.fact for n in NUGGETS]
    assert "missing_nuggets" not in rows["u7"]


# Passages 1..3 and claims whose citation quality is known by hand (WordsJudge decides support).
TEXTS = ("Tesla opened a factory in Shanghai.", "The factory makes Model Y cars.", "Musk met Li Qiang in Beijing.")
PASSAGES = tuple(Passage(Chunk(f"d{i}:0", f"d{i}", 0, t, 0, len(t), f"Title {i}"), 0.5, i) for i, t in enumerate(TEXTS, 1))
KEPT = (
    Claim("Tesla opened a factory in Shanghai", (1,), True, 1.0),  # recalled; its one citation supports it
    Claim("factory makes Model Y cars in Shanghai", (1, 2), True, 1.0),  # recalled only jointly; both needed
    Claim("Musk met Li Qiang", (3, 2), True, 1.0),  # recalled; [2] adds nothing: a false citation
    Claim("Musk opened a factory in Beijing", (1,), True, 1.0),  # [1] does not support it: not recalled
    Claim("Tesla opened a factory", (), True, 1.0),  # no marker: not recalled, no citation
)
REMOVED = Claim("Tesla sold 100 cars", (2,), False, 0.1, (), "not in its passages: 100")


def answer(text, claims, abstained=False):
    markers = sorted({m for c in claims if c.supported for m in c.markers})
    return Answer("What did Tesla do?", text, tuple(Citation(m, PASSAGES[m - 1]) for m in markers), PASSAGES, "m",
                  abstained, timings={"total": 200.0, "first_token": 100.0}, claims=claims)


def test_claim_citation_recall_and_precision_on_hand_judged_claims():
    judge = WordsJudge()
    counts = claim_citation_scores(answer("Tesla opened a factory in Shanghai [1]. …", (*KEPT, REMOVED)), judge)
    assert counts == ClaimCitations(supported=3, claims=5, false=1, citations=6)
    assert all(claim != REMOVED.text for claim, _ in judge.calls)  # a removed claim is not the answer's
    abstained = answer("Not in the documents.", KEPT, abstained=True)
    assert claim_citation_scores(abstained, WordsJudge()) == ClaimCitations()


def test_run_judges_claims_and_summarises_them():
    answers = {"q1": answer("Several claims.", (*KEPT, REMOVED)),
               "q2": answer("Model Y cars [2].", (Claim("Model Y cars", (2,), True, 1.0), REMOVED, REMOVED)),
               "q3": answer("Not in the documents.", (REMOVED,), abstained=True)}
    gold = [GoldQuestion(q, q, ("Tesla",), ("d1",), True) for q in answers]
    judge = WordsJudge()
    results = run(gold, lambda q: answers[q], judge=judge)
    assert judge.calls and [r.claim_citations.claims for r in results] == [5, 1, 0]
    m = summary(results)
    assert (m["claim_citation_recall"], m["claim_citation_precision"]) == (0.667, 0.857)  # 4/6 claims, 1 false of 7
    assert (m["claims_per_answer"], m["removed_claims"]) == (3.0, 1.5)  # the abstention is left out
    default = run(gold[:1], lambda q: answers[q])  # no judge given: the alignment judge on words alone
    assert default[0].claim_citations is not None and default[0].claim_citations.claims == 5


def test_claim_metrics_are_none_for_a_system_without_claims():
    m = summary([score(OPEN[4], prediction("In Shanghai [1]."))])
    assert (m["claims_per_answer"], m["removed_claims"]) == (None, None)
    assert (m["claim_citation_recall"], m["claim_citation_precision"]) == (None, None)
    m = summary([score(OPEN[4], prediction("In Shanghai [1].", claims=[{"supported": True}, {"supported": False}]))])
    assert (m["claims_per_answer"], m["removed_claims"]) == (1.0, 1.0)


def test_eval_command_passes_the_judge_and_reports_the_new_metrics(tmp_path):
    judge = WordsJudge()
    gold = [GoldQuestion("q1", "q1", ("Tesla",), ("d1",), True, "open", NUGGETS)]
    report = evaluate(gold, lambda q: answer("Tesla opened a factory [1].", KEPT), tmp_path / "A", {"model": "m"},
                      progress=False, judge=judge)
    assert judge.calls and report["metrics"]["claim_citation_recall"] == 0.6
    table = format_metrics(report["metrics"])
    assert "truthfulness             -1.0" in table and "claim_citation_precision 0.833" in table
    page = (tmp_path / "A" / "report.html").read_text()
    assert "<th>missing nuggets</th>" in page and "They discussed data security." in page
    row = json.loads((tmp_path / "A" / "predictions.jsonl").read_text())
    assert (row["score"]["nugget_recall"], row["score"]["truth"]) == (0.0, HALLUCINATED)
    results = scored()
    write_run(tmp_path / "B", results, build_report(results, {"model": "m"}))
    lines = compare(tmp_path / "A", tmp_path / "B").splitlines()
    assert "truthfulness -1.0 0.125".split() in [line.split() for line in lines]
    assert "nugget_recall 0.0 0.5".split() in [line.split() for line in lines]
