"""Every kind of article file through `build_index`: real files of each kind (tests/fixtures/formats), their
titles, dates, URLs and pages, the boilerplate left out, bad rows named FILE:LINE, and re-syncs that embed
only what changed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from rag import store
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.index.readers.dates import iso_date
from rag.index.sources import MAX_ARTICLE_BYTES, MAX_PARSED_DUMP_BYTES, MAX_STREAMED_DUMP_BYTES
from tests.fakes import HashEmbedder

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
SMALL = ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8)


def folder_of(tmp_path: Path, *names: str) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for name in names:
        source = FORMATS / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, docs / name)
    return docs


def build(tmp_path: Path, docs: Path, embedder=None, **kwargs):
    return build_index(tmp_path / "ix", [docs], embedder or HashEmbedder(), SMALL, **kwargs)


def texts(index_dir: Path, article_id: str) -> str:
    return "\n".join(c.text for c in store.load(index_dir).chunks if c.article_id == article_id)


def where(report) -> list[tuple[str, str]]:
    return [(Path(s.where).name, s.reason) for s in report.skipped]


def test_a_saved_page_gives_its_story_title_date_and_url_without_menus_or_comments(tmp_path):
    docs = folder_of(tmp_path, "musk-beijing.html", "menu-only.html")
    page = (FORMATS / "musk-beijing.html").read_text(encoding="utf-8")  # the same page with no date in its markup or URL
    undated = page.replace('<meta property="article:published_time" content="2024-04-28T14:05:00+08:00">', "")
    (docs / "no-date.html").write_text(undated.replace("/2024/04/28/", "/"), encoding="utf-8")
    report = build(tmp_path, docs)
    assert report.added == ("musk-beijing", "no-date")
    assert where(report) == [("menu-only.html", "no main text in the page (2 words outside menus and boilerplate; "
                                                "a login wall or a script-only page?)")]
    article = store.load(tmp_path / "ix").manifest.articles["musk-beijing"]
    assert (article.title, article.published, article.url) == (
        "Musk meets Chinese premier in surprise Beijing visit", "2024-04-28",
        "https://news.example.com/2024/04/28/musk-beijing")
    body = texts(tmp_path / "ix", "musk-beijing")
    assert body.startswith("Musk meets Chinese premier in surprise Beijing visit\n\nTesla chief executive Elon Musk met")
    for boilerplate in ("Home", "Read next", "gadgets", "Comments", "cheap watches", "Copyright"):
        assert boilerplate not in body
    # no date in the page's markup, URL or text: none, rather than January 1 of the copyright line's year
    assert store.load(tmp_path / "ix").manifest.articles["no-date"].published is None


def test_a_pdf_keeps_its_pages_and_a_scan_is_refused_with_the_reason(tmp_path):
    report = build(tmp_path, folder_of(tmp_path, "lingang-data.pdf", "scanned.pdf"))
    assert report.added == ("lingang-data",)
    assert where(report) == [("scanned.pdf", "no text layer in 1 page(s): a scanned PDF needs OCR, which rag does not do")]
    loaded = store.load(tmp_path / "ix")
    assert (loaded.manifest.articles["lingang-data"].title, loaded.manifest.articles["lingang-data"].published) == (
        "Shanghai eases data transfer rules for Lingang firms", "2024-05-02")
    # each passage carries the page it starts on; page 2 starts at "Tesla's Shanghai gigafactory"
    assert [(c.page, c.start, c.text[:26]) for c in loaded.chunks] == [
        (1, 0, "Shanghai eases data transf"), (1, 163, "transfer overseas without "), (2, 317, "The pilot covers data from")]


def test_a_jsonl_dump_indexes_each_row_and_names_the_bad_ones(tmp_path):
    report = build(tmp_path, folder_of(tmp_path, "wire.jsonl"))
    assert report.added == ("wire-w-101", "wire-w-102", "wire-u0eb6de7b5dec")  # in the file's order
    assert where(report) == [
        ("wire.jsonl:4", "no text (looked for text, content, body, article, full_text; name the field with --field text=NAME)"),
        ("wire.jsonl:5", "not JSON (Unterminated string starting at at column 49)")]
    articles = store.load(tmp_path / "ix").manifest.articles
    assert [(a.title, a.published, a.url) for a in articles.values()] == [
        ("CATL chairman meets Musk in Beijing", "2024-04-30", "https://wire.example.com/w-101"),
        ("Minister meets Musk", "2024-05-01", "https://wire.example.com/w-102"),
        ("Undated wire", None, "https://wire.example.com/w-105")]


def test_a_resync_of_a_dump_embeds_only_the_rows_that_changed(tmp_path):
    docs = folder_of(tmp_path, "wire.jsonl")
    build(tmp_path, docs)
    again = build(tmp_path, docs)
    assert (again.embedded_texts, len(again.unchanged), again.added, again.updated) == (0, 3, (), ())
    lines = (docs / "wire.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("on Wednesday", "on Wednesday, May 1")
    del lines[0]  # w-101 is gone from the dump
    (docs / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    embedder = HashEmbedder()
    changed = build(tmp_path, docs, embedder)
    assert (changed.updated, changed.removed, changed.unchanged) == (("wire-w-102",), ("wire-w-101",), ("wire-u0eb6de7b5dec",))
    assert embedder.embedded and all("Jin Zhuanglong" in t or "Minister" in t for t in embedder.embedded)
    assert "May 1" in texts(tmp_path / "ix", "wire-w-102")


def test_other_field_names_are_mapped_once_and_remembered(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "scrape.jsonl").write_text('{"story": "Tesla shares rose after the Beijing visit.", "when": "2024-04-29"}\n',
                                       encoding="utf-8")
    assert where(build(tmp_path, docs)) == [
        ("scrape.jsonl:1", "no text (looked for text, content, body, article, full_text; name the field with --field text=NAME)")]
    mapped = build(tmp_path, docs, fields={"text": "story", "date": "when"})
    (article_id,) = mapped.added
    assert store.load(tmp_path / "ix").manifest.articles[article_id].published == "2024-04-29"
    (docs / "scrape.jsonl").write_text('{"story": "Tesla shares fell.", "when": "2024-04-30", "head": "Shares"}\n',
                                       encoding="utf-8")
    resynced = build(tmp_path, docs)  # no fields given: the recorded ones are used
    assert resynced.skipped == () and len(resynced.added) == 1
    retitled = build(tmp_path, docs, fields={"title": "head"})  # the same file, read again with the new name
    (article_id,) = retitled.updated
    assert store.load(tmp_path / "ix").manifest.articles[article_id].title == "Shares"
    assert store.load(tmp_path / "ix").manifest.fields == {"text": "story", "date": "when", "title": "head"}


def test_csv_and_a_news_api_json_export(tmp_path):
    report = build(tmp_path, folder_of(tmp_path, "archive.csv", "newsapi.json"))
    assert report.added == ("archive-a1", "archive-a3", "newsapi-u9b5aa595b7dd")
    reason = "no text (looked for text, content, body, article, full_text; name the field with --field text=NAME)"
    assert where(report) == [("archive.csv:5", reason), ("newsapi.json:2", reason)]  # a1 spans lines 2-4
    articles = store.load(tmp_path / "ix").manifest.articles
    assert [articles[k].published for k in report.added] == ["2024-04-29", "2024-04-28", "2024-04-28"]
    assert "The news came days after Musk's visit." in texts(tmp_path / "ix", "archive-a1")


def test_feeds_index_each_entry_and_prefer_a_saved_page_over_the_summary(tmp_path):
    docs = folder_of(tmp_path, "feed.rss", "feed.atom", "empty.rss")
    (docs / "pages").mkdir()
    shutil.copy(FORMATS / "musk-beijing.html", docs / "pages" / "musk-beijing.html")  # the page the feed links to
    report = build(tmp_path, docs)
    assert where(report) == [("empty.rss", "a feed with no entries")]
    articles = store.load(tmp_path / "ix").manifest.articles
    assert sorted((a.title, a.published, Path(a.source).name) for a in articles.values()) == [
        ("Industry minister meets Musk", "2024-05-01", "feed.atom"),
        ("Musk meets Chinese premier in surprise Beijing visit", "2024-04-28", "musk-beijing.html"),  # once: the page
        ("Tesla passes China data checks", "2024-04-29", "feed.rss")]
    assert "Li told Musk that Tesla's development in China" in texts(tmp_path / "ix", "musk-beijing")


def test_a_feed_entry_takes_the_text_of_a_page_saved_elsewhere(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    feed = (FORMATS / "feed.rss").read_text(encoding="utf-8")
    (docs / "feed.rss").write_text(feed.replace("pages/musk-beijing.html", (FORMATS / "musk-beijing.html").as_uri()),
                                   encoding="utf-8")
    build(tmp_path, docs)
    articles = store.load(tmp_path / "ix").manifest.articles
    saved = next(k for k, a in articles.items() if a.title.startswith("Musk meets"))
    assert "Li told Musk that Tesla's development in China" in texts(tmp_path / "ix", saved)  # the page, not the summary
    summary = next(k for k, a in articles.items() if a.title.startswith("Tesla passes"))
    assert "met China's data security requirements" in texts(tmp_path / "ix", summary)  # entry HTML made text


@pytest.mark.parametrize(("value", "iso"), [
    ("2024-04-28T10:00:00Z", "2024-04-28"),
    ("2024-04-28T01:00:00+08:00", "2024-04-28"),  # the day where it was published, not the UTC day before
    ("Sun, 28 Apr 2024 10:00:00 GMT", "2024-04-28"),
    ("28 April 2024", "2024-04-28"),
    ("April 2024", None),  # no day: not a date
    ("soon", None),
    ("", None),
])
def test_metadata_dates(value, iso):
    assert iso_date(value) == iso


def _padded_row(ident: str, text: str, pad: int) -> str:
    """A JSONL row whose article is `text`, made `pad` bytes longer by a field no reader looks at."""
    return json.dumps({"id": ident, "title": f"Story {ident}", "text": text, "raw_html": "x" * pad}) + "\n"


def test_a_jsonl_dump_larger_than_one_article_is_read_a_row_at_a_time(tmp_path):
    # 27 MB in all, over the 20 MB limit for one article file; each row is under it except the 21 MB one, which is
    # a bad row like any other, named by its line, and the rows after it are still indexed
    docs = tmp_path / "docs"
    docs.mkdir()
    with (docs / "export.jsonl").open("w", encoding="utf-8") as f:
        f.write(_padded_row("a1", "Tesla opened a second factory in Shanghai for Megapack batteries.", 3_000_000))
        f.write(_padded_row("a2", "Too long to be one article, though its story is short.", 21_000_000))
        f.write(_padded_row("a3", "Baidu will map Chinese roads for Tesla's driver assistance.", 3_000_000))
    assert (docs / "export.jsonl").stat().st_size > MAX_ARTICLE_BYTES
    report = build(tmp_path, docs)
    assert report.added == ("export-a1", "export-a3")
    assert where(report) == [("export.jsonl:2", "21.0 MB is over the 20 MB limit for one article")]
    assert texts(tmp_path / "ix", "export-a3") == "Story a3\n\nBaidu will map Chinese roads for Tesla's driver assistance."
    assert build(tmp_path, docs).embedded_texts == 0  # hashed like any file, so an unchanged re-sync costs nothing


def test_a_csv_dump_larger_than_one_article_is_read_a_row_at_a_time(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    with (docs / "export.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "text", "raw_html"])
        for n in range(3):
            writer.writerow([f"c{n}", f"Story {n}", f"Story {n} says Tesla sold cars in China in week {n}.", "x" * 8_000_000])
    assert (docs / "export.csv").stat().st_size > MAX_ARTICLE_BYTES
    report = build(tmp_path, docs)
    assert (report.added, report.skipped) == (("export-c0", "export-c1", "export-c2"), ())


@pytest.mark.parametrize(("name", "size", "reason"), [
    ("big.json", MAX_PARSED_DUMP_BYTES + 1, "200.0 MB is over the 200 MB limit for a .json file, which is read whole: "
                                            "export larger dumps as JSONL, which is read a row at a time"),
    ("big.rss", MAX_PARSED_DUMP_BYTES + 1, "200.0 MB is over the 200 MB limit for a .rss file, which is read whole: "
                                           "export larger dumps as JSONL, which is read a row at a time"),
    ("big.jsonl", MAX_STREAMED_DUMP_BYTES + 1, "4,000.0 MB is over the 4,000 MB limit for one .jsonl dump: "
                                               "split it into smaller files"),
])
def test_a_dump_over_its_own_limit_is_skipped_unread_with_the_limit_named(tmp_path, name, size, reason):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "story.txt").write_text("Tesla and Baidu\n\nTesla reached a mapping deal with Baidu.", encoding="utf-8")
    with (docs / name).open("wb") as f:  # sparse: no disk space and no time, and never read
        f.truncate(size)
    report = build(tmp_path, docs)
    assert (report.added, where(report)) == (("story",), [(name, reason)])


def test_a_dump_that_is_binary_or_empty_is_named_so(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "photo.jsonl").write_bytes(b'{"text": "a"}\n\x89PNG\x00\x00')
    (docs / "blank.csv").write_bytes(b"\xef\xbb\xbf \n\n")
    (docs / "story.txt").write_text("Tesla and Baidu\n\nTesla reached a mapping deal with Baidu.", encoding="utf-8")
    report = build(tmp_path, docs)
    assert where(report) == [("blank.csv", "empty file"), ("photo.jsonl", "binary file (contains NUL bytes)")]
