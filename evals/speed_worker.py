"""One pipeline of `rag bench speed`, run in its own process so its peak memory is its own.

    python -m rag.evals.speed_worker rag|langchain JOB.json RESULT.json

JOB names the corpus folder, the questions, a scratch folder and all the command's settings; RESULT gets the
build figures and per-question timings. Both pipelines load the same model once, answer one
unscored warm-up question (so page-ins of the model file are not charged to question 1), then
the questions in order.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _say(message: str) -> None:
    print(f"rag: {message}", file=sys.stderr, flush=True)


def _settings(job: dict):
    """The settings of the `rag bench speed` command that wrote the job."""
    from rag.config import Settings

    return Settings(**job["settings"])


def _model(settings):
    from rag.compose import open_model

    started = time.perf_counter()
    backend = open_model(settings, _say)
    return backend, round(time.perf_counter() - started, 2)


def run_rag(job: dict) -> dict:
    """Our path: index the corpus from scratch, then answer through the assistant `rag ask` builds."""
    from rag import store
    from rag.compose import build_assistant, build_embedder, open_retriever
    from rag.index.build import build_index

    settings = _settings(job)
    index_dir = Path(job["scratch"]) / "index"
    started = time.perf_counter()
    embedder = build_embedder(settings, index_dir, [Path(job["corpus"])], say=_say)  # as `rag index` would choose
    load_s = time.perf_counter() - started
    report = build_index(index_dir, [Path(job["corpus"])], embedder, say=_say, progress=True)
    built = {"build_s": round(load_s + report.seconds, 2), "embedder_load_s": round(load_s, 2),
             "passages": report.chunks, "embedder": embedder.model_id, "peak_build_mib": peak_mib()}
    loaded = store.load(index_dir)
    built["faiss_index"] = loaded.manifest.faiss_index
    retriever = open_retriever(settings, loaded, embedder)
    backend, model_load_s = _model(settings)
    assistant = build_assistant(settings, retriever=retriever, backend=backend)
    return {**built, "model_load_s": model_load_s, **_answer_all(assistant.answer, job["questions"])}


def run_langchain(job: dict) -> dict:
    """LangChain's tutorial recipe (rag.evals.baseline_langchain) with sentence-transformers' torch MiniLM."""
    from rag.embedders.minilm import MiniLMEmbedder
    from rag.evals.baseline_langchain import LangChainRecipe
    from rag.index.sources import read_articles

    settings = _settings(job)
    started = time.perf_counter()  # like rag's build: reading the articles and loading the embedder count
    articles = read_articles([Path(job["corpus"])])
    load_started = time.perf_counter()
    embedder = MiniLMEmbedder()  # what LangChain's HuggingFaceEmbeddings runs: SentenceTransformer.encode, fp32
    load_s = time.perf_counter() - load_started
    _say(f"LangChain recipe: splitting and embedding {len(articles)} articles")
    recipe = LangChainRecipe(articles, embedder, None, k=settings.top_k)  # the model loads after, as in run_rag
    built = {"build_s": round(time.perf_counter() - started, 2), "embedder_load_s": round(load_s, 2),
             "passages": recipe.store.index.ntotal, "embedder": "sentence-transformers (torch fp32)",
             "faiss_index": type(recipe.store.index).__name__, "peak_build_mib": peak_mib()}
    recipe.backend, model_load_s = _model(settings)
    return {**built, "model_load_s": model_load_s, **_answer_all(recipe.answer, job["questions"])}


def _answer_all(answer, questions: list[str]) -> dict:
    answer(questions[0])  # warm-up, unscored
    rows = []
    for i, question in enumerate(questions, start=1):
        result = answer(question)
        t = result.timings
        rows.append({"question": question, "retrieve_ms": t["retrieve"], "first_token_ms": t.get("first_token", 0.0),
                     "total_ms": t["total"], "check_ms": t.get("check", 0.0), "abstained": result.abstained,
                     "prompt_tokens": result.usage.get("prompt_tokens", 0)})
        _say(f"[{i}/{len(questions)}] {t['total'] / 1000:.1f} s  {question[:70]}")
    return {"questions": rows, "peak_mib": peak_mib()}


def main(argv: list[str]) -> int:
    """Run one pipeline described by a job file and write its result file."""
    pipeline, job_file, result_file = argv
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    result = (run_rag if pipeline == "rag" else run_langchain)(job)
    Path(result_file).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
