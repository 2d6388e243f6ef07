"""A window of publication dates: retrieval sees only the passages of articles published inside it.

`--since` and `--until` set its ends; `--as-of DATE` answers as a reader on that date would, with later
articles invisible. An article without a known date is outside every window: a question about a period
cannot be answered from a story that may not belong to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag.types import Chunk


@dataclass(frozen=True)
class DateWindow:
    """Publication dates from `since` to `until`, both included; None leaves that end open."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}): no article could be searched")

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None

    def admits(self, published: str | None) -> bool:
        """Whether an article published on `published` (ISO, or None when unknown) is inside the window."""
        if not self:
            return True
        if published is None:
            return False
        day = date.fromisoformat(published)
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def rows(self, chunks: Sequence[Chunk]) -> list[int] | None:
        """The rows of `chunks` inside the window; None when the window is open (every row)."""
        if not self:
            return None
        return [row for row, chunk in enumerate(chunks) if self.admits(chunk.published)]
