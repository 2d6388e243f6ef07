from rag.checks.citations import parse_citations, strip_markers
from rag.types import Chunk, Passage


def passages(n):
    return [Passage(Chunk(f"d:{i}", "d", i, f"text {i}", 0, 6, "T"), 0.5, i + 1) for i in range(n)]


def test_valid_markers_resolve_in_order_of_first_use():
    parsed = parse_citations("Shanghai [2], then Beijing [1][2].", passages(3))
    assert parsed.text == "Shanghai [2], then Beijing [1][2]."
    assert [(c.marker, c.passage.chunk.id) for c in parsed.citations] == [(2, "d:1"), (1, "d:0")]
    assert parsed.warnings == ()


def test_lists_inside_brackets_are_split():
    parsed = parse_citations("Both [1, 3].", passages(3))
    assert parsed.text == "Both [1][3]."
    assert [c.marker for c in parsed.citations] == [1, 3]


def test_out_of_range_markers_are_dropped_with_a_warning():
    parsed = parse_citations("Shanghai [7] and [0] and [2].", passages(2))
    assert parsed.text == "Shanghai and and [2]."
    assert [c.marker for c in parsed.citations] == [2]
    assert parsed.warnings == ("dropped citation [7]: only 2 passages were shown",
                               "dropped citation [0]: only 2 passages were shown")


def test_text_without_markers_and_non_numeric_brackets():
    parsed = parse_citations("No markers [here] or [a1].", passages(2))
    assert (parsed.text, parsed.citations, parsed.warnings) == ("No markers [here] or [a1].", (), ())


def test_strip_markers():
    assert strip_markers("Shanghai [1][2], Beijing [3].") == "Shanghai, Beijing."
