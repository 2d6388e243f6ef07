"""`rag ask`, `rag search` and `rag chat`: questions from the command line and the terminal."""

from __future__ import annotations

import json
import os
import sys

from rag.compose import build_assistant, open_retriever
from rag.config import Settings
from rag.errors import RagError
from rag.terminal import say


def cmd_ask(args, settings: Settings) -> int:
    """Answer one question: streamed to a terminal, or one JSON object with `--json`."""
    from rag.answer_view import answer_dict, sources_text
    from rag.assistant import clean_question
    from rag.terminal import StreamPrinter

    clean_question(args.question)  # fail fast, before loading any model
    assistant = build_assistant(settings, say)
    if args.json:
        answer = assistant.answer(args.question)
        print(json.dumps(answer_dict(answer), ensure_ascii=False, indent=2))
        return 0
    printer = StreamPrinter()
    answer = assistant.answer(args.question, on_token=printer.token)
    printer.finish(answer.text)
    print()
    print(sources_text(answer))
    t = answer.timings
    if t["first_token"]:
        say(f"first token {t['first_token'] / 1000:.1f} s, total {t['total'] / 1000:.1f} s ({answer.model})")
    else:
        say(f"answered without calling the model in {t['total'] / 1000:.1f} s")
    return 0


def cmd_search(args, settings: Settings) -> int:
    """The ranked passages for a query, without the model."""
    from rag.answer_view import excerpt, passage_dict
    from rag.assistant import clean_question

    query = clean_question(args.query)
    passages = open_retriever(settings, say=say).retrieve(query, settings.top_k)
    if args.json:
        print(json.dumps([{**passage_dict(p), "rank": p.rank, "title": p.chunk.title, "published": p.chunk.published,
                           "page": p.chunk.page, "text": p.chunk.text} for p in passages], ensure_ascii=False, indent=2))
        return 0
    for p in passages:
        print(f"{p.rank}. {p.score:.3f}  {p.chunk.title} [{p.chunk.id}]")
        print(f"   {excerpt(p.chunk.text, 300)}")
    return 0


def _show_rewrite(rewrite) -> None:
    if rewrite.changed:
        say(f"(searched for: {rewrite.question})")


def cmd_chat(args, settings: Settings) -> int:
    """A conversation in the terminal: questions from stdin, follow-ups understood."""
    from rag.answer_view import sources_text
    from rag.followups import Conversation
    from rag.terminal import StreamPrinter

    conversation = Conversation(build_assistant(settings, say))  # the model loads once for the whole chat
    interactive = sys.stdin.isatty()
    if interactive:
        say("ask about the articles; follow-ups are understood. /reset forgets the conversation, /quit or Ctrl-D ends")
    while True:
        try:
            line = input("> " if interactive else "").strip()
        except EOFError:
            if interactive:
                print()  # Ctrl-D leaves the cursor after the prompt
            return 0
        if not line:
            continue
        if line == "/quit":
            return 0
        if line == "/reset":
            conversation.turns.clear()
            say("conversation cleared")
            continue
        printer = StreamPrinter()
        try:
            _, answer = conversation.ask(line, on_token=printer.token, on_rewrite=_show_rewrite)
        except RagError as exc:
            if os.environ.get("RAG_DEBUG") == "1":
                raise
            if printer.shown:
                print()  # end the half-streamed draft's line
            say(f"error: {exc}")
            continue
        printer.finish(answer.text)
        sources = sources_text(answer)
        print(f"\n{sources}\n" if sources else "", flush=True)
