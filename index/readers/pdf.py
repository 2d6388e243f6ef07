"""PDFs: the text of each page through pypdf, with where each page starts so a citation can name it.

pypdf is pure Python and BSD-licensed; PyMuPDF is faster but AGPL. A PDF without a text layer (a scan)
holds no words to index: it is refused with a message that says so, since rag does no OCR.
"""

from __future__ import annotations

import io

from rag.index.metadata import extract_date, extract_title
from rag.index.readers import NotAnArticle, Parsed


def read(data: bytes) -> Parsed:
    """One article from a .pdf file, its pages joined by blank lines; `pages` holds each page's offset."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs each repair it makes; the user gets one line per file from `rag index` instead
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise NotAnArticle("an encrypted PDF: save an unprotected copy to index it")
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:  # pypdf's errors on a damaged file
        raise NotAnArticle(f"not a readable PDF ({type(exc).__name__})") from None
    if not any(texts):
        raise NotAnArticle(f"no text layer in {len(texts)} page(s): a scanned PDF needs OCR, which rag does not do")
    pages, parts, offset = [], [], 0
    for text in texts:
        pages.append(offset)
        parts.append(text)
        offset += len(text) + 2  # the "\n\n" that joins pages
    text = "\n\n".join(parts)
    return Parsed(title or extract_title(text), text, extract_date(text), pages=tuple(pages))
