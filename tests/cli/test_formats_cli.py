"""`rag index` on the kinds of files people keep news in, through the real command (real MiniLM), and
`rag search` / `rag status` showing what came of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import rag

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def test_a_folder_of_pages_pdfs_dumps_and_feeds_is_indexed_with_dates_and_bad_rows_named(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("musk-beijing.html", "lingang-data.pdf", "scanned.pdf", "wire.jsonl", "archive.csv", "feed.atom"):
        shutil.copy(FORMATS / name, docs / name)
    built = rag("index", "docs", "--index", "ix", cwd=tmp_path)
    assert built.code == 1  # files were skipped: the exit status says so
    warnings = [line for line in built.err.splitlines() if "warning" in line]
    reason = "no text (looked for text, content, body, article, full_text; name the field with --field text=NAME)"
    where = docs.resolve()
    assert warnings == [  # in the order the files are read: by id
        f"rag: warning: skipped {where}/archive.csv:5: {reason}",
        f"rag: warning: skipped {where}/scanned.pdf: no text layer in 1 page(s): a scanned PDF needs OCR, "
        "which rag does not do",
        f"rag: warning: skipped {where}/wire.jsonl:4: {reason}",
        f"rag: warning: skipped {where}/wire.jsonl:5: not JSON (Unterminated string starting at at column 49)"]
    assert "indexed 8 articles (8 added, 0 updated, 0 removed, 0 unchanged)" in built.err

    status = json.loads(rag("status", "--json", "--index", "ix", cwd=tmp_path).out)
    dates = {k: a["published"] for k, a in status["manifest"]["articles"].items()}
    assert dates == {"archive-a1": "2024-04-29", "archive-a3": "2024-04-28", "feed-ecfeb611179be": "2024-05-01",
                     "lingang-data": "2024-05-02", "musk-beijing": "2024-04-28", "wire-u0eb6de7b5dec": None,
                     "wire-w-101": "2024-04-30", "wire-w-102": "2024-05-01"}

    found = json.loads(rag("search", "Who is the chairman of CATL?", "-k", "1", "--json", "--index", "ix", cwd=tmp_path).out)
    assert found[0]["doc_id"] == "wire-w-101"
    pdf = json.loads(rag("search", "Which data can Lingang companies transfer overseas?", "-k", "1", "--json", "--index", "ix",
                         cwd=tmp_path).out)
    assert (pdf[0]["doc_id"], pdf[0]["published"], pdf[0]["page"]) == ("lingang-data", "2024-05-02", 1)

    as_of = json.loads(rag("search", "Who is the chairman of CATL?", "--as-of", "2024-04-29", "--json", "--index", "ix",
                           cwd=tmp_path).out)
    assert {p["published"] for p in as_of} <= {"2024-04-28", "2024-04-29"} and as_of  # 2024-04-30's story is not seen yet
    clash = rag("search", "CATL", "--as-of", "2024-04-29", "--until", "2024-04-30", "--index", "ix", cwd=tmp_path)
    assert (clash.code, clash.err) == (2, "rag: error: --as-of 2024-04-29 and --until 2024-04-30 disagree: give one of them\n")


def test_field_flags_are_checked_before_anything_loads(tmp_path):
    (tmp_path / "docs").mkdir()
    bad_role = rag("index", "docs", "--field", "body=story", "--index", "ix", cwd=tmp_path)
    assert (bad_role.code, bad_role.err) == (
        2, "rag: error: --field body=story: unknown role 'body': use one of text, title, date, url, id\n")
    no_name = rag("index", "docs", "--field", "text", "--index", "ix", cwd=tmp_path)
    assert (no_name.code, no_name.err) == (2, "rag: error: --field text: give ROLE=NAME, e.g. --field text=story\n")
