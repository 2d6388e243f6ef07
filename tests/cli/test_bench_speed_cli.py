"""`rag bench speed` refuses what it cannot run before loading any model."""

from __future__ import annotations

from tests.conftest import rag


def test_a_corpus_without_questions_is_refused(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text("Tesla opened a factory.", encoding="utf-8")
    result = rag("bench", "speed", "--corpus", "news", cwd=tmp_path)
    assert (result.code, result.out) == (2, "")
    assert result.err == ('rag: error: no questions for news: give --questions FILE '
                          '(JSONL, one {"question": ...} per line)\n')


def test_a_missing_corpus_or_questions_file_is_named(tmp_path):
    result = rag("bench", "speed", "--corpus", "nowhere", cwd=tmp_path)
    assert (result.code, result.err) == (2, "rag: error: no such file or folder: nowhere\n")
    (tmp_path / "news").mkdir()
    result = rag("bench", "speed", "--corpus", "news", "--questions", "q.jsonl", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("rag: error: cannot read questions file q.jsonl: [Errno 2] No such file or directory")
