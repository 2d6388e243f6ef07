"""Turn a model's draft into a checked answer: claims each supported by the passages they cite, or an abstention.

1. A draft that says it cannot answer is an abstention.
2. The draft is split into claims (`rag.checks.claims.split`): sentences, cut again after a marker that ends
   a clause. A claim must add something to the question; one that only repeats it is dropped.
3. Each claim is judged against the union of the passages it cites (`rag.checks.claims.align`); a claim that
   cites nothing, or whose citations do not support it, looks among all shown passages and cites the
   ones that do. A claim no passage supports is removed with a warning that names it.
4. No supported claim left -> abstain. A "how many / how much" question needs a quantity in its answer, a "when"
   question a time.
5. The question must be about what the supporting passages are about: all of its names and numbers
   (false premises: "what did Musk tell Xi?") and a share of its other topic words (a true sentence from
   a passage about something else answers nothing).
6. Its premise must not be what they contradict: "Why did the shares slide?" over "the stock gained"
   (`rag.checks.claims.premise`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.checks.abstention import declines
from rag.checks.citations import parse_citations
from rag.checks.claims.align import FRAGMENT_WORDS, AlignmentJudge, Judgement
from rag.checks.claims.judge import SupportJudge
from rag.checks.claims.premise import contradicted
from rag.checks.claims.sources import Source, sources_of
from rag.checks.claims.split import DraftClaim, split_claims
from rag.checks.grounding import _TOKEN, Evidence, anchors, date_words, key_terms, stem, topic_terms
from rag.checks.quarantine import model_view
from rag.config import DEFAULTS
from rag.types import Citation, Claim, Passage

# "Passage 3: …" or a bare "Passage 1": the model naming the prompt's numbering, which states nothing
_PASSAGE_LABEL = re.compile(r"(?<![\w\[])passage \d+\b\s*:?\s*(?=\S|$)", re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d\d\b")  # a year alone does not answer "how many"
_QUANTITY_QUESTION = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
_WHEN_QUESTION = re.compile(r"^\W*when\b|\b(?:what|which) (?:date|day|year|month|week|time)\b", re.IGNORECASE)
# a time, however vague: a digit, a month, a weekday or a word of time ("last week", "soon", "a decade ago")
_HAS_TIME = re.compile(r"\d|\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
                       r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|mon|tues|wednes|thurs|fri|satur|sun)(?:days?)?\b|"
                       r"\b(?:yesterday|today|tomorrow|tonight|now|currently|soon|ago|later|"
                       r"earlier|recently|once|then|early|mid|late|day|days|week|weeks|weekend|month|months|year|years|"
                       r"decade|decades|century|quarter|morning|afternoon|evening|night|spring|summer|autumn|fall|winter|"
                       r"season|time|date|since|until|before|after|during)\b", re.IGNORECASE)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|"
                         r"thousand|million|billion|half|third|quarter)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """The checked answer text (with markers), its citations and claims, or the reason for abstaining."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    warnings: tuple[str, ...]
    claims: tuple[Claim, ...] = ()


def _abstain(*reasons: str, claims: tuple[Claim, ...] = ()) -> Verdict:
    return Verdict("", (), True, tuple(r for r in reasons if r), claims)


def new_terms(answer: str, question: str) -> list[str]:
    """Key terms of the answer that the question does not already contain."""
    asked_terms = key_terms(question)
    asked = set(asked_terms) | {stem(t) for t in asked_terms}
    return [t for t in key_terms(answer) if t not in asked and stem(t) not in asked]


def _cite(text: str, numbers: list[int]) -> str:
    """Place the markers `[n]` before the final punctuation of `text`."""
    markers = "".join(f"[{n}]" for n in numbers)
    return re.sub(r"\s*([.!?]?)\s*$", lambda m: f" {markers}{m.group(1)}", text, count=1)


def _shown(text: str) -> str:
    return f"“{text}”" if len(text) <= 120 else f"“{text[:117]}…”"


def _judge_claim(judge: SupportJudge, draft: DraftClaim, question: str, sources: list[Source],
                 warnings: list[str]) -> Claim:
    """Judge one claim on its cited passages, then, failing that, on all of them."""
    cited = [s for s in sources if s.marker in draft.markers]
    verdict: Judgement | None = judge.judge(draft.text, question, cited) if cited else None
    if verdict is None or not verdict.supported:
        anywhere = judge.judge(draft.text, question, sources)
        if anywhere.supported:
            if draft.markers:
                wrong = "".join(f"[{n}]" for n in draft.markers)
                right = "".join(f"[{n}]" for n in sorted({s.marker for s in anywhere.support}))
                warnings.append(f"the model cited {wrong} for {_shown(draft.text)}, which does not state it; cited {right}")
            verdict = anywhere
        elif verdict is None:
            verdict = anywhere
    if not verdict.supported:
        return Claim(draft.text, draft.markers, False, verdict.score, (), verdict.reason)
    markers = tuple(sorted({s.marker for s in verdict.support}))
    return Claim(draft.text, markers, True, verdict.score, tuple(s.support() for s in verdict.support))


def verify(question: str, passages: list[Passage], draft: str, judge: SupportJudge | None = None,
           min_anchor_share: float = DEFAULTS.min_anchor_share, min_topic_share: float = DEFAULTS.min_topic_share) -> Verdict:
    """Check `draft` against the passages shown to the model (numbered 1..n in order)."""
    judge = judge or AlignmentJudge()
    if not draft.strip():
        return _abstain("the model found no answer in the passages")
    parsed = parse_citations(_PASSAGE_LABEL.sub("", draft), passages)
    drafts = [d for d in split_claims(parsed.text) if not declines(d.text)]
    if not drafts:
        return _abstain("the model found no answer in the passages")
    warnings = list(parsed.warnings)
    drafts = [d for d in drafts if new_terms(d.text, question)]
    if not drafts:
        return _abstain(*warnings, "the draft only repeated the question")
    answer = " ".join(d.text for d in drafts)
    if _QUANTITY_QUESTION.search(question) and not _HAS_NUMBER.search(_YEAR.sub(" ", answer)):
        return _abstain(*warnings, "withdrew an answer with no quantity to a how-many/how-much question")
    if _WHEN_QUESTION.search(question) and not _HAS_TIME.search(answer):
        return _abstain(*warnings, "withdrew an answer with no time or date to a when-question")
    sources = sources_of(passages)
    claims = tuple(_judge_claim(judge, d, question, sources, warnings) for d in drafts)
    kept = [c for c in claims if c.supported]
    if not kept:
        reasons = "; ".join(dict.fromkeys(c.reason for c in claims if c.reason))
        return _abstain(*warnings, f"withdrew an answer no passage supports ({reasons})", claims=claims)
    for claim in claims:
        if not claim.supported:
            warnings.append(f"removed a claim no passage supports: {_shown(claim.text)} ({claim.reason})")
    markers = sorted({m for c in kept for m in c.markers})
    # the model is shown each passage's title and date (rag.prompting), so both are evidence of what it is about
    cited = " ".join(f"{passages[m - 1].chunk.title} {date_words(passages[m - 1].chunk.published)} "
                     f"{model_view(passages[m - 1].chunk.text)[0]}" for m in markers)
    evidence = Evidence.of(cited)
    about = anchors(question)
    lacking_names = evidence.missing(about, names=about)
    if about and 1.0 - len(lacking_names) / len(about) < min_anchor_share:
        lacking = ", ".join(lacking_names)
        return _abstain(*warnings, f"withdrew an answer whose passage does not mention what was asked about ({lacking})",
                        claims=claims)
    short = len(drafts) == 1 and len(_TOKEN.findall(drafts[0].text)) <= FRAGMENT_WORDS  # an extracted answer: no "."
    topic = topic_terms(question)
    topic_missing = evidence.missing(topic, names=about)
    if topic and 1.0 - len(topic_missing) / len(topic) < min_topic_share:
        lacking = ", ".join(topic_missing)
        return _abstain(*warnings, f"withdrew an answer whose passage is about something else (lacks: {lacking})",
                        claims=claims)
    supporting = " ".join(s.sentence for c in kept for s in c.support)
    opposite = contradicted(question, supporting) or contradicted(question, cited)
    if opposite:
        return _abstain(*warnings, f"withdrew an answer to a premise its passages contradict ({opposite})", claims=claims)
    text = " ".join(_cite(c.text if short or c.text[-1] in ".!?" else c.text + ".", list(c.markers)) for c in kept)
    citations = tuple(Citation(m, passages[m - 1]) for m in markers)
    return Verdict(text, citations, False, tuple(warnings), claims)
