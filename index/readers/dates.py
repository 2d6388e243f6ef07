"""Dates as they come in metadata ("2024-04-28T10:00:00Z", "Sun, 28 Apr 2024 10:00:00 GMT", "28 April 2024"),
as ISO calendar dates."""

from __future__ import annotations

from datetime import datetime

from rag.index.metadata import extract_date

# Parsed twice with different defaults: a part the value does not give comes out different, so "April 2024"
# (no day) is not taken for a date that day of the month happened to fill in.
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


def iso_date(value: str) -> str | None:
    """The calendar date `value` names in full, as YYYY-MM-DD, or None.

    A date with a time zone keeps the day it was in that zone: a story published at 01:00 in Beijing
    is dated that day, not the UTC day before."""
    if not value or not value.strip():
        return None
    from dateutil import parser

    try:
        first, second = (parser.parse(value.strip(), default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return extract_date(value)
    if first.date() != second.date():
        return None
    return first.date().isoformat()
