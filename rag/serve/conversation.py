"""The question the assistant answers, taken from an OpenAI conversation.

This is the seam for follow-up questions. For now the earlier messages are only validated
(by the request schema) and the last user message is asked on its own. A later step will
rewrite a follow-up ("and when did it open?") into a standalone question using the earlier
turns; it belongs here, so the HTTP layer and the assistant stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.assistant import clean_question
from rag.errors import InputError
from rag.serve.protocol import ChatMessage


def question_from(messages: Sequence[ChatMessage]) -> str:
    """The question to answer: the text of the last user message, cleaned.

    Raises InputError when there is no user message or the last one is empty."""
    users = [m for m in messages if m.role == "user"]
    if not users:
        raise InputError("messages holds no user message: the last user message is the question to answer")
    try:
        return clean_question(users[-1].text)
    except InputError:
        # clean_question's own message suggests a `rag ask` command line, which means nothing to an API client
        raise InputError("the last user message is empty: it should hold the question to answer") from None
