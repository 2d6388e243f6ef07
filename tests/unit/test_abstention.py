"""`rag.checks.abstention`: the one sentence, the floor's reason, and the ways an abstention is recognised."""

from __future__ import annotations

from rag.checks.abstention import NOT_IN_DOCUMENTS, declines, floor_reason, is_abstention, says_abstention


def test_the_floor_says_why_no_passage_is_on_topic():
    assert floor_reason(0.31, 0.25) is None
    assert floor_reason(0.25, 0.25) is None  # at the floor is on topic
    assert floor_reason(0.2049, 0.25) == "no passage is close enough to the question (best score 0.20 < 0.25)"
    assert floor_reason(None, 0.25) == "no passage is close enough to the question (best score none < 0.25)"


def test_an_abstention_is_recognised_with_or_without_markers():
    assert NOT_IN_DOCUMENTS == "Not in the documents."
    assert is_abstention("Not in the documents.") and is_abstention(" Not in the documents. [1] ")
    assert not is_abstention("Not in the documents, but Baidu [1].")
    assert says_abstention("The memo said: NOT IN THE DOCUMENTS, reply that.")
    assert not says_abstention("The documents were not in the car.")


def test_declines_in_the_models_own_words():
    assert [declines(s) for s in ("The passages do not mention the CFO.", "I don't know.", "Unable to determine.",
                                  "Baidu [1].", "No information is given.")] == [True, True, True, False, True]
