"""`rag eval` and `rag bench`: parse, assemble, hand over to `rag.evals`, print what it found."""

from __future__ import annotations

import os
from pathlib import Path

from rag.compose import DEFAULT_SOURCES, build_assistant
from rag.config import Settings
from rag.errors import InputError
from rag.evals.metric_table import THRESHOLDS
from rag.terminal import report_build, say


def cmd_eval(args, settings: Settings) -> int:
    """Score answers to a gold file, write the run folder, and exit 1 when a threshold is missed."""
    from rag.evals.command import evaluate, format_metrics, run_meta
    from rag.evals.compare import compare
    from rag.evals.gold import load_gold
    from rag.evals.metric_table import threshold_failures
    from rag.evals.runs import run_folder

    if args.compare:
        print(compare(Path(args.compare[0]), Path(args.compare[1])))
        return 0
    if args.from_feedback:  # no model: this only turns ratings into questions for a person to check
        from rag.feedback import candidates_summary, gold_candidates, write_candidates

        candidates = gold_candidates(Path(args.from_feedback))
        out = Path(args.out or "var/evals/gold-candidates.jsonl")
        write_candidates(out, candidates)
        say(f"wrote {candidates_summary(candidates)} to {out}")
        return 0
    questions = load_gold(Path(args.gold))[: args.limit]
    if not questions:
        raise InputError(f"{args.gold} holds no questions")
    assistant = build_assistant(settings, say)
    manifest = assistant.retriever.store.manifest
    ask, model, note = assistant.answer, assistant.backend.name, ""
    if args.baseline == "langchain":
        from rag.evals.baseline_langchain import NOTE, LangChainRecipe
        from rag.index.sources import read_articles

        articles = read_articles([Path(p) for p in manifest.sources])
        recipe = LangChainRecipe(articles, assistant.retriever.embedder, assistant.backend)
        ask, model, note = recipe.answer, recipe.name, NOTE
    out = run_folder(args.out, Path("var/evals"), model)
    meta = run_meta(Path(args.gold), model, settings.model_dump(mode="json"), manifest, note,
                    getattr(assistant.backend, "model_file", None))
    report = evaluate(questions, ask, out, meta, judge=assistant.judge)
    print(format_metrics(report["metrics"]))
    if note:
        print(f"note: {note}")
    say(f"wrote {out}/predictions.jsonl, report.json and report.html")
    failed = threshold_failures(report["metrics"], {k: getattr(args, k) for k in THRESHOLDS})
    for line in failed:
        say(f"threshold missed: {line}")
    return 1 if failed else 0


def cmd_bench(args, settings: Settings) -> int:
    """`rag bench realtimeqa` (answer quality on the benchmark), `rag bench speed` or `rag bench scale`."""
    if args.benchmark == "speed":
        return _bench_speed(args, settings)
    if args.benchmark == "scale":
        return _bench_scale(args, settings)
    if args.query == "choices" and args.mode == "gen":
        raise InputError("--query choices is for --mode mc or nota: a free answer is retrieved for its question")
    from rag.evals.bench_realtimeqa import SETTING, choice_method, prepare_corpus, published_table, run_bench
    from rag.evals.command import run_meta
    from rag.evals.realtimeqa import baselines_for, data_layout, load_questions, question_files
    from rag.evals.runs import run_folder
    from rag.hashing import file_sha256

    home, weeks = prepare_corpus(args.data, args.weeks, args.with_gold_articles, say)
    data = Path(args.data)
    questions = load_questions(data, weeks, args.mode)[: args.limit]
    baselines = baselines_for(data, weeks, questions, args.mode)  # of exactly these questions, read before any model
    index_dir, _ = _realtimeqa_index(home, settings)
    settings = settings.model_copy(update={"index": index_dir})
    assistant = build_assistant(settings, say)
    out = run_folder(args.out, Path("var/bench/runs"), f"realtimeqa-{args.mode}")
    setting = SETTING[args.with_gold_articles]
    files = question_files(data, weeks, args.mode)
    meta = run_meta(files[0], assistant.backend.name,
                    {"weeks": weeks, "corpus": setting, "as_of_question_date": args.as_of_question_date,
                     "query": args.query,
                     "data_layout": data_layout(data).kind, **settings.model_dump(mode="json")},
                    assistant.retriever.store.manifest, model_file=getattr(assistant.backend, "model_file", None))
    if len(files) > 1:  # upstream: a question file a week, each hashed
        meta["gold"] = {"paths": [str(f) for f in files],
                        "sha256": [file_sha256(f) for f in files]}
    if args.mode != "gen":
        say(f"choosing by {choice_method(assistant.backend, args.mode)}")
    report = run_bench(questions, args.mode, assistant, out, meta, baselines, as_of=args.as_of_question_date,
                       query=args.query)
    label = f"rag ({assistant.backend.name}), {report['metrics']['questions']} questions"
    print(published_table(args.mode, report["metrics"], label, baselines))
    when = "; each question answered as of its date" if args.as_of_question_date else ""
    print(f"({baselines.note}; corpus: {setting}{when})")
    if args.mode != "gen":
        print(f"choices: {report['meta']['choice_method']}")
        if "by_rule" in report["metrics"]:
            print("accuracy by scoring rule: " + ", ".join(f"{k} {v}" for k, v in report["metrics"]["by_rule"].items()))
        if "none_of_the_above" in report["metrics"]:
            nota = report["metrics"]["none_of_the_above"]
            print(f"None of the above: the answer to {nota['gold']}, picked {nota['picked']} times "
                  f"({nota['picked_right']} right, {nota['picked_wrong']} wrong)")
    say(f"wrote {out}/predictions.jsonl and report.json")
    return 0


def _realtimeqa_index(home: Path, settings: Settings):
    """Index (or re-sync) the benchmark's corpus in its own folder, one index per embedder; returns it and the
    embedder."""
    from rag.embedders import open_embedder, resolve
    from rag.embedders.minilm import MINILM_ID
    from rag.index.build import build_index
    from rag.index.sources import text_bytes

    model_id = resolve(settings.embedder, text_bytes([home / "corpus"]))
    index_dir = home / ("index" if model_id == MINILM_ID else "index-int8")  # one index per embedder, both kept
    embedder = open_embedder(model_id, settings.models_dir, say)
    say(f"indexing into {index_dir}")
    report_build(build_index(index_dir, [home / "corpus"], embedder, say=say, progress=True), say)
    return index_dir, embedder


def _bench_scale(args, settings: Settings) -> int:
    """FAISS index types at growing sizes over the benchmark's real vectors, or (`--resync`) `rag index` re-syncs."""
    import json

    import faiss
    import numpy as np

    from rag import store
    from rag.evals.bench_realtimeqa import prepare_corpus
    from rag.evals.bench_scale import RESYNC_COLUMNS, as_dicts, header, line, run
    from rag.evals.realtimeqa import load_questions
    from rag.evals.runs import run_folder

    home, weeks = prepare_corpus(args.data, args.weeks, False, say, bench="scale")
    index_dir, embedder = _realtimeqa_index(home, settings)
    out = run_folder(args.out, Path("var/bench/runs"), "scale")
    if args.resync:
        from rag.evals.bench_scale import DUMP_ROWS, resync
        from rag.store.engine import parse_store

        texts = [c.text for c in store.load(index_dir).chunks]
        print(f"rag bench scale --resync: JSONL dumps of one-passage articles, {DUMP_ROWS:,} rows a file (RealTime QA passages, "
              f"cycled), indexed by `rag index`'s own build; {os.cpu_count()} CPU cores")
        print(header(RESYNC_COLUMNS))
        rows = []
        for n in sorted(args.resync):
            rows.append(resync(texts, n, out / "resync", say, parse_store(args.store) if args.store else None))
            print(line(rows[-1], RESYNC_COLUMNS), flush=True)
        (out / "report.json").write_text(json.dumps({"resync": as_dicts(rows)}, indent=2))
        say(f"wrote {out}/report.json")
        return 0
    base = store.load(index_dir).vectors()
    questions = load_questions(Path(args.data), weeks, "gen")[: args.limit]
    queries = np.vstack([embedder.embed_query(q.question) for q in questions]).astype(np.float32)
    print(f"rag bench scale: {len(base)} real passages of {index_dir} ({embedder.model_id}), then noisy copies; "
          f"{len(queries)} real questions one at a time, top 10; faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads, {os.cpu_count()} CPU cores")
    print(header())
    rows = run(base, queries, sorted(args.sizes), args.kinds, out / "work", on_row=lambda r: print(line(r), flush=True))
    (out / "report.json").write_text(json.dumps({"base_vectors": len(base), "index": str(index_dir),
                                                 "embedder": embedder.model_id, "queries": len(queries),
                                                 "faiss": faiss.__version__, "rows": as_dicts(rows)}, indent=2))
    say(f"wrote {out}/report.json")
    return 0


def _bench_speed(args, settings: Settings) -> int:
    from rag.evals.bench_speed import SPEED_QUESTIONS, run, speed_questions, table
    from rag.evals.runs import run_folder

    questions_file = Path(args.questions) if args.questions else None
    if args.corpus == "realtimeqa":
        from rag.evals.bench_realtimeqa import prepare_corpus
        from rag.evals.gold import questions_of
        from rag.evals.realtimeqa import load_questions

        home, weeks = prepare_corpus(args.data, args.weeks, args.with_gold_articles, say, bench="speed")
        corpus = home / "corpus"
        questions = (questions_of(questions_file) if questions_file
                     else [q.question for q in load_questions(Path(args.data), weeks, "gen")])
    else:
        corpus = Path(args.corpus or DEFAULT_SOURCES)
        if not corpus.exists():
            raise InputError(f"no such file or folder: {corpus}")
        questions = speed_questions(corpus, questions_file, DEFAULT_SOURCES)
    if not questions:
        raise InputError(f"no questions for {corpus}: give --questions FILE (JSONL, one {{\"question\": ...}} per line)")
    questions = questions[: args.limit or SPEED_QUESTIONS]
    job = {"corpus": str(corpus), "questions": questions, "settings": settings.model_dump(mode="json")}
    out = run_folder(args.out, Path("var/bench/runs"), "speed")
    report = run(job, out, say)
    ours = report["rag"]
    print(f"rag bench speed: {corpus}, {len(questions)} questions (+1 warm-up), model {settings.model}, "
          f"{os.cpu_count()} CPU cores")
    print(table(ours, report["langchain"]))
    print(f"rag: {ours['embedder']}, {ours['faiss_index']}, {settings.retrieval} retrieval, top {settings.top_k}. "
          "LangChain recipe: RecursiveCharacterTextSplitter(1000, 200), sentence-transformers MiniLM (torch), "
          f"LangChain's FAISS, tutorial prompt, top {settings.top_k}. Same GGUF, threads and context size.")
    say(f"wrote {out}/report.json")
    return 0
