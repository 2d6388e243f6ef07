from rag.assistant import Assistant, AssistantSettings
from rag.focus import focus
from rag.types import Chunk, Passage
from tests.fakes import HashEmbedder, ScriptedBackend

FIRST = ("Musk flew to Beijing on Sunday. The weather was mild. Tesla met Baidu about mapping. "
         "Reporters waited outside. Shares rose later.")
SECOND = "The auto show opened last week. Crowds were large. Baidu shares closed up 2.4 percent in Hong Kong."
THIRD = "Japan held a snap election. Turnout was low."


def passage(i, text):
    return Passage(Chunk(f"d{i}:0", f"d{i}", 0, text, 0, len(text), f"Story {i}"), 0.6, i)


PASSAGES = [passage(1, FIRST), passage(2, SECOND), passage(3, THIRD)]


def test_the_sentences_closest_to_the_question_are_kept_with_their_neighbours_and_gaps_marked():
    focused = focus("Did Baidu shares close up in Hong Kong after Tesla met Baidu?", PASSAGES, HashEmbedder(), keep=2)
    assert [p.chunk.id for p in focused.passages] == ["d1:0", "d2:0"]
    assert focused.views == (
        "… The weather was mild. Tesla met Baidu about mapping. Reporters waited outside. …",
        "… Crowds were large. Baidu shares closed up 2.4 percent in Hong Kong.",
    )


def test_without_a_window_only_the_chosen_sentences_are_shown():
    focused = focus("Did Baidu shares close up in Hong Kong?", PASSAGES, HashEmbedder(), keep=1, window=0)
    assert [p.chunk.id for p in focused.passages] == ["d2:0"]
    assert focused.views == ("… Baidu shares closed up 2.4 percent in Hong Kong.",)


def test_keep_zero_shows_every_passage_whole():
    focused = focus("Did Baidu shares close up?", PASSAGES, HashEmbedder(), keep=0)
    assert focused.passages == tuple(PASSAGES) and focused.views == (FIRST, SECOND, THIRD)


def test_the_assistant_shows_the_focused_sentences_and_numbers_only_the_passages_shown(retriever):
    backend = ScriptedBackend("Zeng Yuqun")
    answer = Assistant(retriever, backend, AssistantSettings(focus=1, focus_window=0)).answer("Who is the chairman of CATL?")
    user = backend.calls[0][1]["content"]
    assert user.count("Passage ") == 1 and "Passage 1 (" in user
    assert len(answer.passages) == 1 and answer.text == "Zeng Yuqun [1]"
    assert "Zeng Yuqun" in user.split("):\n", 1)[1] and "focus" in answer.timings
