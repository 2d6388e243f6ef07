"""`rag.evals.recheck`: a saved prediction's draft checked again gives the verdict the assistant gave it."""

from rag.answer_view import answer_dict
from rag.assistant import Assistant, AssistantSettings
from rag.evals.recheck import recheck, shown_passages
from tests.fakes import ScriptedBackend

CATL = "Who is the chairman of CATL?"


def _cited(result) -> list[tuple[int, str]]:
    return [(c.marker, c.passage.chunk.id) for c in result.citations]  # a saved passage's score is rounded


def test_a_saved_answer_rechecked_gets_the_verdict_it_was_given(retriever):
    seen = set()
    for quote, draft in [(False, "Zeng Yuqun"), (True, "Zeng Yuqun is the chairman of CATL."), (True, "Jeff Bezos")]:
        assistant = Assistant(retriever, ScriptedBackend(draft), AssistantSettings(quote=quote))
        answer = assistant.answer(CATL)
        saved = answer_dict(answer)
        chunks = {c.id: c for c in retriever.store.chunks}
        shown = shown_passages(saved, chunks)
        assert [(p.chunk, p.rank) for p in shown] == [(p.chunk, p.rank) for p in answer.passages]  # scores rounded
        verdict = recheck(saved, shown, assistant.judge, quote)
        assert (verdict.abstained, verdict.warnings, _cited(verdict)) == (answer.abstained, answer.warnings,
                                                                          _cited(answer))
        if not answer.abstained:
            assert verdict.text == answer.text
        seen.add((answer.abstained, answer.text != draft))
    assert seen == {(False, True), (True, True)}  # kept (marked, and quoted) and withdrawn answers both rechecked


def test_a_prediction_the_score_floor_refused_has_nothing_to_recheck(retriever):
    saved = {"question": CATL, "draft": "", "retrieved": []}
    assert recheck(saved, [], Assistant(retriever, ScriptedBackend()).judge, quotes=True) is None
