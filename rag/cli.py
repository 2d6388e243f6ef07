"""The `rag` command: the composition root that reads settings and wires components.

Heavy libraries (torch, faiss, llama_cpp) are imported inside the commands that need them,
so `rag --help` and `rag --version` stay instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag import __version__
from rag.config import Settings, load_settings
from rag.errors import IndexMissingError, RagError

DEFAULT_SOURCES = Path("seeds")


def _say(message: str) -> None:
    sys.stdout.flush()  # keep stdout and stderr in order when both go to one place
    print(f"rag: {message}", file=sys.stderr, flush=True)


def _embedder():
    from rag.embedding import MiniLMEmbedder

    return MiniLMEmbedder()


def _report_build(report) -> int:
    for skipped in report.skipped:
        _say(f"warning: skipped {skipped.path}: {skipped.reason}")
    for note in report.notes:
        _say(note)
    articles = len(report.added) + len(report.updated) + len(report.unchanged)
    _say(f"indexed {articles} articles ({len(report.added)} added, {len(report.updated)} updated, "
         f"{len(report.removed)} removed, {len(report.unchanged)} unchanged); embedded {report.embedded_texts} "
         f"of {report.chunks} passages in {report.seconds:.1f} s -> {report.index_dir}")
    return 1 if report.skipped else 0


def cmd_index(args, settings: Settings) -> int:
    from index.build import build_index, recorded_sources

    paths = [Path(p) for p in args.paths]
    if not paths and not recorded_sources(settings.index):
        paths = [DEFAULT_SOURCES]
    report = build_index(settings.index, paths, _embedder(), rebuild=args.rebuild, say=_say, progress=True)
    return _report_build(report)


def _open_store(settings: Settings, embedder):
    """Load the index, building it from ./seeds on first use so the first `rag ask` just works."""
    from rag import store
    from rag.embedding import MINILM_ID

    if not store.exists(settings.index):
        if not DEFAULT_SOURCES.is_dir():
            raise IndexMissingError(f"no index at {settings.index} and no articles in ./{DEFAULT_SOURCES}: "
                                    f"build one with `rag index PATH --index {settings.index}`")
        from index.build import build_index

        _say(f"no index at {settings.index} yet: building it from {DEFAULT_SOURCES}/")
        _report_build(build_index(settings.index, [DEFAULT_SOURCES], embedder(), say=_say, progress=True))
    return store.load(settings.index, expect_embedder=MINILM_ID)


def _retriever(settings: Settings):
    """Dense retrieval over the configured index; the embedder loads only once the index checks out."""
    import functools

    from rag.retrieval import DenseRetriever

    embedder = functools.cache(_embedder)
    loaded = _open_store(settings, embedder)
    return DenseRetriever(loaded, embedder())


def _assistant(settings: Settings):
    from rag.assistant import Assistant, AssistantSettings
    from rag.backends import GenerationParams
    from rag.backends.registry import open_backend

    retriever = _retriever(settings)
    backend = open_backend(settings.model, settings.models_dir, _say, settings.context_tokens)
    return Assistant(retriever, backend, AssistantSettings(
        top_k=settings.top_k, score_floor=settings.score_floor, min_anchor_share=settings.min_anchor_share,
        min_topic_share=settings.min_topic_share, params=GenerationParams(max_tokens=settings.max_tokens)))


def cmd_ask(args, settings: Settings) -> int:
    from rag.assistant import clean_question
    from rag.render import answer_dict, sources_text
    from rag.terminal import StreamPrinter

    clean_question(args.question)  # fail fast, before loading any model
    assistant = _assistant(settings)
    if args.json:
        answer = assistant.answer(args.question)
        print(json.dumps(answer_dict(answer), ensure_ascii=False, indent=2))
        return 0
    printer = StreamPrinter()
    answer = assistant.answer(args.question, on_token=printer.token)
    printer.finish(answer.text)
    print()
    print(sources_text(answer))
    t = answer.timings
    if t["first_token"]:
        _say(f"first token {t['first_token'] / 1000:.1f} s, total {t['total'] / 1000:.1f} s ({answer.model})")
    else:
        _say(f"answered without calling the model in {t['total'] / 1000:.1f} s")
    return 0


def cmd_search(args, settings: Settings) -> int:
    from rag.assistant import clean_question
    from rag.render import excerpt, passage_dict

    query = clean_question(args.query)
    passages = _retriever(settings).retrieve(query, settings.top_k)
    if args.json:
        print(json.dumps([{**passage_dict(p), "rank": p.rank, "title": p.chunk.title, "text": p.chunk.text}
                          for p in passages], ensure_ascii=False, indent=2))
        return 0
    for p in passages:
        print(f"{p.rank}. {p.score:.3f}  {p.chunk.title} [{p.chunk.id}]")
        print(f"   {excerpt(p.chunk.text, 300)}")
    return 0


def cmd_status(args, settings: Settings) -> int:
    from rag import store
    from rag.models import PACKAGED_MODELS

    manifest = store.load(settings.index).manifest
    models = {name: (settings.models_dir / m.filename).exists() for name, m in PACKAGED_MODELS.items()}
    if args.json:
        print(json.dumps({"index": str(settings.index), "manifest": manifest, "models_assembled": models}, indent=2))
        return 0
    print(f"index     {settings.index} (built {manifest['created']})")
    print(f"embedder  {manifest['embedder']['id']} ({manifest['embedder']['dim']}-d, {manifest['metric']})")
    print(f"sources   {', '.join(manifest['sources'])}")
    print(f"articles  {len(manifest['articles'])}")
    for article_id, a in sorted(manifest["articles"].items()):
        print(f"  {article_id}  {a['published'] or '          '}  {a['chunks']:>3} chunks  {a['title']}")
    for name, present in models.items():
        print(f"model     local:{name}: {'assembled' if present else 'not assembled yet (assembled on first use)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can inspect it)."""
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of news articles; answers cite their passages.")
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", help="index folder (default var/index/default; env RAG_INDEX)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index article files (.txt, .md) or re-sync the recorded folders")
    p.add_argument("paths", nargs="*", help="files or folders to add (default: the recorded folders, else seeds/)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of only what changed")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", parents=[common], help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help="passages shown to the model (default 4)")
    p.add_argument("--model", help="model spec: local (default), local:qwen2.5-coder-1.5b, local:PATH.gguf")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("search", parents=[common], help="show the ranked passages for a query, without the model")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")
    p.add_argument("-k", "--top-k", type=int, dest="top_k")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("status", parents=[common], help="show the index: articles, embedder, model files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(argv)
    try:
        flags = {k: getattr(args, k, None) for k in ("index", "model", "top_k")}
        return args.run(args, load_settings(flags))
    except RagError as exc:
        if os.environ.get("RAG_DEBUG") == "1":
            raise
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
