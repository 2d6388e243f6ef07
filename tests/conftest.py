"""Shared fixtures. Model-tier fixtures load the real models once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
# Every `rag` a test starts: models in the project's var/models (as for a user working there), so the
# ONNX MiniLMs are exported once per machine, not once per test folder; the embedder pinned to the exact
# (fp32) MiniLM, which `auto` picks for corpora the size of the seeds. Not the int8 one: onnxruntime's int8
# kernels differ between CPUs with VNNI and without it (cosine 0.990-0.996 between seed texts embedded on
# a VNNI Xeon and under qemu's AVX2-only Haswell), which reorders near-tied passages, so exact rankings
# would depend on the CPU CI lands on.
RAG_TEST_ENV = {"RAG_MODELS_DIR": str(ROOT / "var" / "models"), "RAG_EMBEDDER": "minilm"}


def require(condition: bool, reason: str) -> None:
    """Skip when a real component is missing, except under CI=true, where that is a failure."""
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"required under CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may change."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target

@pytest.fixture
def retriever(tmp_path, seeds_copy):
    """The seeds indexed with the hashed bag-of-words embedder in small chunks: real, exact rankings, no model."""
    from rag import store
    from rag.index.build import build_index
    from rag.index.chunking import ChunkingSettings
    from rag.retrieval import DenseRetriever
    from tests.fakes import HashEmbedder

    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [seeds_copy], embedder, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    return DenseRetriever(store.load(tmp_path / "ix"), embedder)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server a test started: SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rag(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """`rag ARGS...` as a user would run it; RAG_* variables of the caller are not inherited (RAG_TEST_ENV is set)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
    done = subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """The seed articles indexed once by the real `rag index` (real MiniLM)."""
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    result = rag("index", str(SEEDS), "--index", str(index_dir), cwd=index_dir.parent)
    assert result.code == 0, result.err
    return index_dir
