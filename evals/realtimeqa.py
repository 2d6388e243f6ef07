"""RealTime QA (Kasai et al., NeurIPS 2023): corpus, questions, the benchmark's own scoring and its baselines.

Any set of weeks in either of two layouts works (`data_layout`): the development split's folder
(`questions_qa.jsonl`, `questions_qa_nota.jsonl`, `search_results/<week>_gcs.jsonl.gz`, optionally
`gold_articles/<week>_gold.jsonl`), or a clone of realtimeqa/realtimeqa_public (`past/<year>/<week>_qa.jsonl`,
`<week>_qa_nota.jsonl`, `<week>_gcs.jsonl`, `<week>_gold.jsonl`). The authors' prediction files, where the folder
holds them (`baseline_results/<year>/<week>_qa[_nota]_<system>[_gen].jsonl` upstream), are scored on exactly the
questions run (`baselines_for`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError

# The authors' prediction files on the development split, scored with the benchmark's rules.
PUBLISHED = {
    "GPT-3 + Google search top-5": {"mc": 0.714, "nota": 0.625, "gen_em": 0.311, "gen_f1": 0.431},
    "RAG (facebook/rag-sequence-nq) + Google search": {"mc": 0.528, "nota": 0.428, "gen_em": 0.255, "gen_f1": 0.307},
    "GPT-3 + DPR over Wikipedia": {"mc": 0.480, "nota": 0.361, "gen_em": 0.116, "gen_f1": 0.186},
    "GPT-3, no retrieval": {"mc": 0.424, "nota": 0.342, "gen_em": 0.109, "gen_f1": 0.189},
}


@dataclass(frozen=True)
class RTQuestion:
    """One quiz question with its choices and the index of the right one."""

    id: str
    week: str
    date: str
    question: str
    choices: tuple[str, ...]
    answer: int

    @property
    def gold_text(self) -> str:
        """The text of the right choice (the generation target)."""
        return self.choices[self.answer]


# The two layouts a --data folder may have. "folder": the development split's (one question file for all weeks,
# search results gzipped in their own folder). "upstream": a clone of realtimeqa/realtimeqa_public, where each
# week's files sit together in past/<year>/ and are not gzipped. A week is an 8-digit date: the clone's other
# files (20220617-20220624_qa.jsonl unions, 20220624_cnn_gcs.jsonl subsets, pm_qa.jsonl, the answerless
# latest/*_public.jsonl) are not weeks and are left alone.
_SEARCH = re.compile(r"(\d{8})_gcs\.jsonl(?:\.gz)?")
FOLDER_LAYOUT = "search_results/<week>_gcs.jsonl.gz beside questions_qa.jsonl (the development split's layout)"
UPSTREAM_LAYOUT = "past/<year>/<week>_gcs.jsonl beside <week>_qa.jsonl (a clone of realtimeqa/realtimeqa_public)"


@dataclass(frozen=True)
class WeekFiles:
    """Where one week's files are; `nota` and `gold` may not exist (upstream, not every week has gold articles)."""

    week: str
    search: Path
    questions: Path  # questions_qa.jsonl (every week's) or <week>_qa.jsonl
    nota: Path  # the None-of-the-above variant
    gold: Path


@dataclass(frozen=True)
class DataLayout:
    """What a --data folder holds: its layout and its weeks, in date order."""

    kind: str  # "folder" or "upstream"
    root: Path
    weeks: tuple[WeekFiles, ...]

    @property
    def where(self) -> str:
        """Where this layout keeps search results, for messages."""
        return f"{self.root}/search_results" if self.kind == "folder" else f"{self.root}/past/<year>"

    def week(self, week: str) -> WeekFiles:
        """The files of `week`; a week the folder lacks is an InputError."""
        for files in self.weeks:
            if files.week == week:
                return files
        raise InputError(f"no search results for week(s) {week} in {self.where}")


def _upstream_weeks(root: Path) -> list[WeekFiles]:
    weeks = []
    for search in sorted((root / "past").glob("*/*_gcs.jsonl*"), key=lambda p: p.name):
        match, folder = _SEARCH.fullmatch(search.name), search.parent
        # a week is a quiz with its search results: past/2022/20220613 has search results and a nota file only
        if match and (folder / f"{match[1]}_qa.jsonl").exists():
            w = match[1]
            weeks.append(WeekFiles(w, search, folder / f"{w}_qa.jsonl", folder / f"{w}_qa_nota.jsonl",
                                   folder / f"{w}_gold.jsonl"))
    return weeks


def data_layout(data_dir: Path) -> DataLayout:
    """The layout of `data_dir`, detected from what is there: the folder layout when search_results/ holds weeks,
    else the upstream one when past/<year>/ does; neither is an InputError that names what was looked for."""
    folder = data_dir / "search_results"
    if folder.is_dir():
        found = sorted((m[1], p) for p in folder.iterdir() if (m := _SEARCH.fullmatch(p.name)))
        if found:
            return DataLayout("folder", data_dir, tuple(
                WeekFiles(w, p, data_dir / "questions_qa.jsonl", data_dir / "questions_qa_nota.jsonl",
                          data_dir / "gold_articles" / f"{w}_gold.jsonl") for w, p in found))
    upstream = _upstream_weeks(data_dir)
    if upstream:
        return DataLayout("upstream", data_dir, tuple(upstream))
    raise InputError(f"no RealTime QA weeks in {data_dir}: looked for {FOLDER_LAYOUT}, and for {UPSTREAM_LAYOUT}")


def weeks_in(data_dir: Path) -> list[str]:
    """Every week of `data_dir`: one with search results (and, upstream, its questions)."""
    return [w.week for w in data_layout(data_dir).weeks]


def question_files(data_dir: Path, weeks: list[str], mode: str) -> list[Path]:
    """The files the chosen weeks' questions are read from: one in the folder layout, one a week upstream."""
    layout = data_layout(data_dir)
    return list(dict.fromkeys(layout.week(w).nota if mode == "nota" else layout.week(w).questions for w in weeks))


def _question(row: dict, path: Path) -> RTQuestion:
    if not row.get("answer"):
        raise InputError(f"question {row.get('question_id')} in {path} has no answer, so it cannot be scored")
    return RTQuestion(row["question_id"], row["question_id"].split("_")[0], row["question_date"],
                      row["question_sentence"], tuple(row["choices"]), int(row["answer"][0]))


def load_questions(data_dir: Path, weeks: list[str], mode: str) -> list[RTQuestion]:
    """Questions of the chosen weeks, in file order; `nota` reads the None-of-the-above variant."""
    questions = []
    for path in question_files(data_dir, weeks, mode):
        if not path.exists():
            raise InputError(f"no {path.name} in {path.parent}")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                question = _question(json.loads(line), path)
                if question.week in weeks:
                    questions.append(question)
    return questions


def _page_text(page: dict) -> str:
    date = (page.get("publish_date") or "").replace("/", "-")[:10]
    header = [page.get("title") or ""] + ([f"Published {date}"] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else [])
    return "\n".join(h for h in header if h) + "\n\n" + (page.get("text") or "")


def write_corpus(data_dir: Path, weeks: list[str], target: Path, with_gold_articles: bool = False) -> int:
    """One article file per unique url of the chosen weeks (ids are url hashes); returns the count.

    Files that already hold the same text are left alone, so re-running costs nothing."""
    layout = {w.week: w for w in data_layout(data_dir).weeks}
    missing = [w for w in weeks if w not in layout]
    if missing:
        raise InputError(f"missing benchmark files: no search results for week(s) {', '.join(missing)} in {data_dir}")
    target.mkdir(parents=True, exist_ok=True)
    sources = [layout[w].search for w in weeks] + ([layout[w].gold for w in weeks] if with_gold_articles else [])
    seen: set[str] = set()
    for source in sources:
        if not source.exists():
            raise InputError(f"missing benchmark file {source}")
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rt", encoding="utf-8") as f:
            for line in f:
                for page in json.loads(line).get("search_result") or []:
                    url = page.get("url") or ""
                    if not url or url in seen or not (page.get("text") or "").strip():
                        continue
                    seen.add(url)
                    path = target / f"{hashlib.sha1(url.encode()).hexdigest()[:16]}.txt"
                    text = _page_text(page)
                    if not path.exists() or path.read_text(encoding="utf-8") != text:
                        path.write_text(text, encoding="utf-8")
    return len(seen)


def skipped_in_generation(question: RTQuestion) -> bool:
    """The benchmark leaves out of generation scoring questions ending in "except" (its evaluate_main.py: the last
    10 characters of the stripped sentence)."""
    return "except" in question.question.strip()[-10:].lower()


def parse_choice(reply: str, n_choices: int) -> int | None:
    """The 0-based choice a reply names ("2", "Choice 2", "(2) Squid Game"), or None."""
    for match in re.finditer(r"\d+", reply):
        number = int(match.group())
        if 1 <= number <= n_choices:
            return number - 1
    return None


# The development split (/work/shared/benchmarks/realtimeqa's README): PUBLISHED holds its figures, so they are
# the right baselines only for exactly its questions.
DEV_SPLIT_WEEKS = ("20220617", "20220624", "20220701", "20220708", "20220715", "20220722", "20220729", "20220805",
                   "20220812")
DEV_SPLIT_QUESTIONS = 269

# The authors' systems, by the tag of their prediction files, named as in PUBLISHED (shown first, in its order);
# other tags (closed_t5, open_rag_dpr, 2026's API models) are shown as they are.
BASELINE_SYSTEMS = {"open_gpt3_gcs": "GPT-3 + Google search top-5",
                    "open_rag_gcs": "RAG (facebook/rag-sequence-nq) + Google search",
                    "open_gpt3_dpr": "GPT-3 + DPR over Wikipedia",
                    "closed_gpt3": "GPT-3, no retrieval"}
# baseline_results/<year>/<week>_qa_<tag>.jsonl (mc), <week>_qa_nota_<tag>.jsonl, <week>_qa_<tag>_gen.jsonl
_PREDICTIONS = re.compile(r"(\d{8})_qa_(?:(nota)_)?(.+?)(_gen)?\.jsonl")
_FIGURES = {"gen": ("gen_em", "gen_f1"), "mc": ("mc",), "nota": ("nota",)}


@dataclass(frozen=True)
class Baselines:
    """The baseline figures that belong beside one run, and where they come from."""

    source: str  # "computed" (the authors' prediction files), "published" (PUBLISHED) or "none"
    note: str  # one line saying so, for the bench output
    figures: dict[str, dict[str, float]]  # system -> {"mc" | "nota" | "gen_em" | "gen_f1": value}
    left_out: tuple[str, ...] = ()  # systems whose files lack some of the questions run


def baseline_predictions(data_dir: Path, weeks: list[str], mode: str) -> dict[str, dict[str, object]]:
    """tag -> {question_id: prediction} from the authors' files of the chosen weeks for `mode`, if any."""
    root = data_dir / "baseline_results"
    predictions: dict[str, dict[str, object]] = {}
    if not root.is_dir():
        return predictions
    chosen = set(weeks)
    for path in sorted(root.rglob("*.jsonl")):
        match = _PREDICTIONS.fullmatch(path.name)
        if not match or match[1] not in chosen or (match[2] == "nota") != (mode == "nota") \
                or bool(match[4]) != (mode == "gen"):
            continue
        found = predictions.setdefault(match[3], {})
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found[row["question_id"]] = row.get("prediction")
    return predictions


def _indices(prediction: object) -> list[str]:
    return [str(i) for i in prediction] if isinstance(prediction, list) else [str(prediction)]


def score_predictions(predictions: dict[str, object], questions: list[RTQuestion], mode: str) -> dict[str, float] | None:
    """A system's figures on `questions` under the benchmark's rules, or None when it has no prediction for one
    of those it is scored on (generation skips the "except" questions, as for our own answers)."""
    from rag.evals.metrics import exact_match, realtimeqa_normalise, token_f1

    scored = [q for q in questions if mode != "gen" or not skipped_in_generation(q)]
    if not scored or any(q.id not in predictions for q in scored):
        return None
    n = len(scored)
    if mode == "gen":
        texts = [(str(predictions[q.id] or ""), (q.gold_text,)) for q in scored]
        return {"gen_em": round(sum(exact_match(t, g, realtimeqa_normalise) for t, g in texts) / n, 3),
                "gen_f1": round(sum(token_f1(t, g, realtimeqa_normalise) for t, g in texts) / n, 3)}
    # the official rule: the predicted index list equals the gold one
    return {mode: round(sum(_indices(predictions[q.id]) == [str(q.answer)] for q in scored) / n, 3)}


def _weeks_text(weeks: list[str]) -> str:
    ordered = sorted(weeks)
    return ", ".join(ordered) if len(ordered) <= 3 else f"{ordered[0]}..{ordered[-1]} ({len(ordered)} weeks)"


def baselines_for(data_dir: Path, weeks: list[str], questions: list[RTQuestion], mode: str) -> Baselines:
    """The baselines of exactly the questions run: computed from the authors' prediction files in `data_dir` when it
    holds them for every one of those questions; else PUBLISHED when the run is the whole development split; else
    none, rather than figures for other questions."""
    n = len(questions)
    figures: dict[str, dict[str, float]] = {}
    left_out = []
    predictions = baseline_predictions(data_dir, weeks, mode)
    for tag in sorted(predictions, key=lambda t: (list(BASELINE_SYSTEMS).index(t) if t in BASELINE_SYSTEMS else 99, t)):
        name = BASELINE_SYSTEMS.get(tag, tag)
        found = score_predictions(predictions[tag], questions, mode)
        if found is None:
            left_out.append(f"{name} ({sum(q.id in predictions[tag] for q in questions)} of {n})")
        else:
            figures[name] = found
    if figures:
        return Baselines("computed", f"baselines: the authors' predictions in {data_dir / 'baseline_results'}, scored on "
                         f"the same {n} questions", figures, tuple(left_out))
    if tuple(sorted(weeks)) == DEV_SPLIT_WEEKS and n == DEV_SPLIT_QUESTIONS:
        return Baselines("published", f"published figures, on all {DEV_SPLIT_QUESTIONS} questions of the development "
                         "split", {name: {k: v[k] for k in _FIGURES[mode]} for name, v in PUBLISHED.items()},
                         tuple(left_out))
    asked = sorted({q.week for q in questions})  # the weeks the questions come from: --limit may stop in an early one
    return Baselines("none", f"no baseline figures for these {n} questions (week(s) {_weeks_text(asked)}): the published "
                     f"ones are for all {DEV_SPLIT_QUESTIONS} questions of weeks {DEV_SPLIT_WEEKS[0]}..{DEV_SPLIT_WEEKS[-1]}, "
                     f"and {data_dir} holds no authors' predictions for all of these "
                     "(baseline_results/<year>/<week>_qa_<system>.jsonl in a clone of realtimeqa/realtimeqa_public)",
                     {}, tuple(left_out))
