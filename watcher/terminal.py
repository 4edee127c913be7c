"""Writing to a terminal safely: article text is never trusted with escape codes."""

from __future__ import annotations

import sys
import unicodedata
from typing import TextIO


def safe(text: str, *, keep_newlines: bool = False) -> str:
    """Text with control characters (escape sequences included) removed."""
    allowed = "\n\t" if keep_newlines else ""
    return "".join(
        ch if ch in allowed or unicodedata.category(ch)[0] != "C" else ("" if ch != "\n" else " ")
        for ch in text
    )


class ProgressLine:
    """A one-line counter redrawn in place, for terminals only."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total < 2:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
