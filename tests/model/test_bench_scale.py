"""`rag bench scale` end to end on the benchmark-format fixture with the real MiniLM: a smoke run of each index type,
and of the re-sync timing, at sizes CI can afford (the million-passage figures are in the README)."""

import json

import pytest

from tests.conftest import ROOT, rag
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model
RTQA = ROOT / "tests" / "fixtures" / "realtimeqa"


def test_each_index_type_is_built_searched_and_scored_against_exact_search(tmp_path):
    out = tmp_path / "run"
    result = rag("bench", "scale", "--data", str(RTQA), "--sizes", "1200", "--out", str(out), cwd=tmp_path,
                 env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    report = json.loads((out / "report.json").read_text())
    rows = report["rows"]
    assert [(r["vectors"], r["faiss_index"]) for r in rows] == [
        (1200, "IndexFlatIP"), (1200, "IndexHNSWFlat"), (1200, "IndexIVFPQ")]
    assert report["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert report["queries"] == 3 and report["base_vectors"] < 1200  # the fixture's passages, then noisy copies
    assert rows[0]["recall_at_10"] == 1.0  # flat search is the exact result
    assert rows[2]["recall_at_10"] >= 0.9  # re-scored exactly from the vectors file
    assert rows[2]["index_mib"] < rows[0]["index_mib"] < rows[2]["disk_mib"]
    assert result.out.splitlines()[1].split() == ["vectors", "index", "build", "s", "build", "peak", "MiB", "in", "RAM",
                                                  "MiB", "disk", "MiB", "load", "s", "p50", "ms", "p95", "ms", "cold",
                                                  "1st", "ms", "recall@10"]
    assert not (out / "work").exists() or not any((out / "work").iterdir())  # each index is removed once measured


def test_resync_times_an_unchanged_dump_and_one_added_article(tmp_path):
    out = tmp_path / "run"
    result = rag("bench", "scale", "--data", str(RTQA), "--resync", "400", "--out", str(out), cwd=tmp_path,
                 env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    (row,) = json.loads((out / "report.json").read_text())["resync"]
    assert (row["articles"], row["first_build_embedded"], row["unchanged_embedded"], row["one_added_embedded"]) == \
        (400, 400, 0, 1)
    assert row["faiss_index"] == "IndexFlatIP"


def test_milvus_lite_is_measured_beside_faiss_and_exact_below_the_hnsw_switch(tmp_path):
    out = tmp_path / "run"
    result = rag("bench", "scale", "--data", str(RTQA), "--sizes", "1200", "--kinds", "flat", "milvus", "--out",
                 str(out), cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    flat, milvus = json.loads((out / "report.json").read_text())["rows"]
    assert [(r["kind"], r["vectors"], r["faiss_index"]) for r in (flat, milvus)] == [
        ("flat", 1200, "IndexFlatIP"), ("milvus", 1200, "Milvus Lite FLAT")]
    assert milvus["recall_at_10"] == 1.0  # FLAT below 200,000 passages: Milvus's search is exact too
    assert not (out / "work").exists() or not any((out / "work").iterdir())


def test_resync_into_milvus_writes_only_what_changed(tmp_path):
    out = tmp_path / "run"
    result = rag("bench", "scale", "--data", str(RTQA), "--resync", "400", "--store", "milvus", "--out", str(out),
                 cwd=tmp_path, env={"RAG_MODELS_DIR": str(MODELS_DIR)})
    assert result.code == 0, result.err
    (row,) = json.loads((out / "report.json").read_text())["resync"]
    assert (row["faiss_index"], row["first_build_embedded"], row["unchanged_embedded"], row["one_added_embedded"]) == \
        ("Milvus FLAT", 400, 0, 1)
