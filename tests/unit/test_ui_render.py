"""The chat's HTML (`rag.ui.answer_html`): article and model text stays text, `[n]` links to its source, one HTML block."""

import re

import pytest

from rag import store
from rag.assistant import Assistant
from rag.followups import Rewrite
from rag.index.build import build_index
from rag.index.chunking import ChunkingSettings
from rag.retrieval import DenseRetriever
from rag.types import Answer, Chunk, Citation, Passage
from rag.ui.answer_html import anchor, answer_html, closest_html, error_html, highlight, sources_html, streaming_html
from tests.fakes import HashEmbedder, ScriptedBackend

# Everything Markdown or HTML could act on, plus blank lines in all three line-ending styles.
HOSTILE = ("Zorblat rose 5%.\n\nIt said <script>alert(1)</script> and <img src=x onerror=alert(1)> then **bold** and "
           "[link](http://x) and `rm -rf` per [2] \"q\" & 's' ~~x~~ a_b\\c.\r\n\r\nEnd\r\rnow.")
# The same text as it must appear in the HTML (written out by hand, not computed with the code under test).
HOSTILE_ESCAPED = ("It said &lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt; then "
                   "&#42;&#42;bold&#42;&#42; and &#91;link&#93;(http://x) and &#96;rm -rf&#96; per &#91;2&#93; "
                   "&quot;q&quot; &amp; &#x27;s&#x27; &#126;&#126;x&#126;&#126; a&#95;b&#92;c.<br><br>End<br><br>now.")
HOSTILE_TITLE = "<b onmouseover=x>Title</b> **T** [t](http://y)"
HOSTILE_TITLE_ESCAPED = "&lt;b onmouseover=x&gt;Title&lt;/b&gt; &#42;&#42;T&#42;&#42; &#91;t&#93;(http://y)"
OUR_TAGS = {"div", "a", "b", "br", "code", "blockquote", "mark", "strong", "details", "summary", "small", "ol", "li"}


def passage(text: str, article_id: str = "art-1", title: str = "Title", published: str | None = None,
            ordinal: int = 0, rank: int = 1) -> Passage:
    chunk = Chunk(f"{article_id}:{ordinal}", article_id, ordinal, text, 0, len(text), title, published)
    return Passage(chunk, 0.9, rank)


def answered(text: str, *cited: tuple[int, Passage]) -> Answer:
    citations = tuple(Citation(marker, p) for marker, p in cited)
    return Answer("q?", text, citations, tuple(p for _, p in cited), "scripted", False)


def abstained(*passages: Passage) -> Answer:
    return Answer("q?", "Not in the documents.", (), passages, "scripted", True, ("no passage is close enough",))


def assert_inert(out: str) -> None:
    """Only our own tags, no live Markdown, and a single HTML block (no line breaks at all)."""
    assert "<script" not in out.lower() and "<img" not in out.lower()
    assert "](" not in out and "**" not in out and "`" not in out and "~~" not in out
    assert set(re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", out)) <= OUR_TAGS
    assert "\n" not in out and "\r" not in out


def test_hostile_article_text_is_shown_as_text_in_the_sources():
    source = passage(HOSTILE, article_id="<i>id</i>", title=HOSTILE_TITLE)
    out = answer_html(answered("Zorblat [1]", (1, source)), None, 5)
    assert_inert(out)
    assert HOSTILE_ESCAPED in out
    assert f"<b>[1]</b> {HOSTILE_TITLE_ESCAPED} · <code>&lt;i&gt;id&lt;/i&gt;</code></div>" in out
    # the fake [2] in the passage is text: the only link is the answer's own [1]
    assert re.findall(r"<a [^>]*>", out) == ['<a class="rag-cite" href="#rag-m5-s1">']


def test_hostile_passages_are_text_in_the_closest_passages_too():
    out = answer_html(abstained(passage(HOSTILE, article_id="a`b", title=HOSTILE_TITLE)), None, 2)
    assert_inert(out)
    assert ("<li><b>" + HOSTILE_TITLE_ESCAPED + "</b> <code>a&#96;b</code><blockquote class=\"rag-passage\">Zorblat rose 5%."
            "<br><br>" + HOSTILE_ESCAPED + "</blockquote></li>") in out


def test_hostile_answer_text_draft_and_error_are_escaped():
    source = passage("Zorblat rose.")
    out = answer_html(answered("<img src=x onerror=alert(1)> **Zorblat** [1]", (1, source)), None, 0)
    assert_inert(out)
    assert out.startswith('<div class="rag-answer">&lt;img src=x onerror=alert(1)&gt; &#42;&#42;Zorblat&#42;&#42; '
                          '<a class="rag-cite" href="#rag-m0-s1">[1]</a></div>')
    draft = streaming_html("<script>alert(1)</script> [x](y)\n\n`z`")
    assert_inert(draft)
    assert draft == ('<div class="rag-draft">&lt;script&gt;alert(1)&lt;/script&gt; &#91;x&#93;(y)<br><br>'
                     '&#96;z&#96;▍</div>')
    error = error_html("bad <script>x</script> *y*\r\rz")
    assert_inert(error)
    assert error == '<div class="rag-error">⚠ bad &lt;script&gt;x&lt;/script&gt; &#42;y&#42;<br><br>z</div>'


def test_a_hostile_rewritten_question_is_escaped():
    out = answer_html(abstained(), Rewrite("Who is <b>he</b>?\n\n**x**", "he → <i>Musk</i> [1](u)"), 1)
    assert_inert(out)
    assert out == ('<div class="rag-answer rag-abstained">Not in the documents.</div>'
                   '<details class="rag-rewrite"><summary>Searched for</summary>Who is &lt;b&gt;he&lt;/b&gt;?<br><br>'
                   '&#42;&#42;x&#42;&#42;<br><small>he → &lt;i&gt;Musk&lt;/i&gt; &#91;1&#93;(u)</small></details>')


def test_an_empty_draft_is_just_the_cursor():
    assert streaming_html("") == '<div class="rag-draft">▍</div>'


def test_markers_link_to_the_source_block_of_the_same_message():
    first = passage("Zeng Yuqun chairs CATL.", article_id="catl", title="CATL news", published="2024-04-28")
    second = passage("Musk met Li Qiang in Beijing.", article_id="musk", title="Musk visit", ordinal=3, rank=4)
    out = answer_html(answered("Zeng Yuqun [2] and Musk [4].", (2, first), (4, second)), None, 7)
    assert out == (
        '<div class="rag-answer">Zeng Yuqun <a class="rag-cite" href="#rag-m7-s2">[2]</a> and Musk '
        '<a class="rag-cite" href="#rag-m7-s4">[4]</a>.</div>'
        '<div class="rag-sources">'
        '<div class="rag-source" id="rag-m7-s2"><div class="rag-source-head"><b>[2]</b> CATL news · 2024-04-28 · '
        '<code>catl</code></div><blockquote class="rag-passage"><mark class="rag-support"><strong>Zeng</strong> '
        '<strong>Yuqun</strong> chairs CATL.</mark></blockquote></div>'
        '<div class="rag-source" id="rag-m7-s4"><div class="rag-source-head"><b>[4]</b> Musk visit · '
        '<code>musk</code></div><blockquote class="rag-passage"><mark class="rag-support"><strong>Musk</strong> met '
        'Li Qiang in Beijing.</mark></blockquote></div>'
        '</div>')


def test_the_anchor_names_message_and_marker():
    assert anchor(12, 3) == "rag-m12-s3"


def test_an_answer_without_citations_has_no_sources_block():
    assert sources_html(answered("Zorblat"), 1) == ""
    assert answer_html(answered("Zorblat"), None, 1) == '<div class="rag-answer">Zorblat</div>'


def test_the_abstained_answer_shows_the_three_closest_passages():
    passages = [passage(f"Text {i}.", article_id=f"a{i}", title=f"T{i}", rank=i) for i in range(1, 5)]
    out = answer_html(abstained(*passages), None, 3)
    assert out == ('<div class="rag-answer rag-abstained">Not in the documents.</div>'
                   '<details class="rag-closest"><summary>Closest passages (none states the answer)</summary><ol>'
                   '<li><b>T1</b> <code>a1</code><blockquote class="rag-passage">Text 1.</blockquote></li>'
                   '<li><b>T2</b> <code>a2</code><blockquote class="rag-passage">Text 2.</blockquote></li>'
                   '<li><b>T3</b> <code>a3</code><blockquote class="rag-passage">Text 3.</blockquote></li>'
                   '</ol></details>')
    assert "rag-sources" not in out and "rag-cite" not in out


def test_an_abstention_with_no_passages_is_just_the_sentence():
    assert closest_html([]) == ""
    assert answer_html(abstained(), None, 1) == '<div class="rag-answer rag-abstained">Not in the documents.</div>'


def test_a_rewritten_question_is_shown_on_demand_between_answer_and_sources():
    out = answer_html(answered("Zorblat [1]", (1, passage("Zorblat rose."))),
                      Rewrite("On which day did Musk meet Zeng Yuqun?", "him → Zeng Yuqun (the previous answer)"), 3)
    rewritten = ('<details class="rag-rewrite"><summary>Searched for</summary>On which day did Musk meet Zeng Yuqun?'
                 '<br><small>him → Zeng Yuqun (the previous answer)</small></details>')
    assert rewritten in out
    assert out.index('class="rag-answer"') < out.index(rewritten) < out.index('class="rag-sources"')


@pytest.mark.parametrize("rewrite", [None, Rewrite("On which day did Musk meet Zeng Yuqun?")])
def test_an_unchanged_question_shows_no_searched_for(rewrite):
    out = answer_html(answered("Zorblat [1]", (1, passage("Zorblat rose."))), rewrite, 3)
    assert "rag-rewrite" not in out and "Searched for" not in out


def test_highlight_marks_the_supporting_sentence_and_the_answers_words():
    out = highlight("Musk met Li on Sunday. Tesla partnered with Baidu on mapping. Shares rose.", "Baidu [1]")
    assert out == ('Musk met Li on Sunday. <mark class="rag-support">Tesla partnered with <strong>Baidu</strong> on '
                   'mapping.</mark> Shares rose.')


def test_highlight_ignores_the_answers_markers_and_escapes_inside_the_mark():
    assert highlight("Acme <b>won</b> [2] in 1 day.", "Acme [1]") == (
        '<mark class="rag-support"><strong>Acme</strong> &lt;b&gt;won&lt;/b&gt; &#91;2&#93; in 1 day.</mark>')


def test_highlight_finds_a_sentence_with_doubled_spaces_and_tabs():
    # supporting_sentence folds whitespace; the passage keeps it, and the mark must still be placed
    out = highlight("Musk met Li on Sunday.\nTesla  partnered with\tBaidu on mapping. Shares rose.", "Baidu")
    assert out == ('Musk met Li on Sunday.<br><mark class="rag-support">Tesla  partnered with\t<strong>Baidu</strong> '
                   'on mapping.</mark> Shares rose.')


def test_highlight_matches_words_whatever_their_case():
    assert highlight("BAIDU's maps. Other.", "baidu") == (
        '<mark class="rag-support"><strong>BAIDU</strong>&#x27;s maps.</mark> Other.')


@pytest.fixture
def assistant(tmp_path, seeds_copy):
    embedder = HashEmbedder()
    build_index(tmp_path / "ix", [seeds_copy], embedder, ChunkingSettings(max_tokens=60, target_tokens=40, overlap_tokens=8))
    return Assistant(DenseRetriever(store.load(tmp_path / "ix"), embedder), ScriptedBackend())


def test_a_real_answers_links_all_point_at_its_source_blocks(assistant):
    assistant.backend.enqueue("Grace Tao")
    answer = assistant.answer("What is the name of Tesla's vice president in charge of external relations in China?")
    assert not answer.abstained and answer.citations
    out = answer_html(answer, None, 9)
    assert_inert(out)
    targets = re.findall(r'<a class="rag-cite" href="#([^"]+)">\[(\d+)\]</a>', out)
    ids = re.findall(r'<div class="rag-source" id="([^"]+)">', out)
    assert targets == [(f"rag-m9-s{c.marker}", str(c.marker)) for c in answer.citations]
    assert [t for t, _ in targets] == ids
    assert ('published a commentary on the social media account of state media outlet People&#x27;s Daily' in out)
    assert "<strong>Grace</strong> <strong>Tao</strong>" in out


def test_a_real_abstention_lists_the_closest_passages(assistant):
    assistant.backend.enqueue("Tesla paid 9 billion dollars.")
    answer = assistant.answer("How much did Tesla pay Baidu?")
    assert answer.abstained
    out = answer_html(answer, None, 1)
    assert_inert(out)
    assert out.startswith('<div class="rag-answer rag-abstained">Not in the documents.</div><details class="rag-closest">')
    assert out.count("<li>") == min(3, len(answer.passages)) > 0


def test_highlight_marks_every_claims_supporting_sentence_by_offset():
    text = "Musk met Li on Sunday. Tesla partnered with Baidu. Shares rose <b>6%</b>."
    out = highlight(text, "Musk met Li [1]. Shares rose 6% [1].", [(0, 22), (51, len(text))])
    assert out == ('<mark class="rag-support"><strong>Musk</strong> <strong>met</strong> <strong>Li</strong> on '
                   'Sunday.</mark> Tesla partnered with Baidu. <mark class="rag-support"><strong>Shares'
                   '</strong> <strong>rose</strong> &lt;b&gt;<strong>6</strong>%&lt;/b&gt;.</mark>')
