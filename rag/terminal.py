"""Streaming an answer to a terminal, and replacing the draft if the checks change it."""

from __future__ import annotations

import math
import shutil
import sys
from typing import TextIO


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
