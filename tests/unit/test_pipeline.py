"""The build's seam for reading, chunking and embedding (`rag.index.pipeline`): what a pipeline is given, and that its
results may come back in any order (as they do from Ray) without changing the index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from rag import store
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.index.pipeline import LocalPipeline
from tests.fakes import HashEmbedder

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
SMALL = ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8)


class Shuffled:
    """Hands the local pipeline's results back in reverse order, and records the work it was given."""

    def __init__(self, embedder):
        self.local = LocalPipeline(embedder, SMALL)
        self.given: list[list[tuple[str, str]]] = []

    def run(self, work, say, progress):
        self.given.append([("file", w.source.article_id) if w.source else ("row", w.article.id) for w in work])
        return list(reversed(self.local.run(work, say, progress)))


def test_results_in_any_order_give_the_default_build_and_a_resync_hands_over_only_what_changed(tmp_path, seeds_copy):
    shutil.copy(FORMATS / "wire.jsonl", seeds_copy / "wire.jsonl")
    shutil.copy(FORMATS / "menu-only.html", seeds_copy / "menu-only.html")
    embedder, shuffled = HashEmbedder(), Shuffled(HashEmbedder())
    default = build_index(tmp_path / "default", [seeds_copy], embedder, SMALL)
    report = build_index(tmp_path / "shuffled", [seeds_copy], embedder, SMALL, pipeline=shuffled)
    assert shuffled.given == [[
        ("file", "000_ebc01fc2445bc94e"), ("file", "001_a97cac3138bdc646"), ("file", "002_9ad4130286e12838"),
        ("file", "003_f3c21960676e82a2"), ("file", "004_93dc4c72c663ac72"), ("file", "menu-only"),
        ("row", "wire-w-101"), ("row", "wire-w-102"), ("row", "wire-u0eb6de7b5dec")]]
    assert (report.added, report.skipped, report.embedded_texts) == (default.added, default.skipped, default.embedded_texts)
    built, expected = store.load(tmp_path / "shuffled"), store.load(tmp_path / "default")
    assert [c.id for c in built.chunks] == [c.id for c in expected.chunks]
    assert built.chunks == expected.chunks
    assert np.array_equal(built.vectors(), expected.vectors())

    (seeds_copy / "001_a97cac3138bdc646.txt").write_text("Tesla opened a showroom in Lhasa.\n", encoding="utf-8")
    again = build_index(tmp_path / "shuffled", [seeds_copy], embedder, SMALL, pipeline=shuffled)
    # the unreadable page is handed over again (it may have been fixed); unchanged articles and dump rows are not
    assert shuffled.given[1] == [("file", "001_a97cac3138bdc646"), ("file", "menu-only")]
    assert again.updated == ("001_a97cac3138bdc646",) and again.embedded_texts == 1
    order = list(dict.fromkeys(c.article_id for c in store.load(tmp_path / "shuffled").chunks))
    assert order == list(dict.fromkeys(c.article_id for c in expected.chunks))  # the changed article keeps its place
