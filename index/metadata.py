"""Titles and publication dates read from an article's own text."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july",
     "august", "september", "october", "november", "december"], start=1)}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE_PATTERNS = (
    (re.compile(rf"\b{_MONTH}\.? (\d{{1,2}}),? (\d{{4}})\b"), ("month", "day", "year")),
    (re.compile(rf"\b(\d{{1,2}}) {_MONTH},? (\d{{4}})\b"), ("day", "month", "year")),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("year", "month", "day")),
)
# A line that labels what follows ("Key Points:") or credits the writer is not a headline.
_BYLINE = re.compile(r"(^|\s)(-\s*)?by\s+[A-Z]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s")
TITLE_MAX_CHARS = 90


def extract_title(text: str) -> str:
    """The first line when it reads as a headline, else the first sentence, shortened."""
    for raw in text.splitlines():
        line = raw.strip().lstrip("-•* ").strip()
        if not line or line.endswith(":") or (len(line) < 80 and _BYLINE.search(line)):
            continue
        words = line.split()
        if len(words) <= 14 and not line.endswith((".", "?", "!")):
            return line
        first = _SENTENCE_END.split(line, maxsplit=1)[0].strip()
        return _shorten(first)
    return "(untitled)"


def _shorten(text: str) -> str:
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def extract_date(text: str) -> str | None:
    """The first full calendar date the text states, as YYYY-MM-DD, or None."""
    best: tuple[int, str] | None = None
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups(), strict=True))
            month = parts["month"]
            month_no = int(month) if month.isdigit() else _MONTHS[month.lower()]
            try:
                iso = date(int(parts["year"]), month_no, int(parts["day"])).isoformat()
            except ValueError:  # "February 30" is not a date
                continue
            if best is None or match.start() < best[0]:
                best = (match.start(), iso)
            break
    return best[1] if best else None
