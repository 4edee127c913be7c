"""Reading a topic's facts out of an article, sentence by sentence.

What the topic file does not say is generic English and lives here: where
sentences end, who a sentence is about, whether a verb reports something done
or something intended, how dates and numbers are written. The story's own
words (names, places, cues) come from the topic.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from watcher.facts.topic import Fact, Topic
from watcher.models import Article, Evidence, Observation

# -- sentences -------------------------------------------------------------------

# Quotes and apostrophes normalised one character for one, so positions found
# in the normalised text are positions in the original.
_NORMALISE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})

# A full stop after one of these does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        *("u.s", "u.n", "u.k", "mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "maj", "sgt"),
        *("capt", "adm", "brig", "gov", "sen", "rep", "jr", "sr", "no", "vs", "col.-maj"),
        *("lt.-col", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec"),
    }
)
_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Sentence:
    text: str  # as it appears in the article
    norm: str  # the same text with quotes normalised; positions agree
    new_paragraph: bool


def split_sentences(text: str) -> list[Sentence]:
    """Sentences in order; a line break ends one, a blank line a paragraph."""
    found: list[Sentence] = []
    for paragraph in re.split(r"\n\s*\n", text):
        first = True
        for line in paragraph.splitlines():
            for piece in _split_line(line):
                found.append(Sentence(piece, piece.translate(_NORMALISE), first))
                first = False
    return found


def _split_line(line: str) -> Iterator[str]:
    start = 0
    for match in _END.finditer(line):
        word = (
            line[start : match.start()].rsplit(None, 1)[-1].lower()
            if line[start : match.start()].strip()
            else ""
        )
        if word.lstrip("(\"'") in _ABBREVIATIONS:
            continue
        piece = line[start : match.end()].strip()
        if piece:
            yield piece
        start = match.end()
    piece = line[start:].strip()
    if piece:
        yield piece


# -- modality ----------------------------------------------------------------------

# Words that make what follows an intention, a plan or a possibility.
_HEDGE = re.compile(
    r"\b(?:will|would|shall|could|may|might|must|should|can|cannot|expects?|expected|expecting|"
    r"plans?|planned|planning|intends?|intended|aims?|aimed|aiming|set\s+to|scheduled|due\s+to|"
    r"on\s+track|hopes?|hoped|hoping|likely|poised|prepar(?:e|es|ed|ing)\s+to|ready\s+to|"
    r"seeks?\s+to|wants?\s+to|wanted\s+to|going\s+to|about\s+to|proposed|pledged|promised|"
    r"vowed|threatened|is\s+to|are\s+to|as\s+early\s+as|as\s+soon\s+as|possibly|perhaps)\b"
    r"|'ll\b",
    re.IGNORECASE,
)
# Words that, right before a cue, make it an infinitive or a condition.
_BEFORE_CUE = re.compile(
    r"\b(?:to|to\s+have|to\s+be|before|until|till|ahead\s+of|once|if|unless|whether|when)\s*$",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|never|no\s+longer|yet\s+to|den(?:y|ied|ies|ying)|refus(?:ed|es|ing)|without)\b"
    r"|n't\b",
    re.IGNORECASE,
)
# Where a clause starts, for the words that govern a cue.
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014\u2013]|\s-\s|\bwhile\b|\bwhereas\b|\bbut\b", re.IGNORECASE
)
# A clause reporting that something ended ("had left by August 5").
_PAST_DONE = re.compile(
    r"\b(?:had|has|have|was|were)\s+(?:\w+\s+){0,2}?(?:completed|left|departed|finished|"
    r"withdrawn|handed|ended|pulled)\b|(?<!\bbe\s)\b(?:completed|left|departed|finished|withdrew)\b",
    re.IGNORECASE,
)


def _clause_before(norm: str, pos: int, limit: int = 70) -> str:
    start = max(0, pos - limit)
    window = norm[start:pos]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _clause_after(norm: str, pos: int, limit: int = 70) -> str:
    window = norm[pos : pos + limit]
    found = _CLAUSE_BREAK.search(window)
    return window[: found.start()] if found else window


def _hedged(norm: str, start: int, end: int) -> bool:
    """Whether the cue at start:end states an intention, a plan or a denial."""
    before = _clause_before(norm, start)
    governed = before + norm[start:end]
    return bool(_HEDGE.search(governed) or _NEGATION.search(governed) or _BEFORE_CUE.search(before))


# -- who a sentence is about ---------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    actor: str
    host: bool


@dataclass(frozen=True)
class Context:
    """What a sentence is about: its actors, and where it happens."""

    mentions: tuple[Mention, ...]
    inherited: str | None  # the subject carried over from the sentence before
    elsewhere: bool  # about another place than the topic's
    prior_targets: frozenset[str] = frozenset()  # facts whose targets the sentence before named

    def owner(self, pos: int) -> str | None:
        """The actor a word at ``pos`` belongs to: the nearest named before it, else after."""
        foreign = [m for m in self.mentions if not m.host]
        before = [m for m in foreign if m.end <= pos]
        if before:
            return before[-1].actor
        after = [m for m in foreign if m.start >= pos]
        if after:
            return after[0].actor
        return self.inherited

    @property
    def subject(self) -> str | None:
        """The one actor the sentence is about, if there is exactly one."""
        actors = {m.actor for m in self.mentions if not m.host}
        if len(actors) == 1:
            return actors.pop()
        return None if actors else self.inherited


# A sentence starting like this goes on with what the one before was about.
_CONTINUES = re.compile(
    r"^[\"']?(?:They|Their|Them|It|Its|This|These|Those|The|He|She|His|Her|Most|Some|All|Both)\b"
)


def _contexts(sentences: list[Sentence], topic: Topic) -> list[Context]:
    """Each sentence's context; a sentence that names nobody inherits its subject
    (and its place) from the sentence before, within a paragraph or when it
    plainly continues it."""
    contexts: list[Context] = []
    previous: Context | None = None
    previous_targets: frozenset[str] = frozenset()
    for sentence in sentences:
        mentions = tuple(
            sorted(
                (
                    Mention(m.start(), m.end(), actor.name, actor.host)
                    for actor in topic.actors
                    for m in actor.pattern.finditer(sentence.norm)
                ),
                key=lambda m: m.start,
            )
        )
        continues = not sentence.new_paragraph or _CONTINUES.match(sentence.norm)
        carried = previous if previous and continues else None
        elsewhere_found = bool(topic.elsewhere and topic.elsewhere.search(sentence.norm))
        here = bool(topic.place.search(_masked(sentence.norm, topic.elsewhere)))
        if here or elsewhere_found:
            elsewhere = elsewhere_found and not here
        else:
            elsewhere = carried.elsewhere if carried else False
        context = Context(
            mentions,
            carried.subject if carried else None,
            elsewhere,
            previous_targets,
        )
        contexts.append(context)
        previous = context
        previous_targets = frozenset(
            f.key for f in topic.facts if f.targets and f.targets.search(sentence.norm)
        )
    return contexts


def _masked(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return text
    return pattern.sub(lambda m: " " * len(m.group()), text)


def is_relevant(article: Article, topic: Topic) -> bool:
    """Whether the article is about the topic's place and names its subject.

    The place must be named at least ``min_place_mentions`` times and more
    often than the places it is confused with (Niger, not Nigeria).
    """
    text = f"{article.title or ''}\n{article.text}".translate(_NORMALISE)
    confused = len(topic.confused_with.findall(text)) if topic.confused_with else 0
    place = len(topic.relevance_places.findall(_masked(text, topic.confused_with)))
    if topic.ambiguous and not confused:
        place += len(topic.ambiguous.findall(text))
    if place < topic.min_place_mentions or place <= confused:
        return False
    actor = next(a for a in topic.actors if a.name == topic.relevance_actor)
    return bool(actor.pattern.search(text))


# -- dates ------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = (
    r"(?P<month>"
    + "|".join(m.capitalize() for m in sorted(_MONTHS, key=len, reverse=True))
    + r")\.?"
)
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_FORMS = [
    ("exact", re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!,\d){_YEAR}")),
    ("exact", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}")),
    (
        "part",
        re.compile(
            r"\b(?P<part>early|mid|late|end\s+of|the\s+end\s+of|the\s+middle\s+of|the\s+beginning\s+of"
            rf"|the\s+start\s+of|beginning\s+of)[\s-]+(?:of\s+)?{_MONTH}{_YEAR}",
            re.IGNORECASE,
        ),
    ),
    (
        "month",
        re.compile(rf"\b(?:in|by|until|till|before|an?|the)\s+{_MONTH}(?!\s*\d{1, 2}\b){_YEAR}"),
    ),
]
_PARTS = {"early": "early", "beginning": "early", "start": "early", "mid": "mid", "middle": "mid"}
_PART_DAY = {"early": 5, "mid": 15, "late": 25}
_WEEKDAY = re.compile(
    r"\b(?:on\s+|last\s+)(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    value: date
    qualifier: str  # exact, early, mid, late or month


def _resolve_year(month: int, day: int, year: str | None, published: date | None) -> date | None:
    """The date; a missing year is the one that puts it nearest the publication date."""
    candidates = [int(year)] if year else []
    if not candidates:
        base = (published or date.today()).year
        candidates = [base - 1, base, base + 1]
    dates = []
    for y in candidates:
        try:
            dates.append(date(y, month, day))
        except ValueError:
            continue
    if not dates:
        return None
    reference = published or date.today()
    return min(dates, key=lambda d: abs((d - reference).days))


def find_dates(norm: str, published: date | None) -> list[DateMatch]:
    """Calendar dates in a sentence, with how precise each is."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for form, pattern in _DATE_FORMS:
        for m in pattern.finditer(norm):
            # A month alone is only a date after a preposition, which is not part of it.
            begin = m.start("month") if form == "month" else m.start()
            if any(begin < end and start < m.end() for start, end in taken):
                continue
            month = _MONTHS[m.group("month").lower()]
            qualifier, day = "exact", 0
            if form == "exact":
                day = int(m.group("day"))
            elif form == "part":
                word = m.group("part").lower().split()[-2 if "of" in m.group("part") else -1]
                qualifier = _PARTS.get(word, "late")  # end of, late
                day = _PART_DAY[qualifier]
            else:
                qualifier, day = "month", 15
            value = _resolve_year(month, day, m.group("year"), published)
            if value is None:
                continue
            if qualifier == "late" and "end" in m.group("part").lower():
                value = value.replace(day=calendar.monthrange(value.year, month)[1])
            found.append(DateMatch(begin, m.end(), value, qualifier))
            taken.append((begin, m.end()))
    return sorted(found, key=lambda d: d.start)


def _event_date(norm: str, pos: int, published: date | None) -> date | None:
    """The day a reported event happened: "on August 5", "on Sunday", nearest to ``pos``."""
    candidates: list[tuple[int, date]] = []
    for d in find_dates(norm, published):
        if d.qualifier == "exact" and re.search(
            r"\bon\s+$", norm[max(0, d.start - 4) : d.start], re.I
        ):
            candidates.append((abs(d.start - pos), d.value))
    if published:
        for m in _WEEKDAY.finditer(norm):
            target = list(calendar.day_name).index(m.group("weekday"))
            back = (published.weekday() - target) % 7
            candidates.append((abs(m.start() - pos), published - timedelta(days=back)))
    return min(candidates)[1] if candidates else None


# -- numbers --------------------------------------------------------------------------

_SMALL = {
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
_WORDS = "|".join(sorted([*_SMALL, *_TENS], key=len, reverse=True))
_NUMBER = re.compile(
    r"(?P<vague>\b(?:several|a\s+few|a\s+couple\s+of|many)\s+(?P<vunit>hundred|thousand|dozen))"
    r"|(?P<vplural>\b(?:hundreds|thousands|dozens)\s+of)"
    rf"|(?P<words>\b(?:a|an|one|{_WORDS})(?:[\s-](?:{_WORDS}))?\s+(?P<mult>hundred|thousand)\b)"
    r"|(?<![\w$€£.,-])(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?![\d,.]\d|%|\s*(?:million|billion|percent|km|kilomet))",
    re.IGNORECASE,
)
_VAGUE_BASE = {"hundred": 100, "thousand": 1000, "dozen": 12}
_QUALIFIERS = [
    ("about", r"about|around|roughly|approximately|some|an\s+estimated|estimated|close\s+to|circa"),
    (
        "more_than",
        r"more\s+than|over|upwards\s+of|in\s+excess\s+of|at\s+least|just\s+over|well\s+over",
    ),
    (
        "fewer_than",
        r"fewer\s+than|less\s+than|under|just\s+under|nearly|almost|up\s+to|as\s+many\s+as|no\s+more\s+than",
    ),
]
_QUALIFIER = re.compile(
    r"(?:"
    + "|".join(f"(?P<{name}>\\b(?:{words}))" for name, words in _QUALIFIERS)
    + r")\s+(?:the\s+)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Count:
    start: int  # where the phrase starts, qualifier included
    end: int
    value: int
    qualifier: str  # exact, about, more_than, fewer_than or vague
    phrase: str


def _word_number(text: str) -> int:
    words = re.split(r"[\s-]+", text.lower())
    mult = 1000 if words[-1] == "thousand" else 100
    head = sum(_SMALL.get(w, _TENS.get(w, 1 if w in ("a", "an") else 0)) for w in words[:-1])
    return head * mult


def find_counts(norm: str) -> list[Count]:
    counts = []
    for m in _NUMBER.finditer(norm):
        if re.search(r"\b(?:base|no\.|number|resolution|flight)\s*$", norm[: m.start()], re.I):
            continue  # Air Base 201 names a base; it counts nothing
        if m.group("vague"):
            base = _VAGUE_BASE[m.group("vunit").lower()]
            value, qualifier = base * (2 if "few" in m.group("vague").lower() else 3), "vague"
        elif m.group("vplural"):
            value, qualifier = (
                2 * _VAGUE_BASE[m.group("vplural").split()[0].lower().rstrip("s")],
                "vague",
            )
        elif m.group("words"):
            value, qualifier = _word_number(m.group("words")), "exact"
        else:
            value, qualifier = int(m.group("digits").replace(",", "")), "exact"
        start = m.start()
        q = _QUALIFIER.search(norm[max(0, start - 30) : start])
        if q and qualifier != "vague":
            qualifier = next(name for name, _ in _QUALIFIERS if q.group(name))
            start -= len(q.group())
        counts.append(Count(start, m.end(), value, qualifier, norm[start : m.end()]))
    return counts


# -- extraction ---------------------------------------------------------------------

# Words that make a date a guess at when something may happen.
_GUESS = re.compile(
    r"\b(?:could|may|might|as\s+early\s+as|as\s+soon\s+as|possibly|perhaps|hopes?|hoped)\b", re.I
)
# How far (characters) a status cue may sit from the base or agreement it is about.
_TARGET_REACH = 80
# What may stand between a cue and the target it is about ("left [the] Air Base 201").
_OBJECT_LEAD = re.compile(r"[\s\"]*(?:(?:from|of|at|out\s+of|in)\s+)?(?:(?:the|its)\s+)?\"?")
# How near (characters) a date must be to what it would be the deadline of,
# unless a deadline noun sits next to it.
_DEADLINE_REACH = 80


@dataclass(frozen=True)
class _Found:
    value: str | int
    qualifier: str | None
    as_of: date | None  # the event's own date, when the sentence gives one
    phrase: str


def extract_facts(article: Article, topic: Topic) -> list[Observation]:
    """The topic's facts stated by the article, each with the sentence that states it.

    An off-topic article gives nothing. Per fact, an observation is kept once
    per value; a status fact keeps only the furthest value the article states,
    which is its account of where things stand.
    """
    if not is_relevant(article, topic):
        return []
    published = article.published_date
    sentences = split_sentences(article.text)
    reader = _Reader(topic, published)
    observations: dict[tuple[str, str | int, str | None], Observation] = {}
    for sentence, context in zip(sentences, _contexts(sentences, topic), strict=True):
        if context.elsewhere:
            continue
        targets = reader.target_mentions(sentence.norm, context)
        for fact in topic.facts:
            for found in reader.read(fact, sentence.norm, context, targets):
                if found.as_of and published and found.as_of > published:
                    continue  # an event dated after the report is a plan, not an event
                observation = Observation(
                    key=fact.key,
                    kind=fact.kind,
                    value=found.value,
                    qualifier=found.qualifier,
                    as_of=found.as_of or published,
                    evidence=Evidence(
                        sentence.text, article.url, article.title, published, article.site
                    ),
                    extra={"phrase": found.phrase, "dated": found.as_of is not None},
                )
                ident = (fact.key, found.value, found.qualifier)
                kept = observations.get(ident)
                if kept is None or (found.as_of and not kept.extra["dated"]):
                    observations[ident] = observation
    return _furthest_statuses(list(observations.values()), topic)


def _furthest_statuses(observations: list[Observation], topic: Topic) -> list[Observation]:
    def rank(obs: Observation) -> int:
        return topic.fact(obs.key).value_names.index(str(obs.value))

    furthest: dict[str, int] = {}
    for obs in observations:
        if obs.kind == "status":
            furthest[obs.key] = max(furthest.get(obs.key, -1), rank(obs))
    return [o for o in observations if o.kind != "status" or rank(o) == furthest[o.key]]


class _Reader:
    """Reads one fact from one sentence; holds what every sentence shares."""

    def __init__(self, topic: Topic, published: date | None) -> None:
        self.topic = topic
        self.published = published
        self.targets = [f for f in topic.facts if f.targets is not None]

    def read(
        self, fact: Fact, norm: str, context: Context, targets: list[tuple[int, int, str]]
    ) -> Iterator[_Found]:
        if fact.kind == "date":
            return self._date(fact, norm, context)
        if fact.kind == "quantity":
            return self._quantity(fact, norm, context)
        return self._status(fact, norm, context, targets)

    # dates

    def _date(self, fact: Fact, norm: str, context: Context) -> Iterator[_Found]:
        assert fact.context is not None and fact.before_date is not None
        abouts = [a.start() for a in fact.context.finditer(norm)]
        if not abouts or context.owner(abouts[0]) != fact.subject:
            return
        nouns = [n.start() for n in fact.near_date.finditer(norm)] if fact.near_date else []
        marker = re.compile(rf"(?:{fact.before_date.pattern})\s+(?:the\s+)?$", re.IGNORECASE)
        for d in find_dates(norm, self.published):
            if nouns:
                # A sentence naming the deadline gives it next to the noun; its
                # other dates (when the withdrawal ended, say) are not the deadline.
                if not any(d.start - 25 <= n <= d.end + 25 for n in nouns):
                    continue
            else:
                if not any(abs(a - d.start) <= _DEADLINE_REACH for a in abouts):
                    continue
                found = marker.search(norm[: d.start])
                if not found:
                    continue
                clause = _clause_before(norm, found.start())
                if _GUESS.search(clause) or _PAST_DONE.search(clause):
                    continue  # a guess at when it may end, or when it did: not the deadline
            yield _Found(d.value.isoformat(), d.qualifier, None, norm[d.start : d.end])

    # quantities

    def _quantity(self, fact: Fact, norm: str, context: Context) -> Iterator[_Found]:
        if fact.historical and fact.historical.search(norm):
            return
        for count in find_counts(norm):
            counted = self._counted(fact, norm, count)
            if counted is None:
                continue
            named, unit_end = counted
            owner = named or self._possessor(norm, count.start) or context.owner(count.start)
            if owner != fact.subject or self._moved(fact, norm, count.start, unit_end):
                continue
            if _HEDGE.search(_clause_before(norm, count.start) + _clause_after(norm, unit_end)):
                continue  # "could remain", "will keep": a plan, not a count
            yield _Found(count.value, count.qualifier, None, count.phrase)

    def _counted(self, fact: Fact, norm: str, count: Count) -> tuple[str | None, int] | None:
        """What the number counts: (the actor named with it, where its unit ends).

        None when it counts no troops ("four months", "$100 million"). A count
        of troops present may leave its unit out ("leaving about 600").
        """
        assert fact.units is not None
        pos, named = count.end, None
        for _ in range(5):
            at = pos + len(norm[pos:]) - len(norm[pos:].lstrip(' "'))
            unit = fact.units.match(norm, at)
            if unit:
                return named, unit.end()
            actor = self._actor_at(norm, at)
            word = re.match(r"[\w-]+", norm[at:])
            if actor:
                named, pos = actor
            elif word and word.group().lower() in fact.unit_modifiers:
                pos = at + word.end()
            else:
                break
        before = norm[max(0, count.start - 20) : count.start]
        after = norm[count.end : count.end + 25].lstrip()
        if (
            fact.present_before
            and re.search(rf"(?:{fact.present_before.pattern})\s+$", before, re.I)
        ) or (fact.present_after and fact.present_after.match(after)):
            return named, count.end
        return None

    def _actor_at(self, norm: str, pos: int) -> tuple[str, int] | None:
        for actor in self.topic.actors:
            m = actor.pattern.match(norm, pos)
            if m:
                return actor.name, m.end()
        return None

    def _possessor(self, norm: str, pos: int) -> str | None:
        """The actor owning a count by name right before it ("France's 1,500 ...")."""
        window = norm[max(0, pos - 16) : pos]
        for actor in self.topic.actors:
            if any(
                window[m.end() :].strip() in ("", "'s", "s'")
                for m in actor.pattern.finditer(window)
            ):
                return actor.name
        return None

    @staticmethod
    def _moved(fact: Fact, norm: str, start: int, unit_end: int) -> bool:
        """Whether the count is of troops that left, or a former count."""
        before = _clause_before(norm, start, limit=40)
        if fact.not_present_before:
            moved = list(fact.not_present_before.finditer(before))
            if moved and not _hedged(before, moved[-1].start(), moved[-1].end()):
                return True
        after = norm[unit_end : unit_end + 50]
        after = re.sub(r"^\s*(?:(?:in|from)\s+Niger\s+|already\s+|now\s+)?", "", after)
        return bool(fact.not_present_after and fact.not_present_after.match(after))

    # statuses

    def _status(
        self, fact: Fact, norm: str, context: Context, mentions: list[tuple[int, int, str]]
    ) -> Iterator[_Found]:
        # Cheap tests first: most sentences name neither the target nor the subject.
        if fact.targets is not None:
            if all(key != fact.key for _, _, key in mentions):
                return
        elif context.inherited != fact.subject and all(
            m.actor != fact.subject for m in context.mentions
        ):
            return
        for value in fact.values:
            for cue in value.cues:
                for m in cue.finditer(norm):
                    if not self._status_applies(fact, value.intention, norm, m, context, mentions):
                        continue
                    as_of = (
                        None if value.intention else _event_date(norm, m.start(), self.published)
                    )
                    yield _Found(value.name, None, as_of, m.group())

    def _status_applies(
        self,
        fact: Fact,
        intention: bool,
        norm: str,
        cue: re.Match[str],
        context: Context,
        mentions: list[tuple[int, int, str]],
    ) -> bool:
        if intention:
            if _NEGATION.search(_clause_before(norm, cue.start()) + cue.group()):
                return False
        elif _hedged(norm, cue.start(), cue.end()):
            return False
        after = norm[cue.end() : cue.end() + 25]
        elsewhere = self.topic.elsewhere
        if (
            elsewhere
            and (place := elsewhere.search(after))
            and not self.topic.place.search(after[: place.start()])
        ):
            return False  # "left Chad": the event happened somewhere else
        owner = context.owner(cue.start())
        if fact.targets is not None:
            nearest = _nearest(mentions, cue.start(), cue.end())
            if nearest is None or nearest[2] != fact.key:
                return False
            # A named base or agreement stands for the subject unless someone else acts.
            return owner in (None, fact.subject)
        if fact.yield_to_targets:
            lead = _OBJECT_LEAD.match(norm, cue.end())
            if any(cue.start() <= start <= lead.end() for start, _, _ in mentions):
                return False  # "completed its withdrawal from Air Base 101": the base's
        return owner == fact.subject

    def target_mentions(self, norm: str, context: Context) -> list[tuple[int, int, str]]:
        """Where the sentence names a target; "the base" names the one named just before."""
        found = []
        for fact in self.targets:
            assert fact.targets is not None
            found.extend((m.start(), m.end(), fact.key) for m in fact.targets.finditer(norm))
        if not found and len(context.prior_targets) == 1:
            fact = self.topic.fact(next(iter(context.prior_targets)))
            if fact.anaphora:
                found.extend((m.start(), m.end(), fact.key) for m in fact.anaphora.finditer(norm))
        return found


def _nearest(
    mentions: list[tuple[int, int, str]], start: int, end: int
) -> tuple[int, int, str] | None:
    """The target mention closest to a cue, within reach; ties go to the one after it."""

    def gap(mention: tuple[int, int, str]) -> tuple[int, int]:
        m_start, m_end, _ = mention
        if m_start >= end:
            return (m_start - end, 0)
        if m_end <= start:
            return (start - m_end, 1)
        return (0, 0)

    close = [m for m in mentions if gap(m)[0] <= _TARGET_REACH]
    return min(close, key=gap) if close else None
