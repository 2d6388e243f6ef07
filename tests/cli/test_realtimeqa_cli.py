"""`rag bench realtimeqa --data` in either layout: what it says, before any model is loaded, when the data is not there."""

from __future__ import annotations

from tests.conftest import ROOT, rag

UPSTREAM = ROOT / "tests" / "fixtures" / "realtimeqa_upstream"


def test_a_folder_in_neither_layout_is_named_with_both_layouts(tmp_path):
    (tmp_path / "search_results").mkdir()
    (tmp_path / "search_results" / "notes.txt").write_text("")
    result = rag("bench", "realtimeqa", "--data", str(tmp_path), cwd=tmp_path)
    assert (result.code, result.out, result.err) == (2, "", (
        f"rag: error: no RealTime QA weeks in {tmp_path}: looked for search_results/<week>_gcs.jsonl.gz beside "
        "questions_qa.jsonl (the development split's layout), and for past/<year>/<week>_gcs.jsonl beside "
        "<week>_qa.jsonl (a clone of realtimeqa/realtimeqa_public)\n"))


def test_weeks_a_clone_lacks_are_named_where_it_keeps_them(tmp_path):
    result = rag("bench", "realtimeqa", "--data", str(UPSTREAM), "--weeks", "20220107", "20220114", "--mode", "nota",
                 cwd=tmp_path)
    # 20220114 has search results but no quiz, as past/2022/20220613 upstream: not a week
    assert (result.code, result.out, result.err) == (
        2, "", f"rag: error: no search results for week(s) 20220114 in {UPSTREAM}/past/<year>\n")
    assert not (tmp_path / "var").exists()  # refused before writing a corpus
