"""RealTime QA (Kasai et al., NeurIPS 2023): corpus, questions and the benchmark's own scoring.

Any set of weekly files in the benchmark's format works: `questions_qa.jsonl` (or
`questions_qa_nota.jsonl`), `search_results/<week>_gcs.jsonl.gz`, optionally
`gold_articles/<week>_gold.jsonl`.
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


def weeks_in(data_dir: Path) -> list[str]:
    """Every week that has search results in `data_dir`."""
    return sorted(p.name.split("_")[0] for p in (data_dir / "search_results").glob("*_gcs.jsonl.gz"))


def questions_file(data_dir: Path, mode: str) -> Path:
    """The benchmark's question file for `mode`: the "none of the above" variant for nota."""
    return data_dir / ("questions_qa_nota.jsonl" if mode == "nota" else "questions_qa.jsonl")


def load_questions(data_dir: Path, weeks: list[str], mode: str) -> list[RTQuestion]:
    """Questions of the chosen weeks; `nota` reads the None-of-the-above variant."""
    path = questions_file(data_dir, mode)
    if not path.exists():
        raise InputError(f"no {path.name} in {data_dir}")
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        week = row["question_id"].split("_")[0]
        if week in weeks:
            questions.append(RTQuestion(row["question_id"], week, row["question_date"], row["question_sentence"],
                                        tuple(row["choices"]), int(row["answer"][0])))
    return questions


def _page_text(page: dict) -> str:
    date = (page.get("publish_date") or "").replace("/", "-")[:10]
    header = [page.get("title") or ""] + ([f"Published {date}"] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else [])
    return "\n".join(h for h in header if h) + "\n\n" + (page.get("text") or "")


def write_corpus(data_dir: Path, weeks: list[str], target: Path, with_gold_articles: bool = False) -> int:
    """One article file per unique url of the chosen weeks (ids are url hashes); returns the count.

    Files that already hold the same text are left alone, so re-running costs nothing."""
    target.mkdir(parents=True, exist_ok=True)
    sources = [data_dir / "search_results" / f"{w}_gcs.jsonl.gz" for w in weeks]
    if with_gold_articles:
        sources += [data_dir / "gold_articles" / f"{w}_gold.jsonl" for w in weeks]
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
    """The benchmark leaves out of generation scoring questions ending in "except"."""
    return "except" in question.question[-10:].lower()


def parse_choice(reply: str, n_choices: int) -> int | None:
    """The 0-based choice a reply names ("2", "Choice 2", "(2) Squid Game"), or None."""
    for match in re.finditer(r"\d+", reply):
        number = int(match.group())
        if 1 <= number <= n_choices:
            return number - 1
    return None
