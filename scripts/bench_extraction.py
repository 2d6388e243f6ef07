"""How well `rag index` reads saved web pages: main-text precision, recall and F1 on trafilatura's own
evaluation set, scored the way trafilatura scores it, beside plain `trafilatura.extract` in the same run;
with --dates, publication dates on htmldate's evaluation set, beside htmldate alone.

    .venv/bin/python scripts/bench_extraction.py --data DIR [--dates DIR]

DIR is trafilatura's `tests/` folder (evaldata.json, eval/, cache/), from a clone of
github.com/adbar/trafilatura; rag does not ship those pages. Each page has text segments that belong to
its main text ("with") and boilerplate segments that do not ("without"): a "with" segment found in the
extracted text is a true positive, a "without" segment found is a false positive (whitespace folded).
A page rag refuses (no main text) scores as an empty extraction.

--dates DIR is htmldate's `tests/` folder (eval_mediacloud_2020.json, eval_default.json, test_set/, cache/,
eval/), from a clone of github.com/adbar/htmldate, scored as htmldate's comparison.py scores it: a right
day is a true positive, a wrong one a false positive, none a false negative.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from functools import partial
from pathlib import Path


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _counts(item: dict, text: str | None) -> tuple[int, int, int, int]:
    found = _norm(text) if text else ""
    tp = sum(1 for w in item["with"] if _norm(w) in found) if text else 0
    fp = sum(1 for w in item["without"] if _norm(w) in found) if text else 0
    return tp, fp, len(item["with"]) - tp, len(item["without"]) - fp


def _scores(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {"precision": round(precision, 3), "recall": round(recall, 3),
            "accuracy": round((tp + tn) / (tp + fp + fn + tn), 3), "f1": round(2 * precision * recall / (precision + recall), 3)}


def _rag(data: bytes) -> str | None:
    from rag.index.readers import NotAnArticle
    from rag.index.readers.html import read

    try:
        return read(data).text
    except NotAnArticle:
        return None


def _rag_date(data: bytes) -> str | None:
    from rag.index.readers import NotAnArticle
    from rag.index.readers.html import read

    try:
        return read(data).published
    except NotAnArticle:
        return None


def dates(folder: Path) -> None:
    """Print the date table for htmldate's evaluation pages."""
    import htmldate

    gold = {}
    for name in ("eval_mediacloud_2020.json", "eval_default.json"):
        gold |= json.loads((folder / name).read_text(encoding="utf-8"))
    pages = {}
    for item in gold.values():
        path = next((folder / d / item["file"] for d in ("test_set", "cache", "eval") if (folder / d / item["file"]).is_file()),
                    None)
        if path is not None:
            pages[item["file"]] = path.read_bytes()
    runners = {"rag index (htmldate fast, trafilatura, the text)": _rag_date,
               "htmldate fast (extensive_search=False)": partial(htmldate.find_date, original_date=True,
                                                                 extensive_search=False),
               "htmldate extensive (what rag turns off)": partial(htmldate.find_date, original_date=True,
                                                                  extensive_search=True)}
    print(f"\n{len(pages)} of {len(gold)} pages with a known publication date")
    print(f"{'date from':48} {'precision':>9} {'recall':>7} {'accuracy':>8} {'F1':>6} {'s/page':>7}")
    for name, run in runners.items():
        tp = fp = fn = tn = 0
        started = time.perf_counter()
        for item in gold.values():
            data = pages.get(item["file"])
            found = run(data) if data is not None else None
            if found is None:
                fn += 1
                tn += item["date"] is None
            elif found == item["date"]:
                tp += 1
            else:
                fp += 1
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        per_page = (time.perf_counter() - started) / max(1, len(pages))
        print(f"{name:48} {precision:>9.3f} {recall:>7.3f} {(tp + tn) / (tp + tn + fp + fn):>8.3f} "
              f"{2 * tp / (2 * tp + fp + fn):>6.3f} {per_page:>7.3f}")


def main() -> int:
    """Print the table; exit 2 when the data folder is not trafilatura's tests/ folder."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="trafilatura's tests/ folder")
    parser.add_argument("--dates", type=Path, help="htmldate's tests/ folder")
    args = parser.parse_args()
    if args.dates and not (args.dates / "eval_default.json").is_file():
        parser.error(f"{args.dates} has no eval_default.json: give htmldate's tests/ folder")
    if not (args.data / "evaldata.json").is_file():
        parser.error(f"{args.data} has no evaldata.json: give trafilatura's tests/ folder")
    import trafilatura

    evaldata = json.loads((args.data / "evaldata.json").read_text(encoding="utf-8"))
    runners = {"rag index (rag.index.readers.html)": _rag,
               "trafilatura.extract, its benchmark's options": partial(
                   trafilatura.extract, fast=False, include_comments=False, include_tables=True,
                   include_formatting=False)}
    pages = {}
    for item in evaldata.values():
        path = next((args.data / d / item["file"] for d in ("cache", "eval") if (args.data / d / item["file"]).is_file()),
                    None)
        if path is not None:
            pages[item["file"]] = path.read_bytes()
    print(f"{len(pages)} of {len(evaldata)} pages found; {sum(len(i['with']) for i in evaldata.values())} text and "
          f"{sum(len(i['without']) for i in evaldata.values())} boilerplate segments")
    print(f"{'extractor':48} {'precision':>9} {'recall':>7} {'accuracy':>8} {'F1':>6} {'refused':>7} {'s/page':>7}")
    for name, run in runners.items():
        totals, refused, started = [0, 0, 0, 0], 0, time.perf_counter()
        for item in evaldata.values():
            data = pages.get(item["file"])
            text = run(data) if data is not None else None
            refused += text is None
            totals = [a + b for a, b in zip(totals, _counts(item, text), strict=True)]
        s = _scores(*totals)
        per_page = (time.perf_counter() - started) / max(1, len(pages))
        print(f"{name:48} {s['precision']:>9} {s['recall']:>7} {s['accuracy']:>8} {s['f1']:>6} {refused:>7} "
              f"{per_page:>7.3f}")
    if args.dates:
        dates(args.dates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
