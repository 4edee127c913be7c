"""Sentences and words: the units the reader works on.

Text is normalised one character for one (curly quotes to straight ones,
dashes to one dash, non-breaking spaces to spaces), so that every position
found in the normalised text is a position in the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_NORMALISE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": " ",
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
    }
)


def normalise(text: str) -> str:
    """The same text with quotes, dashes and spaces in one form each; same length."""
    return text.translate(_NORMALISE)


@dataclass(frozen=True)
class Sentence:
    text: str  # as it appears in the article
    norm: str  # normalised; positions agree with ``text``
    new_paragraph: bool  # the first sentence of a paragraph (or of a line)


# A full stop after one of these does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "maj", "sgt", "capt", "cpl", "pvt"),
        *("adm", "brig", "gov", "sen", "rep", "jr", "sr", "no", "vs", "v", "prof", "pres", "amb"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct", "nov", "dec"),
        *("inc", "corp", "co", "ltd", "dept", "gov't", "approx", "est", "fig", "mt", "ft", "rev"),
        *("lt.-col", "col.-maj", "lt.-gen", "maj.-gen", "brig.-gen", "cmdr", "cdr", "hon"),
    }
)
# A sentence ends at . ! or ? (and closing quotes or brackets) before a space
# and a capital, a digit or an opening quote.
_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u00c0-\u00de])")
# An initial ("J.") or an abbreviation with dots inside ("U.S.", "a.m.").
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?\.?$|[A-Z]\.?$")


def split_sentences(text: str) -> list[Sentence]:
    """Sentences in order; a line break ends one, a blank line a paragraph."""
    found: list[Sentence] = []
    for paragraph in re.split(r"\n\s*\n", text):
        first = True
        for line in paragraph.splitlines():
            for piece in _split_line(line):
                found.append(Sentence(piece, normalise(piece), first))
                first = False
    return found


def _split_line(line: str) -> Iterator[str]:
    start = 0
    for match in _END.finditer(line):
        before = line[start : match.start() + 1].rstrip()
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        bare = word.lstrip("(\"'").rstrip(".").lower()
        if line[match.start()] == "." and (
            bare in _ABBREVIATIONS or _abbreviated(word, line, match)
        ):
            continue
        piece = line[start : match.end()].strip()
        if piece:
            yield piece
        start = match.end()
    piece = line[start:].strip()
    if piece:
        yield piece


def _abbreviated(word: str, line: str, match: re.Match[str]) -> bool:
    """ "U.S. troops" goes on; "...from the U.S. The next day" ends."""
    core = word.lstrip("(\"'")
    if not _DOTTED.match(core):
        return False
    following = line[match.end() :].split(None, 1)
    # After a dotted abbreviation, a capitalised function word starts a sentence.
    return not (following and following[0] in _SENTENCE_STARTERS)


_SENTENCE_STARTERS = frozenset(
    {
        *("The", "A", "An", "It", "They", "He", "She", "We", "In", "On", "At", "But", "And"),
        *("This", "That", "These", "Those", "There", "Its", "Their", "His", "Her", "As"),
        *("After", "Before", "Since", "When", "While", "Some", "Most", "All", "According"),
    }
)


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str

    @property
    def low(self) -> str:
        return self.text.lower()


_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['.-][^\W\d_]+)*(?:'s|')?|n't|[^\w\s]")


def words(norm: str, start: int = 0, end: int | None = None) -> list[Word]:
    """The words and punctuation marks of ``norm[start:end]``, with positions."""
    stop = len(norm) if end is None else end
    return [Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(norm, start, stop)]
