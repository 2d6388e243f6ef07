"""A follow-up shown first the passages the real 0.5B has just read: llama.cpp reads only the rest of the prompt."""

from __future__ import annotations

from rag.followups import Conversation
from rag.prompting import build_messages


def test_a_follow_up_reads_only_the_passages_it_was_not_shown_before(assistant, backend, monkeypatch):
    llm = backend._llm
    prompts: list[list[int]] = []
    evaluated: list[int] = []
    stream, evaluate = backend.stream, llm.eval

    def recording_stream(messages, params):
        prompts.append(backend._prompt_tokens(messages))
        evaluated.append(0)
        return stream(messages, params)

    def counting_eval(tokens):
        evaluated[-1] += len(tokens)
        return evaluate(tokens)

    monkeypatch.setattr(backend, "stream", recording_stream)
    monkeypatch.setattr(llm, "eval", counting_eval)
    conversation = Conversation(assistant)
    _, first = conversation.ask("Which company did Tesla partner with on mapping?")
    rewrite, second = conversation.ask("How much did its shares close up on Monday in Hong Kong?")
    assert "Baidu" in first.text and rewrite.question == "How much did Baidu's shares close up on Monday in Hong Kong?"
    assert "2.4%" in second.text
    assert [c.passage.chunk.article_id for c in second.citations] == ["002_9ad4130286e12838"]
    # the first question's first passage, retrieved again further down, leads the follow-up's prompt
    first_read = first.passages[0]
    ranked = [p.chunk.id for p in assistant.retriever.retrieve(second.question, 4)]
    assert first_read.chunk.id in ranked[1:]
    assert second.passages[0].chunk.id == first_read.chunk.id
    shared = llm.longest_token_prefix(prompts[0], prompts[1])
    through_first = llm.longest_token_prefix(prompts[1], backend._prompt_tokens(build_messages(second.question, [first_read])))
    assert shared >= through_first > 100  # the system prompt and the whole first passage
    # llama.cpp took the shared prefix from its KV cache: it evaluated only the rest of the prompt, and the reply
    assert evaluated[1] - backend.count_tokens(second.draft) <= len(prompts[1]) - shared + 1
