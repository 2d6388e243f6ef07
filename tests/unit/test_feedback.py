"""The feedback store (`rag.feedback`): exact lines, gold candidates, and their round trip through load_gold."""

import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from rag.errors import InputError
from rag.evals.gold import GoldQuestion, load_gold
from rag.feedback import gold_candidates, record, write_candidates
from rag.types import Answer, Chunk, Citation, Passage

NOW = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
CATL = "Who is the chairman of CATL?"


def passage(doc: str, ordinal: int, text: str, rank: int, score: float) -> Passage:
    return Passage(Chunk(f"{doc}:{ordinal}", doc, ordinal, text, 0, len(text), f"Title of {doc}", "2024-04-30"), score, rank)


P1 = passage("004_catl", 3, "Zeng Yuqun, chairman of CATL, met Musk.", 1, 0.61234)
P2 = passage("002_baidu", 4, "Tesla partnered with Baidu.", 2, 0.5)
P3 = passage("004_catl", 5, "CATL's chairman Zeng Yuqun said so.", 3, 0.4)


def answer(text: str, citations: tuple[Citation, ...] = (), abstained: bool = False) -> Answer:
    return Answer(CATL, text, citations, (P1, P2, P3), "scripted", abstained, draft=text)


ZENG = answer("Zeng Yuqun [1][3]", (Citation(1, P1), Citation(3, P3)))
ABSTAINED = answer("Not in the documents.", abstained=True)
CITATION_1 = {"marker": 1, "doc_id": "004_catl", "chunk_id": "004_catl:3", "title": "Title of 004_catl",
              "text": "Zeng Yuqun, chairman of CATL, met Musk.", "score": 0.6123, "published": "2024-04-30", "page": None,
              "speaks_of": []}
CITATION_3 = {"marker": 3, "doc_id": "004_catl", "chunk_id": "004_catl:5", "title": "Title of 004_catl",
              "text": "CATL's chairman Zeng Yuqun said so.", "score": 0.4, "published": "2024-04-30", "page": None,
              "speaks_of": []}


def test_record_appends_one_exact_json_line_and_creates_folders(tmp_path):
    path = tmp_path / "var" / "feedback" / "feedback.jsonl"
    first = record(path, "helpful", "When did Musk meet him?", "When did Musk meet Zeng Yuqun?", ZENG, now=NOW)
    assert first == {"time": "2025-03-04T05:06:07+00:00", "rating": "helpful", "question": "When did Musk meet him?",
                     "standalone_question": "When did Musk meet Zeng Yuqun?", "answer": "Zeng Yuqun [1][3]",
                     "abstained": False, "citations": [CITATION_1, CITATION_3], "model": "scripted"}
    later = datetime(2025, 3, 4, 7, 0, 0, tzinfo=timezone(timedelta(hours=2)))  # written in UTC whatever the zone
    second = record(path, "not_helpful", "Who is Musk's driver?", "Who is Musk's driver?", ABSTAINED, now=later)
    assert path.read_text(encoding="utf-8") == (
        '{"time": "2025-03-04T05:06:07+00:00", "rating": "helpful", "question": "When did Musk meet him?", '
        '"standalone_question": "When did Musk meet Zeng Yuqun?", "answer": "Zeng Yuqun [1][3]", "abstained": false, '
        '"citations": [{"marker": 1, "doc_id": "004_catl", "chunk_id": "004_catl:3", "title": "Title of 004_catl", '
        '"text": "Zeng Yuqun, chairman of CATL, met Musk.", "score": 0.6123, "published": "2024-04-30", "page": null, '
        '"speaks_of": []}, '
        '{"marker": 3, "doc_id": "004_catl", '
        '"chunk_id": "004_catl:5", "title": "Title of 004_catl", "text": "CATL\'s chairman Zeng Yuqun said so.", '
        '"score": 0.4, "published": "2024-04-30", "page": null, "speaks_of": []}], "model": "scripted"}\n'
        '{"time": "2025-03-04T05:00:00+00:00", "rating": "not_helpful", "question": "Who is Musk\'s driver?", '
        '"standalone_question": "Who is Musk\'s driver?", "answer": "Not in the documents.", "abstained": true, '
        '"citations": [], "model": "scripted"}\n')
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [first, second]


def test_record_stamps_the_current_utc_second_by_default(tmp_path):
    before = datetime.now(UTC).replace(microsecond=0)
    entry = record(tmp_path / "f.jsonl", "helpful", CATL, CATL, ZENG)
    after = datetime.now(UTC)
    assert before <= datetime.fromisoformat(entry["time"]) <= after
    assert entry["time"].endswith("+00:00") and len(entry["time"]) == len("2025-03-04T05:06:07+00:00")


def test_a_question_with_newlines_and_other_scripts_stays_on_one_line(tmp_path):
    path = tmp_path / "f.jsonl"
    record(path, "helpful", "Who met\n李強?", "Who met 李強?", ZENG, now=NOW)
    [line] = path.read_text(encoding="utf-8").splitlines()
    assert '"question": "Who met\\n李強?"' in line and '"standalone_question": "Who met 李強?"' in line


@pytest.mark.parametrize("rating", ["good", "Helpful", "", "not helpful"])
def test_a_bad_rating_is_refused_and_nothing_is_written(tmp_path, rating):
    with pytest.raises(InputError) as raised:
        record(tmp_path / "f.jsonl", rating, CATL, CATL, ZENG, now=NOW)
    assert str(raised.value) == f"rating must be helpful or not_helpful, not {rating!r}"
    assert not (tmp_path / "f.jsonl").exists()


def test_an_unwritable_path_is_an_input_error(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(InputError) as raised:
        record(tmp_path / "taken" / "f.jsonl", "helpful", CATL, CATL, ZENG, now=NOW)
    assert str(raised.value) == (f"cannot write feedback to {tmp_path / 'taken' / 'f.jsonl'}: "
                                 f"[Errno 17] File exists: '{tmp_path / 'taken'}'")


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "f.jsonl"
    long_answer = answer("Zeng Yuqun " * 3000 + "[1]", (Citation(1, P1),))  # far beyond any I/O buffer

    def write(n: int) -> None:
        for i in range(40):
            record(path, "helpful", f"q{n}-{i}", f"q{n}-{i}", long_answer, now=NOW)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["question"] for r in rows) == sorted(f"q{n}-{i}" for n in range(8) for i in range(40))
    assert {r["answer"] for r in rows} == {long_answer.text}


def write_feedback(path, *entries: tuple[str, str, Answer]) -> None:
    for rating, standalone, ans in entries:
        record(path, rating, f"asked: {standalone}", standalone, ans, now=NOW)


def test_gold_candidates_from_each_kind_of_rating(tmp_path):
    path = tmp_path / "feedback.jsonl"
    write_feedback(path,
                   ("helpful", CATL, ZENG),
                   ("helpful", "Who is Musk's driver?", ABSTAINED),
                   ("not_helpful", "Where is CATL based?", answer("Fujian [2]", (Citation(2, P2),))),
                   ("not_helpful", "When did Musk meet Zeng Yuqun?", ABSTAINED))
    assert gold_candidates(path) == [
        {"id": "feedback-001", "question": CATL, "answers": ["Zeng Yuqun"], "evidence": ["004_catl"],
         "answerable": True, "category": "feedback"},
        {"id": "feedback-002", "question": "Who is Musk's driver?", "answers": [], "evidence": [], "answerable": False,
         "category": "feedback"},
        {"id": "feedback-003", "question": "Where is CATL based?", "answers": [], "evidence": [], "answerable": True,
         "category": "feedback", "needs_review": True, "rejected_answer": "Fujian [2]"},
        {"id": "feedback-004", "question": "When did Musk meet Zeng Yuqun?", "answers": [], "evidence": [],
         "answerable": True, "category": "feedback", "needs_review": True, "rejected_answer": "Not in the documents."},
    ]


def test_evidence_keeps_cited_articles_once_in_citation_order(tmp_path):
    path = tmp_path / "feedback.jsonl"
    cited = answer("Zeng Yuqun [3], with Baidu [2] and [1].", (Citation(3, P3), Citation(2, P2), Citation(1, P1)))
    write_feedback(path, ("helpful", CATL, cited))
    [candidate] = gold_candidates(path)
    assert (candidate["answers"], candidate["evidence"]) == (["Zeng Yuqun, with Baidu and."], ["004_catl", "002_baidu"])


def test_the_last_rating_of_a_question_wins_whatever_its_case_and_spacing(tmp_path):
    path = tmp_path / "feedback.jsonl"
    write_feedback(path,
                   ("not_helpful", CATL, ABSTAINED),
                   ("helpful", "Who is Musk's driver?", ABSTAINED),
                   ("helpful", "  who IS the chairman\tof  catl? ", ZENG))
    assert gold_candidates(path) == [
        {"id": "feedback-001", "question": "Who is Musk's driver?", "answers": [], "evidence": [], "answerable": False,
         "category": "feedback"},
        {"id": "feedback-002", "question": "who IS the chairman of catl?", "answers": ["Zeng Yuqun"],
         "evidence": ["004_catl"], "answerable": True, "category": "feedback"},
    ]


def test_candidates_load_as_gold_questions(tmp_path):
    feedback, gold = tmp_path / "feedback.jsonl", tmp_path / "out" / "gold.jsonl"
    write_feedback(feedback, ("helpful", CATL, ZENG), ("helpful", "Who is Musk's driver?", ABSTAINED),
                   ("not_helpful", "Where is CATL based?", ABSTAINED))
    candidates = gold_candidates(feedback)
    write_candidates(gold, candidates)
    assert gold.read_text(encoding="utf-8") == "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in candidates)
    assert load_gold(gold) == [
        GoldQuestion("feedback-001", CATL, ("Zeng Yuqun",), ("004_catl",), True, "feedback"),
        GoldQuestion("feedback-002", "Who is Musk's driver?", (), (), False, "feedback"),
        GoldQuestion("feedback-003", "Where is CATL based?", (), (), True, "feedback"),
    ]


def test_blank_lines_are_skipped_and_an_empty_file_has_no_candidates(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n  \n", encoding="utf-8")
    assert gold_candidates(path) == []
    write_feedback(path, ("helpful", CATL, ZENG))
    assert [c["id"] for c in gold_candidates(path)] == ["feedback-001"]


GOOD = {"rating": "helpful", "standalone_question": CATL, "answer": "Zeng Yuqun [1]", "abstained": False,
        "citations": [{"doc_id": "004_catl"}]}


@pytest.mark.parametrize(("line", "problem"), [
    ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({**GOOD, "rating": "meh"}), "rating must be helpful or not_helpful, not 'meh'"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "rating"}), "rating must be helpful or not_helpful, not None"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "standalone_question"}),
     "standalone_question is missing or not a str"),
    (json.dumps({**GOOD, "standalone_question": "  "}), "standalone_question is empty"),
    (json.dumps({**GOOD, "answer": None}), "answer is missing or not a str"),
    (json.dumps({**GOOD, "abstained": "no"}), "abstained is missing or not a boolean"),
    (json.dumps({**GOOD, "citations": {}}), "citations is missing or not a list"),
    (json.dumps({**GOOD, "citations": [{"marker": 1}]}), "every citation needs a doc_id"),
])
def test_a_malformed_line_is_an_error_naming_file_and_line(tmp_path, line, problem):
    path = tmp_path / "feedback.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        gold_candidates(path)
    assert str(raised.value) == f"{path}:3: not a feedback line ({problem})"


def test_a_missing_feedback_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as raised:
        gold_candidates(tmp_path / "nope.jsonl")
    path = tmp_path / "nope.jsonl"
    assert str(raised.value) == f"cannot read feedback file {path}: [Errno 2] No such file or directory: '{path}'"
