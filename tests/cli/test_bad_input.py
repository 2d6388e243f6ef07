"""Bad input everywhere a user can give it, through the real entry points; the run writes docs/bad-input.md.

Surfaces: the `rag` command (a subprocess, real MiniLM, a scripted OpenAI-compatible server where a
model must answer), `rag serve`'s application (FastAPI's test client) and the UI's answering loop and
uploads (the functions its buttons call); the last three use the hashed bag-of-words embedder and the
scripted model. Each case asserts its observed behaviour exactly (exit code or HTTP status, the whole
message, what was answered or stored) and that nothing indexed was lost, then adds a row built from
what it observed; the last test writes the rows to docs/bad-input.md once every case has added one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import store
from rag.assistant import Assistant
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.retrieval import DenseRetriever
from rag.serve.app import create_app
from rag.ui.app import Services, answer_stream
from rag.ui.library import Library
from tests.cli.bad_input_table import Row, Table, scrub
from tests.conftest import ROOT, SEEDS, Run, rag
from tests.fakes import HashEmbedder, ScriptedBackend
from tests.http_stubs import StubServer, openai_stream

DOC = ROOT / "docs" / "bad-input.md"
CLI, SERVE, UI_CHAT, UI_UPLOAD = "`rag` CLI", "`rag serve`", "UI chat", "UI upload"
KEPT = "nothing indexed lost"
STUB = ["--model", "openai:stub"]  # with --base-url of a StubServer: no real model loads
CATL = "Who is the chairman of CATL?"
LI_QIANG = "001_a97cac3138bdc646:0"  # the seed passage that names 李強
CJK = "李強在北京會見了誰？"
MIXED = "What did 李強 say about Tesla?"
CONTROL = "\x01Who is\x1b[31m the chairman\x7f of\tCATL?\x1b[0m\x1f"  # argv cannot carry a NUL; the server case has one
LONG = " ".join(["a"] * 40_000)  # 80 kB: Linux refuses one argument over 128 kB, so short words

# Every case, in table order; each test adds its row under one of these keys.
CLI_CASES = ["ask-empty", "ask-blank", "ask-long", "ask-control", "search-cjk", "ask-cjk", "search-mixed", "ask-mixed",
             "flag-unknown", "flag-k", "env-top-k-0", "env-top-k-abc", "env-base-url", "env-timeout", "toml-unknown",
             "toml-invalid", "toml-not-table", "toml-folder", "config-missing"]
INDEX_CASES = ["empty", "binary", "latin1", "huge", "huge-dump", "copy", "same-stem", "dir-link", "loop", "dangling", "docx",
               "hidden", "missing", "space", "unicode", "dots", "dotfile", "link-out", "dotdot"]
SERVE_CASES = ["empty", "blank", "control", "cjk", "mixed", "long", "json", "utf8", "nested", "content-type",
               "messages-type", "model-type", "huge", "huge-chunked"]
UI_CHAT_CASES = ["empty", "blank", "control", "cjk", "long"]
UPLOAD_CASES = ["empty", "binary", "latin1", "huge", "passwd", "slash", "backslash", "cjk-name", "seed-copy"]
TABLE = Table([f"cli:{k}" for k in CLI_CASES] + [f"index:{k}" for k in INDEX_CASES] + [f"serve:{k}" for k in SERVE_CASES]
              + [f"ui-chat:{k}" for k in UI_CHAT_CASES] + [f"upload:{k}" for k in UPLOAD_CASES])


def articles(index: Path) -> dict[str, dict]:
    """The index's articles as its current manifest lists them."""
    return json.loads((index / store.CURRENT / store.MANIFEST).read_text(encoding="utf-8"))["articles"]


def snapshot(index: Path) -> tuple[str, dict[str, dict]]:
    """What a refused input must leave alone: the `current` generation and the articles."""
    return (index / store.CURRENT).resolve().name, articles(index)


def kept(before: dict[str, dict], index: Path) -> bool:
    """Whether every article indexed before is still indexed, unchanged."""
    after = articles(index)
    return all(after.get(article_id) == entry for article_id, entry in before.items())


def observe(key: str, row: Row, expected: tuple[str, str]) -> None:
    """Assert the observed (outcome, message) exactly, then record the row built from it."""
    assert (row.observed, row.message) == expected, key
    TABLE.add(key, row)


# --- the rag command: questions, flags and settings -------------------------------------------------------------


@pytest.fixture
def work(tmp_path: Path, seed_index: Path) -> Path:
    """A folder holding `ix`, a copy of the seed index, for runs with `--index ix` from inside it."""
    shutil.copytree(seed_index, tmp_path / "ix", symlinks=True)
    return tmp_path


def refused(run: Run, work: Path, before: tuple) -> tuple[str, str]:
    """(outcome, message) of a run that should refuse: its code, whether the index is untouched, its last line."""
    untouched = KEPT if snapshot(work / "ix") == before else "INDEX CHANGED"
    printed = f"; printed {len(run.out)} characters on stdout" if run.out else ""
    lines = run.err.splitlines()
    return f"exit {run.code}; {untouched}{printed}", scrub(lines[-1] if lines else "", work)


EMPTY = 'rag: error: the question is empty: ask something, e.g. rag ask "Why did Musk visit Beijing?"'


@pytest.mark.parametrize(("key", "given", "question"), [
    ("ask-empty", '`rag ask ""`', ""),
    ("ask-blank", "`rag ask` with only spaces and a tab", "   \t "),
])
def test_an_empty_question_is_refused_before_anything_loads(work, key, given, question):
    before = snapshot(work / "ix")
    run = rag("ask", question, "--index", "ix", cwd=work)
    assert run.err == EMPTY + "\n"
    observe(f"cli:{key}", Row(CLI, given, *refused(run, work, before)), (f"exit 2; {KEPT}", EMPTY))


def test_a_question_beyond_the_context_window_is_refused_before_the_model(work):
    before = snapshot(work / "ix")
    with StubServer(openai_stream("never sent")) as server:
        run = rag("ask", LONG, "--index", "ix", *STUB, "--base-url", f"{server.url}/v1", cwd=work)
    assert server.seen == []
    message = ("rag: error: the question is too long for openai:stub: with no passages the prompt needs 40091 tokens "
               "and the model's context leaves 3840")
    assert run.err == message + "\n"
    observe("cli:ask-long", Row(CLI, "`rag ask` with a question of 40,000 words (80 kB)", *refused(run, work, before)),
            (f"exit 2; {KEPT}", message))


def answered(run: Run, server: StubServer) -> str:
    """What a `rag ask --json` run did: the question it asked, what the model saw, and the answer."""
    data = json.loads(run.out)
    prompts = [f"`{seen.body['messages'][-1]['content'].rsplit(chr(10) * 2, 1)[-1]}`" for seen in server.seen]
    saw = f"the model saw {', '.join(prompts)}" if prompts else "the model not called"
    cited = ", ".join(c["chunk_id"] for c in data["citations"]) or "nothing"
    return f"exit {run.code}; asked `{data['question']}`; {saw}; answered `{data['answer']}` citing {cited}"


def test_control_characters_and_terminal_colours_are_dropped_from_a_question(work):
    before = snapshot(work / "ix")
    with StubServer(openai_stream("Zeng Yuqun")) as server:
        run = rag("ask", "--json", CONTROL, "--index", "ix", *STUB, "--base-url", f"{server.url}/v1", cwd=work)
    assert (run.code, run.err, snapshot(work / "ix")) == (0, "", before)
    given = f"`rag ask --json` with `\\x01`, `\\x1f`, `\\x7f`, a tab and ANSI colours (`\\x1b[31m`) around `{CATL}`"
    observe("cli:ask-control", Row(CLI, given, answered(run, server), ""),
            ("exit 0; asked `Who is the chairman of CATL?`; the model saw `Question: Who is the chairman of CATL?`; "
             "answered `Zeng Yuqun [2]` citing 004_93dc4c72c663ac72:0", ""))


def ranked(run: Run) -> str:
    """Where a `rag search --json` run ranked the passage that names 李強."""
    hits = json.loads(run.out)
    rank = next((h["rank"] for h in hits if h["chunk_id"] == LI_QIANG and "李強" in h["text"]), None)
    return f"exit {run.code}; {len(hits)} passages; the one naming 李強 ({LI_QIANG}) ranked {rank}"


@pytest.mark.parametrize(("key", "question", "rank"), [("search-cjk", CJK, 1), ("search-mixed", MIXED, 3)])
def test_a_question_in_another_script_is_searched(work, key, question, rank):
    run = rag("search", "--json", question, "--index", "ix", cwd=work)
    assert run.err == ""
    observe(f"cli:{key}", Row(CLI, f"`rag search --json '{question}'`", ranked(run), ""),
            (f"exit 0; 4 passages; the one naming 李強 ({LI_QIANG}) ranked {rank}", ""))


@pytest.mark.parametrize(("key", "question", "reply", "expected", "warnings"), [
    # MiniLM reads English: the Chinese question's best passage scores under the floor, so no model is asked
    ("ask-cjk", CJK, "never sent", f"exit 0; asked `{CJK}`; the model not called; answered `Not in the documents.` "
                                   "citing nothing", "no passage is close enough to the question (best score 0.24 < 0.25)"),
    ("ask-mixed", MIXED, "That Tesla's development in China is a successful example of US-China cooperation",
     f"exit 0; asked `{MIXED}`; the model saw `Question: {MIXED}`; answered `That Tesla's development in China is a "
     f"successful example of US-China cooperation [3].` citing {LI_QIANG}", ""),
])
def test_a_question_in_another_script_is_answered(work, key, question, reply, expected, warnings):
    with StubServer(openai_stream(reply)) as server:
        run = rag("ask", "--json", question, "--index", "ix", *STUB, "--base-url", f"{server.url}/v1", cwd=work)
    assert run.err == ""
    shown = "; ".join(json.loads(run.out)["warnings"])
    observe(f"cli:{key}", Row(CLI, f"`rag ask --json '{question}'`", answered(run, server), shown), (expected, warnings))


@pytest.mark.parametrize(("key", "given", "args", "env", "toml", "message"), [
    ("flag-unknown", "`rag ask --frobnicate q`", ["ask", "--frobnicate", "q"], {}, None,
     "rag: error: unrecognized arguments: --frobnicate"),
    ("flag-k", "`rag ask -k abc q`", ["ask", "-k", "abc", "q"], {}, None,
     "rag ask: error: argument -k/--top-k: invalid int value: 'abc'"),
    ("env-top-k-0", "`RAG_TOP_K=0`", ["search", "q"], {"RAG_TOP_K": "0"}, None,
     "rag: error: bad setting (top_k: Input should be greater than or equal to 1)"),
    ("env-top-k-abc", "`RAG_TOP_K=abc`", ["search", "q"], {"RAG_TOP_K": "abc"}, None,
     "rag: error: bad setting (top_k: Input should be a valid integer, unable to parse string as an integer)"),
    ("env-base-url", "`RAG_BASE_URL=ftp://x`", ["search", "q"], {"RAG_BASE_URL": "ftp://x"}, None,
     "rag: error: bad setting (base_url: Value error, must start with http:// or https://, got 'ftp://x')"),
    ("env-timeout", "`RAG_REQUEST_TIMEOUT=-1`", ["search", "q"], {"RAG_REQUEST_TIMEOUT": "-1"}, None,
     "rag: error: bad setting (request_timeout: Input should be greater than 0)"),
    ("toml-unknown", "`rag.toml`: `[rag]` `frobnicate = 1`", ["search", "q"], {}, "[rag]\nfrobnicate = 1\n",
     "rag: error: bad setting (frobnicate: Extra inputs are not permitted)"),
    ("toml-invalid", "`rag.toml`: `top_k =`", ["search", "q"], {}, "top_k =\n",
     "rag: error: rag.toml is not valid TOML: Invalid value (at line 1, column 8)"),
    ("toml-not-table", "`rag.toml`: `rag = 5`", ["search", "q"], {}, "rag = 5\n",
     "rag: error: rag.toml: rag must be a table of settings ([rag]), not int"),
    ("toml-folder", "`rag.toml` is a folder", ["search", "q"], {}, "",
     "rag: error: cannot read rag.toml: Is a directory"),
    ("config-missing", "`RAG_CONFIG=missing.toml` (no such file)", ["search", "q"], {"RAG_CONFIG": "missing.toml"}, None,
     "rag: error: RAG_CONFIG names missing.toml, which does not exist"),
])
def test_unknown_flags_and_bad_settings_exit_2_with_one_clear_line(work, key, given, args, env, toml, message):
    if toml == "":
        (work / "rag.toml").mkdir()
    elif toml is not None:
        (work / "rag.toml").write_text(toml, encoding="utf-8")
    before = snapshot(work / "ix")
    run = rag(*args, "--index", "ix", cwd=work, env=env)
    usage = key.startswith("flag-")  # argparse prints its usage lines first
    assert run.err.startswith("usage: rag") if usage else run.err == message + "\n"
    observe(f"cli:{key}", Row(CLI, given, *refused(run, work, before)), (f"exit 2; {KEPT}", message))


# --- the rag command: article files -------------------------------------------------------------------------------

STORY = "Zorblat story\n\nZorblat Motors opened a battery plant in Lyon on Monday, its first in France.\n"


@dataclass(frozen=True)
class IndexRun:
    """One `rag index` run over a prepared folder, and the index before and after it."""

    work: Path
    run: Run
    before: dict[str, dict]
    after: dict[str, dict]
    warnings: list[str]  # its `rag: warning:` lines, scrubbed

    def outcome(self, what: str) -> str:
        """The run's exit status, `what` happened to one input, and whether an article indexed before was lost."""
        lost = KEPT if all(self.after.get(k) == v for k, v in self.before.items()) else "ARTICLES LOST"
        return f"exit {self.run.code}; {what}; {lost}"


def index_run(work: Path, seed_index: Path, *paths: str) -> IndexRun:
    """`rag index PATHS --index ix` run in `work`, over a copy of the seed index."""
    shutil.copytree(seed_index, work / "ix", symlinks=True)
    before = articles(work / "ix")
    run = rag("index", *paths, "--index", "ix", cwd=work)
    warnings = [scrub(line, work, work.resolve()) for line in run.err.splitlines() if line.startswith("rag: warning:")]
    return IndexRun(work, run, before, articles(work / "ix"), warnings)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, seed_index) -> IndexRun:
    """`rag index docs notes.docx .secret.txt` over a folder of files that cannot be articles, beside a good one."""
    work = tmp_path_factory.mktemp("bad-files")
    docs = work / "docs"
    (docs / "sub").mkdir(parents=True)
    (work / "outside").mkdir()
    (docs / "story.txt").write_text(STORY, encoding="utf-8")
    (docs / "wire-copy.txt").write_text(STORY, encoding="utf-8")
    (docs / "sub" / "story.md").write_text("Another story\n\nSame file name, other folder.\n", encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.txt").write_bytes(b"GGUF\x00\x01\x02\x03")
    (docs / "latin1.txt").write_bytes("Café news\n\nLe café a ouvert.\n".encode("latin-1"))
    (docs / "huge.txt").touch()
    os.truncate(docs / "huge.txt", 300_000_000)  # sparse: no disk, no time
    (docs / "export.jsonl").touch()
    os.truncate(docs / "export.jsonl", 4_100_000_000)  # a dump has a limit of its own, far above one article's
    (docs / "outdir").symlink_to("../outside")
    (docs / "loop1.txt").symlink_to("loop2.txt")
    (docs / "loop2.txt").symlink_to("loop1.txt")
    (docs / "dangling.txt").symlink_to("../gone.txt")
    (work / "notes.docx").write_bytes(b"PK\x03\x04 word document")
    (work / ".secret.txt").write_text("A hidden file named explicitly.\n", encoding="utf-8")
    return index_run(work, seed_index, "docs", "notes.docx", ".secret.txt")


BAD_FILES = [  # (key, input, path, reason), in the order `rag index` prints them
    ("dangling", "a broken symbolic link `dangling.txt -> ../gone.txt`", "docs/dangling.txt",
     "broken symbolic link (its target ../gone.txt does not exist)"),
    ("loop", "symbolic links in a loop `loop1.txt -> loop2.txt -> loop1.txt`", "docs/loop1.txt", "symbolic link loop"),
    ("dir-link", "a symbolic link to a folder outside `outdir -> ../outside`", "docs/outdir",
     "symbolic link to a folder, not followed: give its target to `rag index` instead"),
    ("same-stem", "`sub/story.md` beside `story.txt` (the same article id)", "docs/sub/story.md",
     "same article id as docs/story.txt"),
    ("copy", "`wire-copy.txt`, the same bytes as `story.txt`", "docs/wire-copy.txt", "same content as docs/story.txt"),
    ("docx", "`notes.docx` named on the command line", "notes.docx",
     "not an article file (got .docx; rag reads .txt, .md, .html, .htm, .pdf, .jsonl, .json, .csv, .rss, .atom, .xml)"),
    ("hidden", "`.secret.txt` named on the command line", ".secret.txt",
     "hidden file (its name starts with '.'): rename it to index it"),
    ("binary", "`binary.txt` holding NUL bytes", "docs/binary.txt", "binary file (contains NUL bytes)"),
    ("empty", "an empty `empty.txt`", "docs/empty.txt", "empty file"),
    ("huge-dump", "`export.jsonl` of 4.1 GB (sparse)", "docs/export.jsonl",
     "4,100.0 MB is over the 4,000 MB limit for one .jsonl dump: split it into smaller files"),
    ("huge", "`huge.txt` of 300 MB (sparse)", "docs/huge.txt", "300.0 MB is over the 20 MB limit for one article"),
    ("latin1", "`latin1.txt` in Latin-1, not UTF-8", "docs/latin1.txt", "not UTF-8 text (byte 3)"),
]


def test_a_folder_of_bad_files_is_indexed_without_them_and_exits_1(bad_files):
    expected = [f"rag: warning: skipped {path}: {reason}" for _, _, path, reason in BAD_FILES]
    expected.insert(2, "rag: warning: skipped docs/loop2.txt: symbolic link loop")
    assert (bad_files.run.code, bad_files.warnings) == (1, expected)
    assert "Traceback" not in bad_files.run.err
    assert set(bad_files.after) == set(bad_files.before) | {"story"}
    assert all(bad_files.after[k] == v for k, v in bad_files.before.items())


@pytest.mark.parametrize(("key", "given", "path", "reason"), BAD_FILES, ids=[k for k, *_ in BAD_FILES])
def test_each_bad_file_is_named_in_a_warning(bad_files, key, given, path, reason):
    shown = next((w for w in bad_files.warnings if w.startswith(f"rag: warning: skipped {path}: ")), "")
    indexed = bad_files.after.get(Path(path).stem, {}).get("source") == str(bad_files.work.resolve() / path)
    what = "INDEXED" if indexed else "skipped, the good article beside it indexed"
    observe(f"index:{key}", Row(CLI, f"`rag index docs notes.docx .secret.txt`: {given}", bad_files.outcome(what), shown),
            (f"exit 1; skipped, the good article beside it indexed; {KEPT}", f"rag: warning: skipped {path}: {reason}"))


def test_a_path_that_does_not_exist_is_refused_at_once(work):
    before = snapshot(work / "ix")
    run = rag("index", "nope", "--index", "ix", cwd=work)
    # refused before the embedder loads (it was 15 s) or anything is written: no empty index folder is left behind
    assert rag("index", "nope", "--index", "fresh", cwd=work).code == 2 and not (work / "fresh").exists()
    observe("index:missing", Row(CLI, "`rag index nope` (no such path)", *refused(run, work, before)),
            (f"exit 2; {KEPT}", "rag: error: no such file or folder: nope"))


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory, seed_index) -> IndexRun:
    """`rag index docs extra/../extra/dotdot.txt` where docs holds files with unusual names."""
    work = tmp_path_factory.mktemp("odd-names")
    docs = work / "docs"
    docs.mkdir()
    (work / "extra").mkdir()
    (work / "outside").mkdir()
    for name, title in [("with space.txt", "Spaces"), ("北京新闻.txt", "北京新闻"), ("a..b.txt", "Dots"),
                        (".hidden.txt", "Hidden"), ("../outside/elsewhere.txt", "Elsewhere"), ("../extra/dotdot.txt", "Dotdot")]:
        (docs / name).write_text(f"{title}\n\nAn article called {title} about Quux Holdings.\n", encoding="utf-8")
    (docs / "link-out.txt").symlink_to("../outside/elsewhere.txt")
    return index_run(work, seed_index, "docs", "extra/../extra/dotdot.txt")


ODD_NAMES = [  # (key, input, article id or None, expected outcome)
    ("space", "`with space.txt`", "with space", f"exit 0; indexed as `with space`; {KEPT}"),
    ("unicode", "`北京新闻.txt`", "北京新闻", f"exit 0; indexed as `北京新闻`; {KEPT}"),
    ("dots", "`a..b.txt`", "a..b", f"exit 0; indexed as `a..b`; {KEPT}"),
    ("dotfile", "`.hidden.txt` inside the folder", None,
     f"exit 0; passed over silently (a folder's hidden files are editors' and the uploader's temporary files); {KEPT}"),
    ("link-out", "`link-out.txt -> ../outside/elsewhere.txt`, a symbolic link out of the folder", "link-out",
     f"exit 0; indexed as `link-out`; {KEPT}"),
    ("dotdot", "`extra/../extra/dotdot.txt` named on the command line", "dotdot",
     f"exit 0; indexed as `dotdot`, recorded as extra/dotdot.txt; {KEPT}"),
]


def test_odd_names_are_indexed_and_the_run_exits_0(odd_names):
    assert (odd_names.run.code, odd_names.warnings) == (0, [])
    assert set(odd_names.after) == set(odd_names.before) | {"with space", "北京新闻", "a..b", "link-out", "dotdot"}


@pytest.mark.parametrize(("key", "given", "article_id", "expected"), ODD_NAMES, ids=[k for k, *_ in ODD_NAMES])
def test_each_odd_name(odd_names, key, given, article_id, expected):
    if article_id is None:
        what = "passed over silently (a folder's hidden files are editors' and the uploader's temporary files)" \
            if ".hidden" not in odd_names.after else "INDEXED"
    else:
        what = f"indexed as `{article_id}`" if article_id in odd_names.after else "NOT INDEXED"
    if key == "dotdot":
        sources = json.loads((odd_names.work / "ix" / "current" / "manifest.json").read_text())["sources"]
        recorded = [scrub(s, odd_names.work.resolve()) for s in sources if s.endswith("dotdot.txt")]
        what += f", recorded as {', '.join(recorded)}"
    row = Row(CLI, f"`rag index docs extra/../extra/dotdot.txt`: {given}", odd_names.outcome(what),
              "\n".join(odd_names.warnings))
    observe(f"index:{key}", row, (expected, ""))


# --- rag serve ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def retriever(tmp_path_factory) -> DenseRetriever:
    """The seeds indexed with the hashed embedder, as the serve and UI tests use them."""
    index = tmp_path_factory.mktemp("serve") / "ix"
    build_index(index, [SEEDS], HashEmbedder(), ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    return DenseRetriever(store.load(index), HashEmbedder())


def body(question: object) -> dict:
    """A chat request asking `question`."""
    return {"model": "rag", "messages": [{"role": "user", "content": question}]}


@dataclass(frozen=True)
class Chunked:
    """A body to send in 64 kB pieces with no Content-Length (Transfer-Encoding: chunked)."""

    data: bytes

    def pieces(self):
        return iter([self.data[i:i + 65536] for i in range(0, len(self.data), 65536)])


HUGE = b'{"model": "rag", "messages": [{"role": "user", "content": "' + b"a " * 2_500_000 + b'"}]}'
TOO_LARGE = ("the request body is over the 4 MB limit: a question and its conversation fit in far less",
             "request_too_large")
NO_QUESTION = "the last user message is empty: it should hold the question to answer"
NOT_JSON = "the request body is not valid JSON (it is not UTF-8 text, or it nests too deeply)"
REQUESTS = [  # (key, input, request, scripted reply, expected outcome, expected message)
    ("empty", 'the question ""', body(""), None, "HTTP 400, code invalid_input; the model not called", NO_QUESTION),
    ("blank", "a question of spaces, tabs and newlines", body(" \t\n "), None,
     "HTTP 400, code invalid_input; the model not called", NO_QUESTION),
    ("control", "NUL, BEL, DEL and ANSI colours around the CATL question",
     body("\x00Who is\x1b[31m the chairman\x7f of CATL?\x07"), "Zeng Yuqun",
     "HTTP 200; the model saw `Question: Who is the chairman of CATL?`; answered `Zeng Yuqun [4]`", ""),
    ("cjk", f"`{CJK}`", body(CJK), "Elon Musk", f"HTTP 200; the model saw `Question: {CJK}`; answered `Not in the documents.`",
     ""),
    ("mixed", f"`{MIXED}`", body(MIXED), "Li Qiang said Tesla was a successful example",
     f"HTTP 200; the model saw `Question: {MIXED}`; answered `Not in the documents.`", ""),
    ("long", "a question of 40,000 words", body(LONG), None, "HTTP 400, code invalid_input; the model not called",
     "the question is too long for scripted: with no passages the prompt needs 40038 tokens and the model's context "
     "leaves 4000"),
    ("json", "a body cut short: `{\"model\": \"rag\",`", b'{"model": "rag",', None,
     "HTTP 400, code invalid_json; the model not called",
     "the request body is not valid JSON (Expecting property name enclosed in double quotes)"),
    ("utf8", "a body with bytes that are not UTF-8", b'{"model": "rag", "messages": [{"role": "user", "content": "\xff"}]}',
     None, "HTTP 400, code invalid_json; the model not called", NOT_JSON),
    ("nested", "100,000 nested `[`", b"[" * 100_000, None, "HTTP 400, code invalid_json; the model not called", NOT_JSON),
    ("content-type", "`content: 5`", body(5), None, "HTTP 400, code invalid_value; the model not called",
     'messages.0.content: Input should be a string or a list of parts {"type": "text", "text": "..."}'),
    ("messages-type", '`messages: "hi"`', {"model": "rag", "messages": "hi"}, None,
     "HTTP 400, code invalid_value; the model not called", "messages: Input should be a valid list"),
    ("model-type", "`model: 5`", {"model": 5, "messages": [{"role": "user", "content": CATL}]}, None,
     "HTTP 400, code invalid_value; the model not called", "model: Input should be a valid string"),
    ("huge", "a 5 MB body", HUGE, None, f"HTTP 413, code {TOO_LARGE[1]}; the model not called", TOO_LARGE[0]),
    ("huge-chunked", "a 5 MB body sent chunked, without Content-Length", Chunked(HUGE), None,
     f"HTTP 413, code {TOO_LARGE[1]}; the model not called", TOO_LARGE[0]),
]


@pytest.mark.parametrize(("key", "given", "request_", "reply", "outcome", "message"), REQUESTS, ids=[c[0] for c in REQUESTS])
def test_serve_answers_bad_requests_with_4xx_json_or_handles_them(retriever, key, given, request_, reply, outcome, message):
    backend = ScriptedBackend(*([reply] if reply else []))
    client = TestClient(create_app(Assistant(retriever, backend), None))
    if isinstance(request_, dict):
        response = client.post("/v1/chat/completions", json=request_)
    else:
        content = request_.pieces() if isinstance(request_, Chunked) else request_
        response = client.post("/v1/chat/completions", content=content, headers={"content-type": "application/json"})
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    prompts = [f"`{call[-1]['content'].rsplit(chr(10) * 2, 1)[-1]}`" for call in backend.calls]
    seen = f"the model saw {', '.join(prompts)}" if prompts else "the model not called"
    if response.status_code == 200:
        observed = f"HTTP 200; {seen}; answered `{data['choices'][0]['message']['content']}`", ""
    else:
        assert set(data) == {"error"} and data["error"]["type"] == "invalid_request_error"
        observed = f"HTTP {response.status_code}, code {data['error']['code']}; {seen}", data["error"]["message"]
    observe(f"serve:{key}", Row(SERVE, given, *observed), (outcome, message))


# --- the UI: questions in the chat, uploads -----------------------------------------------------------------------


CHAT_QUESTIONS = [  # (key, input, question, scripted reply, expected outcome, expected message)
    ("empty", 'the question ""', "", None, "shown in the chat as an error; the model not called",
     "Type a question first, e.g. Why did Musk visit Beijing?"),
    ("blank", "a question of spaces and a tab", "  \t ", None, "shown in the chat as an error; the model not called",
     "Type a question first, e.g. Why did Musk visit Beijing?"),
    ("control", "NUL, ESC and ANSI colours around the CATL question", "\x00Who is the \x1b[1mchairman\x1b[0m of CATL?\x1b",
     "Zeng Yuqun", "answered `Zeng Yuqun [4]` to `Who is the chairman of CATL?`", ""),
    ("cjk", f"`{CJK}`", CJK, "never sent", f"answered `Not in the documents.` to `{CJK}`", ""),
    ("long", "a question of 40,000 words", LONG, None, "shown in the chat as an error; the model not called",
     "the question is too long for scripted: with no passages the prompt needs 40038 tokens and the model's context "
     "leaves 4000"),
]


@pytest.mark.parametrize(("key", "given", "question", "reply", "outcome", "message"), CHAT_QUESTIONS,
                         ids=[c[0] for c in CHAT_QUESTIONS])
def test_the_ui_chat_shows_bad_questions_as_errors_or_answers_them(retriever, tmp_path, key, given, question, reply,
                                                                   outcome, message):
    backend = ScriptedBackend(*([reply] if reply else []))
    services = Services(Assistant(retriever, backend), library=None, feedback_path=tmp_path / "feedback.jsonl")
    *_, (kind, value) = list(answer_stream(services, [], question, 4, threading.Event()))
    if kind == "done":
        rewrite, answer, _ = value
        observed = f"answered `{answer.text}` to `{rewrite.question}`", ""
    else:
        called = "the model not called" if not backend.calls else f"the model called {len(backend.calls)} times"
        observed = f"shown in the chat as {'an error' if kind == 'error' else kind}; {called}", value
    observe(f"ui-chat:{key}", Row(UI_CHAT, given, *observed), (outcome, message))


@pytest.fixture(scope="module")
def ui_index(tmp_path_factory) -> Path:
    """The seeds indexed with the hashed embedder, copied by each upload case."""
    index = tmp_path_factory.mktemp("ui") / "ix"
    build_index(index, [SEEDS], HashEmbedder())
    return index


SEED_BYTES = (SEEDS / "000_ebc01fc2445bc94e.txt").read_bytes()
ARTICLE = b"Quux story\n\nQuux Holdings bought a shipyard in Gdansk for 40 million euros.\n"
GENERATED = f"upload-{hashlib.sha256(ARTICLE).hexdigest()[:12]}"
UPLOADS = [  # (key, file name, bytes, expected outcome, expected reason)
    ("empty", "empty.txt", b"", f"refused; {KEPT}", "empty file"),
    ("binary", "model.txt", b"GGUF\x00\x01\x02", f"refused; {KEPT}", "binary file (contains NUL bytes)"),
    ("latin1", "cafe.txt", "Café news".encode("latin-1"), f"refused; {KEPT}", "not UTF-8 text (byte 3)"),
    ("huge", "big.txt", b"a" * 5_000_001, f"refused; {KEPT}", "5.0 MB is over the 5 MB limit for one article"),
    ("passwd", "../../etc/passwd.txt", ARTICLE, f"stored as uploads/passwd.txt, inside uploads/; indexed as `passwd`; {KEPT}",
     ""),
    ("slash", "a/b.txt", ARTICLE, f"stored as uploads/b.txt, inside uploads/; indexed as `b`; {KEPT}", ""),
    ("backslash", "..\\x.md", ARTICLE, f"stored as uploads/x.md, inside uploads/; indexed as `x`; {KEPT}", ""),
    ("cjk-name", "北京新闻.txt", ARTICLE,  # only ASCII letters and digits are kept: a generated name
     f"stored as uploads/{GENERATED}.txt, inside uploads/; indexed as `{GENERATED}`; {KEPT}", ""),
    ("seed-copy", "copy.txt", SEED_BYTES, f"refused; {KEPT}", "already indexed as 000_ebc01fc2445bc94e"),
]


@pytest.mark.parametrize(("key", "name", "data", "outcome", "reason"), UPLOADS, ids=[c[0] for c in UPLOADS])
def test_uploads_are_refused_with_a_reason_or_stored_under_a_safe_name(ui_index, tmp_path, key, name, data, outcome, reason):
    index = tmp_path / "ix"
    shutil.copytree(ui_index, index, symlinks=True)
    before = snapshot(index)
    report = Library(index, HashEmbedder()).add([(name, data)])
    state = KEPT if kept(before[1], index) else "ARTICLES LOST"
    if report.accepted:
        [accepted] = report.accepted
        [stored] = [p for p in (index / "uploads").iterdir() if p.stem == accepted.article_id]
        inside = "inside uploads/" if stored.resolve().is_relative_to((index / "uploads").resolve()) else "OUTSIDE uploads/"
        indexed = f"indexed as `{accepted.article_id}`" if accepted.article_id in articles(index) else "NOT INDEXED"
        observed = f"stored as uploads/{stored.name}, {inside}; {indexed}; {state}", ""
    else:
        [(refused_name, why)] = report.rejected
        assert refused_name == name
        assert snapshot(index) == before and not (index / "uploads").exists()
        observed = f"refused; {state}", why
    observe(f"upload:{key}", Row(UI_UPLOAD, f"`{name}`: {len(data):,} bytes", *observed), (outcome, reason))


# --- the table ----------------------------------------------------------------------------------------------------


def test_the_table_of_observed_behaviour_is_written_to_docs():
    """Last in the module: writes docs/bad-input.md only if every declared case was observed as asserted."""
    missing = TABLE.missing()
    assert not missing, f"{DOC} not written: {len(missing)} cases were not observed (failed or not run): {missing}"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(TABLE.markdown(), encoding="utf-8")
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| ")][1:]  # after the header
    assert len(rows) == len(TABLE.order)
