"""Gold question files: one JSON object per line.

`{"id", "question", "answers": [alias, ...], "evidence": [doc_id, ...], "answerable", "category"?,
"nuggets"?: [{"fact", "aliases": [alias, ...]}, ...]}`
Unknown fields are ignored and `category` and `nuggets` are optional, so other gold files load as they are.
A nugget is one fact a complete answer to an open question states; it counts as stated when one of its
aliases occurs in the answer (`rag.evals.metrics.alias_in`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError


@dataclass(frozen=True)
class Nugget:
    """One fact a complete answer states, and the phrasings that show it was stated."""

    fact: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class GoldQuestion:
    """One question with its acceptable answers and the articles that support them."""

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    answerable: bool
    category: str = "uncategorised"
    nuggets: tuple[Nugget, ...] = ()


def _nugget(row: dict) -> Nugget:
    """A nugget from its JSON object; one without a fact or without a usable alias could never be found."""
    aliases = row["aliases"]
    if not isinstance(row["fact"], str) or isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
        raise TypeError("a nugget needs a text fact and a list of text aliases")
    if not any(a.strip() for a in aliases):
        raise ValueError(f"nugget {row['fact']!r} has no alias")
    return Nugget(row["fact"], tuple(aliases))


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
                category=row.get("category") or "uncategorised",
                nuggets=tuple(_nugget(n) for n in row.get("nuggets") or ())))
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
