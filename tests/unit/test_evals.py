import json

import pytest

from rag.errors import InputError
from rag.evals.compare import compare
from rag.evals.gold import GoldQuestion, load_gold
from rag.evals.metric_table import threshold_failures
from rag.evals.metrics import alias_in, exact_match, normalise, token_f1
from rag.evals.report import build_report, write_run
from rag.evals.runner import percentile, score, summary


def test_normalise_and_alias_matching():
    assert normalise("The price hit US$5,600 [1].") == "price hit us 5600"
    assert alias_in("Gold hit US$5,600 an ounce [2].", ("5,600",))
    assert alias_in("Tesla cut 10% of jobs", ("10%",))
    assert not alias_in("Tesla sold 100 cars", ("10",))  # word boundaries, not substrings
    assert not alias_in("", ("Shanghai",))
    assert alias_in("They met in Shanghai.", ("", "shanghai"))


def test_exact_match_and_token_f1():
    assert exact_match("Li Qiang [1].", ("li qiang",)) == 1.0
    assert exact_match("Premier Li Qiang", ("Li Qiang",)) == 0.0
    assert token_f1("Premier Li Qiang", ("Li Qiang",)) == pytest.approx(0.8)
    assert token_f1("Beijing", ("Li Qiang", "Shanghai")) == 0.0


def test_gold_files_ignore_unknown_fields_and_name_bad_lines(tmp_path):
    good = tmp_path / "gold.jsonl"
    good.write_text('{"id": 1, "question": "Q?", "answers": ["a"], "evidence": ["d"], "answerable": true, "extra": 5}\n\n'
                    '{"id": "u", "question": "U?", "answerable": false}\n')
    assert load_gold(good) == [GoldQuestion("1", "Q?", ("a",), ("d",), True, "uncategorised"),
                               GoldQuestion("u", "U?", (), (), False, "uncategorised")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "Q?", "answerable": true}\n{"id": "2", "answerable": true}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: not a gold question \(KeyError: 'question'\)$"):
        load_gold(bad)


def prediction(answer, cited, retrieved, abstained=False, total=1000.0, first=400.0):
    return {"question": "q", "answer": answer, "abstained": abstained, "draft": answer, "warnings": [],
            "citations": [{"marker": i + 1, "doc_id": d, "chunk_id": f"{d}:0", "text": "t", "score": 0.5}
                          for i, d in enumerate(cited)],
            "retrieved": [{"doc_id": d, "chunk_id": f"{d}:0", "score": 0.5} for d in retrieved],
            "model": "m", "timings_ms": {"retrieve": 5.0, "first_token": first, "generate": total - 5, "total": total},
            "usage": {"prompt_tokens": 300, "completion_tokens": 10}}


GOLD = [
    GoldQuestion("a1", "Who?", ("Zeng Yuqun",), ("d4",), True, "name"),
    GoldQuestion("a2", "Where?", ("Shanghai",), ("d1", "d2"), True, "place"),
    GoldQuestion("u1", "CFO?", (), (), False, "unanswerable"),
    GoldQuestion("u2", "Fine?", (), (), False, "unanswerable"),
]
PREDICTIONS = [
    prediction("Zeng Yuqun [1]", ["d4"], ["d4", "d1"], total=2000.0, first=900.0),
    prediction("Shanghai [2][1]", ["d3", "d2"], ["d3", "d2"]),
    prediction("Not in the documents.", [], ["d1", "d2"], abstained=True, total=100.0, first=0.0),
    prediction("Elon Musk [1]", ["d1"], ["d1", "d3"]),
]


def test_summary_metrics_on_a_hand_scored_run():
    results = [score(g, p) for g, p in zip(GOLD, PREDICTIONS, strict=True)]
    m = summary(results)
    assert (m["accuracy"], m["answer_accuracy"], m["citation_accuracy"]) == (0.75, 1.0, 1.0)
    assert (m["citation_precision"], m["abstention_recall"], m["false_abstention_rate"]) == (0.75, 0.5, 0.0)
    assert m["hit_at_k"] == {1: 0.5, 2: 1.0}
    assert m["mrr"] == 0.75
    assert (m["exact_match"], m["token_f1"]) == (1.0, 1.0)
    assert m["latency_ms"] == {"p50": 1000.0, "p95": 1850.0}
    assert m["first_token_ms"]["p50"] == 400.0  # the abstention without a model call is left out
    assert m["tokens"] == {"prompt_mean": 300.0, "completion_mean": 10.0, "prompt_total": 1200, "completion_total": 40}
    assert percentile([], 50) is None


def test_the_metric_table_names_every_headline_figure_of_the_summary_and_every_threshold_flag():
    from rag.cli import build_parser
    from rag.evals.metric_table import METRICS, THRESHOLDS

    m = summary([score(g, p) for g, p in zip(GOLD, PREDICTIONS, strict=True)])
    scalar = {k for k, v in m.items() if not isinstance(v, dict)} - {"answerable", "unanswerable"}
    assert [x.key for x in METRICS] == [k for k in m if k in scalar]  # the same figures, in the summary's order
    assert THRESHOLDS == {"min_accuracy": ("accuracy", ">="), "min_answer_accuracy": ("answer_accuracy", ">="),
                          "min_citation_accuracy": ("citation_accuracy", ">="),
                          "min_abstention_recall": ("abstention_recall", ">="),
                          "max_false_abstention_rate": ("false_abstention_rate", "<=")}
    args = build_parser().parse_args(["eval", "--min-accuracy", "0.7", "--max-false-abstention-rate", "0.2"])
    assert {flag: getattr(args, flag) for flag in THRESHOLDS} == {
        "min_accuracy": 0.7, "min_answer_accuracy": None, "min_citation_accuracy": None, "min_abstention_recall": None,
        "max_false_abstention_rate": 0.2}


def test_thresholds_name_each_miss():
    metrics = {"accuracy": 0.75, "abstention_recall": 0.5, "false_abstention_rate": 0.3}
    assert threshold_failures(metrics, {"min_accuracy": 0.7, "min_abstention_recall": 0.6,
                                        "max_false_abstention_rate": 0.2, "min_citation_accuracy": None}) == [
        "abstention_recall is 0.5, needs >= 0.6 (--min-abstention-recall)",
        "false_abstention_rate is 0.3, needs <= 0.2 (--max-false-abstention-rate)",
    ]


def test_runs_are_written_compared_and_escaped(tmp_path):
    first = [score(g, p) for g, p in zip(GOLD, PREDICTIONS, strict=True)]
    changed = [*PREDICTIONS[:1], prediction("<script>alert(1)</script> Beijing", ["d1"], ["d1"]), *PREDICTIONS[2:3],
               prediction("Not in the documents.", [], ["d1"], abstained=True)]
    second = [score(g, p) for g, p in zip(GOLD, changed, strict=True)]
    write_run(tmp_path / "A", first, build_report(first, {"model": "m"}))
    write_run(tmp_path / "B", second, build_report(second, {"model": "m"}))
    rows = [json.loads(line) for line in (tmp_path / "A" / "predictions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2", "u1", "u2"] and rows[3]["score"]["correct"] is False
    page = (tmp_path / "B" / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Beijing" in page
    assert page.count("data:image/png;base64,") == 3
    text = compare(tmp_path / "A", tmp_path / "B")
    assert "fixed (wrong in A, right in B): 1\n  u2: 'Elon Musk [1]' -> 'Not in the documents.'" in text
    assert "broken (right in A, wrong in B): 1\n  a2: 'Shanghai [2][1]' -> '<script>alert(1)</script> Beijing'" in text
    assert text.splitlines()[1].split() == ["accuracy", "0.75", "0.75"]


def test_compare_needs_run_folders(tmp_path):
    with pytest.raises(InputError, match="is not an eval run folder"):
        compare(tmp_path, tmp_path)


def test_compare_refuses_rows_no_eval_scored(tmp_path):
    results = [score(g, p) for g, p in zip(GOLD, PREDICTIONS, strict=True)]
    write_run(tmp_path / "A", results, build_report(results, {"model": "m"}))
    rows = (tmp_path / "A" / "predictions.jsonl").read_text().splitlines()
    unscored = json.loads(rows[1])
    del unscored["score"]
    (tmp_path / "A" / "predictions.jsonl").write_text("\n".join([rows[0], json.dumps(unscored), *rows[2:]]) + "\n")
    with pytest.raises(InputError) as err:
        compare(tmp_path / "A", tmp_path / "A")
    assert str(err.value) == (f"{tmp_path / 'A'} is not an eval run folder: line 2 of predictions.jsonl was not written "
                              "by `rag eval` (no id, answer, score or metrics)")
