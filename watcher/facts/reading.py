"""Reading a topic's facts out of an article, sentence by sentence.

Each sentence becomes tokens (tokens.py); its events are found with their
aspect (clauses.py, scope.py), what governs them (governors.py), who does
them (agents.py) and what to (targets.py); the sentence's reader
(sentence.py) takes the topic's built-in facts from them: the status of the
withdrawal (statuses.py) and of each base and agreement, the deadline
(deadlines.py), the count of the subject's people (counts.py). This module
puts an article's sentences together: which articles are about the story,
one observation per value, and what the article as a whole implies. Every
reading keeps the sentence that states it; ``explain`` says why each
sentence gave what it gave, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watcher.facts.lexicon import (
    CONTINUATIONS,
)
from watcher.facts.names import Named, Party, names_of
from watcher.facts.numbers import Qualifier
from watcher.facts.sentence import SentenceReader, SentenceReading
from watcher.facts.text import normalise, split_sentences
from watcher.facts.tokens import Tag, Token, tokenize
from watcher.facts.topic import FactType, Topic
from watcher.models import Article, Evidence, FactKind, Observation


def is_relevant(article: Article, topic: Topic) -> bool:
    """Whether the article is about the topic's place and names its subject.

    The place must be named at least ``min_place_mentions`` times and more
    often than the places it is confused with (Niger, not Nigeria).
    """
    return off_topic(article, topic) is None


def off_topic(article: Article, topic: Topic) -> str | None:
    """Why the article is not about the story, or None when it is."""
    names = names_of(topic)
    text = normalise(f"{article.title or ''}\n{article.text}")
    if topic.since and article.published_date and article.published_date < topic.since:
        return (
            f"was published {article.published_date.isoformat()}, before the topic's "
            f"since = {topic.since.isoformat()}"
        )
    place = topic.place_names[0]
    here = subject = confused = 0
    if names.may_name_the_place(text):  # most articles do not: no need to read them whole
        confused = len(names.confused.findall(text)) if names.confused else 0
        for m in names.pattern.finditer(text):
            named = names.lookup(m.group(), confused > 0)
            if named is None:
                continue
            if named.party is Party.HOST and (
                named.place or m.group().rstrip("'s") in topic.ambiguous
            ):
                here += 1
            elif named.party is Party.SUBJECT:
                subject += 1
        if names.bases:
            here += len(names.bases.findall(text))
    if here < topic.min_place_mentions:
        return (
            f"names the place ({place}) {here} time(s), fewer than [place] min_mentions = "
            f"{topic.min_place_mentions}"
        )
    if here <= confused:
        return f"names what {place} is confused with ({confused}) as often as {place} ({here})"
    if subject == 0:
        return f"never names the subject ({topic.subject_names[0]})"
    return None


def extract_facts(article: Article, topic: Topic) -> list[Observation]:
    """The topic's facts stated by the article, each with the sentence that states it.

    An off-topic article gives nothing. Per fact, an observation is kept once
    per value; a status fact keeps only the furthest value the article states,
    which is its account of where things stand.
    """
    if not is_relevant(article, topic):
        return []
    return _observations(article, topic, read_sentences(article, topic))


@dataclass
class Explanation:
    """Why an article gave what it gave: for ``watcher extract --explain``."""

    off_topic: str | None  # why the article is not about the story, if it is not
    sentences: list[SentenceReading]
    implied: list[Observation]  # what the article as a whole implies (a count of 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "relevant": self.off_topic is None,
            "off_topic": self.off_topic,
            "sentences": [s.to_json() for s in self.sentences],
            "implied": [o.to_json() for o in self.implied],
        }


def explain(article: Article, topic: Topic) -> Explanation:
    """Whether the article is about the story, and what each sentence gave, and why."""
    sentences = read_sentences(article, topic)
    reason = off_topic(article, topic)
    found = {(f.key, f.value) for s in sentences for f in s.found}
    implied = (
        [
            o
            for o in _observations(article, topic, sentences)
            if (o.key, o.value) not in found and o.extra.get("implied")
        ]
        if reason is None
        else []
    )
    return Explanation(reason, sentences, implied)


def read_sentences(article: Article, topic: Topic) -> list[SentenceReading]:
    names = names_of(topic)
    published = article.published_date
    full = normalise(article.text)
    confused = bool(names.confused and names.confused.search(full))
    carried: Named | None = None
    previous_base: str | None = None
    just_named: str | None = None  # the base the sentence before named, if it named one
    last_left: str | None = None  # the base the article last told the subject left
    named: list[str] = []  # the bases the article has named, in order
    focus: Named | None = None  # the force the article was last about
    readings = []
    for sentence in split_sentences(article.text):
        tokens = tokenize(
            sentence.norm,
            names,
            published,
            confused_article=confused,
            previous_base=previous_base,
            named_bases_before=tuple(named),
        )
        if sentence.new_paragraph and not _continues(tokens):
            carried = None
        reader = SentenceReader(topic, names, tokens, published, carried, sentence.text, focus)
        reading = reader.read(just_named, last_left)
        readings.append(reading)
        left = [
            f.key
            for f in reading.found
            if f.key in topic.bases and f.value in ("handed_over", "withdrawing") and not f.implied
        ]
        last_left = left[-1] if left else last_left
        carried = reader.about or carried
        focus = reader.about or focus
        bases = [t.key for t in tokens if t.tag is Tag.BASE and not t.anaphor]
        named += [key for key in bases if key and key not in named]
        just_named = bases[-1] if bases else None
        previous_base = (
            bases[-1] if bases else (previous_base if not sentence.new_paragraph else None)
        )
    return readings


def _continues(tokens: list[Token]) -> bool:
    first = next((t for t in tokens if t.tag is not Tag.PUNCT), None)
    return first is not None and first.tag is Tag.WORD and first.low in CONTINUATIONS


def _observations(
    article: Article, topic: Topic, readings: list[SentenceReading]
) -> list[Observation]:
    published = article.published_date
    kept: dict[tuple[str, str | int, str | None], Observation] = {}
    newest = {f.value for r in readings for f in r.found if f.replaces}
    count_key = topic.key_of(FactType.TROOP_COUNT)
    over = any(
        f.key == topic.key_of(FactType.WITHDRAWAL) and f.value == "completed" and not f.implied
        for r in readings
        for f in r.found
    )
    for reading in readings:
        for found in reading.found:
            if (
                newest
                and found.key == topic.key_of(FactType.DEADLINE)
                and found.value not in newest
            ):
                continue  # the article names a new deadline: this one is the old
            if found.as_of and published and found.as_of > published:
                continue  # an event dated after the report is a plan, not an event
            if over and found.key == count_key and not found.staying:
                continue  # "withdrawal completed ... some 90 personnel were stationed": before
            observation = Observation(
                key=found.key,
                kind=topic.fact(found.key).kind,
                value=found.value,
                qualifier=found.qualifier,
                as_of=found.as_of or (None if found.undated else published),
                evidence=Evidence(
                    reading.text, article.url, article.title, published, article.site
                ),
                extra={
                    "phrase": found.cue,
                    "dated": found.as_of is not None,
                    **({"upper": found.upper} if found.upper is not None else {}),
                    **({"implied": True} if found.implied else {}),
                },
            )
            ident = (found.key, found.value, found.qualifier)
            earlier = kept.get(ident)
            if (
                earlier is None
                or (earlier.extra.get("implied") and not found.implied)
                or (found.as_of and not earlier.extra["dated"] and not found.implied)
            ):
                kept[ident] = observation
    return _furthest_statuses(_none_left(list(kept.values()), topic), topic)


def _none_left(observations: list[Observation], topic: Topic) -> list[Observation]:
    """A withdrawal completed leaves none of the subject's people, unless the article
    counts some who stay: the count it implies is 0."""
    count_key = topic.key_of(FactType.TROOP_COUNT)
    completed = [
        o
        for o in observations
        if o.key == topic.key_of(FactType.WITHDRAWAL)
        and o.value == "completed"
        and not o.extra.get("implied")
    ]
    if count_key is None or not completed or any(o.key == count_key for o in observations):
        return observations
    done = completed[0]
    none = Observation(
        key=count_key,
        kind=topic.fact(count_key).kind,
        value=0,
        qualifier=Qualifier.EXACT,
        as_of=done.as_of,
        evidence=done.evidence,
        extra={
            "phrase": done.extra.get("phrase", ""),
            "dated": done.extra.get("dated", False),
            "implied": True,
        },
    )
    return [*observations, none]


def _furthest_statuses(observations: list[Observation], topic: Topic) -> list[Observation]:
    def rank(obs: Observation) -> int:
        return topic.fact(obs.key).value_names.index(str(obs.value))

    furthest: dict[str, int] = {}
    for obs in observations:
        if obs.kind == FactKind.STATUS:
            furthest[obs.key] = max(furthest.get(obs.key, -1), rank(obs))
    return [o for o in observations if o.kind != "status" or rank(o) == furthest[o.key]]
