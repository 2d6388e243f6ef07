from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.index.chunking import Chunker, ChunkingSettings
from rag.types import Article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def words(text: str) -> int:
    return len(text.split())


def article(text: str) -> Article:
    return Article(id="a", title="T", text=text, source="a.txt")


def test_chunks_are_exact_slices_within_the_window_on_every_seed():
    chunker = Chunker(words, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=10))
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        chunks = chunker.chunk(Article(path.stem, "t", text, str(path)))
        assert chunks, path
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
            assert 0 < words(chunk.text) <= 60
        # every word of the article lands in some chunk
        covered = set()
        for chunk in chunks:
            covered.update(range(chunk.start, chunk.end))
        assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_ids_are_stable_and_ordered():
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunker = Chunker(words, ChunkingSettings(max_tokens=30, target_tokens=20, overlap_tokens=5))
    first, second = chunker.chunk(article(text)), chunker.chunk(article(text))
    assert [c.id for c in first] == [f"a:{i}" for i in range(len(first))]
    assert first == second


def test_consecutive_chunks_overlap_by_whole_sentences():
    text = " ".join(f"S{i} has five words here." for i in range(12))
    chunks = Chunker(words, ChunkingSettings(max_tokens=30, target_tokens=15, overlap_tokens=5)).chunk(article(text))
    assert [c.text for c in chunks[:2]] == [
        "S0 has five words here. S1 has five words here. S2 has five words here.",
        "S2 has five words here. S3 has five words here. S4 has five words here.",
    ]


def test_a_paragraph_break_ends_a_substantial_chunk():
    text = "One two three four five six seven.\nEight nine ten eleven twelve thirteen fourteen."
    chunks = Chunker(words, ChunkingSettings(max_tokens=30, target_tokens=10, overlap_tokens=0)).chunk(article(text))
    assert [c.text for c in chunks] == ["One two three four five six seven.", "Eight nine ten eleven twelve thirteen fourteen."]


def test_an_overlong_sentence_and_an_enormous_word_are_split_to_fit():
    text = " ".join(["word"] * 95) + ". " + "x" * 500
    chunker = Chunker(lambda t: len(t) // 10 + 1, ChunkingSettings(max_tokens=20, target_tokens=10, overlap_tokens=2))
    chunks = chunker.chunk(article(text))
    assert all(len(c.text) // 10 + 1 <= 20 for c in chunks)
    assert "".join(text[c.start : c.end] for c in chunks).replace(" ", "") .startswith("word")


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="overlap < target <= max"):
        Chunker(words, ChunkingSettings(max_tokens=10, target_tokens=20, overlap_tokens=5))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\t李強,")), max_size=400))
def test_property_offsets_rebuild_text_and_chunks_fit(text):
    chunker = Chunker(lambda t: len(t.split()) + t.count("李"), ChunkingSettings(max_tokens=6, target_tokens=4, overlap_tokens=1))
    for chunk in chunker.chunk(article(text)):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        assert len(chunk.text.split()) + chunk.text.count("李") <= 6
