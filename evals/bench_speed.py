"""`rag bench speed`: our pipeline and LangChain's tutorial recipe, timed in one run on one corpus.

Each pipeline runs in a fresh process (`rag.evals.speed_worker`), one after the other, so neither
competes with the other for the 2 cores and each one's peak memory is its own. Figures:
index build time and passages/s (from scratch, embedder load included), peak memory,
retrieval time per query, time to first token and total answer time (p50 / p95). Then, on the
index rag built, `rag search` and `rag ask` each run COLD_RUNS times as new processes, as a user
types them: wall time (p50) and peak resident memory, the start-up a user waits through.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rag.errors import RagError

PIPELINES = ("rag", "langchain")
SPEED_QUESTIONS = 20  # questions per run unless --limit says otherwise: a fixed sample, the first 20
COLD_RUNS = 3  # new processes per command; the first one also warms the page cache, hence the median


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(result: dict) -> dict:
    """The figures of one pipeline, from its worker's raw result."""
    rows = result["questions"]
    asked = [r for r in rows if r["first_token_ms"] > 0]  # the model was called (not an early abstention)
    return {
        "passages": result["passages"],
        "build_s": result["build_s"],
        "passages_per_s": round(result["passages"] / result["build_s"], 1) if result["build_s"] else 0.0,
        "peak_build_mib": result["peak_build_mib"],
        "peak_mib": result["peak_mib"],
        "model_load_s": result["model_load_s"],
        "retrieve_ms": [round(percentile([r["retrieve_ms"] for r in rows], q), 1) for q in (0.5, 0.95)],
        "first_token_s": [round(percentile([r["first_token_ms"] / 1000 for r in asked], q), 2) for q in (0.5, 0.95)],
        "total_s": [round(percentile([r["total_ms"] / 1000 for r in rows], q), 2) for q in (0.5, 0.95)],
        # the claim checks (rag only; the recipe has none), on the answers the model wrote
        "check_ms": [round(percentile([r.get("check_ms", 0.0) for r in asked], q), 1) for q in (0.5, 0.95)]
        if asked else [0.0, 0.0],
        "prompt_tokens_p50": statistics.median([r["prompt_tokens"] for r in asked]) if asked else 0,
        "model_called": len(asked),
        "questions": len(rows),
        "embedder": result["embedder"],
        "faiss_index": result["faiss_index"],
    }


# Runs `rag ARGS` as its child and reports the child's peak RSS. Measured one level down because a process
# started by vfork+exec (what subprocess does) reports at least its parent's peak as its own ru_maxrss:
# from the pytest or bench process that would be that process's memory, from this small wrapper ~10 MB.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call([sys.executable, '-c', 'import sys; from rag.cli import main; sys.exit(main())', *sys.argv[1:]])\n"
    "sys.stderr.write('\\nrag-peak-kib %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def cold_command(args: list[str], env: dict[str, str], cwd: Path, runs: int = COLD_RUNS) -> dict:
    """Wall time p50 (s) and peak resident memory (MiB, the largest run) of `rag ARGS` in new processes."""
    walls, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *args], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - started)
        lines = done.stderr.strip().splitlines()
        if done.returncode != 0:
            said = [line for line in lines if line.strip() and not line.startswith("rag-peak-kib ")]
            raise RagError(f"cold `rag {args[0]}` failed: {said[-1] if said else f'exit {done.returncode}'}")
        peaks.append(int(lines[-1].split()[1]) / 1024)
    return {"wall_s": round(statistics.median(walls), 2), "peak_mib": round(max(peaks), 1), "runs": runs}


def cold_figures(job: dict, index_dir: Path, cwd: Path) -> dict:
    """Cold `rag search` and `rag ask` on the built index, with the job's first question and all its settings."""
    env = {**os.environ, "RAG_INDEX": str(index_dir)}
    for key, value in job["settings"].items():  # so the cold `rag ask` answers exactly as the in-process run did
        if key != "index" and value is not None:
            env[f"RAG_{key.upper()}"] = str(Path(value).resolve()) if key == "models_dir" else str(value)
    question = job["questions"][0]
    return {"search": cold_command(["search", question], env, cwd), "ask": cold_command(["ask", question], env, cwd)}


def speed_questions(corpus: Path, questions_file: Path | None, seeds: Path) -> list[str]:
    """The questions to time: those of `questions_file`, else the seed gold set when `corpus` is the seed folder."""
    from rag.evals.gold import questions_of

    if questions_file is not None:
        return questions_of(questions_file)
    return questions_of(Path("evals/gold.jsonl")) if corpus.resolve() == seeds.resolve() else []


def _ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.2f}x" if ours else "-"


def table(ours: dict, theirs: dict) -> str:
    """The side-by-side table `rag bench speed` prints; ratio = recipe / rag (above 1: rag is faster or smaller),
    except passages/s, where it is rag / recipe."""
    def pair(values: list[float], unit: str) -> str:
        return f"{values[0]:g} / {values[1]:g} {unit}"

    lines = [("", "rag", "LangChain recipe", "ratio"),
             ("passages indexed", str(ours["passages"]), str(theirs["passages"]), ""),
             ("index build (from scratch)", f"{ours['build_s']:g} s", f"{theirs['build_s']:g} s",
              _ratio(theirs["build_s"], ours["build_s"])),
             ("passages/s", f"{ours['passages_per_s']:g}", f"{theirs['passages_per_s']:g}",
              _ratio(ours["passages_per_s"], theirs["passages_per_s"])),
             ("peak memory, building", f"{ours['peak_build_mib']:g} MiB", f"{theirs['peak_build_mib']:g} MiB",
              _ratio(theirs["peak_build_mib"], ours["peak_build_mib"])),
             ("peak memory, whole run", f"{ours['peak_mib']:g} MiB", f"{theirs['peak_mib']:g} MiB",
              _ratio(theirs["peak_mib"], ours["peak_mib"])),
             ("retrieval p50 / p95", pair(ours["retrieve_ms"], "ms"), pair(theirs["retrieve_ms"], "ms"),
              _ratio(theirs["retrieve_ms"][0], ours["retrieve_ms"][0])),
             ("first token p50 / p95", pair(ours["first_token_s"], "s"), pair(theirs["first_token_s"], "s"),
              _ratio(theirs["first_token_s"][0], ours["first_token_s"][0])),
             ("total answer p50 / p95", pair(ours["total_s"], "s"), pair(theirs["total_s"], "s"),
              _ratio(theirs["total_s"][0], ours["total_s"][0])),
             ("answer checks p50 / p95", pair(ours["check_ms"], "ms"), "none", ""),
             *[(f"cold `rag {name}`: wall p50 / peak memory",
                f"{ours['cold'][name]['wall_s']:g} s / {ours['cold'][name]['peak_mib']:g} MiB", "no command", "")
               for name in ("search", "ask") if name in ours.get("cold", {})],
             ("prompt tokens p50", f"{ours['prompt_tokens_p50']:g}", f"{theirs['prompt_tokens_p50']:g}",
              _ratio(theirs["prompt_tokens_p50"], ours["prompt_tokens_p50"])),
             ("model called for", f"{ours['model_called']}/{ours['questions']}",
              f"{theirs['model_called']}/{theirs['questions']}", "")]
    widths = [max(len(row[i]) for row in lines) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines)


def run(job: dict, out_dir: Path, say: Callable[[str], None]) -> dict:
    """Run both pipelines on `job` (corpus, questions, settings) and write `report.json` to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="rag-speed-") as scratch:
        for n, pipeline in enumerate(PIPELINES, start=1):
            say(f"[{n}/{len(PIPELINES)}] {'rag' if pipeline == 'rag' else 'LangChain recipe'}: "
                f"indexing {job['corpus']} from scratch, then {len(job['questions'])} questions")
            work = Path(scratch) / pipeline
            work.mkdir()
            job_file, result_file = work / "job.json", out_dir / f"{pipeline}.json"
            job_file.write_text(json.dumps({**job, "scratch": str(work)}), encoding="utf-8")
            done = subprocess.run([sys.executable, "-m", "rag.evals.speed_worker", pipeline, str(job_file), str(result_file)])
            if done.returncode != 0:
                raise RagError(f"the {pipeline} pipeline failed (exit {done.returncode}); its messages are above")
            figures[pipeline] = summarise(json.loads(result_file.read_text(encoding="utf-8")))
            if pipeline == "rag":
                say(f"rag: `rag search` and `rag ask` as new processes, {COLD_RUNS} runs each")
                figures["rag"]["cold"] = cold_figures(job, work / "index", work)
    report = {"job": {k: v for k, v in job.items() if k != "questions"}, "questions": job["questions"], **figures}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report
