"""The answer checks run again on a saved `rag eval` run's drafts, without the model.

The run's predictions keep each question's draft and the passages it was shown, and the checks are deterministic
given those: `scripts/reverify.py` and `scripts/bench_answerability.py` measure a change to the checks this way.
"""

from __future__ import annotations

from rag.checks.claims.judge import SupportJudge
from rag.checks.claims.quotes import quote_answer
from rag.checks.verify import Verdict, verify
from rag.config import DEFAULTS
from rag.types import Chunk, Passage


def shown_passages(prediction: dict, chunks: dict[str, Chunk]) -> list[Passage]:
    """The passages a saved prediction was shown, rebuilt from the index's chunks, in their places."""
    return [Passage(chunks[r["chunk_id"]], r["score"], i) for i, r in enumerate(prediction["retrieved"], start=1)]


def recheck(prediction: dict, shown: list[Passage], judge: SupportJudge, quotes: bool,
            min_topic_share: float = DEFAULTS.min_topic_share) -> Verdict | None:
    """The verdict today's checks give the prediction's draft (quoted as the `quote` setting does with `quotes`);
    None when it has no draft, because the score floor abstained before the model was asked."""
    if not prediction["draft"]:
        return None
    verdict = verify(prediction["question"], shown, prediction["draft"], judge, min_topic_share=min_topic_share)
    return quote_answer(prediction["question"], verdict, shown, getattr(judge, "embedder", None)) if quotes else verdict
