"""`rag index` killed at any moment, two of them at once, and damaged index files.

The kill points are drawn from `random.Random(SEED)` (set CRASH_SEED to try others); the seed,
the measured phases of an uninterrupted run and every kill point are printed, so a failure
reproduces. A kill point is an anchor (process start, the "embedding" line on stderr, the new
generation's temporary folder appearing) plus a delay; delays only decide where to kill, nothing
asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag import store
from tests.conftest import RAG_TEST_ENV, SEEDS, rag

SEED = int(os.environ.get("CRASH_SEED", "20240611"))
SEED_IDS = {p.stem for p in SEEDS.glob("*.txt")}
WORDS = ("battery factory Shanghai Beijing investors quarter exports tariff council minister shares profit "
         "engineers plant electric vehicles prices market report growth officials policy energy workers").split()
LONG = 600  # seconds; only a limit for a process that hangs


def write_articles(folder: Path, tag: str, rng: random.Random, n: int = 40) -> set[str]:
    """n generated articles of about one passage each; returns their ids."""
    folder.mkdir(parents=True)
    for i in range(n):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 18))).capitalize() + "."
                     for _ in range(8)]
        (folder / f"{tag}_{i:02d}.txt").write_text(f"Report {tag} {i}\n\n{' '.join(sentences)}\n", encoding="utf-8")
    return {f"{tag}_{i:02d}" for i in range(n)}


class Rag:
    """`rag ARGS...` started in the background, its stderr collected as it arrives."""

    def __init__(self, *args: str, cwd: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._err = bytearray()
        self._eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fd = self.proc.stderr.fileno()
        while data := os.read(fd, 65536):
            with self._changed:
                self._err += data
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    @property
    def err(self) -> str:
        with self._changed:
            return self._err.decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = LONG) -> bool:
        """Until `text` is on stderr (True) or stderr closed without it (False)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: text.encode() in self._err or self._eof, timeout=timeout)
            assert found, f"no {text!r} on stderr within {timeout} s:\n{self.err}"
            return text.encode() in self._err

    def finish(self) -> int:
        code = self.proc.wait(timeout=LONG)
        self._reader.join(timeout=LONG)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()


def fresh_temp_generation(index_dir: Path, since_ns: int, proc: subprocess.Popen) -> bool:
    """Poll until the build creates its temporary generation folder (True) or exits (False)."""
    while proc.poll() is None:
        with contextlib.suppress(FileNotFoundError), os.scandir(index_dir) as entries:
            for entry in entries:
                if entry.name.startswith(".gen-") and entry.name.endswith(".tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        if entry.stat().st_mtime_ns >= since_ns - 50_000_000:  # not one a killed build left
                            return True
        time.sleep(0.001)
    return False


def check_index(index_dir: Path, *allowed: set[str]) -> set[str]:
    """The index loads, its parts agree, and it holds exactly one of the allowed article sets."""
    import faiss

    loaded = store.load(index_dir)  # verifies both checksums
    articles = set(loaded.manifest.articles)
    assert articles in allowed, f"article set is neither the old nor the new one: {sorted(articles ^ allowed[0])[:5]}..."
    gen = index_dir / store.CURRENT
    with (gen / store.CHUNKS).open(encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    ntotal = faiss.read_index(str(gen / store.VECTORS)).ntotal
    counted = loaded.manifest.passages
    assert lines == ntotal == counted == len(loaded.chunks)
    assert {c.article_id for c in loaded.chunks} == articles
    return articles


def search_works(index_dir: Path, articles: set[str]) -> None:
    """`rag search --json` over the index (in this process, so the embedder's imports are paid once)."""
    from rag.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["search", "--json", "-k", "3", "Who is the chairman of CATL?", "--index", str(index_dir)])
    assert code == 0
    ranked = json.loads(out.getvalue())
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert ranked[0]["chunk_id"] == "004_93dc4c72c663ac72:1"
    assert {r["chunk_id"].rsplit(":", 1)[0] for r in ranked} <= articles


@pytest.fixture
def no_rag_settings(monkeypatch):
    """In-process commands see no RAG_* settings of the caller, like `rag()` subprocesses."""
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    for key, value in RAG_TEST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set by the embedder in-process; restored afterwards
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


def test_sigkill_at_seeded_points_leaves_the_old_or_the_new_index(tmp_path, seed_index, no_rag_settings):
    rng = random.Random(SEED)
    index_dir = tmp_path / "ix"
    shutil.copytree(seed_index, index_dir, symlinks=True)

    # one uninterrupted run of the same kind of change, to place the kill points in its phases
    ids = write_articles(tmp_path / "extra-0", "x0", rng)
    run = Rag("index", str(tmp_path / "extra-0"), "--index", str(index_dir), cwd=tmp_path)
    assert run.wait_for("rag: embedding ")
    embedding = time.monotonic() - run.started
    seen = fresh_temp_generation(index_dir, time.time_ns(), run.proc)
    writing = time.monotonic() - run.started  # if polling missed the folder: when the run ended
    assert run.finish() == 0, run.err
    total = time.monotonic() - run.started
    print(f"temporary generation {'seen' if seen else 'missed by polling'}")
    articles = check_index(index_dir, SEED_IDS | ids)

    plan = [
        ("start", rng.uniform(0.0, 0.5)),  # interpreter start and imports
        ("start", rng.uniform(0.0, embedding)),  # imports, loading the model, reading the previous index
        ("start", rng.uniform(0.0, total)),  # anywhere
        ("embedding", rng.uniform(0.0, writing - embedding)),
        ("embedding", rng.uniform(0.0, writing - embedding)),
        # writing the new generation takes milliseconds: at once, within a few ms, then the switch,
        # clean-up and exit
        ("writing", 0.0),
        ("writing", rng.uniform(0.0, 0.004)),
        ("writing", rng.uniform(0.0, total - writing)),
    ]
    print(f"CRASH_SEED={SEED}: uninterrupted run: embedding at {embedding:.2f} s, writing at {writing:.2f} s, "
          f"exit at {total:.2f} s; kill points (anchor, delay s):",
          ", ".join(f"({anchor}, {delay:.3f})" for anchor, delay in plan))

    for i, (anchor, delay) in enumerate(plan, start=1):
        new_ids = write_articles(tmp_path / f"extra-{i}", f"x{i}", rng)
        run = Rag("index", str(tmp_path / f"extra-{i}"), "--index", str(index_dir), cwd=tmp_path)
        try:
            reached = True
            if anchor in ("embedding", "writing"):
                reached = run.wait_for("rag: embedding ")
            if anchor == "writing" and reached:
                reached = fresh_temp_generation(index_dir, time.time_ns(), run.proc)
            if reached:
                time.sleep(delay)
            run.proc.send_signal(signal.SIGKILL)
            code = run.finish()
        finally:
            run.kill()
        before = articles
        articles = check_index(index_dir, before, before | new_ids)
        outcome = "new" if articles != before else "old"
        print(f"kill {i} ({anchor} + {delay:.3f} s): exit {code}, {outcome} index; left: "
              f"{sorted(p.name for p in index_dir.iterdir())}")
        assert code in (-signal.SIGKILL, 0)  # 0: it had finished before the kill
        if code == 0:
            assert outcome == "new", run.err
        search_works(index_dir, articles)

    # whatever the kills left behind does not stop an uninterrupted run, which cleans it up
    last_ids = write_articles(tmp_path / "extra-last", "xl", rng)
    done = rag("index", str(tmp_path / "extra-last"), "--index", str(index_dir), cwd=tmp_path)
    assert done.code == 0, done.err
    assert check_index(index_dir, articles | last_ids) == articles | last_ids
    generation = os.readlink(index_dir / store.CURRENT)
    assert {p.name for p in index_dir.iterdir()} == {".lock", store.CURRENT, generation, store.SOURCES}


def test_a_second_rag_index_waits_for_the_first_and_says_so(tmp_path, seed_index):
    rng = random.Random(SEED)
    index_dir = tmp_path / "ix"
    shutil.copytree(seed_index, index_dir, symlinks=True)
    first_ids = write_articles(tmp_path / "first", "a", rng)
    second_ids = write_articles(tmp_path / "second", "b", rng, n=3)
    waiting = f"rag: another `rag index` is writing {index_dir}; waiting for it to finish\n"

    first = Rag("index", str(tmp_path / "first"), "--index", str(index_dir), cwd=tmp_path)
    second = None
    try:
        assert first.wait_for("rag: embedding ")  # printed while it holds the lock
        first.proc.send_signal(signal.SIGSTOP)  # keep it holding the lock, however fast the machine
        second = Rag("index", str(tmp_path / "second"), "--index", str(index_dir), cwd=tmp_path)
        assert second.wait_for(waiting)
        assert second.proc.poll() is None
        assert check_index(index_dir, SEED_IDS) == SEED_IDS  # nothing written yet
        first.proc.send_signal(signal.SIGCONT)
        assert first.finish() == 0, first.err
        assert second.finish() == 0, second.err
    finally:
        first.kill()
        if second:
            second.kill()

    assert "waiting" not in first.err
    assert "rag: indexed 45 articles (40 added, 0 updated, 0 removed, 5 unchanged)" in first.err
    # the second started from what the first wrote: it kept the first's articles and added its own
    assert second.err.index(waiting) < second.err.index("rag: indexed 48 articles (3 added, 0 updated, 0 removed, 45 unchanged)")
    assert check_index(index_dir, SEED_IDS | first_ids | second_ids)


@pytest.mark.parametrize("name", [store.VECTORS, store.CHUNKS])
def test_a_truncated_index_file_gives_no_answer_and_names_the_repair(tmp_path, seed_index, name):
    index_dir = tmp_path / "ix"
    shutil.copytree(seed_index, index_dir, symlinks=True)
    damaged = index_dir / store.CURRENT / name
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    message = (f"rag: error: index at {index_dir} is corrupt ({name} fails its checksum): "
               f"rebuild it with `rag index --rebuild --index {index_dir}`\n")
    for command in (["ask", "Who is the chairman of CATL?"], ["search", "CATL"], ["search", "--json", "CATL"]):
        result = rag(*command, "--index", str(index_dir), cwd=tmp_path)
        assert (result.code, result.out, result.err) == (2, "", message), command

    repaired = rag("index", "--rebuild", "--index", str(index_dir), cwd=tmp_path)  # no ./seeds here: recorded sources
    assert repaired.code == 0, repaired.err
    assert "rag: indexed 5 articles (5 added, 0 updated, 0 removed, 0 unchanged)" in repaired.err
    assert check_index(index_dir, SEED_IDS) == SEED_IDS
    found = rag("search", "--json", "-k", "1", "Who is the chairman of CATL?", "--index", str(index_dir), cwd=tmp_path)
    assert found.code == 0 and json.loads(found.out)[0]["chunk_id"] == "004_93dc4c72c663ac72:1"


def test_a_destroyed_manifest_is_repaired_by_the_command_it_names(tmp_path, seed_index):
    index_dir = tmp_path / "ix"
    shutil.copytree(seed_index, index_dir, symlinks=True)
    manifest = index_dir / store.CURRENT / store.MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8")[:100], encoding="utf-8")
    result = rag("search", "CATL", "--index", str(index_dir), cwd=tmp_path)
    assert (result.code, result.out, result.err) == (
        2, "", f"rag: error: index at {index_dir} cannot be read (JSONDecodeError): "
               f"rebuild it with `rag index --rebuild --index {index_dir}`\n")

    assert not (tmp_path / "seeds").exists()  # the article folders can only come from the index itself
    repaired = rag("index", "--rebuild", "--index", str(index_dir), cwd=tmp_path)
    assert repaired.code == 0, repaired.err
    assert check_index(index_dir, SEED_IDS) == SEED_IDS
    assert store.load(index_dir).manifest.sources == (str(SEEDS.resolve()),)
