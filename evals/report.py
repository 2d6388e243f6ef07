"""Eval outputs: predictions.jsonl, report.json and a self-contained report.html."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from rag.evals.metric_table import BY_KEY, METRICS
from rag.evals.runner import RIGHT, Scored, by_category, summary


def _failed(r: Scored) -> bool:
    # a question with nuggets also fails when its answer is not CRAG-right (states under half of them):
    # its one alias list may well occur in an answer that misses the rest
    return not r.correct or (r.nugget_recall is not None and r.truth != RIGHT)


def failures(results: list[Scored]) -> list[dict]:
    """Every question scored wrong, with what was expected and what came back (and, with nuggets, which are missing)."""
    rows = []
    for r in results:
        if not _failed(r):
            continue
        p = r.prediction
        row = {"id": r.gold.id, "category": r.gold.category, "question": r.gold.question,
               "expected": list(r.gold.answers) if r.gold.answerable else "Not in the documents.",
               "answer": p["answer"], "draft": p.get("draft", ""), "abstained": p["abstained"],
               "cited": [c["doc_id"] for c in p["citations"]], "evidence": list(r.gold.evidence),
               "why": "; ".join(p.get("warnings", []))}
        if r.gold.nuggets:
            row["missing_nuggets"] = [n.fact for n, found in zip(r.gold.nuggets, r.found, strict=True) if not found]
        rows.append(row)
    return rows


def build_report(results: list[Scored], meta: dict) -> dict:
    """The report.json object: run metadata, metrics, per-category accuracy, failures."""
    return {"meta": meta, "metrics": summary(results), "by_category": by_category(results), "failures": failures(results)}


def write_run(out_dir: Path, results: list[Scored], report: dict) -> None:
    """Write the three files of a run into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "predictions.jsonl").open("w", encoding="utf-8") as f:
        for r in results:
            row = {"id": r.gold.id, **r.prediction, "score": {"correct": r.correct, "cited_evidence": r.cited_evidence,
                                                               "exact": r.exact, "f1": round(r.f1, 3),
                                                               "nugget_recall": r.nugget_recall, "truth": r.truth}}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(results, report), encoding="utf-8")


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def plots(results: list[Scored], report: dict) -> dict[str, str]:
    """Accuracy by category, latency distribution, retrieval hit@k curve, as base64 PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = {}
    categories = report["by_category"]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.barh(list(categories), [c["accuracy"] or 0 for c in categories.values()], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy")
    ax.set_title("Accuracy by category")
    images["Accuracy by category"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist([r.prediction["timings_ms"]["total"] / 1000 for r in results], bins=20, color="#55a868", label="total")
    firsts = [r.prediction["timings_ms"]["first_token"] / 1000 for r in results if r.prediction["timings_ms"]["first_token"]]
    ax.hist(firsts, bins=20, color="#c44e52", alpha=0.6, label="first token")
    ax.set_xlabel("seconds")
    ax.legend()
    ax.set_title("Latency per question")
    images["Latency distribution"] = _png(fig)
    plt.close(fig)

    hits = report["metrics"]["hit_at_k"]
    fig, ax = plt.subplots(figsize=(7, 3))
    ks = [int(k) for k in hits]
    ax.plot(ks, [v or 0 for v in hits.values()], marker="o")
    ax.set_xticks(ks)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k (evidence article)")
    ax.set_title("Retrieval hit@k")
    images["Retrieval hit@k"] = _png(fig)
    plt.close(fig)
    return images


def _header(*names: str) -> str:
    return "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"


def render_html(results: list[Scored], report: dict) -> str:
    """A single-file report. Every text from articles, questions or the model is escaped."""
    e = html.escape
    rows = "".join(f"<tr><td>{e(m.key)}</td><td>{e(str(report['metrics'].get(m.key)))}</td><td>{e(m.meaning)}</td></tr>"
                   for m in METRICS)
    rows += "".join(f"<tr><td>{e(k)}</td><td>{e(str(v))}</td><td></td></tr>" for k, v in report["metrics"].items()
                    if k not in BY_KEY and not isinstance(v, dict))
    nested = "".join(f"<tr><td>{e(k)}</td><td>{e(json.dumps(v))}</td><td></td></tr>"
                     for k, v in report["metrics"].items() if isinstance(v, dict))
    images = "".join(f"<figure><img alt='{e(name)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{e(name)}</figcaption></figure>" for name, data in plots(results, report).items())
    categories = "".join(f"<tr><td>{e(name)}</td><td>{c['questions']}</td><td>{c['accuracy']}</td>"
                         f"<td>{c.get('nugget_recall')}</td><td>{c.get('truthfulness')}</td></tr>"
                         for name, c in report["by_category"].items())
    fails = "".join(
        f"<tr><td>{e(f['id'])}</td><td>{e(f['category'])}</td><td>{e(f['question'])}</td>"
        f"<td>{e(json.dumps(f['expected'], ensure_ascii=False))}</td><td>{e(f['answer'])}</td>"
        f"<td>{e(f['draft'])}</td><td>{e(f['why'])}</td>"
        f"<td>{'<br>'.join(e(n) for n in f.get('missing_nuggets', []))}</td></tr>" for f in report["failures"])
    meta = e(json.dumps(report["meta"], indent=2, ensure_ascii=False))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>rag eval report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}}
figure{{display:inline-block;margin:0 1em 1em 0}}</style>
</head><body><h1>rag eval report</h1>
<h2>Metrics</h2><table>{_header("metric", "value", "meaning")}{rows}{nested}</table>
<h2>By category</h2>
<table>{_header("category", "questions", "accuracy", "nugget recall", "truthfulness")}{categories}</table>
<h2>Plots</h2>{images}
<h2>Failures ({len(report['failures'])})</h2>
<table>{_header("id", "category", "question", "expected", "answer", "draft", "why", "missing nuggets")}{fails}</table>
<h2>Run</h2><pre>{meta}</pre></body></html>
"""
