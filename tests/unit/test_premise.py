"""False premises the passages contradict: "Why did the shares slide?" over "the stock gained"."""

from rag.checks.claims.premise import contradicted
from rag.checks.verify import verify
from rag.types import Chunk, Passage

STOCK = Passage(Chunk("d1:0", "d1", 0, "Tesla's stock gained more than 6% on Wall Street in pre-market trading. "
                                      "Tesla shares have fallen 32% so far this year.", 0, 120, "Musk in China"), 0.6, 1)
CHECKS = Passage(Chunk("d2:0", "d2", 0, "The association said Tesla's Model 3 and Model Y had passed China's data "
                                       "security requirements. Its cars had previously been barred from some sensitive "
                                       "areas due to data security concerns.", 0, 190, "Musk in China"), 0.6, 2)


def test_a_direction_the_passages_state_the_opposite_of_is_named():
    assert contradicted("Why did Tesla's shares slide in pre-market trading?",
                        "Tesla's stock gained more than 6% on Wall Street in pre-market trading.") == (
        "the question says “slide” where its passages say “gained”")
    assert contradicted("Why did the Model 3 fail the checks?", CHECKS.chunk.text) == (
        "the question says “fail” where its passages say “passed”")


def test_passages_that_also_take_the_question_s_side_or_no_side_contradict_nothing():
    assert contradicted("Why did Tesla's shares slide?", STOCK.chunk.text) is None  # "fallen" is the same direction
    assert contradicted("By how much have Tesla shares fallen so far this year?", STOCK.chunk.text) is None
    assert contradicted("How much did Tesla's stock gain?", STOCK.chunk.text) is None
    assert contradicted("Why did Tesla's shares slide?", "Musk met Premier Li Qiang in Beijing.") is None


def test_where_a_passage_takes_both_sides_the_sentence_closest_to_the_question_decides():
    # the 1.5B answered the pre-market question with both sentences, because "fallen" is the question's direction
    assert contradicted("Why did Tesla's shares slide in pre-market trading after the Beijing trip?",
                        STOCK.chunk.text) == "the question says “slide” where its passages say “gained”"
    assert contradicted("Why did Tesla's shares slide this year?", STOCK.chunk.text) is None
    # the closest sentence must hold half the question's topic words, and only one may: else nothing is decided
    assert contradicted("Why did Tesla's shares slide in pre-market trading in New York on Friday after the trip?",
                        STOCK.chunk.text) is None
    assert contradicted("Why did Tesla's stock slide?", "Tesla's stock gained 6%. Tesla's stock fell 32% this year.") is None


def test_an_answer_to_a_contradicted_premise_is_withdrawn_even_when_every_claim_is_supported():
    question = "Why did Tesla's Model 3 and Model Y fail China's data security checks?"
    draft = "Its cars had previously been barred from some sensitive areas due to data security concerns [2]."
    v = verify(question, [STOCK, CHECKS], draft)
    assert v.abstained and [c.supported for c in v.claims] == [True]
    assert v.warnings == ("withdrew an answer to a premise its passages contradict (the question says “fail” "
                          "where its passages say “passed”)",)
    kept = verify("Why had Tesla's cars been barred from sensitive areas?", [STOCK, CHECKS], draft)
    assert not kept.abstained and kept.text == draft


def test_words_are_compared_whole_not_by_stem():
    # five-letter stems made "passengers" a "passed" and "approximately" an "approved"
    assert contradicted("How many passengers does the ferry carry?", "The ferry failed its inspection.") is None
    assert contradicted("Approximately how many cars were recalled?", "The recall was rejected by regulators.") is None
