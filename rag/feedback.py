"""Thumbs up/down on answers, kept as JSON lines, and turned into gold-question candidates for `rag eval`.

A feedback line: `{"time", "rating", "question", "standalone_question", "answer", "abstained",
"citations", "model"}` (`citations` as in `rag ask --json`; `standalone_question` is what was
searched for after follow-up rewriting, equal to `question` when nothing was rewritten).

Candidates follow `evals/gold.jsonl` (`id`, `question`, `answers`, `evidence`, `answerable`,
`category`) with `category: "feedback"`, and use the standalone question, because a gold question
is asked without the conversation around it:

- helpful answer → answerable; `answers` is the answer without its `[n]`, `evidence` the cited articles.
- helpful "Not in the documents." → not answerable.
- not helpful → `needs_review: true` with empty `answers` and `evidence` and the answer the user
  rejected as `rejected_answer`: a person must say what the right answer is (or set `answerable`
  to false when the articles do not say). `answerable` starts true, because the user wanted an
  answer the assistant did not give; until reviewed, such a candidate can only score as wrong.

When the same standalone question was rated more than once (ignoring case and spacing), the last
rating wins and the candidate takes the place of that last rating.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.answer_view import answer_dict
from rag.checks.citations import strip_markers
from rag.errors import InputError
from rag.types import Answer

RATINGS = ("helpful", "not_helpful")
CATEGORY = "feedback"


def record(path: Path, rating: str, question: str, standalone: str, answer: Answer,
           now: datetime | None = None) -> dict[str, Any]:
    """Append one rating of `answer` to the JSONL file at `path` (created with its folders); returns the line's object."""
    if rating not in RATINGS:
        raise InputError(f"rating must be helpful or not_helpful, not {rating!r}")
    entry = {
        "time": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "question": question,
        "standalone_question": standalone,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": answer_dict(answer)["citations"],
        "model": answer.model,
    }
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One unbuffered write in append mode: O_APPEND puts each write at the end whole, so lines from
        # concurrent writers (several UI sessions) never interleave.
        with open(path, "ab", buffering=0) as out:
            out.write(line)
    except OSError as exc:
        raise InputError(f"cannot write feedback to {path}: {exc}") from exc
    return entry


def gold_candidates(feedback_path: Path) -> list[dict[str, Any]]:
    """Gold-question candidates from a feedback file (see the module docstring); a malformed line names FILE:LINE."""
    try:
        lines = feedback_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read feedback file {feedback_path}: {exc}") from exc
    latest: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = _entry(line)
        except ValueError as exc:
            raise InputError(f"{feedback_path}:{number}: not a feedback line ({exc})") from exc
        key = " ".join(entry["standalone_question"].split()).casefold()
        latest.pop(key, None)  # re-inserted, so it takes the place of its last rating
        latest[key] = entry
    return [_candidate(f"feedback-{n:03d}", entry) for n, entry in enumerate(latest.values(), start=1)]


def _entry(line: str) -> dict[str, Any]:
    """One feedback line, checked for the fields candidates are made from; ValueError says what is wrong."""
    entry = json.loads(line)  # JSONDecodeError is a ValueError
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    if entry.get("rating") not in RATINGS:
        raise ValueError(f"rating must be helpful or not_helpful, not {entry.get('rating')!r}")
    for key, kind in (("standalone_question", str), ("answer", str), ("abstained", bool), ("citations", list)):
        if not isinstance(entry.get(key), kind):
            raise ValueError(f"{key} is missing or not a {'boolean' if kind is bool else kind.__name__}")
    if not entry["standalone_question"].strip():
        raise ValueError("standalone_question is empty")
    if not all(isinstance(c, dict) and isinstance(c.get("doc_id"), str) for c in entry["citations"]):
        raise ValueError("every citation needs a doc_id")
    return entry


def _candidate(id_: str, entry: dict[str, Any]) -> dict[str, Any]:
    question = " ".join(entry["standalone_question"].split())
    if entry["rating"] == "not_helpful":
        return {"id": id_, "question": question, "answers": [], "evidence": [], "answerable": True,
                "category": CATEGORY, "needs_review": True, "rejected_answer": entry["answer"]}
    if entry["abstained"]:
        return {"id": id_, "question": question, "answers": [], "evidence": [], "answerable": False,
                "category": CATEGORY}
    evidence = list(dict.fromkeys(c["doc_id"] for c in entry["citations"]))  # cited articles, first citation first
    return {"id": id_, "question": question, "answers": [strip_markers(entry["answer"])], "evidence": evidence,
            "answerable": True, "category": CATEGORY}


def candidates_summary(candidates: list[dict[str, Any]]) -> str:
    """How many candidates of each kind there are, e.g. "3 gold candidates (1 helpful, 1 abstentions, 1 to review)"."""
    review = sum(1 for c in candidates if c.get("needs_review"))
    abstentions = sum(1 for c in candidates if not c["answerable"] and not c.get("needs_review"))
    return (f"{len(candidates)} gold candidates ({len(candidates) - review - abstentions} helpful, "
            f"{abstentions} abstentions, {review} to review)")


def write_candidates(path: Path, candidates: list[dict[str, Any]]) -> None:
    """Write candidates as a gold file (JSONL, one per line), replacing `path` and creating its folders."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in candidates), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write gold candidates to {path}: {exc}") from exc
