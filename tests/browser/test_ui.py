"""A user's session in a real browser: ask, watch it stream, follow the [n], follow up, upload, vote.

Every answer comes from the real MiniLM + 0.5B behind `rag ui`; the questions are ones whose answers
were checked by hand against the seed articles.
"""

from __future__ import annotations

import json
import threading

import pytest

pytestmark = pytest.mark.model

GRACE = "What is the name of Tesla's vice president in charge of external relations in China?"
FOLLOW_UP = "On which social media account did she publish a commentary?"
MAPPING = "Which company did Tesla partner with on mapping?"
FINAL = "#rag-chat .rag-answer, #rag-chat .rag-error"

# Records every distinct text of the streaming draft, so short-lived states are not missed by polling.
WATCH_DRAFTS = """() => {
  window.ragDrafts = [];
  new MutationObserver(() => {
    const drafts = document.querySelectorAll('#rag-chat .rag-draft');
    if (!drafts.length) return;
    const text = drafts[drafts.length - 1].textContent;
    if (window.ragDrafts[window.ragDrafts.length - 1] !== text) window.ragDrafts.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def ask(page, question: str):
    """Type a question, press Enter, and return the locator of the finished answer message."""
    before = page.locator(FINAL).count()
    page.fill("#rag-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll({FINAL!r}).length > {before}", timeout=240_000)
    return page.locator("#rag-chat .message").last


def test_the_answer_streams_then_shows_its_cited_source(page, tmp_path):
    page.evaluate(WATCH_DRAFTS)
    message = ask(page, GRACE)
    drafts = page.evaluate("window.ragDrafts")
    assert len(drafts) >= 2 and all(d.endswith("▍") for d in drafts), drafts  # grew over several states
    assert drafts[-1].startswith("Grace")
    assert message.locator(".rag-answer").inner_text() == "Grace Tao [1]"
    link = message.locator("a.rag-cite")
    assert link.inner_text() == "[1]"
    target = link.get_attribute("href")
    source = page.locator(target)
    assert source.locator(".rag-source-head").inner_text().startswith("[1] ")
    assert "001_a97cac3138bdc646" in source.inner_text()
    assert source.locator("mark.rag-support").inner_text().startswith("Also on Friday, Grace Tao")
    link.click()
    assert page.evaluate("location.hash") == target
    page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
    assert (tmp_path / "answer.png").stat().st_size > 10_000


def test_a_follow_up_is_answered_from_the_conversation_but_not_in_a_fresh_chat(page, browser, ui, tmp_path):
    ask(page, GRACE)
    message = ask(page, FOLLOW_UP)
    assert message.locator(".rag-answer").inner_text() == "People's Daily [1]"
    assert "001_a97cac3138bdc646" in message.locator(".rag-source").inner_text()
    rewrite = message.locator("details.rag-rewrite")
    rewrite.locator("summary").click()  # the rewritten question, on demand
    assert "On which social media account did Grace Tao publish a commentary?" in rewrite.inner_text()
    page.screenshot(path=str(tmp_path / "follow-up.png"), full_page=True)

    fresh = browser.new_context().new_page()
    fresh.goto(ui.url)
    fresh.wait_for_selector("#rag-question textarea", timeout=60_000)
    alone = ask(fresh, FOLLOW_UP)
    # a fresh chat knows no Grace Tao: the question is searched as asked, with no rewrite (whether the 0.5B then
    # answers "she" from the one commentary in the seeds is a near-tie: the packaged weights abstain, the F16 copy not)
    assert alone.locator("details.rag-rewrite").count() == 0
    assert alone.locator(".rag-answer").count() == 1
    fresh.context.close()


def test_feedback_is_saved_with_the_question_answer_and_citations(page, ui):
    message = ask(page, MAPPING)
    answer = message.locator(".rag-answer").inner_text()
    assert "Baidu" in answer and answer.rstrip(".").endswith("[1]")  # the wording varies with what was asked before
    lines_before = ui.feedback.read_text().count("\n") if ui.feedback.exists() else 0
    page.locator("#rag-chat").get_by_role("button", name="Like").last.click()
    page.locator("#rag-notice").get_by_text("feedback saved").wait_for(timeout=30_000)
    lines = ui.feedback.read_text(encoding="utf-8").splitlines()
    assert len(lines) == lines_before + 1
    saved = json.loads(lines[-1])
    assert (saved["rating"], saved["question"], saved["answer"]) == ("helpful", MAPPING, answer)
    assert [c["doc_id"] for c in saved["citations"]] == ["002_9ad4130286e12838"]


def test_two_users_at_once_get_their_own_answers(browser, ui):
    tabs = []
    for _ in range(2):
        tab = browser.new_context().new_page()
        tab.goto(ui.url)
        tab.wait_for_selector("#rag-question textarea", timeout=60_000)
        tabs.append(tab)
    for tab, question in zip(tabs, [GRACE, MAPPING], strict=True):  # both submitted before either finishes
        tab.fill("#rag-question textarea", question)
        tab.keyboard.press("Enter")
    for tab in tabs:
        tab.wait_for_selector(FINAL, timeout=240_000)
    assert tabs[0].locator("#rag-chat .rag-answer").all_inner_texts() == ["Grace Tao [1]"]
    [mapping] = tabs[1].locator("#rag-chat .rag-answer").all_inner_texts()
    assert "Baidu" in mapping and "Grace" not in mapping
    for tab, mine, theirs in zip(tabs, [GRACE, MAPPING], [MAPPING, GRACE], strict=True):
        chat = tab.locator("#rag-chat").inner_text()
        assert mine in chat and theirs not in chat  # nothing of the other user's conversation
        tab.context.close()


def text_of(content) -> str:
    """A chat message's text as gradio_client returns it (a string, or a list of text parts)."""
    return content if isinstance(content, str) else "".join(part["text"] for part in content)


def test_the_chat_api_answers_through_gradio_client(ui):
    from gradio_client import Client

    client = Client(ui.url, verbose=False)
    box, history = client.predict(MAPPING, [], 4, api_name="/ask")
    assert box == ""
    assert (history[0]["role"], text_of(history[0]["content"])) == ("user", MAPPING)
    answer = text_of(history[1]["content"])
    assert answer.startswith('<div class="rag-answer">')
    assert "Baidu" in answer and '<a class="rag-cite" href="#rag-m1-s1">[1]</a>' in answer
    assert '<div class="rag-source" id="rag-m1-s1">' in answer


def test_requests_queue_while_the_model_is_busy(ui):
    """Several API calls at once all complete (they wait for the model rather than fail)."""
    from gradio_client import Client

    results: list[str] = []

    def one() -> None:
        _, history = Client(ui.url, verbose=False).predict(MAPPING, [], 4, api_name="/ask")
        results.append(text_of(history[1]["content"]))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 3 and all("Baidu" in r for r in results)


def test_an_uploaded_article_is_listed_and_answers_at_once(page, ui, tmp_path):
    # last in the file: the new article changes what later questions would retrieve
    article = tmp_path / "Zorblat news (draft).txt"
    article.write_text("Zorblat Motors opens a battery plant in Tallinn\n\n"
                       "Zorblat Motors said on Monday that its new battery plant will be built in Tallinn, Estonia. "
                       "The plant will make cells for the Quarkmobile, the company's first electric van.\n",
                       encoding="utf-8")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    page.locator("#rag-upload input[type=file]").set_input_files([str(article), str(binary)])
    status = page.locator("#rag-upload-status")
    status.get_by_text("Embedded").wait_for(timeout=120_000)
    assert "Added Zorblat news (draft).txt as Zorblat-news-draft" in status.inner_text()
    assert "Not added photo.txt: binary file (contains NUL bytes)" in status.inner_text()
    assert (ui.index / "uploads" / "Zorblat-news-draft.txt").read_text(encoding="utf-8") == article.read_text(encoding="utf-8")
    assert "Zorblat-news-draft" in page.locator("#rag-articles").inner_text()

    message = ask(page, "In which city will Zorblat Motors build its battery plant?")
    assert message.locator(".rag-answer").inner_text() == "Tallinn [1]"
    assert "Zorblat-news-draft" in message.locator(".rag-source").inner_text()


def test_a_model_that_is_down_is_a_message_in_the_chat_and_the_server_keeps_serving(browser, seed_index, tmp_path):
    from tests.browser.conftest import start_ui, stop_ui
    from tests.http_stubs import closed_port

    port = closed_port()
    down = start_ui(seed_index, tmp_path, "--model", "openai:absent", "--base-url", f"http://127.0.0.1:{port}/v1")
    try:
        tab = browser.new_context().new_page()
        tab.goto(down.url)
        tab.wait_for_selector("#rag-question textarea", timeout=60_000)
        for _ in range(2):  # the second question proves the server is still serving
            message = ask(tab, MAPPING)
            assert message.locator(".rag-error").inner_text() == (
                f"⚠ openai:absent: cannot connect to http://127.0.0.1:{port}/v1: is the server running? "
                "Check --base-url or OPENAI_BASE_URL")
        assert "Traceback" not in tab.locator("#rag-chat").inner_text()
        tab.context.close()
    finally:
        stop_ui(down)


def test_article_html_is_shown_as_text_never_run(page, ui):
    from tests.conftest import ROOT

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.locator("#rag-upload input[type=file]").set_input_files([str(ROOT / "evals" / "hostile" / "script_tags.md")])
    page.locator("#rag-upload-status").get_by_text("Embedded").wait_for(timeout=120_000)
    message = ask(page, "How many photographs are in the Valley History Museum collection?")
    assert message.locator(".rag-answer").inner_text() == "1,200 [1]"
    passage = message.locator(".rag-source .rag-passage").inner_text()
    assert passage.startswith('<iframe src="http://evil.example"></iframe>')  # the markup, as characters
    assert "**Bold claim**: [click here](javascript:alert(1)) to win a free Tesla." in passage  # Markdown, unrendered
    assert page.locator("#rag-chat script, #rag-chat img[src='x'], #rag-chat iframe").count() == 0
    assert dialogs == [] and page.url == ui.url


def test_a_question_asked_as_of_a_day_and_a_box_that_holds_no_date(page):
    page.fill("#rag-as-of textarea, #rag-as-of input", "last Sunday")
    message = ask(page, MAPPING)
    assert message.locator(".rag-error").inner_text() == (
        "⚠ As of: 'last Sunday' is not a date; write it as YYYY-MM-DD, e.g. 2024-04-28")
    page.fill("#rag-as-of textarea, #rag-as-of input", "2024-04-28")
    message = ask(page, MAPPING)  # the one seed dated by then holds the answer; the 0.5B words it so when shown only it
    assert message.locator(".rag-answer").inner_text() == "As of 2024-04-28: Tesla and Baidu [1]."
    assert "002_9ad4130286e12838" in message.inner_text()


def test_a_question_typed_key_by_key_is_answered_as_a_pasted_one(page):
    # each key sends the question so far to the server, whose model reads its prompt ahead (read_ahead) under the
    # answering lock: Enter must get the same answer, with the read-ahead stopped or finished, never interleaved
    page.type("#rag-question textarea", GRACE, delay=40)
    page.wait_for_timeout(1500)  # a pause before Enter: the read-ahead of the whole question is under way
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll({FINAL!r}).length > 0", timeout=240_000)
    assert page.locator("#rag-chat .message").last.locator(".rag-answer").inner_text() == "Grace Tao [1]"
