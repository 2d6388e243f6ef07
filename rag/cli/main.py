"""`rag`'s argument parser and `main`: parse, read the settings once, run the command, turn errors into exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import get_args

from rag import __version__
from rag.backends.registry import known_specs
from rag.cli.asking import cmd_ask, cmd_chat, cmd_search
from rag.cli.indexing import cmd_index, cmd_status
from rag.cli.measuring import cmd_bench, cmd_eval
from rag.cli.serving import cmd_serve, cmd_ui
from rag.config import DEFAULTS, AnswerStyle, EmbedderChoice, Weights, load_settings
from rag.errors import InputError, RagError
from rag.evals.bench_speed import SPEED_QUESTIONS
from rag.evals.metric_table import THRESHOLDS


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _retrieval_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retrieval", choices=["dense", "hybrid"],
                   help="dense (default) or hybrid: BM25 + dense fused by reciprocal rank (env RAG_RETRIEVAL)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="search only articles published on or after this day "
                   "(undated ones are left out; env RAG_SINCE)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="search only articles published on or before this day "
                   "(env RAG_UNTIL)")
    p.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD",
                   help="answer as a reader on that day would: later articles are invisible (the same as --until)")
    p.add_argument("--recency", type=float, metavar="W",
                   help="questions about the present (latest, current, this week) rank by similarity + W x freshness, "
                        f"halving every {DEFAULTS.recency_half_life:g} days (default {DEFAULTS.recency}; 0 turns it off; "
                        "env RAG_RECENCY)")


def _model_flags(p: argparse.ArgumentParser) -> None:
    _retrieval_flag(p)
    p.add_argument("--answer-style", dest="answer_style", choices=get_args(AnswerStyle),
                   help="short extractions or cited sentences; auto (default) picks per model (env RAG_ANSWER_STYLE)")
    p.add_argument("--quote", action=argparse.BooleanOptionalAction, default=None,
                   help="give a sentence answer in the articles' own sentences (default: for local models; env RAG_QUOTE)")
    p.add_argument("--model", help=f"model spec: {known_specs()} (default {DEFAULTS.model}; env RAG_MODEL)")
    p.add_argument("--weights", choices=get_args(Weights),
                   help="packaged local models: weight matrices re-encoded once for faster prompt reading, or as "
                        f"shipped; auto picks per model (default {DEFAULTS.weights}; env RAG_WEIGHTS)")
    p.add_argument("--base-url", dest="base_url", metavar="URL",
                   help="API models: the server's base URL, e.g. http://127.0.0.1:8080/v1 "
                        "(default: OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the provider)")


def _listen_flags(p: argparse.ArgumentParser, port: int, port_note: str) -> None:
    """--host, --port and -k, shared by the two servers."""
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other than loopback needs RAG_SERVE_TOKEN)")
    p.add_argument("--port", type=int, default=port, help=f"port (default {port}{port_note})")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help=f"passages shown to the model (default {DEFAULTS.top_k})")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can inspect it)."""
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of news articles; answers cite their passages.")
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", help=f"index folder (default {DEFAULTS.index}; env RAG_INDEX)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index article files (.txt .md .html .pdf, JSONL/JSON/CSV dumps, "
                       "RSS/Atom feeds) or re-sync the recorded folders")
    p.add_argument("paths", nargs="*", help="files, folders or http(s) URLs to add (a URL is fetched once into the "
                   "index's pages/ folder); default: the recorded folders, else seeds/")
    p.add_argument("--field", action="append", default=[], metavar="ROLE=NAME",
                   help="dumps: the field that holds a role (text, title, date, url, id) when it has another name, "
                        "e.g. --field text=story; recorded in the index for later re-syncs")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of only what changed")
    p.add_argument("--embedder", choices=get_args(EmbedderChoice),
                   help="MiniLM for a new index or --rebuild: auto = int8 ONNX for 2 MB of articles or more "
                   "on a CPU with VNNI, else the exact fp32 one")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="read, chunk and embed on Ray: auto (the default) = RAY_ADDRESS, else a local Ray of this "
                   "machine's cores; local; or a cluster's HOST:PORT or ray://HOST:PORT")
    p.add_argument("--store", metavar="faiss|milvus[:URI]",
                   help="where the vectors go: faiss files in the index folder (default for a new index), or Milvus: "
                        "`milvus` for Milvus Lite in the index folder, milvus:http://HOST:19530 for a server "
                        "(MILVUS_TOKEN from the environment), milvus:PATH.db; later builds keep the index's store")
    p.add_argument("--ray-workers", type=int, metavar="N",
                   help="with --ray: embedding workers, one CPU each (default: one per CPU of the cluster)")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", parents=[common], help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help=f"passages shown to the model (default {DEFAULTS.top_k})")
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
    for flag in THRESHOLDS:
        p.add_argument(f"--{flag.replace('_', '-')}", type=float, metavar="X", help="exit 1 when missed")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="benchmarks: realtimeqa (answer quality), speed, scale (FAISS "
                       "index types as the corpus grows)")
    p.add_argument("benchmark", choices=["realtimeqa", "speed", "scale"])
    p.add_argument("--corpus", help="speed: a folder of articles, or `realtimeqa` for its search results "
                   "(default: seeds/)")
    p.add_argument("--questions", help="speed: JSONL with a question per line (default: evals/gold.jsonl for "
                   "seeds/, the benchmark's questions for realtimeqa)")
    p.add_argument("--data", help="realtimeqa: the benchmark's folder (questions_qa.jsonl, search_results/) or a clone "
                   "of realtimeqa/realtimeqa_public (past/<year>/; its baseline_results/ are scored on the same "
                   "questions); not shipped with rag")
    p.add_argument("--weeks", nargs="+", metavar="YYYYMMDD", help="weeks to use (default: every week in --data)")
    p.add_argument("--mode", choices=["gen", "mc", "nota"], default="gen")
    p.add_argument("--with-gold-articles", action="store_true", help="add the source articles (an easier setting)")
    p.add_argument("--as-of-question-date", dest="as_of_question_date", action="store_true",
                   help="realtimeqa: answer each question from the pages published by its date only")
    p.add_argument("--query", choices=["question", "choices"], default="question",
                   help="realtimeqa mc/nota scored by log-likelihood: retrieve with the question alone (default) or "
                   "with the question and its options")
    p.add_argument("--limit", type=_positive, help=f"only the first N questions (speed: default {SPEED_QUESTIONS})")
    p.add_argument("--embedder", choices=get_args(EmbedderChoice),
                   help="MiniLM for rag's index (auto: int8 ONNX for large corpora on VNNI CPUs)")
    _model_flags(p)
    p.add_argument("--sizes", type=_positive, nargs="+", metavar="N", default=[200_000, 500_000, 1_000_000, 2_000_000],
                   help="scale: corpus sizes in passages (real RealTime QA vectors, then noisy copies of them)")
    p.add_argument("--kinds", nargs="+", choices=["flat", "hnsw", "ivfpq", "milvus"], default=["flat", "hnsw", "ivfpq"],
                   help="scale: index types to build at each size")
    p.add_argument("--resync", type=_positive, nargs="+", metavar="N",
                   help="scale: instead, time `rag index` on JSONL dumps of N one-passage articles in all (files of "
                        "10,000 rows): the first build, an unchanged re-sync, one article added; vectors come from a "
                        "hash of each text instead of the model")
    p.add_argument("--store", metavar="faiss|milvus[:URI]",
                   help="scale --resync: where the re-synced index keeps its vectors (default faiss)")
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
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help=f"passages shown to the model (default {DEFAULTS.top_k})")
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
        flags = {k: getattr(args, k, None) for k in
                 ("index", "model", "top_k", "base_url", "retrieval", "embedder", "answer_style", "quote", "since", "until",
                  "recency", "weights")}
        as_of = getattr(args, "as_of", None)
        if as_of is not None:
            if flags["until"] is not None and flags["until"] != as_of:
                raise InputError(f"--as-of {as_of} and --until {flags['until']} disagree: give one of them")
            flags["until"] = as_of
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

