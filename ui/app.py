"""The Gradio chat: streamed answers with clickable sources, follow-ups, uploads, feedback.

Layout: the chat on the left (question box, Ask and Stop buttons); on the right a panel with the
model in use, the top-k slider, the indexed articles, an upload box and a remover for uploads.

One `Assistant` (one loaded model) serves every browser tab. llama.cpp is not thread-safe, so
answers and index changes take turns under one lock, and Gradio's queue makes requests wait
rather than fail. While the user types, the model reads ahead the prompt the question so far would get
when the lock is free (`read_ahead`); an answer or an upload that needs the lock stops it within one step.
Each tab keeps its own conversation in `gr.State`, so histories never mix.
"""


import contextlib
import html
import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import InputError, RagError
from rag.followups import Conversation, Turn
from rag.index.sources import ARTICLE_SUFFIXES
from rag.retrieval.window import DateWindow
from rag.ui.answer_html import answer_html, error_html, streaming_html
from rag.ui.library import Library

log = logging.getLogger("rag.ui")
INTERNAL = "internal error: the details are in the server's log"
MIN_READ_AHEAD_WORDS = 3  # a question typed this far is worth reading ahead
EMPTY = "Type a question first, e.g. Why did Musk visit Beijing?"  # not the CLI's message, which shows a command


@dataclass
class Services:
    """What the app needs, built once by the command line."""

    assistant: Any  # rag.assistant.Assistant
    library: Library | None  # None: the index is read-only here (no uploads)
    feedback_path: Path
    settings: Settings = field(default_factory=Settings)  # what the assistant was built from (rag.compose)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # answers and index changes waiting for the lock: reading ahead gives way to them
    _waiting: int = field(default=0, init=False, repr=False)
    _latest: int = field(default=0, init=False, repr=False)  # the newest read-ahead's number: older ones give way
    _reading: bool = field(default=False, init=False, repr=False)  # a read-ahead holds the lock
    _counter: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @contextlib.contextmanager
    def foreground(self):
        """Hold the lock for work a user waits for (an answer, an upload); a read-ahead holding it stops early."""
        with self._counter:
            self._waiting += 1
        try:
            self.lock.acquire()
        finally:
            with self._counter:
                self._waiting -= 1
        try:
            yield
        finally:
            self.lock.release()

    def read_ahead(self, question: str, turns: list[Turn], top_k: int, window: DateWindow | None = None) -> int:
        """While the user types: have the model read the prompt the question so far would get
        (`Assistant.prefetch`, after the follow-up rewrite `Conversation.ask` would make). It gives way, within one
        step of reading, to an answer or an upload that waits for the lock and to a newer read-ahead (the question
        typed further), and is skipped while an answer or an upload holds the lock. Returns the prompt tokens the
        model holds (0: skipped or overtaken)."""
        from rag.followups import rewrite

        with self._counter:
            self._latest += 1
            mine = self._latest
        if len(question.split()) < MIN_READ_AHEAD_WORDS:  # "Who d" retrieves nothing the question will
            return 0

        def overtaken() -> bool:
            return self._waiting > 0 or self._latest != mine

        while not self.lock.acquire(timeout=0.02):  # an older read-ahead stops within one step; an answer does not
            if overtaken() or not self._reading:
                return 0
        try:
            if overtaken():
                return 0
            self._reading = True
            standalone = rewrite(turns, question).question
            return self.assistant.prefetch(standalone, top_k=top_k, window=window, follow_up=bool(turns),
                                           stop=overtaken)
        finally:
            self._reading = False
            self.lock.release()

    def reload_index(self) -> None:
        """Point the assistant at the index as it is now on disk (after an upload or removal)."""
        from rag import store
        from rag.compose import open_retriever

        # the retriever the settings describe (dense or hybrid, with its options) over the new generation
        loaded = store.load(self.library.index_dir)
        self.assistant.retriever = open_retriever(self.settings, loaded, self.assistant.retriever.embedder)


class _Stopped(Exception):
    """Raised inside the model's token callback when the user pressed Stop."""


def date_window(since: str, as_of: str) -> DateWindow | None:
    """The window the two date boxes describe (None when both are empty); InputError names a box that holds no date."""
    days = {}
    for label, text in (("Published since", since), ("As of", as_of)):
        text = (text or "").strip()
        try:
            days[label] = date.fromisoformat(text) if text else None
        except ValueError:
            raise InputError(f"{label}: {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-04-28") from None
    try:
        window = DateWindow(days["Published since"], days["As of"])
    except ValueError:  # the boxes' own names, not the settings'
        raise InputError(f"Published since ({days['Published since']}) is after As of ({days['As of']}): "
                         "no article could be searched") from None
    return window if window else None


def answer_stream(services: Services, turns: list[Turn], question: str, top_k: int, stop: threading.Event,
                  window: DateWindow | None = None):
    """Yield ("token", piece) while the draft streams, then ("done", (rewrite, answer, turns)) or ("error", text)."""
    from rag.assistant import clean_question

    try:
        clean_question(question)
    except RagError:
        yield "error", EMPTY
        return
    events: queue.Queue = queue.Queue()
    conversation = Conversation(services.assistant, turns)

    def on_token(piece: str) -> None:
        if stop.is_set():
            raise _Stopped
        events.put(("token", piece))

    def work() -> None:
        try:
            with services.foreground():
                rewrite, answer = conversation.ask(question, on_token=on_token, top_k=top_k, window=window)
            events.put(("done", (rewrite, answer, conversation.turns)))
        except _Stopped:
            events.put(("stopped", None))
        except RagError as exc:
            events.put(("error", str(exc)))
        except Exception:
            log.exception("answering failed")
            events.put(("error", INTERNAL))

    threading.Thread(target=work, daemon=True, name="rag-answer").start()
    while True:
        kind, value = events.get()
        yield kind, value
        if kind != "token":
            return


def build_app(services: Services, model_name: str):
    """The Gradio Blocks app for `services` (not launched)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    def respond(message: str, history: list, turns: list, records: dict, top_k: float, since: str = "", as_of: str = ""):
        history = list(history or [])
        history.append({"role": "user", "content": html.escape(message or "")})
        history.append({"role": "assistant", "content": streaming_html("")})
        yield "", history, turns, records
        try:
            window = date_window(since, as_of)
        except InputError as exc:
            history[-1] = {"role": "assistant", "content": error_html(str(exc))}
            yield "", history, turns, records
            return
        stop = threading.Event()
        draft = ""
        try:
            for kind, value in answer_stream(services, list(turns), message or "", int(top_k), stop, window):
                if kind == "token":
                    draft += value
                    history[-1] = {"role": "assistant", "content": streaming_html(draft)}
                    yield "", history, turns, records
                elif kind == "done":
                    rewrite, answer, new_turns = value
                    index = len(history) - 1
                    history[-1] = {"role": "assistant", "content": answer_html(answer, rewrite, index)}
                    records = {**records, index: (message, rewrite.question, answer)}
                    yield "", history, new_turns, records
                elif kind == "error":
                    history[-1] = {"role": "assistant", "content": error_html(value)}
                    yield "", history, turns, records
        finally:
            stop.set()  # the user pressed Stop or closed the tab: end the model's generation early

    def read_ahead(message: str, turns: list, top_k: float, since: str = "", as_of: str = "") -> None:
        try:
            services.read_ahead(message or "", list(turns), int(top_k), date_window(since, as_of))
        except RagError:  # an empty box or a half-typed date: the answer will say what is wrong
            pass
        except Exception:  # reading ahead only saves time: never an error in the page
            log.exception("reading ahead failed")

    def feedback(data: gr.LikeData, records: dict) -> str:
        from rag.feedback import record

        entry = records.get(data.index[0] if isinstance(data.index, list | tuple) else data.index)
        if entry is None or data.liked is None:
            return ""
        question, standalone, answer = entry
        try:
            record(services.feedback_path, "helpful" if data.liked else "not_helpful", question, standalone, answer)
        except RagError as exc:  # e.g. the feedback folder is not writable: say so, keep serving
            return f"⚠ {exc}"
        return f"Thanks: feedback saved to {services.feedback_path}"

    def article_rows() -> list[list]:
        if services.library is None:
            return []
        return [[a.id, a.title, a.published, a.chunks, "yes" if a.uploaded else ""] for a in services.library.articles()]

    def uploaded_ids() -> list[str]:
        return [a.id for a in services.library.articles() if a.uploaded] if services.library else []

    def upload(files: list | None, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom: it injects the tracker)
        if not files:
            return gr.update(), gr.update(), "", None
        pairs = []
        for f in files:
            path = Path(getattr(f, "name", f))
            pairs.append((getattr(f, "orig_name", None) or path.name, path.read_bytes()))
        try:
            with services.foreground():
                report = services.library.add(pairs)
                if report.accepted:
                    services.reload_index()
        except RagError as exc:
            return gr.update(), gr.update(), f"⚠ {exc}", None
        lines = [f"Added **{html.escape(a.original)}** as `{a.article_id}`" for a in report.accepted]
        lines += [f"⚠ Not added **{html.escape(name)}**: {html.escape(reason)}" for name, reason in report.rejected]
        if report.accepted:
            lines.append(f"Embedded {report.embedded} passages; ask about it now.")
        return article_rows(), gr.update(choices=uploaded_ids(), value=None), "\n\n".join(lines), None

    def remove(article_id: str | None):
        if not article_id:
            return gr.update(), gr.update(), "Choose an uploaded article to remove."
        try:
            with services.foreground():
                services.library.remove(article_id)
                services.reload_index()
        except RagError as exc:
            return gr.update(), gr.update(), f"⚠ {exc}"
        return (article_rows(), gr.update(choices=uploaded_ids(), value=None),
                f"Removed `{article_id}` (its file is kept in {services.library.removed})")

    with gr.Blocks(title="rag: ask the articles", analytics_enabled=False) as app:
        turns = gr.State([])
        records = gr.State({})
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Ask the articles\nAnswers cite their passages as [n]; click one to see it. "
                            "If the articles do not say, the answer is *Not in the documents.*")
                chat = gr.Chatbot(elem_id="rag-chat", height=560, sanitize_html=True, render_markdown=True,
                                  feedback_options=("Like", "Dislike"), buttons=["copy"])
                with gr.Row():
                    box = gr.Textbox(elem_id="rag-question", placeholder="Ask a question, or follow up on the last answer",
                                     show_label=False, scale=6, autofocus=True)
                    ask = gr.Button("Ask", variant="primary", elem_id="rag-ask", scale=1)
                    stop = gr.Button("Stop", variant="stop", elem_id="rag-stop", scale=1)
                    clear = gr.Button("New chat", elem_id="rag-new", scale=1)
                notice = gr.Markdown(elem_id="rag-notice")
            with gr.Column(scale=2):
                gr.Markdown(f"**Model** `{html.escape(model_name)}`", elem_id="rag-model")
                top_k = gr.Slider(1, 10, value=services.settings.top_k, step=1, label="Passages per question (top-k)",
                                  elem_id="rag-topk")
                with gr.Row():  # a window of publication dates, per question (empty: every article)
                    since = gr.Textbox("", label="Published since", placeholder="YYYY-MM-DD", elem_id="rag-since")
                    as_of = gr.Textbox("", label="As of", placeholder="YYYY-MM-DD", elem_id="rag-as-of")
                articles = gr.Dataframe(value=article_rows(), headers=["id", "title", "date", "chunks", "uploaded"],
                                        interactive=False, label="Indexed articles", elem_id="rag-articles", wrap=True)
                if services.library is not None:
                    files = gr.File(label="Add articles: text, web pages, PDFs, JSONL/JSON/CSV dumps, RSS/Atom feeds",
                                    file_count="multiple", file_types=list(ARTICLE_SUFFIXES), elem_id="rag-upload")
                    status = gr.Markdown(elem_id="rag-upload-status")
                    with gr.Row():
                        removable = gr.Dropdown(choices=uploaded_ids(), label="Remove an uploaded article",
                                                elem_id="rag-remove-choice", scale=3)
                        remover = gr.Button("Remove", elem_id="rag-remove", scale=1)
                    files.upload(upload, [files], [articles, removable, status, files], concurrency_limit=1)
                    remover.click(remove, [removable], [articles, removable, status], concurrency_limit=1)

        inputs, outputs = [box, chat, turns, records, top_k, since, as_of], [box, chat, turns, records]
        submitted = box.submit(respond, inputs, outputs, concurrency_limit=1, api_name="ask")
        clicked = ask.click(respond, inputs, outputs, concurrency_limit=1, api_name=False)
        if services.settings.read_ahead:
            # on each key; two at once, so that the newer reaches the server and the older gives way to it at once
            box.input(read_ahead, [box, turns, top_k, since, as_of], None, show_progress="hidden",
                      trigger_mode="always_last", concurrency_limit=2, api_name=False)
        stop.click(None, None, None, cancels=[submitted, clicked])
        clear.click(lambda: ([], [], {}, ""), None, [chat, turns, records, notice], cancels=[submitted, clicked])
        chat.like(feedback, [records], [notice])
        app.load(lambda: article_rows(), None, [articles])  # a reload shows articles added from other tabs
    return app


THEME_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # system fonts: no web-font fetch, works offline
CSS = """
.rag-source { border-left: 3px solid #888; padding: 2px 8px; margin: 6px 0; }
.rag-source:target { border-left-color: #e8a100; background: rgba(232, 161, 0, 0.08); }
.rag-passage { margin: 4px 0; white-space: pre-wrap; }
.rag-abstained { font-style: italic; }
.rag-error { color: #b00020; }
"""


def launch(app, host: str, port: int, password: str | None, announce=lambda url: None) -> None:
    """Serve the app until interrupted; with a password, the browser asks for it (user name "rag").

    `announce` gets the URL once the port is bound (a busy port raises OSError before)."""
    import gradio as gr

    from rag.ui.library import MAX_UPLOAD_BYTES

    app.queue(default_concurrency_limit=1, max_size=64)
    app.launch(server_name=host, server_port=port, auth=("rag", password) if password else None,
               max_file_size=2 * MAX_UPLOAD_BYTES, show_error=False, quiet=True, ssr_mode=False,
               theme=gr.themes.Default(font=THEME_FONTS, font_mono=["ui-monospace", "monospace"]), css=CSS,
               prevent_thread_lock=True)
    announce(f"http://{host}:{port}")
    app.block_thread()  # until Ctrl-C or SIGTERM
