"""Answers and sources as the HTML of one chat message.

Everything that comes from an article or a model is escaped with `html.escape`: article text is
always shown as text, never rendered. The only markup is ours: `[n]` links to the source it cites,
the sources list with the supporting words highlighted, and the rewritten question on demand.
The HTML has no blank lines, so the chat's Markdown renderer passes it through as one block.
"""

from __future__ import annotations

import html
import re

from rag.answer_view import date_text, support_spans, supporting_sentence
from rag.checks.grounding import key_terms, normalise_token
from rag.followups import Rewrite
from rag.types import Answer, Passage

CURSOR = "▍"


def _e(text: str) -> str:
    """Escape text for HTML, and the characters Markdown would act on, so text stays text."""
    escaped = html.escape(text, quote=True)
    for char in "\\`*_[]~":
        escaped = escaped.replace(char, f"&#{ord(char)};")
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")  # a lone \r is a line break too


def anchor(message: int, marker: int) -> str:
    """The id of source `marker` under chat message number `message` (unique within the page)."""
    return f"rag-m{message}-s{marker}"


def streaming_html(draft: str) -> str:
    """The message while the model's draft streams in (unchecked, so shown plainly with a cursor)."""
    return f'<div class="rag-draft">{_e(draft)}{CURSOR}</div>'


def answer_html(answer: Answer, rewrite: Rewrite | None, message: int) -> str:
    """The checked answer with clickable `[n]`, the rewritten question on demand, then its sources."""
    parts = []
    if answer.abstained:
        parts.append(f'<div class="rag-answer rag-abstained">{_e(answer.text)}</div>')
    else:
        text = _e(answer.text)
        # markers were escaped to &#91;n&#93; by _e; turn exactly those into links to the sources
        text = re.sub(r"&#91;(\d+)&#93;", lambda m: f'<a class="rag-cite" href="#{anchor(message, int(m.group(1)))}">'
                                                   f'[{m.group(1)}]</a>', text)
        parts.append(f'<div class="rag-answer">{text}</div>')
    if rewrite is not None and rewrite.changed:
        parts.append(f'<details class="rag-rewrite"><summary>Searched for</summary>{_e(rewrite.question)}'
                     f'<br><small>{_e(rewrite.note)}</small></details>')
    if answer.abstained:
        parts.append(closest_html(answer.passages[:3]))
    else:
        parts.append(sources_html(answer, message))
    return "".join(p for p in parts if p)


def sources_html(answer: Answer, message: int) -> str:
    """One block per cited passage: number, title, date, id, and the passage with its support marked."""
    blocks = []
    for citation in answer.citations:
        chunk = citation.passage.chunk
        date = f" · {_e(date_text(chunk.published, chunk.speaks_of))}" if chunk.published else ""
        blocks.append(
            f'<div class="rag-source" id="{anchor(message, citation.marker)}">'
            f'<div class="rag-source-head"><b>[{citation.marker}]</b> {_e(chunk.title)}{date} · '
            f'<code>{_e(chunk.article_id)}</code></div>'
            f'<blockquote class="rag-passage">{highlight(chunk.text, answer.text, support_spans(answer, citation.marker))}'
            '</blockquote></div>')
    return f'<div class="rag-sources">{"".join(blocks)}</div>' if blocks else ""


def closest_html(passages: tuple[Passage, ...] | list[Passage]) -> str:
    """On abstention: the closest passages, for the user to read (none states the answer)."""
    if not passages:
        return ""
    items = "".join(f'<li><b>{_e(p.chunk.title)}</b> <code>{_e(p.chunk.article_id)}</code>'
                    f'<blockquote class="rag-passage">{_e(p.chunk.text)}</blockquote></li>' for p in passages)
    return f'<details class="rag-closest"><summary>Closest passages (none states the answer)</summary><ol>{items}</ol></details>'


def highlight(passage: str, answer_text: str, spans: list[tuple[int, int]] | None = None) -> str:
    """The passage, escaped, with the sentences that support the answer's claims (`spans`, offsets in the passage;
    else the one holding most of the answer's words) and the answer's words marked."""
    if spans:
        pieces, last = [], 0
        for start, end in spans:
            if start < last:  # overlapping spans: the earlier mark already covers it
                continue
            pieces += [_e(passage[last:start]), '<mark class="rag-support">', _mark_terms(passage[start:end], answer_text),
                       "</mark>"]
            last = end
        return "".join(pieces) + _e(passage[last:])
    sentence = supporting_sentence(passage, answer_text, width=10_000)
    # supporting_sentence folds runs of whitespace into one space: match any run back in the passage
    found = re.search(r"\s+".join(map(re.escape, sentence.split())), passage) if sentence.strip() else None
    if found is None:
        return _mark_terms(passage, answer_text)
    start, end = found.span()
    return (_e(passage[:start]) + '<mark class="rag-support">' + _mark_terms(passage[start:end], answer_text) + "</mark>"
            + _e(passage[end:]))


def _mark_terms(text: str, answer_text: str) -> str:
    terms = set(key_terms(answer_text))  # key_terms ignores [n] markers itself
    pieces = re.split(r"(\w+)", text)
    return "".join(f"<strong>{_e(p)}</strong>" if p and normalise_token(p) in terms else _e(p) for p in pieces)


def error_html(message: str) -> str:
    """A readable error in the chat (the server keeps serving)."""
    return f'<div class="rag-error">⚠ {_e(message)}</div>'
