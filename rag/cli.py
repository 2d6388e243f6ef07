"""The `rag` command: the composition root that reads settings and wires components.

Heavy libraries (torch, faiss, llama_cpp) are imported inside the commands that need them,
so `rag --help` and `rag --version` stay instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from rag import __version__
from rag.config import AnswerStyle, EmbedderChoice, Settings, load_settings
from rag.errors import IndexMissingError, InputError, RagError

DEFAULT_SOURCES = Path("seeds")


def _say(message: str) -> None:
    sys.stdout.flush()  # keep stdout and stderr in order when both go to one place
    print(f"rag: {message}", file=sys.stderr, flush=True)


def _embedder(settings: Settings, index_dir: Path, sources: list[Path], rebuild: bool = False):
    """The embedder for building `index_dir` from `sources`: the one it was built with, unless a rebuild
    or a pinned choice; `auto` picks by the size of the sources."""
    from rag import store
    from rag.embedders import open_embedder, resolve
    from rag.index.sources import text_bytes

    existing = None if rebuild else store.embedder_id(index_dir)
    if existing and settings.embedder == "auto":
        return open_embedder(existing, settings.models_dir, _say)
    corpus = text_bytes([*store.recorded_sources(index_dir), *sources])
    return open_embedder(resolve(settings.embedder, corpus), settings.models_dir, _say)


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
    from rag.index.build import build_index
    from rag.store import recorded_sources

    paths = [Path(p) for p in args.paths]
    missing = next((p for p in paths if not p.exists()), None)
    if missing:  # build_index says the same, but only after the embedder has loaded (15 s on 2 busy cores)
        raise InputError(f"no such file or folder: {missing}")
    if not paths and not recorded_sources(settings.index):
        paths = [DEFAULT_SOURCES]
    embedder = _embedder(settings, settings.index, paths, args.rebuild)
    report = build_index(settings.index, paths, embedder, rebuild=args.rebuild, say=_say, progress=True)
    return _report_build(report)


def _open_store(settings: Settings):
    """Load the index, building the default one from ./seeds on first use so the first `rag ask` just works.

    Only the default index builds itself: a mistyped `--index` must not answer from the seed articles."""
    from rag import store

    if not store.exists(settings.index):
        if settings.index != Settings.model_fields["index"].default:
            raise IndexMissingError(f"no index at {settings.index}: build one with `rag index ARTICLES... --index "
                                    f"{settings.index}`")
        if not DEFAULT_SOURCES.is_dir():
            raise IndexMissingError(f"no index at {settings.index} and no articles in ./{DEFAULT_SOURCES}: "
                                    f"build one with `rag index PATH --index {settings.index}`")
        from rag.index.build import build_index

        _say(f"no index at {settings.index} yet: building it from {DEFAULT_SOURCES}/")
        embedder = _embedder(settings, settings.index, [DEFAULT_SOURCES])
        _report_build(build_index(settings.index, [DEFAULT_SOURCES], embedder, say=_say, progress=True))
    return store.load(settings.index)


def _retriever(settings: Settings):
    """Dense or hybrid retrieval over the configured index, with the embedder the index was built with.

    The embedder loads only once the index checks out.
    """
    from rag.embedders import embedder_for

    loaded = _open_store(settings)
    embedder = embedder_for(loaded, settings.models_dir, _say)
    if settings.retrieval == "hybrid":
        from rag.hybrid import HybridRetriever

        return HybridRetriever(loaded, embedder)
    from rag.retrieval import DenseRetriever

    return DenseRetriever(loaded, embedder)


def _assistant(settings: Settings):
    from rag.assistant import Assistant, AssistantSettings
    from rag.backends import GenerationParams
    from rag.backends.registry import BackendOptions, open_backend
    from rag.claims.align import AlignmentJudge
    from rag.prompting import MAX_TOKENS, resolve_quote, resolve_style

    retriever = _retriever(settings)
    backend = open_backend(settings.model, BackendOptions(
        settings.models_dir, settings.context_tokens, settings.base_url, settings.request_timeout, settings.retries, _say))
    style = resolve_style(settings.answer_style, backend.name)
    judge = AlignmentJudge(retriever.embedder, min_score=settings.min_support)
    return Assistant(retriever, backend, AssistantSettings(
        top_k=settings.top_k, score_floor=settings.score_floor, min_anchor_share=settings.min_anchor_share,
        min_topic_share=settings.min_topic_share, answer_style=style,
        quote=resolve_quote(settings.quote, backend.name), focus=settings.focus, focus_window=settings.focus_window,
        params=GenerationParams(max_tokens=settings.max_tokens or MAX_TOKENS[style])), judge)


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


def _articles_of(manifest: dict) -> list:
    """The articles an index was built from, read again from their recorded sources."""
    from rag.index.sources import Skipped, discover, read_article

    files, _ = discover([Path(p) for p in manifest.sources if Path(p).exists()])
    return [a for a in (read_article(f) for f in files) if not isinstance(a, Skipped)]


def cmd_eval(args, settings: Settings) -> int:
    from rag.evals.command import evaluate, format_metrics, run_meta, threshold_failures
    from rag.evals.compare import compare
    from rag.evals.gold import load_gold

    if args.compare:
        print(compare(Path(args.compare[0]), Path(args.compare[1])))
        return 0
    if args.from_feedback:  # no model: this only turns ratings into questions for a person to check
        from rag.feedback import gold_candidates, write_candidates

        candidates = gold_candidates(Path(args.from_feedback))
        out = Path(args.out or "var/evals/gold-candidates.jsonl")
        write_candidates(out, candidates)
        review = sum(1 for c in candidates if c.get("needs_review"))
        abstentions = sum(1 for c in candidates if not c["answerable"] and not c.get("needs_review"))
        _say(f"wrote {len(candidates)} gold candidates ({len(candidates) - review - abstentions} helpful, "
             f"{abstentions} abstentions, {review} to review) to {out}")
        return 0
    questions = load_gold(Path(args.gold))[: args.limit]
    if not questions:
        raise InputError(f"{args.gold} holds no questions")
    assistant = _assistant(settings)
    manifest = assistant.retriever.store.manifest
    ask, model, note = assistant.answer, assistant.backend.name, ""
    if args.baseline == "langchain":
        from rag.evals.baseline_langchain import NOTE, LangChainRecipe

        recipe = LangChainRecipe(_articles_of(manifest), assistant.retriever.embedder, assistant.backend)
        ask, model, note = recipe.answer, recipe.name, NOTE
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or f"var/evals/{stamp}-{model.replace(':', '-').replace('/', '_')}")
    chosen = settings.model_dump(include={"top_k", "score_floor", "min_anchor_share", "min_topic_share", "max_tokens",
                                          "context_tokens", "retrieval", "answer_style", "quote", "min_support"})
    report = evaluate(questions, ask, out, run_meta(Path(args.gold), model, chosen, manifest, note), judge=assistant.judge)
    print(format_metrics(report["metrics"]))
    if note:
        print(f"note: {note}")
    _say(f"wrote {out}/predictions.jsonl, report.json and report.html")
    failed = threshold_failures(report["metrics"], {k: getattr(args, k) for k in THRESHOLD_FLAGS})
    for line in failed:
        _say(f"threshold missed: {line}")
    return 1 if failed else 0


def _realtimeqa_corpus(args) -> tuple[Path, list[str]]:
    """Write the chosen weeks' search results as articles (once); returns the benchmark's folder and weeks."""
    import hashlib

    from rag.evals.realtimeqa import weeks_in, write_corpus

    if not args.data:
        raise InputError("rag bench realtimeqa needs --data DIR: the benchmark's folder, with questions_qa.jsonl and "
                         "search_results/<week>_gcs.jsonl.gz (rag does not ship the data)")
    data = Path(args.data)
    available = weeks_in(data)
    weeks = args.weeks or available
    if not available:
        raise InputError(f"no RealTime QA search results in {data}/search_results "
                         "(expected files like 20220617_gcs.jsonl.gz)")
    unknown = sorted(set(weeks) - set(available))
    if unknown:
        raise InputError(f"no search results for week(s) {', '.join(unknown)} in {data}/search_results")
    key = hashlib.sha1(" ".join([*weeks, "gold" if args.with_gold_articles else ""]).encode()).hexdigest()[:10]
    home = Path("var/bench") / f"realtimeqa-{key}"
    pages = write_corpus(data, weeks, home / "corpus", args.with_gold_articles)
    _say(f"{pages} unique pages from {len(weeks)} week(s) in {home / 'corpus'}")
    return home, weeks


def cmd_bench(args, settings: Settings) -> int:
    if args.benchmark == "speed":
        return cmd_bench_speed(args, settings)
    from rag.embedders import open_embedder, resolve
    from rag.embedding import MINILM_ID
    from rag.evals.bench_realtimeqa import published_table, run_bench
    from rag.evals.command import run_meta
    from rag.evals.realtimeqa import load_questions
    from rag.index.build import build_index
    from rag.index.sources import text_bytes

    home, weeks = _realtimeqa_corpus(args)
    questions = load_questions(Path(args.data), weeks, args.mode)[: args.limit]
    model_id = resolve(settings.embedder, text_bytes([home / "corpus"]))
    index_dir = home / ("index" if model_id == MINILM_ID else "index-int8")  # one index per embedder, both kept
    _say(f"indexing into {index_dir}")
    _report_build(build_index(index_dir, [home / "corpus"], open_embedder(model_id, settings.models_dir, _say), say=_say,
                              progress=True))
    settings = settings.model_copy(update={"index": index_dir})
    assistant = _assistant(settings)
    out = Path(args.out or f"var/bench/runs/realtimeqa-{args.mode}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}")
    setting = "search results + gold articles (easier than the published setting)" if args.with_gold_articles \
        else "search results only (the published setting)"
    questions_file = Path(args.data) / ("questions_qa_nota.jsonl" if args.mode == "nota" else "questions_qa.jsonl")
    meta = run_meta(questions_file, assistant.backend.name, {"weeks": weeks, "corpus": setting,
                    "top_k": settings.top_k}, assistant.retriever.store.manifest)
    report = run_bench(questions, args.mode, assistant, out, meta)
    label = f"rag ({assistant.backend.name}), {report['metrics']['questions']} questions"
    print(published_table(args.mode, report["metrics"], label))
    print(f"(published figures are on all 269 questions of the nine weeks; corpus: {setting})")
    _say(f"wrote {out}/predictions.jsonl and report.json")
    return 0


SPEED_QUESTIONS = 20  # `rag bench speed` default: a fixed sample, the first 20 questions


def cmd_bench_speed(args, settings: Settings) -> int:
    from rag.evals.bench_speed import run, table
    from rag.evals.gold import questions_of

    if args.corpus == "realtimeqa":
        from rag.evals.realtimeqa import load_questions

        home, weeks = _realtimeqa_corpus(args)
        corpus = home / "corpus"
        default_questions = [q.question for q in load_questions(Path(args.data), weeks, "gen")]
    else:
        corpus = Path(args.corpus or DEFAULT_SOURCES)
        if not corpus.exists():
            raise InputError(f"no such file or folder: {corpus}")
        default_questions = questions_of(Path("evals/gold.jsonl")) if corpus.resolve() == DEFAULT_SOURCES.resolve() else []
    questions = questions_of(Path(args.questions)) if args.questions else default_questions
    if not questions:
        raise InputError(f"no questions for {corpus}: give --questions FILE (JSONL, one {{\"question\": ...}} per line)")
    questions = questions[: args.limit or SPEED_QUESTIONS]
    job = {"corpus": str(corpus), "questions": questions, "model": settings.model, "models_dir": str(settings.models_dir),
           "context_tokens": settings.context_tokens, "embedder": settings.embedder, "retrieval": settings.retrieval,
           "top_k": settings.top_k, "score_floor": settings.score_floor, "max_tokens": settings.max_tokens,
           "answer_style": settings.answer_style, "quote": settings.quote, "min_support": settings.min_support}
    out = Path(args.out or f"var/bench/runs/speed-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}")
    report = run(job, out, _say)
    ours = report["rag"]
    print(f"rag bench speed: {corpus}, {len(questions)} questions (+1 warm-up), model {settings.model}, "
          f"{os.cpu_count()} CPU cores")
    print(table(ours, report["langchain"]))
    print(f"rag: {ours['embedder']}, {ours['faiss_index']}, {settings.retrieval} retrieval, top {settings.top_k}. "
          "LangChain recipe: RecursiveCharacterTextSplitter(1000, 200), sentence-transformers MiniLM (torch), "
          f"LangChain's FAISS, tutorial prompt, top {settings.top_k}. Same GGUF, threads and context size.")
    _say(f"wrote {out}/report.json")
    return 0


THRESHOLD_FLAGS = ("min_accuracy", "min_answer_accuracy", "min_citation_accuracy", "min_abstention_recall",
                   "max_false_abstention_rate")


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
        print(json.dumps({"index": str(settings.index), "manifest": manifest.to_dict(), "models_assembled": models},
                         indent=2))
        return 0
    print(f"index     {settings.index} (built {manifest.created})")
    print(f"embedder  {manifest.embedder.id} ({manifest.embedder.dim}-d, {manifest.metric})")
    print(f"vectors   {manifest.passages} passages, FAISS {manifest.faiss_index}")
    print(f"sources   {', '.join(manifest.sources)}")
    print(f"articles  {len(manifest.articles)}")
    for article_id, a in sorted(manifest.articles.items()):
        print(f"  {article_id}  {a.published or '          '}  {a.chunks:>3} chunks  {a.title}")
    for name, present in models.items():
        print(f"model     local:{name}: {'assembled' if present else 'not assembled yet (assembled on first use)'}")
    return 0


def _server_token(args, lowest_port: int) -> str | None:
    """RAG_SERVE_TOKEN (an empty variable is no token), after the checks that must pass before any model loads."""
    from rag.serve.auth import TOKEN_ENV, require_token_off_loopback

    token = os.environ.get(TOKEN_ENV) or None
    require_token_off_loopback(args.host, token)
    if not lowest_port <= args.port <= 65535:
        raise InputError(f"--port must be between {lowest_port} and 65535, not {args.port}")
    return token


def cmd_ui(args, settings: Settings) -> int:
    from rag.serve.auth import TOKEN_ENV

    password = _server_token(args, lowest_port=1)  # Gradio needs a real port
    assistant = _assistant(settings)  # one model for every browser tab
    from rag.ui.app import Services, build_app, launch
    from rag.ui.library import Library

    services = Services(assistant, Library(settings.index, assistant.retriever.embedder), Path(args.feedback),
                        settings.top_k)
    app = build_app(services, assistant.backend.name)
    guard = f" (user rag, password from {TOKEN_ENV})" if password else ""
    try:
        launch(app, args.host, args.port, password,
               announce=lambda url: _say(f"chat UI for {assistant.backend.name} on {url}{guard}; Ctrl-C stops it"))
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    return 0


def cmd_serve(args, settings: Settings) -> int:
    token = _server_token(args, lowest_port=0)  # 0: the server picks a free port and announces it
    assistant = _assistant(settings)  # once per server: every request shares the loaded model
    from rag.serve.server import run

    guard = "token required" if token else "no token"
    run(assistant, args.host, args.port, token,
        announce=lambda url: _say(f"serving rag ({assistant.backend.name}) on {url} ({guard})"))
    return 0


def _show_rewrite(rewrite) -> None:
    if rewrite.changed:
        _say(f"(searched for: {rewrite.question})")


def cmd_chat(args, settings: Settings) -> int:
    from rag.conversation import Conversation
    from rag.render import sources_text
    from rag.terminal import StreamPrinter

    conversation = Conversation(_assistant(settings))  # the model loads once for the whole chat
    interactive = sys.stdin.isatty()
    if interactive:
        _say("ask about the articles; follow-ups are understood. /reset forgets the conversation, /quit or Ctrl-D ends")
    while True:
        try:
            line = input("> " if interactive else "").strip()
        except EOFError:
            if interactive:
                print()  # Ctrl-D leaves the cursor after the prompt
            return 0
        if not line:
            continue
        if line == "/quit":
            return 0
        if line == "/reset":
            conversation.turns.clear()
            _say("conversation cleared")
            continue
        printer = StreamPrinter()
        try:
            _, answer = conversation.ask(line, on_token=printer.token, on_rewrite=_show_rewrite)
        except RagError as exc:
            if os.environ.get("RAG_DEBUG") == "1":
                raise
            if printer.shown:
                print()  # end the half-streamed draft's line
            _say(f"error: {exc}")
            continue
        printer.finish(answer.text)
        sources = sources_text(answer)
        print(f"\n{sources}\n" if sources else "", flush=True)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _retrieval_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retrieval", choices=["dense", "hybrid"],
                   help="dense (default) or hybrid: BM25 + dense fused by reciprocal rank (env RAG_RETRIEVAL)")


def _model_flags(p: argparse.ArgumentParser) -> None:
    _retrieval_flag(p)
    p.add_argument("--answer-style", dest="answer_style", choices=get_args(AnswerStyle),
                   help="short extractions or cited sentences; auto (default) picks per model (env RAG_ANSWER_STYLE)")
    p.add_argument("--quote", action=argparse.BooleanOptionalAction, default=None,
                   help="give a sentence answer in the articles' own sentences (default: for local models; env RAG_QUOTE)")
    p.add_argument("--model", help="model spec: local (default), local:qwen2.5-coder-1.5b, local:PATH.gguf, "
                                   "openai:MODEL, anthropic:MODEL (env RAG_MODEL)")
    p.add_argument("--base-url", dest="base_url", metavar="URL",
                   help="API models: the server's base URL, e.g. http://127.0.0.1:8080/v1 "
                        "(default: OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the provider)")


def _listen_flags(p: argparse.ArgumentParser, port: int, port_note: str) -> None:
    """--host, --port and -k, shared by the two servers."""
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other than loopback needs RAG_SERVE_TOKEN)")
    p.add_argument("--port", type=int, default=port, help=f"port (default {port}{port_note})")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help="passages shown to the model (default 4)")


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
    p.add_argument("--embedder", choices=get_args(EmbedderChoice),
                   help="MiniLM for a new index or --rebuild: auto = int8 ONNX for 2 MB of articles or more "
                   "on a CPU with VNNI, else torch")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", parents=[common], help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help="passages shown to the model (default 4)")
    _model_flags(p)
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("search", parents=[common], help="show the ranked passages for a query, without the model")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")
    p.add_argument("-k", "--top-k", type=int, dest="top_k")
    _retrieval_flag(p)
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("eval", parents=[common], help="score answers against gold questions; write a report")
    p.add_argument("--gold", default="evals/gold.jsonl", help="gold questions, JSONL (default evals/gold.jsonl)")
    _model_flags(p)
    p.add_argument("--out", help="run folder (default var/evals/TIMESTAMP-MODEL)")
    p.add_argument("--limit", type=_positive, help="only the first N questions")
    p.add_argument("--baseline", choices=["langchain"], help="score LangChain's tutorial recipe instead of rag")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="show which questions changed between runs")
    p.add_argument("--from-feedback", dest="from_feedback", metavar="FILE", help="turn a feedback file into gold-question "
                   "candidates written to --out (default var/evals/gold-candidates.jsonl), without running a model")
    for flag in THRESHOLD_FLAGS:
        p.add_argument(f"--{flag.replace('_', '-')}", type=float, metavar="X", help="exit 1 when missed")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="benchmarks: realtimeqa (answer quality), speed")
    p.add_argument("benchmark", choices=["realtimeqa", "speed"])
    p.add_argument("--corpus", help="speed: a folder of articles, or `realtimeqa` for its search results "
                   "(default: seeds/)")
    p.add_argument("--questions", help="speed: JSONL with a question per line (default: evals/gold.jsonl for "
                   "seeds/, the benchmark's questions for realtimeqa)")
    p.add_argument("--data", help="realtimeqa: the benchmark's folder (questions_qa.jsonl, search_results/); "
                   "not shipped with rag")
    p.add_argument("--weeks", nargs="+", metavar="YYYYMMDD", help="weeks to use (default: every week in --data)")
    p.add_argument("--mode", choices=["gen", "mc", "nota"], default="gen")
    p.add_argument("--with-gold-articles", action="store_true", help="add the source articles (an easier setting)")
    p.add_argument("--limit", type=_positive, help=f"only the first N questions (speed: default {SPEED_QUESTIONS})")
    p.add_argument("--embedder", choices=get_args(EmbedderChoice),
                   help="MiniLM for rag's index (auto: int8 ONNX for large corpora on VNNI CPUs)")
    _model_flags(p)
    p.add_argument("--out", help="run folder")
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("ui", parents=[common], help="chat with the articles in the browser (Gradio)")
    _listen_flags(p, 7860, "")
    p.add_argument("--feedback", default="var/feedback.jsonl", help="where helpful/not helpful votes are appended")
    _model_flags(p)
    p.set_defaults(run=cmd_ui)

    p = sub.add_parser("serve", parents=[common], help="serve the assistant as an OpenAI-compatible model over HTTP")
    _listen_flags(p, 8000, "; 0 picks a free one")
    _model_flags(p)
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("chat", parents=[common], help="chat in the terminal: questions from stdin, follow-ups understood")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help="passages shown to the model (default 4)")
    _model_flags(p)
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("status", parents=[common], help="show the index: articles, embedder, model files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(argv)
    try:
        flags = {k: getattr(args, k, None)
                 for k in ("index", "model", "top_k", "base_url", "retrieval", "embedder", "answer_style", "quote")}
        return args.run(args, load_settings(flags))
    except RagError as exc:
        if os.environ.get("RAG_DEBUG") == "1":
            raise
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rag status | head`): stop quietly, as `cat` would. Point stdout at
        # /dev/null so flushing it at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
