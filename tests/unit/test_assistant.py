import pytest

from rag.answer_view import answer_dict
from rag.assistant import Assistant, AssistantSettings, clean_question
from rag.errors import InputError
from rag.prompting import SYSTEM
from tests.fakes import ScriptedBackend


def test_prompt_numbers_passages_in_rank_order_and_ends_with_the_question(retriever):
    backend = ScriptedBackend("Zeng Yuqun")
    streamed = []
    answer = Assistant(retriever, backend).answer("Who is the chairman of CATL?", on_token=streamed.append)
    [messages] = backend.calls
    assert messages[0] == {"role": "system", "content": SYSTEM}
    user = messages[1]["content"]
    assert user.endswith("\n\nQuestion: Who is the chairman of CATL?")
    for number, passage in enumerate(answer.passages, start=1):
        assert f"Passage {number} ({passage.chunk.title}" in user
    assert user.index("Passage 1 (") < user.index("Passage 2 (") < user.index("Passage 4 (")
    assert "".join(streamed) == "Zeng Yuqun"
    assert answer.text.startswith("Zeng Yuqun [") and not answer.abstained
    assert answer.citations[0].passage.chunk.article_id == "004_93dc4c72c663ac72"


def test_the_json_form_has_the_documented_keys(retriever):
    answer = Assistant(retriever, ScriptedBackend("Zeng Yuqun")).answer("Who is the chairman of CATL?")
    data = answer_dict(answer)
    assert {"question", "answer", "abstained", "citations", "retrieved", "model", "timings_ms"} <= set(data)
    assert set(data["citations"][0]) >= {"marker", "doc_id", "chunk_id", "text", "score"}
    assert [r["chunk_id"] for r in data["retrieved"]] == [p.chunk.id for p in answer.passages]
    assert set(data["timings_ms"]) == {"retrieve", "first_token", "generate", "check", "total"}


def test_an_off_topic_question_abstains_without_calling_the_model(retriever):
    backend = ScriptedBackend()
    answer = Assistant(retriever, backend, AssistantSettings(score_floor=0.9)).answer("Recipe for tomato soup?")
    assert answer.abstained and answer.text == "Not in the documents." and backend.calls == []
    assert answer.warnings[0].startswith("no passage is close enough to the question (best score ")


def test_an_invented_answer_becomes_an_abstention_that_keeps_the_draft(retriever):
    answer = Assistant(retriever, ScriptedBackend("Tesla paid 9 billion dollars.")).answer("How much did Tesla pay Baidu?")
    assert answer.abstained and answer.text == "Not in the documents."
    assert answer.draft == "Tesla paid 9 billion dollars."
    assert answer.citations == ()


def test_passages_that_do_not_fit_are_dropped_lowest_rank_first(retriever):
    roomy = Assistant(retriever, ScriptedBackend("Zeng Yuqun", context_tokens=4096))
    tight = Assistant(retriever, ScriptedBackend("Zeng Yuqun", context_tokens=300))
    full = roomy.answer("Who is the chairman of CATL?").passages
    cut = tight.answer("Who is the chairman of CATL?").passages
    assert 0 < len(cut) < len(full) and cut == full[: len(cut)]


def test_prompt_for_gives_the_prompt_the_answer_reads_and_ignores_the_floor(retriever):
    backend = ScriptedBackend("Zeng Yuqun", context_tokens=300)
    assistant = Assistant(retriever, backend)
    answer = assistant.answer("Who is the chairman of CATL?")
    shown, messages = assistant.prompt_for("Who is the chairman of CATL?")
    assert shown == list(answer.passages) and messages == backend.calls[0]  # same passages, same budget cut
    floored = Assistant(retriever, ScriptedBackend(context_tokens=300), AssistantSettings(score_floor=0.99))
    shown, _ = floored.prompt_for("Who is the chairman of CATL?")
    assert shown == list(answer.passages)  # the answer would abstain; the prompt is still built
    none, bare = assistant.prompt_for("Who is the chairman of CATL?", with_passages=False)
    assert none == [] and "Passage 1" not in bare[1]["content"]
    assert bare[1]["content"].endswith("Question: Who is the chairman of CATL?")


def test_a_question_longer_than_the_context_is_an_input_error(retriever):
    assistant = Assistant(retriever, ScriptedBackend(context_tokens=512))
    with pytest.raises(InputError, match=r"^the question is too long for scripted: with no passages the prompt needs \d+ tokens"):
        assistant.answer("Tesla " * 600)


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x07\x1b"])
def test_empty_questions_are_refused(question):
    with pytest.raises(InputError, match=r'^the question is empty: ask something, e.g. rag ask "Why did Musk visit Beijing\?"$'):
        clean_question(question)


def test_control_characters_are_replaced_and_other_scripts_kept():
    assert clean_question("Who\x00 met\x1b[31m 李強?\n") == "Who met 李強?"


@pytest.mark.parametrize(("pasted", "question"), [
    ("\x1b[1mWho is the chairman of \x1b[38;5;196mCATL\x1b[0m?", "Who is the chairman of CATL?"),  # colours
    ("\x1b]0;a title\x07Who runs \x1b]8;;http://x\x1b\\CATL\x1b]8;;\x1b\\?", "Who runs CATL?"),  # title, link
    ("\x1b[2K\x1bMWho\x1b?", "Who ?"),  # erase line, reverse index; a lone ESC is a control character
    ("\x1b]0;never terminated Who?", "]0;never terminated Who?"),  # an unterminated OSC does not eat the question
])
def test_terminal_escape_sequences_are_dropped_whole(pasted, question):
    assert clean_question(pasted) == question


def test_sources_quote_the_sentence_that_supports_the_answer(retriever):
    from rag.answer_view import sources_text, supporting_sentence

    text = "Musk met Li on Sunday. Tesla partnered with Baidu on mapping. Shares rose."
    assert supporting_sentence(text, "Baidu [1]") == "Tesla partnered with Baidu on mapping."
    answer = Assistant(retriever, ScriptedBackend("Zeng Yuqun")).answer("Who is the chairman of CATL?")
    shown = sources_text(answer)
    assert shown.startswith(f"[{answer.citations[0].marker}] China's Minister of Industry")
    quote = "“Tesla CEO Elon Musk and Zeng Yuqun, chairman of Chinese electric battery giant CATL, walk side by side"
    assert quote in " ".join(shown.split())


def test_reading_ahead_gives_the_model_the_very_prompt_the_answer_sends(retriever):
    from tests.fakes import ReadingBackend

    backend = ReadingBackend("Zeng Yuqun")
    assistant = Assistant(retriever, backend)
    assert assistant.prefetch("Who is the chairman of CATL?") == sum(len(m["content"].split()) for m in
                                                                     backend.prefilled[0])
    assistant.answer("Who is the chairman of CATL?")
    assert backend.calls == backend.prefilled  # same passages, same order, same words: the cache is all reused
    assert backend.prefilled[0][1]["content"].endswith("\n\nQuestion: Who is the chairman of CATL?")


def test_reading_ahead_needs_a_backend_that_can_and_a_passage_over_the_floor(retriever):
    from tests.fakes import ReadingBackend

    assert Assistant(retriever, ScriptedBackend()).prefetch("Who is the chairman of CATL?") == 0  # an API model
    backend = ReadingBackend()
    floor = Assistant(retriever, backend, AssistantSettings(score_floor=0.99))
    assert floor.prefetch("Who is the chairman of CATL?") == 0 and backend.prefilled == []
    with pytest.raises(InputError):
        floor.prefetch("  ")
