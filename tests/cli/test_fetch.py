"""`rag index URL` (rag.index.fetch) against a real HTTP server on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.errors import InputError
from rag.index.fetch import USER_AGENT, fetch, page_name
from tests.conftest import rag

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
PAGES = {"/2024/04/28/musk-beijing": ("text/html; charset=utf-8", FORMATS / "musk-beijing.html"),
         "/docs/lingang": ("application/pdf", FORMATS / "lingang-data.pdf")}


@pytest.fixture
def site():
    """A news site on loopback: two pages, everything else 404; records the user agents it saw."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("User-Agent", ""))
            if self.path not in PAGES:
                self.send_error(404, "Not Found")
                return
            kind, path = PAGES[self.path]
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_page_and_a_pdf_are_saved_under_names_from_their_urls(site, tmp_path):
    base, seen = site
    page = fetch(f"{base}/2024/04/28/musk-beijing", tmp_path / "pages")
    pdf = fetch(f"{base}/docs/lingang", tmp_path / "pages")
    assert page.name == page_name(f"{base}/2024/04/28/musk-beijing", ".html")
    assert page.name.startswith("127-0-0-1-2024-04-28-musk-beijing-") and pdf.suffix == ".pdf"
    assert page.read_bytes() == (FORMATS / "musk-beijing.html").read_bytes()
    assert seen == [USER_AGENT, USER_AGENT] and sorted(p.name for p in (tmp_path / "pages").iterdir()) == sorted(
        [page.name, pdf.name])  # no partial file left


def test_an_http_error_and_a_refused_connection_name_the_url(site, tmp_path):
    base, _ = site
    with pytest.raises(InputError) as err:
        fetch(f"{base}/missing", tmp_path / "pages")
    assert str(err.value) == f"cannot fetch {base}/missing: HTTP 404 Not Found"
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(InputError) as err:
        fetch(f"http://127.0.0.1:{closed}/x", tmp_path / "pages")
    assert str(err.value) == f"cannot fetch http://127.0.0.1:{closed}/x: Connection refused"
    assert not (tmp_path / "pages").exists()


def test_rag_index_url_indexes_the_fetched_page_and_a_bad_url_changes_nothing(site, tmp_path):
    base, _ = site
    built = rag("index", f"{base}/2024/04/28/musk-beijing", "--index", "ix", cwd=tmp_path)
    assert built.code == 0, built.err
    assert "indexed 1 articles (1 added" in built.err
    status = rag("status", "--index", "ix", cwd=tmp_path).out
    assert "2024-04-28" in status and "Musk meets Chinese premier in surprise Beijing visit" in status
    before = (tmp_path / "ix" / "current").resolve()
    failed = rag("index", f"{base}/missing", "--index", "ix", cwd=tmp_path)
    assert (failed.code, failed.err) == (2, f"rag: error: cannot fetch {base}/missing: HTTP 404 Not Found\n")
    assert (tmp_path / "ix" / "current").resolve() == before
