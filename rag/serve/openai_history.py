"""The question the assistant answers, taken from an OpenAI conversation.

OpenAI clients keep the conversation and send all of it with every request, so the server holds no
state: the earlier messages are paired into (question, answer) exchanges — a user message followed
by an assistant message — rebuilt into turns with `rag.followups.replay`, and the last user
message is rewritten against them with `rag.followups.rewrite` ("On which day did Musk meet
him?" after "Who is the chairman of CATL?" / "Zeng Yuqun [4]" becomes "On which day did Musk meet
Zeng Yuqun?"). System, developer and tool messages are not part of an exchange and are skipped, as
are assistant messages without text (tool calls) and earlier user messages no answer follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from rag.assistant import clean_question
from rag.errors import InputError
from rag.followups import Rewrite, replay, rewrite
from rag.serve.protocol import ChatMessage


def question_from(messages: Sequence[ChatMessage]) -> Rewrite:
    """The standalone question to answer: the last user message, cleaned and rewritten against the exchanges before it.

    Raises InputError when there is no user message or the last one is empty."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None:
        raise InputError("messages holds no user message: the last user message is the question to answer")
    try:
        asked = clean_question(messages[last].text)
    except InputError:
        # clean_question's own message suggests a `rag ask` command line, which means nothing to an API client
        raise InputError("the last user message is empty: it should hold the question to answer") from None
    return rewrite(replay(exchanges(messages[:last])), asked)


def exchanges(messages: Sequence[ChatMessage]) -> list[tuple[str, str]]:
    """(question, answer) pairs: a user message and the assistant message right after it.

    Only user and assistant messages with text count; other roles and empty messages are skipped."""
    said = [(m.role, _cleaned(m.text)) for m in messages if m.role in ("user", "assistant")]
    said = [(role, text) for role, text in said if text]
    return [(question, answer) for (asker, question), (answerer, answer) in pairwise(said)
            if asker == "user" and answerer == "assistant"]


def _cleaned(text: str) -> str:
    """The text as questions are cleaned (control characters and runs of spaces folded); "" when empty."""
    try:
        return clean_question(text)
    except InputError:
        return ""
