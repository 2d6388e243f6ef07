"""The support-judge role: does a set of passage sentences state a claim?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag.checks.claims.align import Judgement
from rag.checks.claims.sources import Source


class SupportJudge(Protocol):
    """Judges one claim of an answer to `question` against the sentences it may rest on."""

    name: str

    def judge(self, claim: str, question: str, sources: Sequence[Source]) -> Judgement: ...
