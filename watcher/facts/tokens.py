"""A sentence as a row of tokens: words, and the things the reader recognises.

Names of forces and places, bases, agreements, dates and counts each become
one token, so that the reader can look left and right by token ("handed
over [both] [Air Base 101] and [Air Base 201] on [Friday]") instead of by
character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from watcher.facts.dates import DateMatch, find_dates
from watcher.facts.lexicon import WORDS, Cue, Lexeme
from watcher.facts.names import FACILITY_KINDS, LOCATIVES, Named, Names, Party
from watcher.facts.numbers import Count, find_counts
from watcher.facts.text import words


class Tag(StrEnum):
    WORD = "word"
    PUNCT = "punct"
    NAME = "name"  # a force or a place
    BASE = "base"  # a tracked base, or "the base" standing for one
    AGREEMENT = "agreement"
    DATE = "date"
    COUNT = "count"


@dataclass
class Token:
    start: int
    end: int
    text: str
    tag: Tag
    named: Named | None = None
    key: str | None = None  # the fact key of a base or agreement
    date: DateMatch | None = None
    count: Count | None = None
    lexemes: list[Lexeme] = field(default_factory=list)
    anaphor: bool = False  # "the base": stands for a base named before
    also: tuple[str, ...] = ()  # "both bases": the other bases it stands for

    @property
    def base_keys(self) -> tuple[str, ...]:
        """The bases a base token stands for: one, or several for "both bases"."""
        return ((self.key,) if self.key else ()) + self.also

    @property
    def low(self) -> str:
        return self.text.lower()

    def is_word(self, *texts: str) -> bool:
        return self.tag is Tag.WORD and self.low in texts


_AREA = re.compile(
    r"\s+(?:region|province|governorate|district|area|department|prefecture)\b", re.I
)
_TOWN_OF = re.compile(r"\b(?:village|town|city|province|region)\s+of\s+$", re.I)
_BEFORE_TOWN = re.compile(
    r"(?P<word>[a-z-]+)(?:\s+(?:from|out\s+of|in|at|near))?\s+(?:the\s+|a\s+)?$", re.I
)
_SITES = frozenset({"base", "camp", "station", "garrison", "airfield", "airbase", "barracks"})


def _left_or_sited(before: str) -> bool:
    """ "left the city of Timbuktu", "a station in the town of Rufisque": the force's
    own place there, named by its town."""
    m = _BEFORE_TOWN.search(before)
    if m is None:
        return False
    word = m.group("word").lower()
    return word in _SITES or any(lx.cue in (Cue.LEAVE, Cue.HAND_OVER) for lx in WORDS.get(word, ()))


_ANAPHORA = re.compile(
    r"\b(?:the|this|that)\s+(?:(?!other\b|another\b|second\b|third\b|new\b|next\b)"
    r"[a-z][a-z-]*\s+){0,2}(?:air\s*base|base|air\s*field|camp|facility|installation|"
    r"garrison|airport|embassy|port|barracks|compound|complex|outpost)\b",
    re.IGNORECASE,
)


# "both bases", "the two camps", "those sites": the bases the article named.
_PLURAL_ANAPHORA = re.compile(
    r"\b(?:both(?:\s+the)?|the\s+two|these(?:\s+two)?|those(?:\s+two)?)\s+"
    r"(?:air\s*bases|bases|camps|sites|facilities|installations|garrisons)\b",
    re.IGNORECASE,
)


# A country's name inside a news outlet's: not the country, nor its forces.
_OUTLET_AFTER = re.compile(
    r"[\s-]+(?:Presse|24|Tribune|Times|Post|Herald|Daily|Television|TV|Broadcasting|"
    r"Press\s+(?:Agency|Service)|News\s+Agency|Gazette|Today|Internationale|Observer)\b"
)
_OUTLET_BEFORE = re.compile(r"\b(?:Agence|Voice\s+of|Radio|Radio\s+Free)\s+$")


_LOCATED = re.compile(r"\s+(?:in|at|near|of|outside)\s+(?:the\s+)?", re.IGNORECASE)


def _which_base(names: Names, name: str, after: str, previous_base: str | None) -> str | None:
    """The base a name several bases share stands for: the one whose own name or town
    the sentence gives after it ("its former headquarters in Zalingei"), else the
    base named last, if it is one of them."""
    candidates = names.sharers[name]
    rest = after.lower()
    named = [
        key
        for key in candidates
        if any(
            re.search(rf"\b{re.escape(own)}\b", rest) for own in names.own_names[key] if own != name
        )
    ]
    if len(named) == 1:
        return named[0]
    return previous_base if previous_base in candidates else None


def tokenize(
    norm: str,
    names: Names,
    published: date | None,
    *,
    confused_article: bool,
    previous_base: str | None,
    named_bases_before: tuple[str, ...] = (),
) -> list[Token]:
    """The tokens of a normalised sentence. ``previous_base`` is the base the
    text named last, which "the base" stands for; ``named_bases_before``, the
    bases it named, which "both bases" stand for."""
    spans: list[Token] = []

    def free(start: int, end: int) -> bool:
        return not any(start < t.end and t.start < end for t in spans)

    if names.bases:
        for m in names.bases.finditer(norm):
            town = _TOWN_OF.search(norm, 0, m.start())
            if _AREA.match(norm, m.end()) or (town and not _left_or_sited(norm[: town.start()])):
                continue  # "the Kidal region", "the village of Tessalit": a place, not the base
            spans.append(Token(m.start(), m.end(), m.group(), Tag.BASE, key=names.base_of(m)))
    if names.shared:
        for m in names.shared.finditer(norm):
            owner = _which_base(names, m.group().lower(), norm[m.end() :], previous_base)
            if owner is not None and free(m.start(), m.end()):
                spans.append(Token(m.start(), m.end(), m.group(), Tag.BASE, key=owner))
    if names.agreements:
        for m in names.agreements.finditer(norm):
            if free(m.start(), m.end()):
                agreement = names.agreement_of(m)
                spans.append(Token(m.start(), m.end(), m.group(), Tag.AGREEMENT, key=agreement))
    for d in find_dates(norm, published):
        if free(d.start, d.end):
            spans.append(Token(d.start, d.end, norm[d.start : d.end], Tag.DATE, date=d))
    for m in names.pattern.finditer(norm):
        if _OUTLET_AFTER.match(norm, m.end()) or _OUTLET_BEFORE.search(norm, 0, m.start()):
            continue  # "Agence France-Presse reported", "Voice of America", "Sudan Tribune"
        named = names.lookup(m.group(), confused_article)
        if named is not None and free(m.start(), m.end()):
            spans.append(Token(m.start(), m.end(), m.group(), Tag.NAME, named=named))
    named_bases = sorted((t.start, t.key) for t in spans if t.tag is Tag.BASE)
    for m in _ANAPHORA.finditer(norm):
        # "the base" stands for the base named last: earlier in this sentence, or before it.
        before = [key for start, key in named_bases if start < m.start()]
        head = m.group().lower().split()[-1]
        located = _LOCATED.match(norm, m.end())
        named_after = [key for start, key in named_bases if located and start == located.end()]
        key: str | None
        if named_after:
            key = named_after[0]  # "the base in Tessalit": that base, not the one before
        elif head in FACILITY_KINDS:
            key = names.kinds.get(head)  # "the airport": the story's only airport, or none
        else:
            key = before[-1] if before else previous_base
        if key and free(m.start(), m.end()):
            spans.append(Token(m.start(), m.end(), m.group(), Tag.BASE, key=key, anaphor=True))
    for m in _PLURAL_ANAPHORA.finditer(norm):
        # The bases this sentence named before it, or else all the article named.
        here = [key for start, key in named_bases if start < m.start() and key]
        keys = list(dict.fromkeys(here if len(set(here)) >= 2 else [*named_bases_before, *here]))
        if len(keys) >= 2 and free(m.start(), m.end()):
            spans.append(
                Token(
                    m.start(),
                    m.end(),
                    m.group(),
                    Tag.BASE,
                    key=keys[0],
                    anaphor=True,
                    also=tuple(keys[1:]),
                )
            )
    masked = [(t.start, t.end) for t in spans if t.tag is not Tag.NAME]
    for c in find_counts(norm, masked):
        if free(c.start, c.end):
            spans.append(Token(c.start, c.end, c.phrase(norm), Tag.COUNT, count=c))
    spans.sort(key=lambda t: t.start)
    tokens: list[Token] = []
    position = 0
    for span in [*spans, None]:
        stop = span.start if span else len(norm)
        for w in words(norm, position, stop):
            tag = Tag.WORD if (w.text[0].isalnum() or w.text == "n't") else Tag.PUNCT
            lexemes = names.words.get(w.low) or WORDS.get(w.low, [])
            tokens.append(Token(w.start, w.end, w.text, tag, lexemes=lexemes))
        if span:
            tokens.append(span)
            position = span.end
    return _contingents(tokens, names)


def _contingents(tokens: list[Token], names: Names) -> list[Token]:
    """ "Italian blue helmets", "Chinese peacekeepers": a country's people named with the
    subject's own word for its people are the subject's (a national contingent)."""
    if not names.own_people:
        return tokens
    for i, token in enumerate(tokens[:-1]):
        named = token.named
        if token.tag is not Tag.NAME or named is None or named.party is not Party.OTHER:
            continue
        one = tokens[i + 1].low
        two = f"{one} {tokens[i + 2].low}" if i + 2 < len(tokens) else one
        if one in names.own_people or two in names.own_people:
            token.named = replace(names.subject, contingent=True)
            people = tokens[i + 1]
            if people.tag is Tag.NAME and people.named and people.named.party is Party.SUBJECT:
                people.named = token.named  # "peacekeepers" a name of the subject too
    return tokens


def of_the_host(token: Token) -> bool:
    """A name that stands for the host: its country, a town, its people or forces."""
    named = token.named
    return token.tag is Tag.NAME and named is not None and named.party is Party.HOST


def the_hosts_ground(tokens: list[Token], index: int) -> bool:
    """ "Malian soil", "the Kyrgyz territory": the word at ``index`` is the host's
    ground, which is the place itself."""
    return (
        index > 0 and tokens[index].is_word("soil", "territory") and of_the_host(tokens[index - 1])
    )


def is_locative(tokens: list[Token], index: int) -> bool:
    """Whether the name at ``index`` is used as a place ("in Chad", "left Mali")."""
    token = tokens[index]
    if token.named is None:
        return False
    if not token.named.force:
        return True
    if not token.named.place:
        return False
    if (
        index >= 2
        and (tokens[index - 1].is_word("and", "or") or tokens[index - 1].text == ",")
        and tokens[index - 2].tag is Tag.NAME
        and is_locative(tokens, index - 2)
    ):
        return True  # "to Erbil and Kuwait": the second place of a list
    if (
        index >= 2
        and tokens[index - 1].text == ","
        and (
            tokens[index - 2].tag is Tag.BASE
            or (
                index >= 3
                and tokens[index - 2].text[:1].isupper()
                and tokens[index - 3].tag is Tag.WORD
                and tokens[index - 3].low in LOCATIVES
            )
        )
    ):
        return True  # "in Addu, Maldives", "at Air Base 201, Niger": where the place is
    before = index - 1
    skipped = 0
    while (
        before >= 0
        and tokens[before].tag is Tag.WORD
        and skipped < 3
        and (
            tokens[before].low in ("the", "a", "an")
            or tokens[before].low in REGIONS
            or (
                tokens[before].text.islower()
                and tokens[before].low not in LOCATIVES
                and not tokens[before].lexemes
            )
        )
    ):
        before -= 1
        skipped += 1
    return before >= 0 and tokens[before].tag is Tag.WORD and tokens[before].low in LOCATIVES


# Words that make a place a part of itself: "northern Mali", "federal Iraq".
REGIONS = frozenset(
    {
        *("northern", "southern", "eastern", "western", "central", "north", "south", "east"),
        *("west", "northeast", "northeastern", "northwest", "northwestern", "southeast"),
        *("southeastern", "southwest", "southwestern", "federal", "rural", "parts"),
    }
)
