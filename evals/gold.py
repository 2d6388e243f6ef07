"""Gold question files: one JSON object per line.

`{"id", "question", "answers": [alias, ...], "evidence": [doc_id, ...], "answerable", "category"?}`
Unknown fields are ignored and `category` is optional, so other gold files load as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError


@dataclass(frozen=True)
class GoldQuestion:
    """One question with its acceptable answers and the articles that support them."""

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    answerable: bool
    category: str = "uncategorised"


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read a gold file; a malformed line is an error naming the file and line."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read gold file {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(GoldQuestion(
                id=str(row["id"]), question=row["question"], answers=tuple(row.get("answers", ())),
                evidence=tuple(row.get("evidence", ())), answerable=bool(row["answerable"]),
                category=row.get("category") or "uncategorised"))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not a gold question ({type(exc).__name__}: {exc})") from exc
    return questions


def questions_of(path: Path) -> list[str]:
    """Just the questions of a JSONL file whose lines have a "question" (gold files, or any list of questions)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read questions file {path}: {exc}") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = json.loads(line)["question"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f'{path}:{number}: expected a JSON object with a "question" ({type(exc).__name__})') from exc
        if not isinstance(question, str) or not question.strip():
            raise InputError(f"{path}:{number}: the question must be non-empty text")
        questions.append(question)
    return questions
