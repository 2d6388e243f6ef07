"""Browser tier: `rag ui` with the real models, driven by playwright through Debian's /usr/bin/chromium.

`scripts/test.sh` installs chromium when it is missing; under CI=true a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RAG_TEST_ENV, require, stop_process
from tests.http_stubs import closed_port

CHROMIUM = Path("/usr/bin/chromium")


class UI:
    """A running `rag ui` process: its URL, index, feedback file and log."""

    def __init__(self, process: subprocess.Popen, url: str, index: Path, feedback: Path, log: Path):
        self.process, self.url, self.index, self.feedback, self.log = process, url, index, feedback, log


def start_ui(seed_index: Path, home: Path, *extra: str) -> UI:
    """Start `rag ui` on a free loopback port over a private copy of the seed index (uploads change it)."""
    index = home / "index"
    shutil.copytree(seed_index, index, symlinks=True)
    port = closed_port()
    log = home / "ui.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | RAG_TEST_ENV
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "ui", "--port", str(port), "--index", str(index),
             "--feedback", str(home / "feedback.jsonl"), *extra], cwd=home, env=env, stdout=sink, stderr=subprocess.STDOUT)
    ui = UI(process, f"http://127.0.0.1:{port}/", index, home / "feedback.jsonl", log)
    deadline = time.monotonic() + 300
    while not re.search(r"chat UI for \S+ on http://127\.0\.0\.1:\d+", log.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_ui(ui)
            pytest.fail(f"rag ui did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return ui


def stop_ui(ui: UI) -> None:
    """Stop the server: SIGTERM, then SIGKILL if it does not exit."""
    stop_process(ui.process, timeout=30)


@pytest.fixture(scope="session")
def ui(seed_index, tmp_path_factory):
    """The UI with the real 0.5B, shared by the browser tests."""
    running = start_ui(seed_index, tmp_path_factory.mktemp("ui"))
    yield running
    stop_ui(running)


@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is missing: run ./scripts/setup.sh")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, ui):
    """A fresh browser tab (a new Gradio session, so a new conversation) on the UI."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(ui.url)
    tab.wait_for_selector("#rag-question textarea", timeout=60_000)
    yield tab
    context.close()
