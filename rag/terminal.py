"""The terminal: status lines on stderr, and an answer streamed, then replaced if the checks changed it."""

from __future__ import annotations

import math
import shutil
import sys
from collections.abc import Callable
from typing import TextIO


def say(message: str) -> None:
    """A progress or status line for the person at the terminal: on stderr, so stdout stays the answer."""
    sys.stdout.flush()  # keep stdout and stderr in order when both go to one place
    print(f"rag: {message}", file=sys.stderr, flush=True)


def report_build(report, tell: Callable[[str], None] = say) -> int:
    """Tell what a build (`rag.index.build.BuildReport`) did; the exit code: 1 when files were skipped."""
    for skipped in report.skipped:
        tell(f"warning: skipped {skipped.where}: {skipped.reason}")
    for note in report.notes:
        tell(note)
    articles = len(report.added) + len(report.updated) + len(report.unchanged)
    tell(f"indexed {articles} articles ({len(report.added)} added, {len(report.updated)} updated, "
         f"{len(report.removed)} removed, {len(report.unchanged)} unchanged); embedded {report.embedded_texts} "
         f"of {report.chunks} passages in {report.seconds:.1f} s -> {report.index_dir}")
    return 1 if report.skipped else 0


class StreamPrinter:
    """Prints the model's draft as it arrives (only on a TTY: pipes get the final answer)."""

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out
        self.live = out.isatty()
        self.shown = ""

    def token(self, piece: str) -> None:
        """Show one streamed piece."""
        if self.live:
            self.shown += piece
            self.out.write(piece)
            self.out.flush()

    def finish(self, final: str) -> None:
        """Leave `final` on screen: rewrite the draft when the checks changed it."""
        if self.live and self.shown.strip() == final:
            self.out.write("\n")
        else:
            if self.live and self.shown:
                self._erase()
            self.out.write(final + "\n")
        self.out.flush()

    def _erase(self) -> None:
        width = shutil.get_terminal_size().columns or 80
        rows = sum(max(1, math.ceil(len(line) / width)) for line in self.shown.split("\n"))
        self.out.write("\r" + ("\x1b[1A" * (rows - 1)) + "\x1b[J")
