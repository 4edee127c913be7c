"""Who and where: the names a sentence uses for forces, places, bases, agreements.

The reader knows the world's countries, their peoples and main towns, and the
forces that are not a country's army (``data/``). A topic adds its subject,
its place and the host's forces, its bases and agreements; its names take
precedence. A country's name may stand for its forces ("France withdrew")
or for the country as a place ("troops in France"); which one is decided
where the name is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from importlib import resources

from watcher.facts.lexicon import Lexeme, own_words
from watcher.facts.topic import Topic


class Party(StrEnum):
    """Whose a name is, seen from the story."""

    SUBJECT = "subject"  # the force that leaves
    HOST = "host"  # the country it leaves, and its forces
    OTHER = "other"  # anyone else


@dataclass(frozen=True)
class Named:
    """What a name stands for."""

    ident: str  # the subject's id, "host", or another force's or country's id
    party: Party
    place: bool  # may name a place ("in Chad")
    force: bool  # may name a force ("Chad said", "Chadian troops")
    # A town of the host's, not the whole place ("left Agadez" is not "left Niger"),
    # and the base it names, if a base's `near` gives it.
    town: bool = False
    base: str | None = None
    # One national contingent of the subject ("Italian peacekeepers"): a part of it.
    contingent: bool = False


# The host as a force ("the junta", "Nigerien troops") and as a place ("in Niger").
HOST_FORCE = Named("host", Party.HOST, place=False, force=True)
HOST_PLACE = Named("host", Party.HOST, place=True, force=True)


@dataclass(frozen=True)
class _Row:
    ident: str
    countries: tuple[str, ...]
    peoples: tuple[str, ...]
    towns: tuple[str, ...]


def _rows(name: str) -> list[list[str]]:
    text = resources.files("watcher.facts").joinpath("data", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _world() -> tuple[tuple[_Row, ...], tuple[_Row, ...]]:
    countries = tuple(
        _Row(
            _ident(fields[0].split("|")[0]),
            tuple(_alternatives(fields[0])),
            tuple(_alternatives(fields[1])),
            tuple(_alternatives(fields[2]) if len(fields) > 2 else ()),
        )
        for fields in _rows("countries.tsv")
    )
    forces = tuple(
        _Row(fields[0], (), tuple(_alternatives(fields[1])), ()) for fields in _rows("forces.tsv")
    )
    return countries, forces


def _alternatives(field: str) -> list[str]:
    return [item.strip() for item in field.split("|") if item.strip()]


def _ident(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# Words before a name that make it a place, not a force: "left Chad" is a force
# leaving a place, "Chad asked" a force.
LOCATIVES = frozenset(
    {
        *("in", "from", "to", "into", "at", "across", "inside", "within", "toward", "towards"),
        *("near", "outside", "throughout", "around", "of", "left", "leave", "leaving", "leaves"),
        *("quit", "quits", "exit", "exited", "exits", "exiting", "vacated", "entered", "reached"),
        *("between", "out", "for", "via", "through"),
    }
)


@dataclass(frozen=True)
class Names:
    """A topic's names, compiled: one pattern for proper names, one for bases."""

    pattern: re.Pattern[str]
    table: dict[str, Named]
    ambiguous: frozenset[str]
    confused: re.Pattern[str] | None
    bases: re.Pattern[str] | None
    base_keys: dict[str, str]  # group name to fact key
    agreements: re.Pattern[str] | None
    agreement_keys: dict[str, str]
    kinds: dict[str, str]  # "airport": the one base whose names end in it
    words: dict[str, list[Lexeme]]  # the topic's own words for the withdrawal and leaving
    shared: re.Pattern[str] | None  # names the topic gives to more than one base
    sharers: dict[str, tuple[str, ...]]  # such a name, lower case, to the bases' keys
    own_names: dict[str, tuple[str, ...]]  # a base's key to its names and towns, lower case
    place_hint: re.Pattern[str]  # the place's own names: a quick first look for it
    base_words: tuple[str, ...]  # a word each base name contains, lower case
    subject: Named
    # The subject's own words for its people ("peacekeepers", "blue helmets"), lower
    # case: "Italian peacekeepers" in a UN mission's story are the mission's.
    own_people: frozenset[str]

    def may_name_the_place(self, text: str) -> bool:
        """False when the text surely names neither the place nor a base: most
        articles a feed brings, rejected without the whole world's names."""
        if self.place_hint.search(text):
            return True
        low = text.lower()
        return any(word in low for word in self.base_words)

    def lookup(self, text: str, confused_article: bool) -> Named | None:
        bare = re.sub(r"'s?$", "", text)
        if bare in self.ambiguous and not confused_article:
            return HOST_FORCE
        return self.table.get(bare) or self.table.get(text)

    def base_of(self, match: re.Match[str]) -> str:
        return self.base_keys[str(match.lastgroup)]

    def agreement_of(self, match: re.Match[str]) -> str:
        return self.agreement_keys[str(match.lastgroup)]


@cache
def names_of(topic: Topic) -> Names:
    table: dict[str, Named] = {}

    def claim(name: str, named: Named) -> None:
        table.setdefault(name, named)

    subject = Named(topic.subject, Party.SUBJECT, place=False, force=True)
    for name in topic.subject_names:
        claim(name, subject)
        if name[:1].islower():
            claim(name[:1].upper() + name[1:], subject)  # "coalition" starts a sentence too
    towns = _host_towns(topic)
    for name in topic.place_names:
        claim(name, towns.get(name, HOST_PLACE))
    for name in topic.host_names:
        claim(name, HOST_FORCE)
    for ident, names in topic.others.items():
        for name in names:
            claim(name, Named(ident, Party.OTHER, place=False, force=True))
    countries, forces = _world()
    for row in forces:
        own = _owner(row, topic)
        for name in row.peoples:
            claim(name, own or Named(row.ident, Party.OTHER, place=False, force=True))
    for row in countries:
        own = _owner(row, topic)
        party, ident = (own.party, own.ident) if own else (Party.OTHER, row.ident)
        for name in row.countries:
            claim(name, Named(ident, party, place=True, force=True))
        for name in row.peoples:
            claim(name, Named(ident, party, place=False, force=True))
        for position, name in enumerate(row.towns):
            # The capital (first) stands for the government too: "Moscow pulled out".
            claim(name, Named(ident, party, place=True, force=position == 0))
    for name in topic.confused_with:
        table.pop(name, None)
    confused = _phrases(topic.confused_with, ignore_case=False) if topic.confused_with else None
    ambiguous = frozenset(topic.ambiguous)
    proper = sorted({*table, *ambiguous, *topic.confused_with}, key=len, reverse=True)
    for name in topic.confused_with:
        table[name] = Named(_ident(name), Party.OTHER, place=True, force=True)
    pattern = re.compile(
        r"(?<![\w-])(?:" + "|".join(_flexible(n) for n in proper) + r")(?:'s|')?(?![\w])"
    )
    sharers = _shared_base_names(topic)
    bases, base_keys = _groups(
        "b", {k: _base_phrases(topic, k, exclude=set(sharers)) for k in topic.bases}
    )
    shared = _phrases(tuple(sharers), ignore_case=True) if sharers else None
    agreements, agreement_keys = _groups(
        "a",
        {
            k: [_flexible(n) for n in _agreement_phrases(names)]
            for k, names in topic.agreements.items()
        },
    )
    return Names(
        pattern,
        table,
        ambiguous,
        confused,
        bases,
        base_keys,
        agreements,
        agreement_keys,
        _kinds(topic),
        own_words(topic.process, topic.verbs),
        shared,
        sharers,
        {
            key: tuple(n.lower() for n in (*names, *topic.base_towns.get(key, ())))
            for key, names in topic.bases.items()
        },
        _phrases((*topic.place_names, *topic.ambiguous), ignore_case=False),
        _base_words(topic),
        subject,
        frozenset(p.lower() for p in topic.people),
    )


def _agreement_phrases(names: tuple[str, ...]) -> list[str]:
    """An agreement's names, and what it organises where that is cooperation or a
    partnership: "ended military cooperation with the US" ends the "military
    cooperation agreement"."""
    phrases = list(names)
    for name in names:
        words = name.split()
        if (
            len(words) >= 3
            and words[-1].lower() in _AGREEMENT_HEADS
            and words[-2].lower() in ("cooperation", "co-operation", "partnership")
        ):
            phrases.append(" ".join(words[:-1]))
    return sorted(set(phrases), key=len, reverse=True)


_AGREEMENT_HEADS = frozenset({"agreement", "agreements", "accord", "accords", "pact", "treaty"})


def _kinds(topic: Topic) -> dict[str, str]:
    """The kinds of facility that name one base only: "the airport" is Kabul
    airport where no other base of the story is an airport."""
    owners: dict[str, set[str]] = {}
    for key, names in topic.bases.items():
        for name in names:
            head = name.lower().split()[-1]
            if head in FACILITY_KINDS:
                owners.setdefault(head, set()).add(key)
    return {head: next(iter(keys)) for head, keys in owners.items() if len(keys) == 1}


FACILITY_KINDS = frozenset({"airport", "embassy", "port", "barracks"})


def _host_towns(topic: Topic) -> dict[str, Named]:
    """The host's towns among the place's names: those the world list knows as the
    host country's towns, and those a base's `near` gives (which name that base)."""
    towns: dict[str, Named] = {}
    countries, _ = _world()
    for row in countries:
        if _owner(row, topic) is HOST_PLACE:
            for name in row.towns:
                towns[name] = replace(HOST_PLACE, town=True)
    for key, near in topic.base_towns.items():
        for name in near:
            towns[name] = replace(HOST_PLACE, town=True, base=key)
    return towns


def _owner(row: _Row, topic: Topic) -> Named | None:
    """The subject or the host, when a known country or force is theirs."""
    names = {*row.countries, *row.peoples}
    if names & set(topic.subject_names):
        return Named(topic.subject, Party.SUBJECT, place=True, force=True)  # its home country
    if names & {*topic.place_names, *topic.host_names}:
        return HOST_PLACE
    return None


_BASE_NOUNS = (
    r"(?:(?:air|drone|military|army|naval|navy|logistics|operating|main)[\s-]+)*"
    r"(?:air[\s-]*base|base|air[\s-]*field|camp|garrison|outpost|station|compound)"
)


def _shared_base_names(topic: Topic) -> dict[str, tuple[str, ...]]:
    """Names the topic gives to several bases ("former headquarters"): which base
    they stand for is read from the sentence."""
    owners: dict[str, list[str]] = {}
    for key, names in topic.bases.items():
        for name in names:
            owners.setdefault(name.lower(), [])
            if key not in owners[name.lower()]:
                owners[name.lower()].append(key)
    return {name: tuple(keys) for name, keys in owners.items() if len(keys) > 1}


def _base_phrases(topic: Topic, key: str, exclude: set[str]) -> list[str]:
    phrases = [_flexible(name) for name in topic.bases[key] if name.lower() not in exclude]
    for town in topic.base_towns.get(key, ()):
        near = _flexible(town)
        phrases.append(rf"{_BASE_NOUNS}\s+(?:in|at|near|outside|of|close\s+to)\s+{near}")
        phrases.append(rf"{near}(?:'s)?\s+{_BASE_NOUNS}")
    return phrases


def _groups(
    prefix: str, patterns_by_key: dict[str, list[str]]
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One case-blind pattern with a named group per fact key."""
    if not patterns_by_key:
        return None, {}
    keys: dict[str, str] = {}
    parts = []
    for index, (key, patterns) in enumerate(patterns_by_key.items()):
        group = f"{prefix}{index}"
        keys[group] = key
        parts.append(f"(?P<{group}>" + "|".join(sorted(patterns, key=len, reverse=True)) + ")")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE), keys


def _flexible(name: str) -> str:
    """A name as a pattern: words may be joined by spaces, hyphens or nothing
    ("Air Base 201", "Airbase 201", "Ain al-Asad")."""
    words = re.split(r"[\s-]+", name.strip())
    return r"[\s-]*".join(re.escape(word) for word in words)


def _base_words(topic: Topic) -> tuple[str, ...]:
    """For each name and town of each base, its longest word: any mention of the
    base contains it."""
    words = set()
    for key, names in topic.bases.items():
        for name in (*names, *topic.base_towns.get(key, ())):
            longest = max(re.findall(r"\w+", name.lower()), key=len, default="")
            if longest:
                words.add(longest)
    return tuple(sorted(words))


def _phrases(items: tuple[str, ...], *, ignore_case: bool) -> re.Pattern[str]:
    alternatives = sorted({_flexible(item) for item in items}, key=len, reverse=True)
    return re.compile(
        r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE if ignore_case else 0
    )
