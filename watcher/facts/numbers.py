"""Numbers as news writes them: digits, words, ranges, and how firm they are.

"about 1,000", "more than 2,500", "two dozen", "2,500 to 3,500", "a
1,000-strong force", "several hundred". What a number counts is the reader's
business; here it is only found and valued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from watcher.facts.lexicon import QUALIFIER_WORDS


class Qualifier(StrEnum):
    """How firm a count is."""

    EXACT = "exact"
    ABOUT = "about"
    MORE_THAN = "more_than"
    FEWER_THAN = "fewer_than"
    BETWEEN = "between"  # a range: value is its lower end, upper its upper end
    VAGUE = "vague"  # "several hundred": only the order of magnitude is known


@dataclass(frozen=True)
class Count:
    start: int  # where the phrase starts, its qualifier included
    end: int
    value: int
    qualifier: Qualifier
    upper: int | None = None  # the top of a range
    strong: bool = False  # "1,000-strong": the force itself follows

    def phrase(self, norm: str) -> str:
        return norm[self.start : self.end]


_UNITS = {
    word: i
    for i, word in enumerate(
        (
            *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
            *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
            *("seventeen", "eighteen", "nineteen"),
        )
    )
}
_TENS = {
    word: 10 * i
    for i, word in enumerate(
        ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), start=2
    )
}
_SMALL = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_WORDS = rf"(?:a|an|{_SMALL})(?:[\s-](?:{_SMALL}))?(?:\s+(?:hundred|thousand|dozen))?"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?(?:\s*(?:k|K)\b)?"
_ONE = rf"(?:{_DIGITS}|{_WORDS})"
_NUMBER = re.compile(
    r"(?P<vague>\b(?:several|a\s+few|a\s+couple\s+of|many|some)\s+(?P<vunit>hundred|thousand|dozen)\b"
    r"|\b(?P<vplural>hundreds|thousands|dozens|scores)\s+(?:of\b|more\b)"
    r"|\ba\s+handful\s+of\b)"
    rf"|(?:\bbetween\s+)?(?<![\w$€£.,/-])(?P<low>{_ONE})"
    rf"(?:\s*(?:-|to|and|or)\s*(?P<high>{_DIGITS}|{_WORDS}))?"
    r"(?P<strong>-strong\b)?"
    r"(?![\w%]|[.,]\d|\s*(?:%|per\s*cent|percent|million|billion|km|kilomet|miles|years?\b|months?\b"
    r"|weeks?\b|days?\b|hours?\b|minutes?\b|am\b|pm\b|a\.m|p\.m|GMT|dollars|euros|tons|tonnes))",
    re.IGNORECASE,
)
_VAGUE_BASE = {"hundred": 100, "thousand": 1000, "dozen": 12, "score": 20}


def _words(words: tuple[str, ...]) -> str:
    """Phrases as one alternation, longest first, any white space between words."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in ordered)


_QUALIFIER = re.compile(
    r"(?:"
    + "|".join(f"(?P<{name}>\\b(?:{_words(words)}))" for name, words in QUALIFIER_WORDS.items())
    + r")\s+(?:the\s+|a\s+)?$",
    re.IGNORECASE,
)


def word_number(text: str) -> int | None:
    """ "two dozen" 24, "a thousand" 1000, "twenty-five" 25, "1,500" 1500."""
    low = text.lower().strip()
    if re.fullmatch(r"[\d,.]+\s*k", low):
        return int(float(low.rstrip("k").strip().replace(",", "")) * 1000)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", low):
        return int(low.replace(",", ""))
    if re.fullmatch(r"\d+\.\d+", low):
        return None  # a decimal counts no people
    parts = re.split(r"[\s-]+", low)
    multiplier = 1
    if parts[-1] in ("hundred", "thousand", "dozen"):
        multiplier = {"hundred": 100, "thousand": 1000, "dozen": 12}[parts.pop()]
    if not parts:
        return None
    head = 0
    for part in parts:
        if part in ("a", "an"):
            head += 1
        elif part in _UNITS:
            head += _UNITS[part]
        elif part in _TENS:
            head += _TENS[part]
        else:
            return None
    return head * multiplier


def find_counts(norm: str, masked: list[tuple[int, int]] | None = None) -> list[Count]:
    """The numbers in a sentence, outside the ``masked`` spans (dates, base names)."""
    counts: list[Count] = []
    for m in _NUMBER.finditer(norm):
        if masked and any(m.start() < end and start < m.end() for start, end in masked):
            continue
        if m.group("vague") is not None:
            unit = (m.group("vunit") or m.group("vplural") or "dozen").lower().rstrip("s")
            base = _VAGUE_BASE.get(unit, 5)
            several = m.group("vunit") is not None and "few" not in m.group().lower()
            value = base * (3 if several else 2)
            counts.append(Count(m.start(), m.end(), value, Qualifier.VAGUE))
            continue
        low = word_number(m.group("low"))
        if low is None or (m.group("low").lower() in ("a", "an") and not m.group("high")):
            continue
        if re.fullmatch(r"[a-z]+", m.group("low").lower()) and low < 2 and not m.group("strong"):
            continue  # "one of the soldiers", "an American"
        start, end, qualifier, upper = m.start("low"), m.end(), Qualifier.EXACT, None
        if m.group("high"):
            high = word_number(m.group("high"))
            joiner = norm[m.end("low") : m.start("high")].strip().lower()
            if (
                high is None
                or high <= low
                or (joiner in ("and", "or") and "between" not in m.group().lower())
            ):
                end = m.end("low")
                if high is not None and high < low and joiner == "to":
                    # "from 4,500 to 2,500": a change of size, two counts
                    counts.append(Count(m.start("high"), m.end("high"), high, Qualifier.EXACT))
            elif joiner == "-" and low >= 1900 and high < 2100:
                continue  # "2021-22": years
            else:
                qualifier, upper, start = Qualifier.BETWEEN, high, m.start()
        q = _QUALIFIER.search(norm, max(0, start - 40), start)
        if q and qualifier is Qualifier.EXACT:
            qualifier = Qualifier(next(name for name in QUALIFIER_WORDS if q.group(name)))
            start = q.start()
        strong = bool(m.group("strong")) and end == m.end()
        counts.append(Count(start, end, low, qualifier, upper, strong))
    counts.sort(key=lambda c: c.start)
    return counts
