"""The one place the assistant is put together from `Settings`.

Every surface (`rag ask`/`search`/`chat`, `rag ui` after an upload, `rag serve`, `rag bench speed`,
`scripts/load_serve.py`, `rag.as_langchain_retriever`) builds its parts here, so they all answer
with the same settings. Components below this module take plain arguments and never read settings.

This is a composition root: it may import `rag.index` (to build the default index on first use),
which the components in `rag/` never do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rag.config import Settings
from rag.errors import IndexMissingError

DEFAULT_SOURCES = Path("seeds")  # what the default index is built from on first use

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def build_embedder(settings: Settings, index_dir: Path, sources: Sequence[Path], rebuild: bool = False,
                   say: Say = _quiet):
    """The embedder for building `index_dir` from `sources`: the one it was built with, unless a rebuild
    or a pinned choice; `auto` picks by the size of all the articles it will hold."""
    from rag import store
    from rag.embedders import open_embedder, resolve
    from rag.index.sources import text_bytes

    existing = None if rebuild else store.embedder_id(index_dir)
    if existing and settings.embedder == "auto":
        return open_embedder(existing, settings.models_dir, say)
    corpus = text_bytes([*store.recorded_sources(index_dir), *sources])
    return open_embedder(resolve(settings.embedder, corpus), settings.models_dir, say)


def open_store(settings: Settings, say: Say = _quiet):
    """Load the configured index (`rag.store.Store`), building the default one from ./seeds on first use
    so the first `rag ask` just works.

    Only the default index builds itself: a mistyped `--index` must not answer from the seed articles."""
    from rag import store

    if not _index_can_open(settings):
        from rag.index.build import build_index
        from rag.terminal import report_build

        say(f"no index at {settings.index} yet: building it from {DEFAULT_SOURCES}/")
        embedder = build_embedder(settings, settings.index, [DEFAULT_SOURCES], say=say)
        report_build(build_index(settings.index, [DEFAULT_SOURCES], embedder, say=say, progress=True), say)
    return store.load(settings.index)


def _index_can_open(settings: Settings) -> bool:
    """Whether the configured index exists (False: it is the default one and ./seeds can build it).

    Raises IndexMissingError for any other missing index: a mistyped `--index` must not answer from the seeds."""
    from rag import store

    if store.exists(settings.index):
        return True
    if settings.index != Settings.model_fields["index"].default:
        raise IndexMissingError(f"no index at {settings.index}: build one with `rag index ARTICLES... --index "
                                f"{settings.index}`")
    if not DEFAULT_SOURCES.is_dir():
        raise IndexMissingError(f"no index at {settings.index} and no articles in ./{DEFAULT_SOURCES}: "
                                f"build one with `rag index PATH --index {settings.index}`")
    return False


def open_retriever(settings: Settings, loaded=None, embedder=None, say: Say = _quiet):
    """Dense or hybrid retrieval (the `retrieval` setting) over `loaded`, or over the configured index, inside the
    `since`/`until` window of publication dates, with fresher passages first for questions about the present
    (the `recency` setting).

    The embedder defaults to the one the index was built with, loaded only once the index checks out."""
    from rag.embedders import embedder_for
    from rag.retrieval.window import DateWindow

    loaded = loaded if loaded is not None else open_store(settings, say)
    embedder = embedder if embedder is not None else embedder_for(loaded, settings.models_dir, say)
    window = DateWindow(settings.since, settings.until)
    if settings.retrieval == "hybrid":
        from rag.retrieval.hybrid import HybridRetriever

        retriever = HybridRetriever(loaded, embedder, window=window)
    else:
        from rag.retrieval import DenseRetriever

        retriever = DenseRetriever(loaded, embedder, window)
    if not settings.recency:
        return retriever
    from rag.retrieval.recency import RecentFirst

    return RecentFirst(retriever, settings.recency, settings.recency_half_life)


def open_model(settings: Settings, say: Say = _quiet):
    """The chat backend the `model` setting names, with the context size and API options."""
    from rag.backends.registry import BackendOptions, open_backend

    return open_backend(settings.model, BackendOptions(
        models_dir=settings.models_dir, context_tokens=settings.context_tokens, weights=settings.weights,
        base_url=settings.base_url,
        timeout=settings.request_timeout, retries=settings.retries, say=say))


def assistant_settings(settings: Settings, backend_name: str):
    """The answering knobs for `backend_name`, with `auto` style, quoting and draft length resolved for it."""
    from rag.assistant import AssistantSettings
    from rag.backends import GenerationParams
    from rag.prompting import MAX_TOKENS, resolve_quote, resolve_style

    style = resolve_style(settings.answer_style, backend_name)
    return AssistantSettings(
        top_k=settings.top_k, score_floor=settings.score_floor, min_anchor_share=settings.min_anchor_share,
        min_topic_share=settings.min_topic_share, answer_style=style, quote=resolve_quote(settings.quote, backend_name),
        focus=settings.focus, focus_window=settings.focus_window, reuse_passages=settings.reuse_passages,
        params=GenerationParams(max_tokens=settings.max_tokens or MAX_TOKENS[style]))


def build_assistant(settings: Settings, say: Say = _quiet, retriever=None, backend=None):
    """The assistant (`rag.assistant.Assistant`) the settings describe; parts already loaded may be passed in."""
    from rag.assistant import Assistant
    from rag.checks.claims.align import AlignmentJudge

    if retriever is None and backend is None:
        retriever, backend = _open_both(settings, say)
    retriever = retriever if retriever is not None else open_retriever(settings, say=say)
    backend = backend if backend is not None else open_model(settings, say)
    judge = AlignmentJudge(retriever.embedder, min_score=settings.min_support)
    return Assistant(retriever, backend, assistant_settings(settings, backend.name), judge)


def _open_both(settings: Settings, say: Say):
    """The retriever and the model, loaded side by side: the model in a thread while the index and MiniLM load here
    (both spend their time in native code that lets the other thread run), which took 0.16 s off a cold `rag ask`
    on 2 cores (README, Speed). A missing index is reported before any model loads; any other failure is raised
    once the model's thread has finished (at most one model load later). The first use, which builds the default
    index with a progress bar, loads one thing at a time."""
    from concurrent.futures import ThreadPoolExecutor

    if not _index_can_open(settings):
        return open_retriever(settings, say=say), open_model(settings, say)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-load-model") as pool:
        model = pool.submit(open_model, settings, say)
        retriever = open_retriever(settings, say=say)
        return retriever, model.result()
