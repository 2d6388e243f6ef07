"""Uploads (`rag.ui.library`): the checks, the file names, and the index kept in step without re-embedding the seeds."""

import hashlib
from pathlib import Path

import pytest

from rag import store
from rag.errors import InputError
from rag.index.build import build_index
from rag.ui.library import Accepted, ArticleRow, Library, UploadReport, check_upload, safe_stem
from tests.fakes import HashEmbedder

SEED = "000_ebc01fc2445bc94e"
KINDS = "rag reads .txt, .md, .html, .htm, .pdf, .jsonl, .json, .csv, .rss, .atom, .xml"
FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
ZORBLAT = (b"Zorblat opens a battery plant in Lyon\n\n"
           b"Zorblat said on Monday it would open a battery plant in Lyon. The plant will employ 300 people.\n")
QUUX = b"Quux buys a shipyard\n\nQuux Holdings bought a shipyard in Gdansk for 40 million euros.\n"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("report.docx", b"text", f"report.docx: not an article file (got .docx; {KINDS})"),
    ("README", b"text", f"README: not an article file (got no extension; {KINDS})"),
    ("notes.txt.exe", b"text", f"notes.txt.exe: not an article file (got .exe; {KINDS})"),
    ("report.pdf", b"%PDF-1.7 text", "report.pdf: not a readable PDF (PdfStreamError)"),
    ("page.html", b"<html><body><nav>Home World</nav></body></html>",
     "page.html: no main text in the page (2 words outside menus and boilerplate; a login wall or a script-only page?)"),
    ("rows.jsonl", b'{"title": "No body"}\n', "rows.jsonl: no article in it (every row lacks a text field)"),
    ("feed.rss", b'<rss version="2.0"><channel><title>x</title></channel></rss>', "feed.rss: a feed with no entries"),
    ("a.txt", b"abc\x00def", "a.txt: binary file (contains NUL bytes)"),
    ("a.md", b"caf\xe9 au lait", "a.md: not UTF-8 text (byte 3)"),
    ("a.txt", b"", "a.txt: empty file"),
    ("a.txt", b" \n\t\r\n ", "a.txt: empty file"),
    ("a.txt", b"\xef\xbb\xbf  \n", "a.txt: empty file"),  # a BOM and whitespace is still nothing
    ("b.exe", b"\x00", f"b.exe: not an article file (got .exe; {KINDS})"),  # the name is checked first
])
def test_check_upload_says_why_a_file_is_refused(name, data, message):
    with pytest.raises(InputError) as info:
        check_upload(name, data)
    assert str(info.value) == message


def test_check_upload_refuses_a_file_over_the_size_limit():
    with pytest.raises(InputError) as info:
        check_upload("big.txt", b"a" * 1_500_001, max_bytes=1_000_000)
    assert str(info.value) == "big.txt: 1.5 MB is over the 1 MB limit for one article"
    assert check_upload("ok.txt", b"a" * 10, max_bytes=10) == 1  # at the limit is fine
    with pytest.raises(InputError, match=r"^tiny\.txt: .* limit for one article$"):
        check_upload("tiny.txt", b"a" * 11, max_bytes=10)


def test_check_upload_counts_the_articles_and_takes_upper_case_suffixes():
    assert check_upload("Note.TXT", "\ufeffZürich – 北京\n".encode()) == 1
    assert check_upload("n.Md", b"# Title\n") == 1
    assert check_upload("Wire.JSONL", (FORMATS / "wire.jsonl").read_bytes()) == 3  # two bad rows are left out
    assert check_upload("feed.rss", (FORMATS / "feed.rss").read_bytes()) == 2
    assert check_upload("lingang-data.pdf", (FORMATS / "lingang-data.pdf").read_bytes()) == 1


@pytest.mark.parametrize(("name", "stem"), [
    ("My Article (final).txt", "My-Article-final"),
    ("../../etc/passwd.txt", "passwd"),
    ("..\\..\\evil name.md", "evil-name"),  # a Windows path is just characters here
    (".hidden.txt", "hidden"),
    ("__a__b__.txt", "a__b"),
    ("x" * 100 + ".txt", "x" * 80),
])
def test_safe_stem_keeps_letters_digits_dash_and_underscore(name, stem):
    assert safe_stem(name, b"data", set()) == stem


@pytest.mark.parametrize("name", ["..txt", "???.md", "Привет.txt", " .txt", "-_-.txt"])
def test_a_name_with_nothing_usable_gets_a_generated_stem(name):
    assert safe_stem(name, b"data", set()) == f"upload-{digest(b'data')}" == "upload-3a6eb0790f39"


def test_a_taken_stem_gets_the_hash_of_the_content():
    assert safe_stem("notes.txt", b"data", {"notes", "other"}) == "notes-3a6eb0790f39"
    # case-blind, so a case-insensitive file system cannot overwrite the earlier upload
    assert safe_stem("notes.txt", b"data", {"Notes"}) == "notes-3a6eb0790f39"
    assert safe_stem("notes.txt", b"data", {"note", "notes-x"}) == "notes"


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.fixture
def index_dir(tmp_path, seeds_copy, embedder):
    build_index(tmp_path / "index", [seeds_copy], embedder)
    embedder.embedded.clear()
    return tmp_path / "index"


@pytest.fixture
def library(index_dir, embedder):
    return Library(index_dir, embedder)


def chunk_texts(index_dir, article_id):
    return [c.text for c in store.load(index_dir).chunks if c.article_id == article_id]


def test_the_seeds_are_listed_as_not_uploaded(library):
    rows = library.articles()
    assert [r.id for r in rows] == sorted(library.manifest().articles) and len(rows) == 5
    assert not any(r.uploaded for r in rows)
    assert rows[0].id == SEED and rows[0].chunks == len(chunk_texts(library.index_dir, SEED)) > 0


def test_adding_an_article_stores_it_and_embeds_only_its_passages(library, index_dir, embedder):
    report = library.add([("Zorblat Lyon.txt", ZORBLAT)])
    new_chunks = chunk_texts(index_dir, "Zorblat-Lyon")
    assert report == UploadReport((Accepted("Zorblat Lyon.txt", "Zorblat-Lyon"),), (), len(new_chunks))
    assert (index_dir / "uploads" / "Zorblat-Lyon.txt").read_bytes() == ZORBLAT
    assert sorted(p.name for p in (index_dir / "uploads").iterdir()) == ["Zorblat-Lyon.txt"]  # no .part left
    assert new_chunks and embedder.embedded == new_chunks
    row = next(r for r in library.articles() if r.id == "Zorblat-Lyon")
    assert row == ArticleRow("Zorblat-Lyon", "Zorblat opens a battery plant in Lyon", "", len(new_chunks), True)
    assert [r.id for r in library.articles() if not r.uploaded] == sorted(library.manifest().articles.keys() - {row.id})


def test_a_markdown_upload_keeps_its_suffix(library, index_dir):
    library.add([("Quux.MD", QUUX)])
    assert (index_dir / "uploads" / "Quux.md").read_bytes() == QUUX
    assert [r.id for r in library.articles() if r.uploaded] == ["Quux"]


def test_the_same_bytes_are_not_added_twice(library, embedder):
    library.add([("zorblat.txt", ZORBLAT)])
    embedder.embedded.clear()
    report = library.add([("copy of zorblat.txt", ZORBLAT)])
    assert report == UploadReport((), (("copy of zorblat.txt", "already added as zorblat"),), 0)
    assert embedder.embedded == []
    assert [r.id for r in library.articles() if r.uploaded] == ["zorblat"]


def test_the_same_bytes_twice_in_one_batch_are_added_once(library):
    report = library.add([("one.txt", ZORBLAT), ("two.txt", ZORBLAT)])
    assert report.accepted == (Accepted("one.txt", "one"),)
    assert report.rejected == (("two.txt", "already added as one"),)


def test_a_name_that_clashes_with_a_seed_gets_a_suffixed_stem(library, index_dir, embedder):
    report = library.add([(f"{SEED}.txt", ZORBLAT)])
    stem = f"{SEED}-{digest(ZORBLAT)}"
    assert report.accepted == (Accepted(f"{SEED}.txt", stem),)
    assert (index_dir / "uploads" / f"{stem}.txt").read_bytes() == ZORBLAT
    assert embedder.embedded == chunk_texts(index_dir, stem)  # the seed itself is not re-embedded
    uploaded = {r.id: r.uploaded for r in library.articles()}
    assert uploaded[SEED] is False and uploaded[stem] is True


def test_two_uploads_with_the_same_name_get_different_stems(library):
    library.add([("news.txt", ZORBLAT)])
    report = library.add([("news.txt", QUUX)])
    assert report.accepted == (Accepted("news.txt", f"news-{digest(QUUX)}"),)
    assert [r.id for r in library.articles() if r.uploaded] == ["news", f"news-{digest(QUUX)}"]


def test_a_mixed_batch_adds_the_good_file_and_reports_the_bad_one(library, index_dir):
    report = library.add([("good.txt", ZORBLAT), ("bad.txt", b"PK\x03\x04\x00\x00"), ("slides.pdf", b"%PDF")])
    assert report == UploadReport((Accepted("good.txt", "good"),),
                                  (("bad.txt", "binary file (contains NUL bytes)"),
                                   ("slides.pdf", "not a readable PDF (PdfStreamError)")),
                                  len(chunk_texts(index_dir, "good")))
    assert sorted(p.name for p in (index_dir / "uploads").iterdir()) == ["good.txt"]


def test_a_batch_with_nothing_good_leaves_the_index_alone(library, index_dir, embedder):
    before = (index_dir / "current").resolve()
    report = library.add([("bad.txt", b"\xff\xfe")])
    assert report == UploadReport((), (("bad.txt", "not UTF-8 text (byte 0)"),), 0)
    assert (index_dir / "current").resolve() == before and embedder.embedded == []


def test_a_file_over_the_librarys_limit_is_reported(index_dir, embedder):
    report = Library(index_dir, embedder, max_bytes=1_000_000).add([("long.txt", b"word " * 300_000)])
    assert report.rejected == (("long.txt", "1.5 MB is over the 1 MB limit for one article"),)


def test_removing_an_upload_keeps_its_file_and_takes_it_out_of_the_index(library, index_dir):
    library.add([("zorblat.txt", ZORBLAT)])
    library.remove("zorblat")
    assert not (index_dir / "uploads" / "zorblat.txt").exists()
    assert (index_dir / "removed" / "zorblat.txt").read_bytes() == ZORBLAT
    assert "zorblat" not in library.manifest().articles and chunk_texts(index_dir, "zorblat") == []
    assert [r.id for r in library.articles()] == sorted(library.manifest().articles) and len(library.articles()) == 5
    with pytest.raises(InputError) as info:  # it is gone
        library.remove("zorblat")
    assert str(info.value) == "no article zorblat in the index"


def test_removing_the_same_name_twice_keeps_both_files(library, index_dir):
    library.add([("zorblat.txt", ZORBLAT)])
    library.remove("zorblat")
    assert library.add([("zorblat.txt", ZORBLAT)]).accepted == (Accepted("zorblat.txt", "zorblat"),)
    library.remove("zorblat")
    assert sorted(p.name for p in (index_dir / "removed").iterdir()) == [f"zorblat-{digest(ZORBLAT)}.txt", "zorblat.txt"]
    assert (index_dir / "removed" / f"zorblat-{digest(ZORBLAT)}.txt").read_bytes() == ZORBLAT


def test_a_seed_article_cannot_be_removed_here(library, index_dir):
    with pytest.raises(InputError) as info:
        library.remove(SEED)
    assert str(info.value) == (f"{SEED} was not added here: remove its file from the indexed folder and run `rag index`")
    assert SEED in library.manifest().articles
    assert not (index_dir / "removed").exists()


@pytest.mark.parametrize("article_id", ["nope", "*", "../uploads/zorblat", "zorblat.txt"])
def test_removing_an_unknown_id_says_so(library, index_dir, article_id):
    library.add([("zorblat.txt", ZORBLAT)])
    with pytest.raises(InputError) as info:
        library.remove(article_id)
    assert str(info.value) == f"no article {article_id} in the index"
    assert (index_dir / "uploads" / "zorblat.txt").read_bytes() == ZORBLAT


def test_a_later_rag_index_keeps_the_uploads(library, index_dir, embedder):
    library.add([("zorblat.txt", ZORBLAT)])
    embedder.embedded.clear()
    report = build_index(index_dir, [], embedder)
    assert "zorblat" in report.unchanged and report.added == () and report.removed == ()
    assert report.embedded_texts == 0 and embedder.embedded == []
    assert str((index_dir / "uploads").resolve()) in library.manifest().sources
    assert [r.id for r in library.articles() if r.uploaded] == ["zorblat"]


def test_a_later_rag_index_does_not_bring_a_removed_upload_back(library, index_dir, embedder):
    library.add([("zorblat.txt", ZORBLAT)])
    library.remove("zorblat")
    report = build_index(index_dir, [], embedder)
    assert "zorblat" not in library.manifest().articles and report.added == ()


def test_a_name_differing_only_in_case_does_not_replace_an_earlier_upload(library, index_dir):
    library.add([("Notes.txt", ZORBLAT)])
    report = library.add([("notes.txt", QUUX)])
    assert report.accepted == (Accepted("notes.txt", f"notes-{digest(QUUX)}"),)
    assert (index_dir / "uploads" / "Notes.txt").read_bytes() == ZORBLAT
    assert (index_dir / "uploads" / f"notes-{digest(QUUX)}.txt").read_bytes() == QUUX


def test_pages_pdfs_and_dumps_can_be_uploaded_and_a_dump_is_removed_whole(library, index_dir):
    files = [(name, (FORMATS / name).read_bytes()) for name in ("musk-beijing.html", "lingang-data.pdf", "wire.jsonl")]
    report = library.add(files)
    assert [a.article_id for a in report.accepted] == ["musk-beijing", "lingang-data", "wire"]
    uploaded = {r.id: r.published for r in library.articles() if r.uploaded}
    assert uploaded == {"musk-beijing": "2024-04-28", "lingang-data": "2024-05-02", "wire-w-101": "2024-04-30",
                        "wire-w-102": "2024-05-01", "wire-u0eb6de7b5dec": ""}
    library.remove("wire-w-102")  # a row of an uploaded dump: the dump goes, all its rows with it
    assert sorted(r.id for r in library.articles() if r.uploaded) == ["lingang-data", "musk-beijing"]
    assert sorted(p.name for p in library.removed.iterdir()) == ["wire.jsonl"]
