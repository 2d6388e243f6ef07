"""Finding article files (`rag.index.sources`): the size cap, copies, odd names and symbolic links."""

import os
from pathlib import Path

import pytest

from rag import store
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.index.sources import MAX_ARTICLE_BYTES, UNHASHED, Skipped, SourceFile, discover, read_article
from tests.fakes import HashEmbedder

SETTINGS = ChunkingSettings(max_tokens=40, target_tokens=20, overlap_tokens=5)
TOO_LARGE = "300.0 MB is over the 20 MB limit for one article"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no disk space and no time to make."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.truncate(path, size)
    return path


@pytest.fixture
def never_read(monkeypatch):
    """Fail the test if any file in the returned set is opened or read."""
    guarded: set[Path] = set()
    real_open = Path.open

    def open_(self, *args, **kwargs):
        assert self not in guarded, f"{self} was read"
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read whole"))
    return guarded


def test_a_file_over_the_limit_is_listed_unhashed_and_skipped_unread(tmp_path, never_read):
    huge = sparse(tmp_path / "docs" / "huge.txt", 300_000_000)
    never_read.add(huge)
    files, skipped = discover([tmp_path / "docs"])
    assert (files, skipped) == ([SourceFile(huge, "huge", UNHASHED)], [])
    assert read_article(files[0]) == Skipped(huge, TOO_LARGE)


def test_the_limit_itself_is_allowed(tmp_path):
    at_limit = sparse(tmp_path / "at.txt", MAX_ARTICLE_BYTES)
    over = sparse(tmp_path / "over.txt", MAX_ARTICLE_BYTES + 1)
    assert discover([at_limit])[0][0].sha256 != UNHASHED
    assert read_article(discover([at_limit])[0][0]) == Skipped(at_limit, "binary file (contains NUL bytes)")
    assert read_article(discover([over])[0][0]) == Skipped(over, "20.0 MB is over the 20 MB limit for one article")


def test_a_file_that_grows_over_the_limit_keeps_its_indexed_version(tmp_path):
    path = write(tmp_path / "docs" / "a.txt", "Tesla news\n\nTesla opened a plant in Shanghai.")
    write(tmp_path / "docs" / "b.txt", "BYD news\n\nBYD opened a plant in Hungary.")
    build_index(tmp_path / "ix", [tmp_path / "docs"], HashEmbedder(), SETTINGS)
    before = store.load(tmp_path / "ix").manifest.articles["a"]
    os.truncate(path, 300_000_000)
    report = build_index(tmp_path / "ix", [], HashEmbedder(), SETTINGS)
    assert [(s.path, s.reason) for s in report.skipped] == [(path, TOO_LARGE)]
    assert (report.removed, report.unchanged) == ((), ("b",))
    assert store.load(tmp_path / "ix").manifest.articles["a"] == before


def test_a_copy_under_another_name_is_skipped_but_empty_files_are_not_copies(tmp_path):
    one = write(tmp_path / "docs" / "one.txt", "Story\n\nThe same words.")
    write(tmp_path / "docs" / "two.txt", "Story\n\nThe same words.")
    write(tmp_path / "other" / "three.md", "Story\n\nThe same words.")
    write(tmp_path / "docs" / "empty1.txt", "")
    write(tmp_path / "docs" / "empty2.txt", "")
    files, skipped = discover([tmp_path / "docs", tmp_path / "other"])
    assert [f.article_id for f in files] == ["empty1", "empty2", "one"]
    assert [(s.path.name, s.reason) for s in skipped] == [("two.txt", f"same content as {one}"),
                                                          ("three.md", f"same content as {one}")]


def test_odd_names_are_ids_as_they_are_and_hidden_files_in_folders_are_passed_over(tmp_path):
    for name in ("with space.txt", "北京新闻.txt", "a..b.txt", ".hidden.txt", "notes.docx", "UPPER.MD"):
        write(tmp_path / "docs" / name, f"{name}\n\nText of {name}.")
    (tmp_path / "docs" / "folder.txt").mkdir()
    files, skipped = discover([tmp_path / "docs"])
    assert ([f.article_id for f in files], skipped) == (["UPPER", "a..b", "with space", "北京新闻"], [])


def test_a_file_named_explicitly_is_reported_when_it_is_not_an_article(tmp_path):
    hidden = write(tmp_path / ".hidden.txt", "x")
    docx = write(tmp_path / "notes.docx", "x")
    assert discover([hidden, docx, Path("/dev/null")]) == ([], [
        Skipped(hidden, "hidden file (its name starts with '.'): rename it to index it"),
        Skipped(docx, "not an article file (got .docx; rag reads .txt, .md, .html, .htm, .pdf, .jsonl, .json, .csv, "
                      ".rss, .atom, .xml)"),
        Skipped(Path("/dev/null"), "not a file or folder")])


def test_symbolic_links(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    write(outside / "out.txt", "Outside\n\nAn article kept elsewhere.")
    write(docs / "sub" / "in.txt", "Inside\n\nAn article in a subfolder.")
    (docs / "link-out.txt").symlink_to(outside / "out.txt")  # a link to a file: followed, wherever it points
    (docs / "outdir").symlink_to(outside)  # a link to a folder: not followed
    (docs / "sub" / "up").symlink_to(docs)  # a loop through a folder link: not followed, so no loop
    (docs / "loop1.txt").symlink_to(docs / "loop2.txt")
    (docs / "loop2.txt").symlink_to(docs / "loop1.txt")
    (docs / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (docs / "dangling-note").symlink_to(tmp_path / "gone")  # not an article name: ignored
    files, skipped = discover([docs])
    assert [(f.path, f.article_id) for f in files] == [(docs / "sub" / "in.txt", "in"), (docs / "link-out.txt", "link-out")]
    not_followed = "symbolic link to a folder, not followed: give its target to `rag index` instead"
    assert [(s.path.relative_to(docs), s.reason) for s in skipped] == [
        (Path("dangling.txt"), f"broken symbolic link (its target {tmp_path / 'gone.txt'} does not exist)"),
        (Path("loop1.txt"), "symbolic link loop"),
        (Path("loop2.txt"), "symbolic link loop"),
        (Path("outdir"), not_followed),
        (Path("sub/up"), not_followed),
    ]


def test_a_file_that_cannot_be_read_is_skipped_not_fatal(tmp_path, monkeypatch):
    good = write(tmp_path / "docs" / "good.txt", "Good\n\nReadable.")
    locked = write(tmp_path / "docs" / "locked.txt", "Locked\n\nUnreadable.")
    real_open = Path.open

    def open_(self, *args, **kwargs):
        if self == locked:  # the tests run as root, for whom chmod 000 does not stop reading
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    files, skipped = discover([tmp_path / "docs"])
    assert ([f.path for f in files], skipped) == ([good], [Skipped(locked, "cannot read it (Permission denied)")])
    assert read_article(SourceFile(locked, "locked", "x")) == Skipped(locked, "cannot read it (Permission denied)")
