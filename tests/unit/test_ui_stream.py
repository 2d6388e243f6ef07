"""The UI's answering loop (`rag.ui.app.answer_stream`): tokens, then one final event; follow-ups, errors, Stop, the lock."""

import logging
import threading

import pytest

from rag.assistant import Assistant
from rag.errors import BackendError
from rag.followups import Rewrite, Turn
from rag.ui.app import INTERNAL, Services, answer_stream
from tests.fakes import ScriptedBackend

VP = "What is the name of Tesla's vice president in charge of external relations in China?"
FOLLOW_UP = "On which social media account did she publish a commentary?"
STANDALONE = "On which social media account did Grace Tao publish a commentary?"
EMPTY = "Type a question first, e.g. Why did Musk visit Beijing?"


@pytest.fixture
def services(retriever, tmp_path):
    return Services(Assistant(retriever, ScriptedBackend()), library=None, feedback_path=tmp_path / "feedback.jsonl")


def collect(services, turns, question, top_k=4, stop=None, timeout=20.0):
    """All events of one answer_stream, failing (not hanging) if it never ends."""
    events = []

    def run():
        events.extend(answer_stream(services, turns, question, top_k, stop or threading.Event()))

    consumer = threading.Thread(target=run, daemon=True)
    consumer.start()
    consumer.join(timeout)
    assert not consumer.is_alive(), f"answer_stream did not finish; events so far: {events}"
    return events


class Backend:
    """A chat model whose stream yields what `script()` yields (and raises what it raises)."""

    name = "probe"
    context_tokens = 4096

    def __init__(self, script):
        self.script = script

    def stream(self, messages, params):
        yield from self.script()

    def count_tokens(self, text):
        return len(text.split())


def test_tokens_stream_then_one_done_event_with_the_turn(services):
    services.assistant.backend.enqueue("Grace Tao")
    history: list[Turn] = []
    events = collect(services, history, VP)
    assert [kind for kind, _ in events] == ["token", "token", "done"]
    assert [value for kind, value in events if kind == "token"] == ["Grace ", "Tao"]
    rewrite, answer, turns = events[-1][1]
    assert "".join(value for kind, value in events if kind == "token") == answer.draft == "Grace Tao"
    assert rewrite == Rewrite(VP) and not rewrite.changed
    [citation] = answer.citations
    assert answer.text == f"Grace Tao [{citation.marker}]" and not answer.abstained
    assert citation.passage.chunk.article_id == "001_a97cac3138bdc646"
    assert turns == [Turn(VP, VP, answer.text, False, "Grace Tao")]
    assert history == []  # the caller's list is not changed: Gradio's State gets the new one
    assert not services.lock.locked()


def test_a_follow_up_is_rewritten_with_the_returned_turns(services):
    backend = services.assistant.backend
    backend.enqueue("Grace Tao", "People's Daily")
    *_, (_, (_, _, turns)) = collect(services, [], VP)
    *tokens, (kind, (rewrite, answer, turns_after)) = collect(services, turns, FOLLOW_UP)
    assert kind == "done" and tokens == [("token", "People's "), ("token", "Daily")]
    assert rewrite == Rewrite(STANDALONE, "she → Grace Tao (the previous answer)")
    assert backend.calls[-1][1]["content"].endswith(f"\n\nQuestion: {STANDALONE}")
    assert answer.question == STANDALONE and answer.text.startswith("People's Daily [")
    assert turns_after == [*turns, Turn(FOLLOW_UP, STANDALONE, answer.text, False, "People's Daily")]
    assert len(turns) == 1  # the first call's turns were copied, not appended to


def test_without_the_earlier_turns_the_follow_up_is_asked_as_is(services):
    services.assistant.backend.enqueue("People's Daily")
    *_, (_, (rewrite, _, turns)) = collect(services, [], FOLLOW_UP)
    assert rewrite == Rewrite(FOLLOW_UP)
    assert services.assistant.backend.calls[-1][1]["content"].endswith(f"\n\nQuestion: {FOLLOW_UP}")
    assert turns == [Turn(FOLLOW_UP, FOLLOW_UP, turns[0].answer, turns[0].abstained)]


def test_top_k_is_the_number_of_passages_shown(services):
    services.assistant.backend.enqueue("Grace Tao")
    *_, (_, (_, answer, _)) = collect(services, [], VP, top_k=2)
    assert len(answer.passages) == 2
    prompt = services.assistant.backend.calls[-1][1]["content"]
    assert "Passage 2 (" in prompt and "Passage 3 (" not in prompt


def test_an_abstention_streams_the_draft_and_is_remembered_as_one(services):
    services.assistant.backend.enqueue("Tesla paid 9 billion dollars.")
    events = collect(services, [], "How much did Tesla pay Baidu?")
    assert "".join(v for k, v in events if k == "token") == "Tesla paid 9 billion dollars."
    kind, (_, answer, turns) = events[-1]
    assert kind == "done" and answer.abstained
    assert turns == [Turn("How much did Tesla pay Baidu?", "How much did Tesla pay Baidu?", "Not in the documents.", True)]


def test_a_backend_error_is_shown_with_its_message(services):
    def fail():
        raise BackendError("boom")
        yield  # a generator, like a real stream

    services.assistant.backend = Backend(fail)
    assert collect(services, [], VP) == [("error", "boom")]
    assert not services.lock.locked()


def test_a_backend_error_after_some_tokens_ends_the_stream(services):
    def fail():
        yield "Grace "
        raise BackendError("the model server went away")

    services.assistant.backend = Backend(fail)
    assert collect(services, [], VP) == [("token", "Grace "), ("error", "the model server went away")]


def test_an_unexpected_exception_is_logged_and_shown_as_an_internal_error(services, caplog):
    def fail():
        raise RuntimeError("secret /home/user/path")
        yield

    services.assistant.backend = Backend(fail)
    with caplog.at_level(logging.ERROR, logger="rag.ui"):
        events = collect(services, [], VP)
    assert events == [("error", INTERNAL)]
    assert INTERNAL == "internal error: the details are in the server's log"
    [record] = [r for r in caplog.records if r.name == "rag.ui"]
    assert record.getMessage() == "answering failed" and isinstance(record.exc_info[1], RuntimeError)
    assert not services.lock.locked()


def test_stop_before_the_first_token_ends_with_stopped_and_records_no_turn(services):
    services.assistant.backend.enqueue("Grace Tao")
    stop = threading.Event()
    stop.set()
    history: list[Turn] = []
    assert collect(services, history, VP, stop=stop) == [("stopped", None)]
    assert history == [] and len(services.assistant.backend.calls) == 1
    assert not services.lock.locked()


def test_stop_during_the_stream_ends_it_after_the_tokens_so_far(services):
    stop = threading.Event()

    def script():
        yield "Grace "
        stop.set()  # the user presses Stop while the model is generating
        yield "Tao"
        yield " and more"

    services.assistant.backend = Backend(script)
    assert collect(services, [], VP, stop=stop) == [("token", "Grace "), ("stopped", None)]


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_an_empty_question_is_an_error_without_asking_the_model(services, question):
    assert collect(services, [Turn(VP, VP, "Grace Tao [3]")], question) == [("error", EMPTY)]
    assert services.assistant.backend.calls == []


def test_the_lock_is_held_while_the_model_answers(services):
    held = []

    def script():
        held.append(services.lock.locked())
        yield "Grace Tao"

    services.assistant.backend = Backend(script)
    events = collect(services, [], VP)
    assert events[-1][0] == "done" and held == [True]
    assert not services.lock.locked()


def test_an_answer_waits_for_the_lock(services):
    services.assistant.backend.enqueue("Grace Tao")
    events = []
    services.lock.acquire()  # e.g. an upload is re-indexing
    try:
        consumer = threading.Thread(target=lambda: events.extend(answer_stream(services, [], VP, 4, threading.Event())),
                                    daemon=True)
        consumer.start()
        consumer.join(0.3)
        assert consumer.is_alive() and events == [] and services.assistant.backend.calls == []
    finally:
        services.lock.release()
    consumer.join(20)
    assert not consumer.is_alive() and [k for k, _ in events] == ["token", "token", "done"]


def test_the_date_boxes_make_a_window_or_say_which_box_is_wrong():
    from datetime import date

    from rag.errors import InputError
    from rag.retrieval.window import DateWindow
    from rag.ui.app import date_window

    assert date_window("", " ") is None
    assert date_window("2024-04-01", "2024-04-28") == DateWindow(date(2024, 4, 1), date(2024, 4, 28))
    with pytest.raises(InputError) as err:
        date_window("", "last Sunday")
    assert str(err.value) == "As of: 'last Sunday' is not a date; write it as YYYY-MM-DD, e.g. 2024-04-28"
    with pytest.raises(InputError) as err:
        date_window("2024-05-01", "2024-04-01")
    assert str(err.value) == "Published since (2024-05-01) is after As of (2024-04-01): no article could be searched"


def test_a_question_asked_as_of_a_day_sees_only_articles_published_by_then(services):
    from datetime import date

    from rag.retrieval.window import DateWindow

    services.assistant.backend.enqueue("Grace Tao")
    events = []
    done = threading.Event()

    def run():
        events.extend(answer_stream(services, [], VP, 4, threading.Event(), DateWindow(until=date(2024, 4, 28))))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(20)
    kind, (_, answer, _) = events[-1]
    assert kind == "done" and answer.passages
    assert {p.chunk.article_id for p in answer.passages} == {"002_9ad4130286e12838"}  # the one seed dated by then


def test_reading_ahead_a_follow_up_reads_what_its_answer_will_send(retriever, tmp_path):
    from tests.fakes import ReadingBackend

    backend = ReadingBackend("Grace Tao", "People's Daily")
    services = Services(Assistant(retriever, backend), library=None, feedback_path=tmp_path / "feedback.jsonl")
    *_, (_, (_, _, turns)) = collect(services, [], VP)
    assert services.read_ahead(FOLLOW_UP, turns, 4) > 0
    collect(services, turns, FOLLOW_UP)
    # the rewrite ("she" -> Grace Tao) and the follow-up's passage order are those of the answer itself
    assert backend.prefilled[-1] == backend.calls[-1]
    assert backend.prefilled[-1][1]["content"].endswith(f"\n\nQuestion: {STANDALONE}")
    assert not services.lock.locked()


def test_reading_ahead_gives_way_to_an_answer(retriever, tmp_path):
    from tests.fakes import ReadingBackend

    backend = ReadingBackend("Grace Tao")
    services = Services(Assistant(retriever, backend), library=None, feedback_path=tmp_path / "feedback.jsonl")
    assert services.read_ahead("Who is", [], 4) == 0 and backend.prefilled == []  # two words: too early to read
    with services.foreground():  # an answer or an upload holds the lock: reading ahead is skipped, not queued
        assert services.read_ahead(VP, [], 4) == 0 and backend.prefilled == []
    backend.hold.set()  # this read-ahead reads until something waits for the lock
    reader = threading.Thread(target=services.read_ahead, args=(VP, [], 4), daemon=True)
    reader.start()
    assert backend.reading.wait(10)
    events = collect(services, [], VP)  # waits for the lock, which the read-ahead then hands over
    reader.join(10)
    assert not reader.is_alive() and events[-1][0] == "done" and events[-1][1][1].text.startswith("Grace Tao [")
    assert not services.lock.locked()


def test_an_older_read_ahead_gives_way_to_the_question_typed_further(retriever, tmp_path):
    from tests.fakes import ReadingBackend

    backend = ReadingBackend("Grace Tao")
    services = Services(Assistant(retriever, backend), library=None, feedback_path=tmp_path / "feedback.jsonl")
    backend.hold.set()  # each read-ahead reads until it is told to give way
    returned = []
    older = threading.Thread(target=lambda: returned.append(services.read_ahead(VP[:40], [], 4)), daemon=True)
    older.start()
    assert backend.reading.wait(10)
    backend.reading.clear()
    newer = threading.Thread(target=lambda: returned.append(services.read_ahead(VP, [], 4)), daemon=True)
    newer.start()
    older.join(10)
    assert not older.is_alive() and backend.reading.wait(10)  # the older stopped, the newer is reading
    events = collect(services, [], VP)  # and the answer stops the newer
    newer.join(10)
    assert not newer.is_alive() and len(returned) == 2 and all(n > 0 for n in returned)
    assert [m[1]["content"].rpartition("Question: ")[2] for m in backend.prefilled] == [VP[:40], VP]
    assert backend.calls == backend.prefilled[1:] and events[-1][0] == "done"
