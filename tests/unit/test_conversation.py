"""Follow-up rewriting (`rag.followups`): exact rewrites, abstentions, replay, and `Conversation.ask`."""

import pytest

from rag.assistant import Assistant
from rag.errors import InputError
from rag.followups import Conversation, Rewrite, Turn, replay, rewrite
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
        Turn(CATL, CATL, "Zeng Yuqun [4]", False),
        Turn("On which day did Musk meet him?", "On which day did Musk meet Zeng Yuqun?", second.text, second.abstained),
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
