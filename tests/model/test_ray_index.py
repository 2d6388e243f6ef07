"""`rag index --ray`: Ray Data reads, chunks and embeds on a local Ray of 2 CPUs (started on loopback by the module's
fixture, stopped after it), and the index it writes is the one-process build's, to the bit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SEEDS
from tests.model.conftest import MODELS_DIR

pytestmark = pytest.mark.model

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for the module; the pipelines find it running and use it."""
    from rag.index.distributed import ray_cluster

    with ray_cluster("local") as cpus:
        yield cpus


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The seeds beside a saved page, a page with no story, a PDF, a scanned PDF and a JSONL dump with a bad row."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    for name in ("musk-beijing.html", "menu-only.html", "lingang-data.pdf", "scanned.pdf", "wire.jsonl"):
        shutil.copy(FORMATS / name, docs / name)
    return docs


def _embedder(model_id: str):
    from rag.embedders import open_embedder

    return open_embedder(model_id, MODELS_DIR)


def _ray(model_id: str, workers: int = 2):
    from rag.index.chunking import ChunkingSettings
    from rag.index.distributed import RayPipeline

    return RayPipeline("local", model_id, MODELS_DIR, ChunkingSettings(), workers)


def test_a_local_ray_listens_on_loopback_only(local_ray):
    import psutil

    assert local_ray == 2
    ours = {p.pid for p in psutil.Process().children(recursive=True)}  # the GCS, the raylet and their workers
    listening = [c for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN and c.pid in ours]
    assert len({c.pid for c in listening}) >= 2
    assert {c.laddr.ip for c in listening} <= {"127.0.0.1", "::ffff:127.0.0.1"}


@pytest.mark.parametrize("model", ["minilm", "minilm-int8"])
def test_the_ray_build_is_the_one_process_build_to_the_bit(local_ray, corpus, tmp_path, model):
    from rag import store
    from rag.embedders import IDS
    from rag.index.build import build_index

    embedder = _embedder(IDS[model])
    alone = build_index(tmp_path / "alone", [corpus], embedder)
    on_ray = build_index(tmp_path / "ray", [corpus], embedder, pipeline=_ray(IDS[model]))
    assert on_ray.added == alone.added == (
        "000_ebc01fc2445bc94e", "001_a97cac3138bdc646", "002_9ad4130286e12838", "003_f3c21960676e82a2",
        "004_93dc4c72c663ac72", "lingang-data", "musk-beijing", "wire-w-101", "wire-w-102", "wire-u0eb6de7b5dec")
    # the page and the scan are read by the Ray workers and refused there, as a one-process build refuses them
    assert [(Path(s.where).name, s.reason[:24]) for s in on_ray.skipped] == [
        ("menu-only.html", "no main text in the page"), ("scanned.pdf", "no text layer in 1 page("),
        ("wire.jsonl:4", "no text (looked for text"), ("wire.jsonl:5", "not JSON (Unterminated s")]
    assert on_ray.skipped == alone.skipped
    assert on_ray.embedded_texts == alone.embedded_texts == len(store.load(tmp_path / "alone").chunks)
    built, expected = store.load(tmp_path / "ray"), store.load(tmp_path / "alone")
    assert built.chunks == expected.chunks  # the same passages, pages and dates, in the same order
    assert np.array_equal(built.vectors(), expected.vectors())
    assert built.manifest.articles == expected.manifest.articles


def test_a_ray_resync_embeds_only_the_changed_article(local_ray, corpus, tmp_path):
    from rag import store
    from rag.embedders import MINILM_ID
    from rag.index.build import build_index

    embedder = _embedder(MINILM_ID)
    build_index(tmp_path / "ray", [corpus], embedder, pipeline=_ray(MINILM_ID, workers=1))
    build_index(tmp_path / "alone", [corpus], embedder)
    changed = corpus / "002_9ad4130286e12838.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTesla declined to comment further.\n", encoding="utf-8")
    on_ray = build_index(tmp_path / "ray", [corpus], embedder, pipeline=_ray(MINILM_ID, workers=1))
    alone = build_index(tmp_path / "alone", [corpus], embedder)
    assert on_ray.updated == alone.updated == ("002_9ad4130286e12838",)
    assert on_ray.added == on_ray.removed == ()
    rows = [c for c in store.load(tmp_path / "ray").chunks if c.article_id == "002_9ad4130286e12838"]
    assert on_ray.embedded_texts == alone.embedded_texts == len(rows)
    assert np.array_equal(store.load(tmp_path / "ray").vectors(), store.load(tmp_path / "alone").vectors())
