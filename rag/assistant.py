"""The assistant: retrieve, prompt, stream the model's draft, then verify it."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.backends import ChatBackend, GenerationParams
from rag.checks.abstention import NOT_IN_DOCUMENTS, floor_reason
from rag.checks.claims.judge import SupportJudge
from rag.checks.claims.quotes import quote_answer
from rag.checks.verify import verify
from rag.config import DEFAULTS
from rag.errors import InputError
from rag.prompting import build_messages, cached_first
from rag.retrieval import Retriever, within
from rag.retrieval.recency import as_of_prefix, asks_for_latest
from rag.retrieval.window import DateWindow
from rag.types import Answer, Passage

PROMPT_OVERHEAD_TOKENS = 8  # chat-template tokens per message, on top of their text


@dataclass(frozen=True)
class AssistantSettings:
    """Knobs of the answering path, resolved for one model (`rag.compose.assistant_settings`); the defaults are
    the settings' (`rag.config.Settings`, measured on the seed gold sets: README)."""

    top_k: int = DEFAULTS.top_k
    score_floor: float = DEFAULTS.score_floor  # below this cosine similarity no passage is on topic
    min_anchor_share: float = DEFAULTS.min_anchor_share  # share of the question's names/numbers the cited passage must mention
    min_topic_share: float = DEFAULTS.min_topic_share  # share of the question's other topic words it must contain
    answer_style: str = "short"  # short | sentences: a resolved style (rag.prompting.resolve_style chooses for "auto")
    quote: bool = False  # answer in the passages' own sentences (rag.checks.claims.quotes); resolved, like the style
    focus: int = DEFAULTS.focus  # show only this many sentences closest to the question (rag.focus); 0: whole passages
    focus_window: int = DEFAULTS.focus_window  # neighbours shown on either side of each focused sentence
    # a follow-up shows first, in the same places, the passages the model has just read (rag.prompting.cached_first)
    reuse_passages: bool = DEFAULTS.reuse_passages
    params: GenerationParams = field(default_factory=GenerationParams)


# Terminal escape sequences (colours, cursor moves, titles, links) as they come in pasted terminal output.
# Replacing only their ESC left "[31m" glued to the next word, which changed retrieval and the key terms the
# answer is checked against: a pasted coloured question could get "Not in the documents."
# CSI (ESC [ ... final byte), a terminated OSC (ESC ] ... BEL or ESC backslash), or a two-character escape.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\^_])")


def clean_question(question: str) -> str:
    """Drop terminal escape sequences, replace other control characters with spaces and fold whitespace;
    an empty result is an error."""
    cleaned = _ANSI_ESCAPE.sub("", question)  # colours mark words, they never stand for a space
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise InputError('the question is empty: ask something, e.g. rag ask "Why did Musk visit Beijing?"')
    return cleaned


class Assistant:
    """Answers questions with verified `[n]` citations, or says the answer is not in the documents."""

    def __init__(self, retriever: Retriever, backend: ChatBackend, settings: AssistantSettings | None = None,
                 judge: SupportJudge | None = None):
        from rag.checks.claims.align import AlignmentJudge

        self.retriever = retriever
        self.backend = backend
        self.settings = settings or AssistantSettings()
        # the retriever's embedder gives the judge MiniLM similarity at no extra load; without one, words only
        self.judge = judge or AlignmentJudge(getattr(retriever, "embedder", None))
        self._last_read: tuple[str, ...] = ()  # the chunk ids of the last prompt the model read, in order

    def answer(self, question: str, on_token: Callable[[str], None] | None = None, top_k: int | None = None,
               window: DateWindow | None = None, follow_up: bool = False) -> Answer:
        """Answer `question`; `on_token` receives the model's draft as it streams; `window` searches only the
        articles published in it, for this question (the retriever's own window otherwise); `follow_up`: it
        continues a conversation, so with `reuse_passages` the passages the model has just read lead its prompt."""
        started = time.perf_counter()
        question = clean_question(question)
        # A question no prompt can hold is an error whatever the passages: checked after retrieval, it came back
        # "Not in the documents." whenever no passage scored above the floor, and "too long" only otherwise.
        self._fit(question, [])
        searched = within(self.retriever, window)
        retrieved = searched.retrieve(question, top_k or self.settings.top_k)
        timings = {"retrieve": _ms(started)}
        reason = self._floor_reason(retrieved)
        if reason:
            return self._result(question, retrieved, "", timings, started, abstained=(reason,))
        shown, messages, prompt_tokens, focused = self._arrange(question, retrieved, follow_up)
        if focused:
            timings["focus"] = _ms(started) - timings["retrieve"]
        self._last_read = tuple(p.chunk.id for p in shown)
        draft, timings["first_token"] = self._generate(messages, on_token, started)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": self.backend.count_tokens(draft)}
        checking = time.perf_counter()
        verdict = verify(question, shown, draft, self.judge, self.settings.min_anchor_share, self.settings.min_topic_share)
        if self.settings.quote:
            verdict = quote_answer(question, verdict, shown, getattr(self.judge, "embedder", None))
        timings["check"] = _ms(checking)
        if verdict.abstained:
            return self._result(question, shown, draft, timings, started, abstained=verdict.warnings, usage=usage,
                                claims=verdict.claims)
        text = verdict.text
        # an answer about the present, or read as of a day, is true as of its sources: say which day that is
        if asks_for_latest(question) or getattr(searched, "window", DateWindow()).until:
            text = as_of_prefix(text, verdict.citations)
        return Answer(question, text, verdict.citations, tuple(shown), self.backend.name, False,
                      verdict.warnings, _finish(timings, started), draft, usage, verdict.claims)

    def prefetch(self, question: str, top_k: int | None = None, window: DateWindow | None = None,
                 follow_up: bool = False, stop: Callable[[], bool] = lambda: False) -> int:
        """Have the model read, ahead of time, the prompt `answer` would give it for `question` (the UI calls this
        while the user types), so that the answer reads only the tokens that differ: with the same passages, little
        more than the rest of the question. The arguments are `answer`'s; `stop()` true ends the reading early.

        Nothing else changes: the answer's passages, their order and its prompt are those it would have had anyway.
        Returns the prompt tokens the model now holds; 0 when its backend cannot read ahead (API models) or no
        passage reaches the score floor (the answer will not call the model)."""
        prefill = getattr(self.backend, "prefill", None)
        if prefill is None:
            return 0
        question = clean_question(question)
        retrieved = within(self.retriever, window).retrieve(question, top_k or self.settings.top_k)
        if self._floor_reason(retrieved):
            return 0
        _, messages, _, _ = self._arrange(question, retrieved, follow_up)
        return prefill(messages, stop)

    def _floor_reason(self, retrieved: list[Passage]) -> str | None:
        """Why no passage is on topic (the best score is under `score_floor`), or None when one is. The best
        similarity, not the first passage's: a hybrid ranking may put a keyword match first."""
        return floor_reason(max((p.score for p in retrieved), default=None), self.settings.score_floor)

    def _arrange(self, question: str, retrieved: list[Passage],
                 follow_up: bool) -> tuple[list[Passage], list[dict[str, str]], int, bool]:
        """The passages shown for `question` and the prompt built from them: focused (`focus`), or with the last
        prompt's passages first for a follow-up (`reuse_passages`), then fitted to the context. Returns the passages,
        the messages, the prompt's size in tokens and whether focus cut the passages."""
        retrieved, views = self._focused(question, retrieved)
        if views is None and follow_up and self.settings.reuse_passages:  # focused views differ per question
            retrieved = cached_first(retrieved, self._last_read)
        shown, messages, prompt_tokens = self._fit(question, retrieved, views)
        return shown, messages, prompt_tokens, views is not None

    def prompt_for(self, question: str, window: DateWindow | None = None, with_passages: bool = True,
                   query: str | None = None) -> tuple[list[Passage], list[dict[str, str]]]:
        """The passages and the prompt `answer` would give the model for `question` (the same retrieval, focus
        and context budget) but with no score floor, or the prompt with no passages at all: for scoring given
        replies, such as multiple-choice options, against exactly what a free answer reads. `query` retrieves
        with other words than the question's (a multiple-choice question and its options)."""
        question = clean_question(question)
        if not with_passages:
            _, messages, _ = self._fit(question, [])
            return [], messages
        retrieved = within(self.retriever, window).retrieve(clean_question(query) if query else question,
                                                            self.settings.top_k)
        passages, views = self._focused(question, retrieved)
        shown, messages, _ = self._fit(question, passages, views)
        return shown, messages

    def _focused(self, question: str, retrieved: list[Passage]) -> tuple[list[Passage], list[str] | None]:
        """The passages cut to the sentences that bear on the question (`focus`), with their views; unchanged,
        with no views, when focus is off or the retriever has no embedder."""
        embedder = getattr(self.retriever, "embedder", None)
        if not self.settings.focus or embedder is None:
            return retrieved, None
        from rag.focus import focus

        focused = focus(question, retrieved, embedder, self.settings.focus, self.settings.focus_window)
        return list(focused.passages), list(focused.views)

    def _fit(self, question: str, passages: list[Passage],
             views: list[str] | None = None) -> tuple[list[Passage], list[dict[str, str]], int]:
        """Drop the lowest-ranked passages (whole, never cut) until the prompt fits the context.

        Returns the passages kept, the prompt built from them and its size in the model's tokens."""
        budget = self.backend.context_tokens - self.settings.params.max_tokens
        shown = list(passages)
        while True:
            messages = build_messages(question, shown, self.settings.answer_style,
                                      views[:len(shown)] if views is not None else None)
            used = sum(self.backend.count_tokens(m["content"]) + PROMPT_OVERHEAD_TOKENS for m in messages)
            if used <= budget:
                return shown, messages, used
            if not shown:
                raise InputError(f"the question is too long for {self.backend.name}: with no passages the prompt "
                                 f"needs {used} tokens and the model's context leaves {budget}")
            shown.pop()

    def _generate(self, messages: list[dict[str, str]], on_token, started: float) -> tuple[str, float]:
        pieces: list[str] = []
        first_token = 0.0
        for piece in self.backend.stream(messages, self.settings.params):
            if not pieces:
                first_token = _ms(started)
            pieces.append(piece)
            if on_token:
                on_token(piece)
        return "".join(pieces).strip(), first_token

    def _result(self, question, shown, draft, timings, started, abstained: tuple[str, ...], usage=None,
                claims=()) -> Answer:
        return Answer(question, NOT_IN_DOCUMENTS, (), tuple(shown), self.backend.name, True, tuple(abstained),
                      _finish(timings, started), draft, usage or {"prompt_tokens": 0, "completion_tokens": 0}, claims)


def _finish(timings: dict[str, float], started: float) -> dict[str, float]:
    total = _ms(started)
    first = timings.get("first_token", 0.0)
    generate = round(total - timings["retrieve"], 1) if first else 0.0
    finished = {"retrieve": timings["retrieve"], "first_token": first, "generate": generate, "total": total}
    for step in ("focus", "check"):
        if step in timings:
            finished[step] = round(timings[step], 1)
    return finished


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
