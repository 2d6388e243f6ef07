"""Benchmark (not a test): time from pressing Enter in `rag ui` to the first streamed token and to the checked answer.

    .venv/bin/python scripts/bench_ui.py --url http://127.0.0.1:7860/ [--questions evals/gold.jsonl] [--limit 10]
        [--type-delay MS] [--pause MS]

Measured in the page itself (performance.now() in headless /usr/bin/chromium, from the Enter keydown),
each question in a fresh tab so no conversation is involved. A question answered without calling the
model (nothing retrieved is close enough) has no streamed token. Prints one line per question and p50/p95.

By default the question is pasted into the box at once and Enter pressed: the UI's read-ahead (`read_ahead`) has no
time to help. `--type-delay 150` types it key by key, 150 ms apart (about 80 words a minute), and `--pause` waits
that long after the last key before Enter, as a person does: the model reads ahead while the question is typed.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

# Installed before the question is typed: the clock starts at the Enter keydown (capture phase, so before
# Gradio sees it) and stops at the first non-empty draft and at the checked answer.
TIMER = """() => {
  window.ragTiming = {start: null, first: null, total: null};
  document.querySelector('#rag-question textarea').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && window.ragTiming.start === null) window.ragTiming.start = performance.now();
  }, true);
  new MutationObserver(() => {
    const t = window.ragTiming;
    if (t.start === null) return;
    const drafts = document.querySelectorAll('#rag-chat .rag-draft');
    if (t.first === null && drafts.length && drafts[drafts.length - 1].textContent.replace('\u258d', '').trim())
      t.first = performance.now() - t.start;
    if (t.total === null && document.querySelectorAll('#rag-chat .rag-answer, #rag-chat .rag-error').length)
      t.total = performance.now() - t.start;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--questions", default="evals/gold.jsonl")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--type-delay", type=float, default=0.0, help="ms between keys; 0: paste the question")
    parser.add_argument("--pause", type=float, default=0.0, help="ms between the last key and Enter")
    args = parser.parse_args()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][: args.limit]

    from playwright.sync_api import sync_playwright

    firsts, totals = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-background-networking"])
        for question in questions:
            page = browser.new_context().new_page()
            page.goto(args.url)
            page.wait_for_selector("#rag-question textarea", timeout=60_000)
            page.evaluate(TIMER)
            if args.type_delay:
                page.type("#rag-question textarea", question, delay=args.type_delay)
            else:
                page.fill("#rag-question textarea", question)
            page.wait_for_timeout(args.pause)
            page.press("#rag-question textarea", "Enter")
            page.wait_for_function("window.ragTiming.total !== null", timeout=180_000)
            timing = page.evaluate("window.ragTiming")
            first, total = timing["first"], timing["total"]
            print(f"first token {first / 1000 if first else float('nan'):5.2f} s  answer {total / 1000:5.2f} s  {question}")
            if first:
                firsts.append(first / 1000)
            totals.append(total / 1000)
            page.context.close()
        browser.close()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]

    print(f"\n{len(totals)} questions; first streamed token p50 {pct(firsts, 50):.2f} s, p95 {pct(firsts, 95):.2f} s "
          f"({len(firsts)} streamed); checked answer p50 {pct(totals, 50):.2f} s, p95 {pct(totals, 95):.2f} s")


if __name__ == "__main__":
    main()
