"""Relative days anchored to the published date (`rag.index.anchoring`), stored per chunk and shown with citations."""

import json
from dataclasses import replace
from pathlib import Path

from rag import store
from rag.answer_view import answer_dict, passage_dict, sources_text
from rag.index.anchoring import DATES_VERSION, anchor_days, date_chunks, days_spoken_of
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.types import Answer, Chunk, Citation, Passage
from rag.ui.answer_html import sources_html
from tests.fakes import HashEmbedder

SETTINGS = ChunkingSettings(max_tokens=40, target_tokens=20, overlap_tokens=5)
MONDAY = "2024-04-29"  # a Monday: the day after Musk met Li Qiang in Beijing


def days(text: str, published: str | None = MONDAY) -> list[str]:
    return [a.day for a in anchor_days(text, published)]


def test_a_bare_weekday_is_the_most_recent_such_day_on_or_before_the_published_date():
    assert days("Musk met Premier Li Qiang on Sunday.") == ["2024-04-28"]
    assert days("The talks began on Tuesday.") == ["2024-04-23"]  # six days back, not the Tuesday after
    assert days("Musk met Li Qiang in Beijing on Sunday.", "2024-04-28") == ["2024-04-28"]  # its own weekday: that day
    assert days("Tesla's shares rose on Monday.") == [MONDAY]
    assert days("Sunday's meeting was short. MONDAY: more talks.") == ["2024-04-28", MONDAY]


def test_yesterday_today_tomorrow_and_days_ago():
    assert days("Musk arrived in Beijing yesterday and confirmed the meeting late yesterday.") == ["2024-04-28"] * 2
    assert days("He speaks today and flies home tomorrow.") == [MONDAY, "2024-04-30"]
    assert days("The list came out two days ago, the plan a week ago.") == ["2024-04-27", "2024-04-22"]
    assert days("They met last night.") == ["2024-04-28"]


def test_last_next_and_the_future_tense():
    assert days("He met her last Monday and will see her next Monday.") == ["2024-04-22", "2024-05-06"]
    assert days("They met last Sunday.") == ["2024-04-28"]
    assert days("Musk will fly to India on Friday.") == ["2024-05-03"]
    assert days("The Beijing auto show opened last week and ends on Saturday.") == ["2024-05-04"]  # scheduled
    assert days("On Friday, Musk will meet Modi.") == ["2024-05-03"]  # the verb after a weekday opening the sentence
    # the nearest cue decides: "said" governs Friday, "will" the Sunday after it
    assert days("Tesla will cut jobs, the company said on Friday, and will say more on Sunday.") == \
        ["2024-04-26", "2024-05-05"]
    assert days("The vote is on Monday.") == [MONDAY]  # the published day itself, whatever the tense


def test_an_explicit_date_wins_and_a_disagreement_is_counted_not_corrected():
    agreeing = anchor_days("Musk met Li Qiang on Sunday, April 28, 2024, in Beijing.", MONDAY)
    assert [(a.expression, a.day, a.computed, a.stated, a.conflict) for a in agreeing] == \
        [("Sunday, April 28, 2024", "2024-04-28", "2024-04-28", "2024-04-28", False)]
    disagreeing = anchor_days("Musk met Li Qiang on Sunday, April 21.", MONDAY)
    assert [(a.day, a.computed, a.conflict) for a in disagreeing] == [("2024-04-21", "2024-04-28", True)]
    # a date of the same sentence that falls on the weekday named is the one meant; a date on another day is not
    assert days("The plant opens Monday at 10 a.m. on July 8.") == ["2024-07-08"]
    assert days("Tesla, in China since May 9, 2018, said on Friday it would hire.") == ["2024-04-26"]
    assert days("On Sunday (28 April) they met.") == ["2024-04-28"]


def test_names_generic_uses_and_undated_articles_give_no_day():
    assert days("Black Friday sales, the Sunday Times and Saturday Night Live; he goes to church every Sunday.") == []
    assert days("The cars of tomorrow, as USA Today put it, and the first Friday of the month.") == []
    assert days("Mondays are busy.") == []
    assert days("Musk met Li on Sunday.", None) == []
    assert days("Musk met Li on Sunday.", "not a date") == []


def test_only_days_other_than_the_published_one_are_stored_sorted_and_once():
    text = "Musk arrived on Sunday and met Li yesterday; on Friday Tao wrote, and today he posted."
    assert days_spoken_of(text, MONDAY) == ("2024-04-26", "2024-04-28")
    assert days_spoken_of(text, None) == ()


def test_overlapping_chunks_count_a_disagreement_once():
    text = "Musk met Li on Sunday, April 21. They talked."
    chunks = [Chunk("a:0", "a", 0, text[:32], 0, 32, "t", MONDAY), Chunk("a:1", "a", 1, text, 0, len(text), "t", MONDAY)]
    dated, conflicts = date_chunks(chunks)
    assert [c.speaks_of for c in dated] == [("2024-04-21",), ("2024-04-21",)] and conflicts == 1


def _dated_seed(folder: Path) -> None:
    """Seed 001 as a dump row with its publication date (the text file itself states none)."""
    text = next(folder.glob("001_*.txt")).read_text(encoding="utf-8")
    (folder / "dated.jsonl").write_text(json.dumps({"id": "taipei", "text": text, "published": MONDAY}) + "\n",
                                        encoding="utf-8")


def _chunk_with(chunks, article_id: str, words: str) -> Chunk:
    return next(c for c in chunks if c.article_id == article_id and words in c.text)


def test_indexed_seed_passages_carry_the_days_they_speak_of(tmp_path, seeds_copy):
    _dated_seed(seeds_copy)
    report = build_index(tmp_path / "ix", [seeds_copy], HashEmbedder(), SETTINGS)
    loaded = store.load(tmp_path / "ix")
    chunks = loaded.chunks
    assert _chunk_with(chunks, "dated-taipei", "Musk arrived in Beijing yesterday").speaks_of == ("2024-04-28",)
    assert _chunk_with(chunks, "dated-taipei", "Late yesterday").speaks_of == ("2024-04-28",)
    assert _chunk_with(chunks, "dated-taipei", "Also on Friday, Grace Tao").speaks_of == ("2024-04-26",)
    assert _chunk_with(chunks, "dated-taipei", "ends on Saturday").speaks_of == ("2024-05-04",)
    # seed 002's date is the one its first line states, a Sunday: that Sunday is its own day, not another
    first = _chunk_with(chunks, "002_9ad4130286e12838", "on Sunday, April 28, 2024")
    assert (first.published, first.speaks_of) == ("2024-04-28", ())
    assert _chunk_with(chunks, "002_9ad4130286e12838", "a meeting Sunday").speaks_of == ()
    # and that date comes from its photo caption, a day before the story: its past-tense "Monday"s (2024-04-29)
    # would be anchored to 2024-04-22, so an article dated by its own text anchors nothing
    assert {c.speaks_of for c in chunks if c.article_id == "002_9ad4130286e12838"} == {()}
    monday = _chunk_with(chunks, "002_9ad4130286e12838", "Monday")
    assert date_chunks([replace(monday, text=monday.text.replace("April 28", "March 3"))])[0][0].speaks_of \
        == ("2024-04-22",)  # the same passage in an article dated by metadata is anchored
    # the text files without a date (001 itself, 004 "on Wednesday") anchor nothing
    assert {c.speaks_of for c in chunks if c.article_id in {"001_a97cac3138bdc646", "004_93dc4c72c663ac72"}} == {()}
    assert report.date_conflicts == () and loaded.manifest.dates_version == DATES_VERSION
    assert all(isinstance(c.speaks_of, tuple) for c in chunks)  # a tuple again after the JSON round trip


def test_a_disagreeing_date_is_reported_and_kept_across_resyncs(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "wire.jsonl").write_text(json.dumps({"id": "x", "text": "Musk met Li Qiang on Sunday, April 21.",
                                                   "published": MONDAY}) + "\n", encoding="utf-8")
    first = build_index(tmp_path / "ix", [folder], HashEmbedder(), SETTINGS)
    assert first.date_conflicts == ("wire-x",)
    assert first.notes == ("1 article(s) give a weekday a date other than the one their published date implies, so that "
                           "date may be wrong (the stated dates are kept): wire-x",)
    loaded = store.load(tmp_path / "ix")
    assert [c.speaks_of for c in loaded.chunks] == [("2024-04-21",)]
    assert loaded.manifest.articles["wire-x"].date_conflicts == 1
    again = build_index(tmp_path / "ix", [], HashEmbedder(), SETTINGS)  # unchanged: the count is kept, not lost
    assert (again.embedded_texts, again.date_conflicts) == (0, ("wire-x",))


def _strip_dates(index_dir: Path) -> None:
    """Make the index look saved before this change: no `speaks_of`, `dates_version` or `date_conflicts`."""
    gen = index_dir / "current"
    lines = [json.loads(line) for line in (gen / store.CHUNKS).read_text(encoding="utf-8").splitlines()]
    for line in lines:
        del line["speaks_of"]
    (gen / store.CHUNKS).write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                                    encoding="utf-8")
    manifest = json.loads((gen / store.MANIFEST).read_text(encoding="utf-8"))
    del manifest["dates_version"]
    for entry in manifest["articles"].values():
        del entry["date_conflicts"]
    from rag.hashing import file_sha256

    manifest["checksums"][store.CHUNKS] = file_sha256(gen / store.CHUNKS)
    (gen / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_an_index_saved_without_dates_loads_and_a_resync_dates_it_without_embedding(tmp_path, seeds_copy):
    _dated_seed(seeds_copy)
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [seeds_copy], embedder, SETTINGS)
    _strip_dates(tmp_path / "ix")
    old = store.load(tmp_path / "ix")
    assert {c.speaks_of for c in old.chunks} == {()} and old.manifest.dates_version == 0
    assert {a.date_conflicts for a in old.manifest.articles.values()} == {0}

    embedder.embedded.clear()
    report = build_index(tmp_path / "ix", [], embedder, SETTINGS)
    assert (report.embedded_texts, embedder.embedded) == (0, [])
    resynced = store.load(tmp_path / "ix")
    assert resynced.manifest.dates_version == DATES_VERSION
    assert _chunk_with(resynced.chunks, "dated-taipei", "Also on Friday, Grace Tao").speaks_of == ("2024-04-26",)


def _answer(speaks_of: tuple[str, ...]) -> Answer:
    text = "Musk met Premier Li Qiang in Beijing on Sunday."
    chunk = Chunk("cnn:0", "cnn", 0, text, 0, len(text), "Musk in Beijing", MONDAY, speaks_of=speaks_of)
    passage = Passage(chunk, 0.5, 1)
    return Answer("When did Musk meet Li?", "On Sunday [1].", (Citation(1, passage),), (passage,), "scripted", False)


def test_json_terminal_and_ui_show_the_days_a_passage_speaks_of():
    answer = _answer(("2024-04-28",))
    data = answer_dict(answer)
    assert data["citations"][0]["published"] == MONDAY and data["citations"][0]["speaks_of"] == ["2024-04-28"]
    assert data["retrieved"] == [{"doc_id": "cnn", "chunk_id": "cnn:0", "score": 0.5, "speaks_of": ["2024-04-28"]}]
    assert passage_dict(answer.passages[0])["speaks_of"] == ["2024-04-28"]
    assert sources_text(answer).splitlines()[0] == "[1] Musk in Beijing (cnn, 2024-04-29, speaks of 2024-04-28)"
    assert "Musk in Beijing · 2024-04-29, speaks of 2024-04-28 · <code>cnn</code>" in sources_html(answer, 1)
    plain = _answer(())
    assert sources_text(plain).splitlines()[0] == "[1] Musk in Beijing (cnn, 2024-04-29)"
    assert answer_dict(plain)["citations"][0]["speaks_of"] == []
