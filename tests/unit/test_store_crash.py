"""A crash at every filesystem step of `store.save` leaves one whole index, old or new.

`save` is run once to record its filesystem operations in order, then once per operation with a
crash injected just before it (the state a SIGKILL at that moment leaves behind). After every crash
the index must load with exactly the old or exactly the new contents (new only once `current` has
been replaced), and the next save must succeed and leave nothing stale behind.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from typing import ClassVar

import faiss
import numpy as np
import pytest

from rag import store
from rag.errors import IndexCorruptError, InputError
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.store import recorded_sources
from rag.types import Chunk
from tests.fakes import HashEmbedder

DIM = 4


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs, and no `except Exception` can swallow it."""


def version(name: str, n: int) -> tuple[store.Manifest, list[Chunk], np.ndarray]:
    """An index of one article `name` with n chunks (row i is the unit vector e_{i mod DIM})."""
    chunks = [Chunk(f"{name}:{i}", name, i, f"{name} text {i}", i * 10, i * 10 + 6, name.title()) for i in range(n)]
    vectors = np.eye(n, DIM, dtype=np.float32) if n <= DIM else np.tile(np.eye(DIM, dtype=np.float32), (n // DIM + 1, 1))[:n]
    manifest = store.Manifest("2024-01-01T00:00:00+00:00", store.EmbedderInfo("test/e", DIM, 256), {}, (f"/articles/{name}",),
                              {name: store.ArticleEntry(f"/articles/{name}/{name}.txt", name, name.title(), None, n)})
    return manifest, chunks, vectors


OLD, NEW, NEXT = version("old", 3), version("new", 5), version("next", 2)


class Recorder:
    """Wraps the filesystem calls `save` makes; can crash just before the k-th one."""

    TARGETS: ClassVar = [
        (os, "rename"), (os, "replace"), (os, "fsync"), (os, "open"), (shutil, "rmtree"), (faiss, "write_index"),
        (pathlib.Path, "mkdir"), (pathlib.Path, "open"), (pathlib.Path, "unlink"), (pathlib.Path, "symlink_to"),
        (pathlib.Path, "write_text"), (pathlib.Path, "rename"), (pathlib.Path, "replace"), (np, "save"),
    ]

    def __init__(self, monkeypatch, root: pathlib.Path, crash_at: int | None = None):
        self.ops: list[str] = []
        self.root = f"{root}/"
        self.crash_at = crash_at
        for owner, name in self.TARGETS:
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name), name))

    def _wrap(self, real, name):
        def op(*args, **kwargs):
            if len(self.ops) == self.crash_at:
                raise Crash(f"crash before {name}")
            self.ops.append(f"{name} {self._describe(name, args)}")
            return real(*args, **kwargs)

        return op

    def _describe(self, name: str, args) -> str:
        """The paths an operation touches, relative to the test's folder (fsync: the synced file's)."""
        if name == "fsync":
            args = [os.readlink(f"/proc/self/fd/{args[0]}")]
        named = [str(a) for a in args if isinstance(a, str | os.PathLike)]
        return " ".join(n.replace(self.root, "") for n in named)


def check_consistent(index_dir) -> store.Store:
    """Load the index and check the manifest, chunks.jsonl and vectors.faiss agree."""
    loaded = store.load(index_dir, expect_embedder="test/e")
    gen = index_dir / store.CURRENT
    lines = (gen / store.CHUNKS).read_text(encoding="utf-8").splitlines()
    ntotal = faiss.read_index(str(gen / store.VECTORS)).ntotal
    counted = loaded.manifest.passages
    assert len(lines) == ntotal == counted == len(loaded.chunks)
    assert {c.article_id for c in loaded.chunks} == set(loaded.manifest.articles)
    return loaded


def entries(index_dir) -> set[str]:
    return {p.name for p in index_dir.iterdir()}


def save_ops(tmp_path, monkeypatch, old=OLD, new=NEW) -> list[str]:
    """The filesystem operations of saving `new` over `old`, in order."""
    index_dir = tmp_path / "dry"
    store.save(index_dir, *old)
    recorder = Recorder(monkeypatch, tmp_path.resolve())
    store.save(index_dir, *new)
    monkeypatch.undo()
    return recorder.ops


def test_save_replaces_current_once_with_a_link_made_aside(tmp_path, monkeypatch):
    ops = save_ops(tmp_path, monkeypatch)
    commits = [i for i, op in enumerate(ops) if op.startswith("replace") and op.endswith(f" dry/{store.CURRENT}")]
    assert len(commits) == 1, ops
    assert ops[commits[0] - 1].startswith("symlink_to "), ops  # the link is made aside, then renamed over `current`


def test_a_crash_at_every_step_of_save_leaves_the_old_or_the_new_index(tmp_path, monkeypatch):
    crash_everywhere(tmp_path, monkeypatch, OLD, NEW)


def test_a_crash_at_every_step_of_a_compressed_save_leaves_the_old_or_the_new_index(tmp_path, monkeypatch):
    compressed = version("new", 300)  # enough rows to train PQ's codebooks
    ops = crash_everywhere(tmp_path, monkeypatch, OLD, compressed, compressed_from=300)
    assert [op for op in ops if op.startswith("save ")] == [f"save dry/.gen-000002.tmp/{store.RAW}"]


def crash_everywhere(tmp_path, monkeypatch, old, new, compressed_from: int | None = None) -> list[str]:
    """Crash before each filesystem call of saving `new` over `old`: the old or the new index loads, whole.
    Returns the calls."""
    from rag.store import vector_index

    def compress() -> None:
        if compressed_from is not None:
            monkeypatch.setattr(vector_index, "COMPRESSED_FROM", compressed_from)

    compress()
    ops = save_ops(tmp_path, monkeypatch, old, new)
    commit = next(i for i, op in enumerate(ops) if op.startswith("replace") and op.endswith(f" dry/{store.CURRENT}"))
    print(f"save makes {len(ops)} filesystem calls; `current` is replaced by call {commit}:", *ops, sep="\n  ")
    for k in range(len(ops) + 1):
        index_dir = tmp_path / f"crash-{k}"
        store.save(index_dir, *old)
        compress()
        Recorder(monkeypatch, tmp_path.resolve(), crash_at=k)
        if k < len(ops):
            with pytest.raises(Crash):
                store.save(index_dir, *new)
        else:
            store.save(index_dir, *new)
        monkeypatch.undo()

        loaded = check_consistent(index_dir)
        expected = new if k > commit else old
        assert loaded.chunks == tuple(expected[1]), f"crash before call {k} ({ops[k] if k < len(ops) else 'none'})"
        np.testing.assert_array_equal(loaded.vectors(), expected[2])
        assert recorded_sources(index_dir) == [pathlib.Path(p) for p in expected[0].sources]

        # whatever the crash left behind does not stop the next writer, which leaves nothing stale
        with store.writer(index_dir, lambda _: None):
            written = store.save(index_dir, *NEXT)
        assert check_consistent(index_dir).chunks == tuple(NEXT[1])
        assert entries(index_dir) == {".lock", store.CURRENT, written.name, store.SOURCES}, f"crash before call {k}"
    return ops


def test_every_file_and_folder_is_synced_before_the_switch_and_the_switch_after(tmp_path, monkeypatch):
    index_dir = (tmp_path / "ix").resolve()  # /proc/self/fd names resolved paths
    store.save(index_dir, *OLD)
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def tracking_fsync(fd):
        events.append(("fsync", pathlib.Path(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def tracking_replace(src, dst):
        events.append(("replace", pathlib.Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", tracking_fsync)
    monkeypatch.setattr(os, "replace", tracking_replace)
    gen = store.save(index_dir, *NEW)
    monkeypatch.undo()

    switch = events.index(("replace", index_dir / store.CURRENT))
    tmp = index_dir / f".{gen.name}.tmp"
    before = {path for kind, path in events[:switch] if kind == "fsync"}
    # file contents and the new folder's entries (under its temporary name), then the rename into place
    assert {tmp / store.MANIFEST, tmp / store.CHUNKS, tmp / store.VECTORS, tmp, index_dir} <= before
    assert ("fsync", index_dir) in events[switch + 1 :]  # the new `current` link itself


def test_a_reader_during_a_switch_reads_one_generation(tmp_path, monkeypatch):
    """`rag ask` while `rag index` finishes: the reader must not mix the old manifest with the new files."""
    index_dir = tmp_path / "ix"
    store.save(index_dir, *OLD)
    real_sha = store.files.file_sha256
    switched = []

    def sha_during_a_switch(path):
        if not switched:  # the writer commits NEW (and removes OLD) just after the reader opened OLD's manifest
            switched.append(True)
            monkeypatch.setattr(store.files, "file_sha256", real_sha)
            store.save(index_dir, *NEW)
        return real_sha(path)

    monkeypatch.setattr(store.files, "file_sha256", sha_during_a_switch)
    loaded = store.load(index_dir)
    assert switched == [True]
    assert loaded.chunks == tuple(NEW[1])
    assert loaded.manifest.articles == NEW[0].articles


def test_a_manifest_that_is_not_an_object_is_a_clear_error(tmp_path):
    gen = store.save(tmp_path / "ix", *OLD)
    (gen / store.MANIFEST).write_text("[]")
    with pytest.raises(IndexCorruptError) as err:
        store.load(tmp_path / "ix")
    assert str(err.value) == (f"index at {tmp_path / 'ix'} cannot be read (AttributeError): "
                              f"rebuild it with `rag index --rebuild --index {tmp_path / 'ix'}`")


def test_a_dangling_current_is_a_clear_error_not_a_loop(tmp_path):
    index_dir = tmp_path / "ix"
    gen = store.save(index_dir, *OLD)
    shutil.rmtree(gen)
    with pytest.raises(IndexCorruptError) as err:
        store.load(index_dir)
    assert str(err.value) == (f"index at {index_dir} cannot be read (FileNotFoundError): "
                              f"rebuild it with `rag index --rebuild --index {index_dir}`")


def test_an_index_copied_without_symlinks_still_loads(tmp_path):
    store.save(tmp_path / "ix", *OLD)
    shutil.copytree(tmp_path / "ix", tmp_path / "copy", symlinks=False)
    assert (tmp_path / "copy" / store.CURRENT).is_dir() and not (tmp_path / "copy" / store.CURRENT).is_symlink()
    assert check_consistent(tmp_path / "copy").chunks == tuple(OLD[1])


SETTINGS = ChunkingSettings(max_tokens=40, target_tokens=20, overlap_tokens=5)


def test_a_build_starts_by_clearing_what_a_killed_build_left(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Tesla opened a factory in Shanghai.", encoding="utf-8")
    index_dir = tmp_path / "ix"
    first = build_index(index_dir, [docs], HashEmbedder(), SETTINGS)
    current = os.readlink(index_dir / store.CURRENT)
    # what builds killed at various points leave: a half-written temp, an unlinked whole generation, a temp link
    (index_dir / ".gen-000002.tmp").mkdir()
    (index_dir / ".gen-000002.tmp" / store.CHUNKS).write_text('{"id": "a:0", "art')
    shutil.copytree(index_dir / current, index_dir / "gen-000003")
    (index_dir / f".{store.CURRENT}.tmp").symlink_to("gen-000003")
    assert first.chunks == len(store.load(index_dir).chunks)

    # a build that fails after taking the lock (here: a path that is not there) still clears them
    with pytest.raises(InputError):
        build_index(index_dir, [tmp_path / "missing"], HashEmbedder(), SETTINGS)
    assert entries(index_dir) == {".lock", store.CURRENT, current, store.SOURCES}
    assert os.readlink(index_dir / store.CURRENT) == current


def test_the_repair_command_works_when_the_manifest_is_destroyed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Tesla opened a factory in Shanghai.", encoding="utf-8")
    index_dir = tmp_path / "ix"
    build_index(index_dir, [docs], HashEmbedder(), SETTINGS)
    (index_dir / store.CURRENT / store.MANIFEST).write_text('{"format_vers')
    with pytest.raises(IndexCorruptError, match="rebuild it with `rag index --rebuild"):
        store.load(index_dir)
    # `rag index --rebuild --index DIR` gives no paths: the article folders must still be known
    assert recorded_sources(index_dir) == [docs.resolve()]
    report = build_index(index_dir, [], HashEmbedder(), SETTINGS, rebuild=True)
    assert report.added == ("a",)
    assert json.loads((index_dir / store.CURRENT / store.MANIFEST).read_text())["sources"] == [str(docs.resolve())]
