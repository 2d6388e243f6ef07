"""`rag eval --from-feedback`: gold candidates from a feedback file, without an index or a model."""

import json

from tests.conftest import rag

LINES = [
    {"time": "2025-03-04T05:06:07+00:00", "rating": "helpful", "question": "Who is the chairman of CATL?",
     "standalone_question": "Who is the chairman of CATL?", "answer": "Zeng Yuqun [1]", "abstained": False,
     "citations": [{"marker": 1, "doc_id": "004_93dc4c72c663ac72", "chunk_id": "004_93dc4c72c663ac72:2",
                    "title": "t", "text": "Zeng Yuqun, chairman of CATL", "score": 0.6}], "model": "scripted"},
    {"time": "2025-03-04T05:07:00+00:00", "rating": "helpful", "question": "What did Musk discuss with Xi?",
     "standalone_question": "What did Musk discuss with Xi?", "answer": "Not in the documents.", "abstained": True,
     "citations": [], "model": "scripted"},
    {"time": "2025-03-04T05:08:00+00:00", "rating": "not_helpful", "question": "Where is it based?",
     "standalone_question": "Where is CATL based?", "answer": "Not in the documents.", "abstained": True,
     "citations": [], "model": "scripted"},
]
CANDIDATES = [
    {"id": "feedback-001", "question": "Who is the chairman of CATL?", "answers": ["Zeng Yuqun"],
     "evidence": ["004_93dc4c72c663ac72"], "answerable": True, "category": "feedback"},
    {"id": "feedback-002", "question": "What did Musk discuss with Xi?", "answers": [], "evidence": [],
     "answerable": False, "category": "feedback"},
    {"id": "feedback-003", "question": "Where is CATL based?", "answers": [], "evidence": [], "answerable": True,
     "category": "feedback", "needs_review": True, "rejected_answer": "Not in the documents."},
]


def test_candidates_are_written_to_the_default_path_without_an_index_or_a_model(tmp_path):
    (tmp_path / "feedback.jsonl").write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    # no index and no ./seeds here, and a model that cannot load: any attempt to open either would exit 2
    result = rag("eval", "--from-feedback", "feedback.jsonl", cwd=tmp_path, env={"RAG_MODEL": "local:/nowhere.gguf"})
    out = tmp_path / "var" / "evals" / "gold-candidates.jsonl"
    assert (result.code, result.out, result.err) == (
        0, "", "rag: wrote 3 gold candidates (1 helpful, 1 abstentions, 1 to review) to var/evals/gold-candidates.jsonl\n")
    assert out.read_text(encoding="utf-8") == "".join(json.dumps(c) + "\n" for c in CANDIDATES)


def test_out_names_the_file_and_an_existing_one_is_replaced(tmp_path):
    (tmp_path / "feedback.jsonl").write_text(json.dumps(LINES[0]) + "\n", encoding="utf-8")
    out = tmp_path / "review" / "candidates.jsonl"
    out.parent.mkdir()
    out.write_text("old\n")
    result = rag("eval", "--from-feedback", str(tmp_path / "feedback.jsonl"), "--out", str(out), cwd=tmp_path)
    assert (result.code, result.out, result.err) == (
        0, "", f"rag: wrote 1 gold candidates (1 helpful, 0 abstentions, 0 to review) to {out}\n")
    assert out.read_text(encoding="utf-8") == json.dumps(CANDIDATES[0]) + "\n"


def test_a_missing_or_malformed_feedback_file_exits_2_with_one_line(tmp_path):
    missing = rag("eval", "--from-feedback", "nope.jsonl", cwd=tmp_path)
    assert (missing.code, missing.out, missing.err) == (
        2, "", "rag: error: cannot read feedback file nope.jsonl: [Errno 2] No such file or directory: 'nope.jsonl'\n")
    (tmp_path / "bad.jsonl").write_text(json.dumps(LINES[0]) + "\n{\n", encoding="utf-8")
    malformed = rag("eval", "--from-feedback", "bad.jsonl", cwd=tmp_path)
    assert (malformed.code, malformed.out, malformed.err) == (
        2, "", "rag: error: bad.jsonl:2: not a feedback line (Expecting property name enclosed in double quotes: "
               "line 1 column 2 (char 1))\n")
    assert not (tmp_path / "var").exists()
