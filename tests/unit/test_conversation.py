"""Follow-up rewriting (`rag.followups`): exact rewrites, abstentions, replay, and `Conversation.ask`."""

import pytest

from rag.assistant import Assistant, AssistantSettings
from rag.errors import InputError
from rag.followups import Conversation, Rewrite, Turn, replay, rewrite
from rag.prompting import cached_first
from rag.types import Chunk, Passage
from tests.fakes import ScriptedBackend

CATL = "Who is the chairman of CATL?"


@pytest.mark.parametrize(("previous", "answer", "follow_up", "expected"), [
    (CATL, "Zeng Yuqun [1]", "On which day did Musk meet him?",
     Rewrite("On which day did Musk meet Zeng Yuqun?", "him → Zeng Yuqun (the previous answer)")),
    ("Which Chinese tech company did Tesla partner with on mapping?", "Baidu [1]", "Which news agency reported it?",
     Rewrite("Which news agency reported Baidu?", "it → Baidu (the previous answer)")),
    # a quantity is not an entity: "it" is what the previous question was about
    ("What share of the world's EV batteries does CATL produce?", "one-third [1]",
     "Where had it planned to build a battery factory with Tesla?",
     Rewrite("Where had CATL planned to build a battery factory with Tesla?",
             "it → CATL (who the previous question was about)")),
    ("When did Musk visit Beijing?", "April 28, 2024 [1]", "Why did he go there?",
     Rewrite("Why did Musk go to Beijing?", "he → Musk (who the previous question was about); "
                                            "there → Beijing (the place in the previous question)")),
    ("Where did Musk meet Li Qiang?", "Beijing [1]", "What happened there?",
     Rewrite("What happened in Beijing?", "there → Beijing (the previous answer)")),
    (CATL, "Zeng Yuqun [1]", "What is his role at Tesla?",
     Rewrite("What is Zeng Yuqun's role at Tesla?", "his → Zeng Yuqun (the previous answer)")),
    ("How many times has Musk visited China since 2018?", "five [1]", "And in 2023?",
     Rewrite("How many times has Musk visited China since 2018 in 2023?",
             "completed from the previous question: How many times has Musk visited China since 2018?")),
])
def test_follow_ups_are_rewritten_into_standalone_questions(previous, answer, follow_up, expected):
    result = rewrite(replay([(previous, answer)]), follow_up)
    assert result == expected
    assert result.changed is True


CCPIT = "Who heads the China Council for the Promotion of International Trade?"
REN = ("Also on Sunday, Musk met with Ren Hongbin, chairman of the China Council for the Promotion of International "
       "Trade, a government-backed trade body that invited him to Beijing on this trip. [1]")
HUANG = ("CONCERNS: Tech companies investing in AI businesses that purchase their products have raised questions "
         "among investors [1] Nvidia Corp chief executive officer Jensen Huang (黃仁勳) on Saturday said that the "
         "company would be participating in OpenAI's latest funding round [1]")


@pytest.mark.parametrize(("turn", "follow_up", "expected"), [
    # a quoted answer: the model's own answer names the person, the article's sentence opens with "Also" and Musk
    (Turn(CCPIT, CCPIT, REN, False, "Ren Hongbin, chairman of the China Council for the Promotion of International "
                                    "Trade."),
     "What did Musk and he talk about?", "What did Musk and Ren Hongbin talk about?"),
    # the same answer replayed by a client, with no draft: the name beside the question's own is the one asked for
    (Turn(CCPIT, CCPIT, REN, False), "What did Musk and he talk about?", "What did Musk and Ren Hongbin talk about?"),
    # a label is not a name, and "Nvidia Corp" is not new in an answer to a question about Nvidia
    (Turn("Who is Nvidia's chief executive officer?", "Who is Nvidia's chief executive officer?", HUANG, False,
          "Nvidia Corp's chief executive officer Jensen Huang (黃仁勳)"),
     "Where was he visiting?", "Where was Jensen Huang visiting?"),
    (Turn("Who is Nvidia's chief executive officer?", "Who is Nvidia's chief executive officer?", HUANG, False),
     "Where was he visiting?", "Where was Jensen Huang visiting?"),
    # a sentence is not an entity: its new name is
    (Turn("Which company did Tesla partner with on mapping?", "Which company did Tesla partner with on mapping?",
          "Tesla partnered with Baidu on mapping [1].", False, "Tesla partnered with Baidu on mapping."),
     "How much did its shares close up?", "How much did Baidu's shares close up?"),
])
def test_a_sentence_answer_gives_the_name_asked_for_not_the_first_capitalised_word(turn, follow_up, expected):
    assert rewrite([turn], follow_up).question == expected


@pytest.mark.parametrize(("history", "question"), [
    ([], "On which day did Musk meet him?"),  # nothing to resolve against
    (replay([(CATL, "Zeng Yuqun [1]")]), "What is the capital of France?"),  # no pronoun, no ellipsis
    (replay([(CATL, "Zeng Yuqun [1]")]), "Did Zeng Yuqun meet him?"),  # the referent is already in the question
    (replay([(CATL, "Zeng Yuqun [1]")]), "And who is the CEO?"),  # "and" + a whole question is not elliptical
    (replay([("When did Musk visit Beijing?", "April 28, 2024 [1]")]), "Is there a Tesla factory in Shanghai?"),
    (replay([("When did Musk visit Beijing?", "April 28, 2024 [1]")]), "How many factories are there?"),
])
def test_questions_that_need_no_rewriting_are_left_exactly_as_asked(history, question):
    result = rewrite(history, question)
    assert result == Rewrite(question, "")
    assert result.changed is False


def test_an_abstained_answer_is_never_used_as_a_referent():
    turns = replay([("Which company did Tesla partner with on mapping?", "Not in the documents.")])
    assert turns[0].abstained is True
    assert rewrite(turns, "Which news agency reported it?") == Rewrite(
        "Which news agency reported Tesla?", "it → Tesla (who the previous question was about)")
    # the same answer text with abstained=False would be taken as the entity asked for
    asked_for = [Turn(CATL, CATL, "Zeng Yuqun [1]", abstained=True)]
    assert rewrite(asked_for, "On which day did Musk meet him?") == Rewrite(
        "On which day did Musk meet CATL?", "him → CATL (the name in the previous question)")


def test_only_the_last_turn_is_used():
    turns = replay([(CATL, "Zeng Yuqun [1]"), ("When did Musk visit Beijing?", "April 28, 2024 [1]")])
    assert rewrite(turns, "Why did he go there?").question == "Why did Musk go to Beijing?"


def test_replay_rewrites_each_question_against_the_turns_before_it_and_marks_abstentions():
    turns = replay([(CATL, "Zeng Yuqun [1]"), ("On which day did Musk meet him?", "Sunday [2]"),
                    ("Who is Musk's driver?", "Not in the documents."), ("Who leads CATL?", "Not in the documents. [1]")])
    assert turns == [
        Turn(CATL, CATL, "Zeng Yuqun [1]", False),
        Turn("On which day did Musk meet him?", "On which day did Musk meet Zeng Yuqun?", "Sunday [2]", False),
        Turn("Who is Musk's driver?", "Who is Musk's driver?", "Not in the documents.", True),
        Turn("Who leads CATL?", "Who leads CATL?", "Not in the documents. [1]", True),
    ]
    assert replay([]) == []


def test_a_conversation_records_turns_and_asks_the_rewritten_question(retriever):
    backend = ScriptedBackend("Zeng Yuqun", "Sunday")
    conversation = Conversation(Assistant(retriever, backend))
    first_rewrite, first = conversation.ask("  Who is the chairman\x00 of CATL? ")
    assert first_rewrite == Rewrite(CATL, "")
    assert first.text == "Zeng Yuqun [4]"
    streamed: list[str] = []
    second_rewrite, second = conversation.ask("On which day did Musk meet him?", on_token=streamed.append)
    assert second_rewrite == Rewrite("On which day did Musk meet Zeng Yuqun?", "him → Zeng Yuqun (the previous answer)")
    assert second.question == "On which day did Musk meet Zeng Yuqun?"
    assert "".join(streamed) == "Sunday"
    assert [call[1]["content"].rsplit("\n\n", 1)[1] for call in backend.calls] == [
        f"Question: {CATL}", "Question: On which day did Musk meet Zeng Yuqun?"]
    assert conversation.turns == [
        Turn(CATL, CATL, "Zeng Yuqun [4]", False, "Zeng Yuqun"),
        # "Sunday" was withdrawn: a withdrawn draft is not remembered
        Turn("On which day did Musk meet him?", "On which day did Musk meet Zeng Yuqun?", "Not in the documents.", True),
    ]


def test_a_conversation_can_start_from_earlier_turns_and_refuses_empty_questions(retriever):
    backend = ScriptedBackend("Sunday")
    conversation = Conversation(Assistant(retriever, backend), replay([(CATL, "Zeng Yuqun [4]")]))
    with pytest.raises(InputError, match=r"^the question is empty"):
        conversation.ask(" \t ")
    assert (len(conversation.turns), backend.calls) == (1, [])
    conversation.ask("When did Musk meet him?")
    [call] = backend.calls
    assert call[1]["content"].endswith("\n\nQuestion: When did Musk meet Zeng Yuqun?")


def _passage(chunk_id: str, rank: int) -> Passage:
    return Passage(Chunk(chunk_id, "a", rank, f"text {chunk_id}", 0, 7, "T"), 1.0 - rank / 10, rank)


@pytest.mark.parametrize(("ranked", "last_read", "expected"), [
    ("BADE", "ABCD", "ABDE"),  # the run A, B is kept in its places; D and E follow in rank order
    ("CDAB", "ABCD", "ABCD"),  # the same four in another order: the prompt the model has read, whole
    ("BCDE", "ABCD", "BCDE"),  # the first passage read is not among them: no prefix to share, rank order
    ("ABCD", "", "ABCD"),  # nothing read yet
    ("EFAB", "AB", "ABEF"),
])
def test_a_follow_up_shows_the_passages_just_read_first_in_their_places(ranked, last_read, expected):
    passages = [_passage(c, i) for i, c in enumerate(ranked, start=1)]
    reordered = cached_first(passages, tuple(last_read))
    assert "".join(p.chunk.id for p in reordered) == expected
    assert sorted(p.rank for p in reordered) == [1, 2, 3, 4]  # the same passages, each keeping its rank


def _ids(answer) -> list[str]:
    return [p.chunk.id for p in answer.passages]


def test_a_conversation_shows_its_follow_up_the_passages_it_has_just_read_first(retriever):
    backend = ScriptedBackend("Ren Hongbin", "Tesla's future development", "Tesla's future development")
    assistant = Assistant(retriever, backend)
    conversation = Conversation(assistant)
    _, first = conversation.ask(CCPIT)
    _, second = conversation.ask("What did Musk and he talk about?")
    assert second.question == "What did Musk and Ren Hongbin talk about?"
    assert _ids(first) == ["001_a97cac3138bdc646:12", "000_ebc01fc2445bc94e:1", "000_ebc01fc2445bc94e:8",
                           "004_93dc4c72c663ac72:5"]
    ranked = ["001_a97cac3138bdc646:11", "003_f3c21960676e82a2:6", "002_9ad4130286e12838:13", "001_a97cac3138bdc646:12"]
    assert [p.chunk.id for p in retriever.retrieve(second.question, 4)] == ranked
    # the first prompt's first passage, retrieved again fourth, is shown first again; the rest in rank order
    assert _ids(second) == ["001_a97cac3138bdc646:12", "001_a97cac3138bdc646:11", "003_f3c21960676e82a2:6",
                            "002_9ad4130286e12838:13"]
    assert [p.rank for p in second.passages] == [4, 1, 2, 3]
    first_prompt, second_prompt = (call[1]["content"] for call in backend.calls)
    assert second_prompt.startswith(first_prompt.split("\n\nPassage 2")[0])  # a passage the model need not read again
    # asked on its own, the same question is shown its passages in rank order
    assert _ids(assistant.answer(second.question)) == ranked


def test_without_reuse_passages_a_follow_up_keeps_rank_order(retriever):
    backend = ScriptedBackend("Zeng Yuqun", "Tuesday")
    conversation = Conversation(Assistant(retriever, backend, AssistantSettings(reuse_passages=False)))
    conversation.ask(CATL)
    _, second = conversation.ask("On which day did Musk meet him?")
    assert _ids(second) == [p.chunk.id for p in retriever.retrieve(second.question, 4)]
