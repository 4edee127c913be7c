"""Reading a topic's facts out of an article, sentence by sentence.

Each sentence becomes tokens (tokens.py), its events are found with their
aspect, force and targets (events.py), and the topic's built-in facts are
read from them: the status of the withdrawal and of each base and
agreement, the deadline, the count of the subject's people. Every reading
keeps the sentence that states it; ``explain`` says why each sentence gave
what it gave, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from watcher.facts.clauses import Aspect, clause_of
from watcher.facts.counts import read_counts
from watcher.facts.dates import DateMatch, Precision
from watcher.facts.events import Event, find_events
from watcher.facts.lexicon import (
    CONTINUATIONS,
    DEADLINE_NOUNS,
    DEADLINE_PREPOSITIONS,
    PEOPLE,
    SUPERSEDED,
    Cue,
    Form,
)
from watcher.facts.names import Named, Names, Party, names_of
from watcher.facts.text import normalise, split_sentences
from watcher.facts.tokens import Tag, Token, is_locative, tokenize
from watcher.facts.topic import FactType, Topic
from watcher.models import Article, Evidence, Observation


@dataclass
class Found:
    """One value read from one sentence, and why."""

    key: str
    value: str | int
    qualifier: str | None
    as_of: date | None  # the event's own date, when the text gives one
    cue: str  # the words it was read from
    why: str
    upper: int | None = None
    implied: bool = False
    undated: bool = False  # an event told in the past with no date: not as of the article
    replaces: bool = False  # "a new deadline of Sept. 11": other deadlines here are older

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "qualifier": self.qualifier,
            "upper": self.upper,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "cue": self.cue,
            "why": self.why,
            "implied": self.implied,
        }


@dataclass
class SentenceReading:
    """What the reader made of one sentence: for ``watcher extract --explain``."""

    text: str
    about: str | None  # the force the sentence is about
    notes: list[str] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "about": self.about,
            "found": [f.to_json() for f in self.found],
            "notes": self.notes,
        }


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
    confused = len(names.confused.findall(text)) if names.confused else 0
    here = subject = 0
    for m in names.pattern.finditer(text):
        named = names.lookup(m.group(), confused > 0)
        if named is None:
            continue
        if named.party is Party.HOST and (named.place or m.group().rstrip("'s") in topic.ambiguous):
            here += 1
        elif named.party is Party.SUBJECT:
            subject += 1
    if names.bases:
        here += len(names.bases.findall(text))
    place = topic.place_names[0]
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
    readings = []
    for sentence in split_sentences(article.text):
        tokens = tokenize(
            sentence.norm,
            names,
            published,
            confused_article=confused,
            previous_base=previous_base,
        )
        if sentence.new_paragraph and not _continues(tokens):
            carried = None
        reader = _SentenceReader(topic, names, tokens, published, carried, sentence.text)
        readings.append(reader.read(just_named))
        carried = reader.about or carried
        bases = [t.key for t in tokens if t.tag is Tag.BASE and not t.anaphor]
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
        qualifier="exact",
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
        if obs.kind == "status":
            furthest[obs.key] = max(furthest.get(obs.key, -1), rank(obs))
    return [o for o in observations if o.kind != "status" or rank(o) == furthest[o.key]]


class _SentenceReader:
    def __init__(
        self,
        topic: Topic,
        names: Names,
        tokens: list[Token],
        published: date | None,
        carried: Named | None,
        text: str,
    ) -> None:
        self.topic = topic
        self.names = names
        self.tokens = tokens
        self.published = published
        self.text = text
        self.question = text.rstrip().rstrip("\"'").endswith("?")
        self.about = _main_force(tokens) or carried
        self.carried = carried
        self.reading = SentenceReading(text, self.about.ident if self.about else None)

    def read(self, just_named: str | None = None) -> SentenceReading:
        if self._elsewhere_only():
            self.reading.notes.append("about another place")
            return self.reading
        events = find_events(
            self.tokens, self.carried if not _main_force(self.tokens) else self.about, self.question
        )
        if just_named is not None:
            self._event_anaphora(events, just_named)
        self._deadlines(events)
        for event in events:
            self._status(event)
        self._at_bases(events)
        self._base_states()
        self._counts(events)
        if self.topic.completed_implies_bases:
            self._implied()
        return self.reading

    # -- where -----------------------------------------------------------------

    def _elsewhere_only(self) -> bool:
        """A sentence naming only other places, and no base of the story."""
        here = elsewhere = False
        for i, token in enumerate(self.tokens):
            if token.tag is Tag.BASE:
                return False
            if token.tag is Tag.NAME and token.named and is_locative(self.tokens, i):
                if token.named.party is Party.HOST:
                    here = True
                else:
                    elsewhere = True
        return elsewhere and not here

    def _note(self, text: str) -> None:
        self.reading.notes.append(text)

    def _add(self, found: Found) -> None:
        self.reading.found.append(found)

    # -- statuses --------------------------------------------------------------

    def _status(self, event: Event) -> None:
        topic = self.topic
        label = f"{event.words!r} ({event.cue.value})"
        aspect = event.aspect
        if aspect in (Aspect.NEGATED, Aspect.PROPOSED):
            self._note(f"{label}: {aspect.value}, {event.reading.why}")
            return
        agent = event.agent
        if event.cue in (Cue.STAY, Cue.MOVE):
            self._presence(event, label)
            return
        if event.agreement is None and event.other_agreement and not self._others_agreement(event):
            keys = list(self.topic.agreements)
            if len(keys) == 1 or event.other_agreement.endswith("s"):
                # "the defence agreements", or "the accord" where the story has one
                for key in keys:
                    event.agreement = key
                    self._agreement(event, label)
                if keys:
                    return
        if event.agreement is not None:
            self._agreement(event, label)
            return
        if event.cue is Cue.TAKE_OVER:
            if agent is None or agent.party is not Party.HOST:
                self._note(f"{label}: taken over by {agent.ident if agent else 'nobody named'}")
                return
        elif (event.bases or event.earlier) and agent is None:
            event.agent, event.agent_why = self._subject(), "a base of the story"
            agent = event.agent
        elif agent is None or agent.party is not Party.SUBJECT:
            presence = topic.key_of(FactType.PRESENCE, agent.ident) if agent else None
            if presence and event.cue is Cue.LEAVE and aspect is Aspect.DONE and event.whole:
                self._add(Found(presence, "withdrawn", None, _day(event.date), event.words, label))
            else:
                self._note(
                    f"{label}: by {agent.ident if agent else 'nobody named'}, not the subject"
                )
            return
        who = agent.ident if agent else "-"
        why = f"{label}: {aspect.value} ({event.reading.why}), by {who} [{event.agent_why}]"
        if event.cue in (Cue.LEAVE, Cue.HAND_OVER, Cue.CLOSE):
            for key in event.earlier:
                self._add(Found(key, "handed_over", None, None, event.words, f"{why}: done before"))
        if self._history(event):
            self._note(f"{why}: long before the article ({event.date.value if event.date else ''})")
            return
        if event.bases:
            value = _base_value(event)
            if value is None:
                self._note(f"{why}: nothing about the base")
                return
            for key, when in event.bases:
                as_of = _day(when or event.date) if value != "withdrawing" else None
                self._add(
                    Found(
                        key,
                        value,
                        None,
                        as_of,
                        event.words,
                        why,
                        undated=as_of is None and _told_in_the_past(event),
                    )
                )
            self._under_way(event, why)
            return
        if event.elsewhere and not event.here:
            self._note(f"{why}: elsewhere")
            return
        if event.facility and _base_value(event):
            self._under_way(event, why)
            return
        if event.facility or event.other_agreement:
            thing = "site" if event.facility else "agreement"
            self._note(f"{why}: done to a {thing} the topic does not track")
            return
        key = topic.key_of(FactType.WITHDRAWAL)
        value = _process_value(event)
        if key is None or value is None:
            self._note(f"{why}: says nothing of the withdrawal")
            return
        as_of = _day(event.date) if value == "completed" else None
        undated = value == "completed" and as_of is None and _told_in_the_past(event)
        self._add(Found(key, value, None, as_of, event.words, why, undated=undated))

    def _event_anaphora(self, events: list[Event], base: str) -> None:
        """ "...left Tessalit camp. The pullout was completed on Sunday": a definite
        noun for the event, in a sentence that names no base or place, is the base's."""
        if any(t.tag is Tag.BASE for t in self.tokens):
            return
        for event in events:
            token = self.tokens[event.index]
            before = self.tokens[event.index - 1] if event.index > 0 else None
            definite = before is not None and (
                before.is_word("the", "its", "their", "this")
                or (before.tag is Tag.NAME and before.named and before.named.force)
            )
            if (
                definite
                and event.aspect is Aspect.DONE  # "was completed", "took place"; not "is under way"
                and any(lx.form is Form.NOUN for lx in token.lexemes)
                and event.cue in (Cue.LEAVE, Cue.HAND_OVER)
                and not (event.bases or event.here or event.elsewhere or event.facility)
            ):
                event.bases.append((base, None))

    def _at_bases(self, events: list[Event]) -> None:
        """ "US troops are mainly at Air Base 201", "has 1,000 personnel at two bases,
        including Air Base 201": the subject is at the base, and nothing moves."""
        tokens = self.tokens
        for index, token in enumerate(tokens):
            if token.tag is not Tag.BASE or token.key is None or token.anaphor or index == 0:
                continue
            if not tokens[index - 1].is_word("at", "including"):
                continue
            clause = clause_of(tokens, index)
            start = clause.start
            if tokens[index - 1].is_word("including") and start > 0:
                start = clause_of(tokens, start - 2).start
            if any(token.key in [k for k, _ in e.bases] for e in events):
                continue
            words = {t.low for t in tokens[start : clause.end] if t.tag is Tag.WORD}
            if not words & {"is", "are", "has", "have", "remain", "remains"}:
                continue
            if words & {"was", "were", "had", "not", "no", "never", "once", "previously"}:
                continue
            forces = [
                t.named
                for j, t in enumerate(tokens[start : clause.end], start=start)
                if t.tag is Tag.NAME and t.named and t.named.force and not is_locative(tokens, j)
            ]
            if forces and all(f.party is Party.SUBJECT for f in forces):
                self._add(
                    Found(token.key, "operating", None, None, token.text, "the subject is there")
                )

    def _base_states(self) -> None:
        """ "the camp was empty", "now under the full control of Iraqi forces", "the
        former US base at Gossi": said of a base, the subject has left it."""
        tokens = self.tokens
        for index, token in enumerate(tokens):
            if token.tag is not Tag.BASE or token.key is None:
                continue
            before = tokens[max(0, index - 3) : index]
            if any(t.is_word("former") for t in before) and not any(
                t.tag is Tag.NAME and t.named and t.named.party is Party.OTHER for t in before
            ):
                self._add(Found(token.key, "handed_over", None, None, token.text, "a former base"))
                continue
            clause = clause_of(tokens, index)
            after = tokens[index + 1 : clause.end]
            words = [t.low for t in after if t.tag is Tag.WORD]
            if not words or words[0] not in ("is", "was", "are", "were", "now", "has", "have"):
                continue
            if any(w in ("not", "no", "never", "will", "would", "could") for w in words[:4]):
                continue
            state = next((w for w in words[:5] if w in _LEFT_STATES), None)
            if state is None and "control" in words[:8]:
                hosts = [t for t in after if t.tag is Tag.NAME and t.named]
                if hosts and all(t.named and t.named.party is Party.HOST for t in hosts):
                    state = "under the host's control"
            if state is not None:
                self._add(Found(token.key, "handed_over", None, None, token.text, f"now {state}"))

    def _subject(self) -> Named:
        return Named(self.topic.subject, Party.SUBJECT, place=False, force=True)

    def _presence(self, event: Event, label: str) -> None:
        """Where a force is: the subject operating from a base, another force present."""
        agent = event.agent
        if agent is None or event.aspect is Aspect.NEGATED:
            return
        if event.elsewhere and not event.here and not event.bases:
            return
        if (
            event.cue is Cue.STAY
            and agent.party is Party.SUBJECT
            and event.bases
            and event.aspect in (Aspect.PLANNED, Aspect.DECIDED)
        ):
            # "will remain at Kabul airport until September": there now, and staying.
            for key, _ in event.bases:
                self._add(Found(key, "operating", None, None, event.words, f"{label}: stays"))
            return
        if event.aspect not in (Aspect.DONE, Aspect.ONGOING):
            return
        present_tense = self.tokens[event.index].lexemes and event.reading.why in (
            "present",
            "progressive",
        )
        if (
            agent.party is Party.SUBJECT
            and event.bases
            and (event.cue is Cue.STAY or (event.cue is Cue.MOVE and present_tense))
        ):
            for key, _ in event.bases:
                self._add(
                    Found(
                        key, "operating", None, None, event.words, f"{label}: {agent.ident} there"
                    )
                )
            return
        presence = self.topic.key_of(FactType.PRESENCE, agent.ident)
        if presence and (event.here or event.bases or not event.elsewhere):
            self._add(
                Found(presence, "present", None, None, event.words, f"{label}: {agent.ident} there")
            )

    def _history(self, event: Event) -> bool:
        """An event dated more than a year before the article is history, not news."""
        dates = [event.date, *(when for _, when in event.bases)]
        return self.published is not None and any(
            d is not None and (self.published - d.value).days > 365 for d in dates
        )

    def _under_way(self, event: Event, why: str) -> None:
        """Leaving a base is the withdrawal begun: under way, if not yet complete."""
        key = self.topic.key_of(FactType.WITHDRAWAL)
        if (
            key
            and event.cue in (Cue.LEAVE, Cue.HAND_OVER, Cue.CLOSE)
            and event.aspect
            in (
                Aspect.DONE,
                Aspect.ONGOING,
            )
        ):
            self._add(Found(key, "in_progress", None, None, event.words, f"{why}: a base left"))

    def _others_agreement(self, event: Event) -> bool:
        """ "denounced military agreements with Paris": another force's agreement."""
        return any(
            t.tag is Tag.NAME and t.named is not None and t.named.party is Party.OTHER
            for t in self.tokens[event.index : event.index + 10]
        )

    def _agreement(self, event: Event, label: str) -> None:
        if event.aspect not in (Aspect.DONE, Aspect.DECIDED, Aspect.ONGOING):
            self._note(f"{label}: {event.aspect.value}, the agreement stands")
            return
        value = {Cue.END: "ended", Cue.SUSPEND: "suspended", Cue.LEAVE: "ended"}.get(event.cue)
        if value is None or event.agreement is None:
            return
        self._add(Found(event.agreement, value, None, _day(event.date), event.words, label))

    def _implied(self) -> None:
        completed = [f for f in self.reading.found if f.value == "completed" and not f.implied]
        if not completed:
            return
        for key in self.topic.bases:
            self._add(
                Found(
                    key,
                    "handed_over",
                    None,
                    completed[0].as_of,
                    completed[0].cue,
                    "implied by the completed withdrawal",
                    implied=True,
                )
            )

    # -- deadlines -------------------------------------------------------------

    def _deadlines(self, events: list[Event]) -> None:
        key = self.topic.key_of(FactType.DEADLINE)
        if key is None:
            return
        tokens = self.tokens
        for i, token in enumerate(tokens):
            if token.tag is not Tag.DATE or token.date is None or token.date.weekday:
                continue
            if token.date.precision is Precision.YEAR:
                continue  # "by 2026": a year is no date to count down to
            marker = _deadline_marker(tokens, i) or _planned_end(tokens, i, events)
            if marker is None:
                self._note(f"{token.text!r}: no word makes it the end of the withdrawal")
                continue
            clause = clause_of(tokens, i)
            window = " ".join(t.low for t in tokens[max(0, clause.start - 1) : i])
            superseded = next((w for w in SUPERSEDED if f" {w} " in f" {window} "), None)
            if superseded or _extended_from(tokens, i):
                self._note(f"{token.text!r}: a former deadline ({superseded or 'extended from'})")
                continue
            event = _event_for_date(events, tokens, i)
            if event is None:
                if marker not in DEADLINE_NOUNS or not self._subject_withdrawal_in_sentence(events):
                    self._note(f"{token.text!r} after {marker!r}: not the end of the withdrawal")
                    continue
            elif event.aspect is Aspect.NEGATED and marker != "not until":
                self._note(f"{token.text!r}: {event.aspect.value} ({event.reading.why})")
                continue
            elif event.aspect is Aspect.PROPOSED and marker not in DEADLINE_NOUNS:
                # "would stay until Biden's September 11 deadline": the plan is in
                # doubt, the deadline it names is not.
                self._note(f"{token.text!r}: {event.aspect.value} ({event.reading.why})")
                continue
            elif (
                event.aspect is Aspect.DONE
                and marker not in DEADLINE_NOUNS
                and marker not in ("not until", "date")
                and event.cue is not Cue.EXTEND
            ):
                self._note(f"{token.text!r}: when it was done, not a deadline")
                continue
            elif event.agent is None or event.agent.party is not Party.SUBJECT:
                who = event.agent.ident if event.agent else "nobody named"
                self._note(f"{token.text!r}: the deadline of {who}, not of the subject")
                continue
            if event is not None and (event.elsewhere and not event.here):
                continue
            if event is not None:
                event.deadline = True
            value, qualifier = _date_value(token.date)
            replaces = next((w for w in _REPLACING if f" {w} " in f" {window} "), None)
            why = f"deadline: {marker!r}" + (f", {replaces!r}" if replaces else "")
            self._add(Found(key, value, qualifier, None, token.text, why, replaces=bool(replaces)))

    def _subject_withdrawal_in_sentence(self, events: list[Event]) -> bool:
        return any(
            e.agent is not None and e.agent.party is Party.SUBJECT and e.cue in (Cue.LEAVE, Cue.END)
            for e in events
        ) or (
            self.about is not None
            and self.about.party is Party.SUBJECT
            and any(
                t.is_word("withdrawal", "pullout", "exit", "departure", "drawdown", "leave", "out")
                for t in self.tokens
            )
        )

    # -- counts ----------------------------------------------------------------

    def _counts(self, events: list[Event]) -> None:
        key = self.topic.key_of(FactType.TROOP_COUNT)
        if key is None:
            return
        people = PEOPLE | {p.lower() for p in self.topic.people}
        for reading in read_counts(self.tokens, events, people, self.about):
            if not reading.present:
                self._note(f"{reading.phrase!r}: {reading.why}")
                continue
            count = reading.count
            self._add(
                Found(
                    key,
                    count.value,
                    count.qualifier.value,
                    None,
                    reading.phrase,
                    reading.why,
                    upper=count.upper,
                )
            )


# What a base is once the force has gone.
_LEFT_STATES = frozenset({"empty", "abandoned", "vacated", "deserted", "unoccupied", "evacuated"})
_PREPOSITIONS = frozenset({"to", "from", "with", "by", "for", "against", "than", "between", "into"})


def _main_force(tokens: list[Token]) -> Named | None:
    """The first force a sentence names as a force (not as a place, not after a
    preposition), preferring the subject."""
    forces = [
        t.named
        for i, t in enumerate(tokens)
        if t.tag is Tag.NAME
        and t.named
        and t.named.force
        and not is_locative(tokens, i)
        and t.named.party is not Party.HOST
        and not (i > 0 and tokens[i - 1].tag is Tag.WORD and tokens[i - 1].low in _PREPOSITIONS)
    ]
    if not forces:
        return None
    subject = next((f for f in forces if f.party is Party.SUBJECT), None)
    if subject is not None and len({f.ident for f in forces}) == 1:
        return subject
    return forces[0]


def _base_value(event: Event) -> str | None:
    if event.aspect is Aspect.DONE and event.cue in (
        Cue.LEAVE,
        Cue.HAND_OVER,
        Cue.TAKE_OVER,
        Cue.CLOSE,
        Cue.END,
    ):
        partly = event.partial and not event.whole and event.cue is Cue.LEAVE
        return "withdrawing" if partly else "handed_over"
    if event.aspect is Aspect.ONGOING:
        return "withdrawing"
    return None


def _process_value(event: Event) -> str | None:
    aspect = event.aspect
    if event.cue not in (Cue.LEAVE, Cue.END):
        return None
    if event.mission:
        return "agreed" if aspect in (Aspect.DONE, Aspect.DECIDED) else None
    if aspect is Aspect.DONE:
        if event.whole:
            return "completed"
        if event.partial:
            return "in_progress"
        if event.here and event.cue is Cue.LEAVE and not event.process:
            # A headline's present ("Wagner withdraws from Mali") tells of a withdrawal
            # going on; the past ("left Mali") of one that is over.
            return "in_progress" if event.reading.why == "present" else "completed"
        if event.cue is Cue.END and event.process:
            return "completed"
        return None
    if aspect is Aspect.ONGOING:
        return "in_progress"
    if aspect is Aspect.DECIDED:
        return "agreed"
    if aspect is Aspect.PLANNED and (event.deadline or event.whole or _firmly_from(event)):
        return "agreed"  # "plans to withdraw all its forces by September 11"
    return None


def _firmly_from(event: Event) -> bool:
    """ "The United States will withdraw its troops from Chad": a firm future of
    leaving the place itself."""
    partly = event.partial and not event.counted  # a number may be the whole force
    return event.here and not partly and event.reading.why in ("future: 'will'", "future: 'shall'")


def _told_in_the_past(event: Event) -> bool:
    """ "which US forces left", "was handed over": a past event, not today's news
    (the perfect and the present are)."""
    return event.reading.why in ("past", "passive")


def _day(match: DateMatch | None) -> date | None:
    """The day an event is dated to; "in early July" counts (as July 5), a year does not."""
    return match.value if match and match.precision is not Precision.YEAR else None


def _date_value(match: DateMatch) -> tuple[str, str]:
    return match.value.isoformat(), match.precision.value


# Words that make a deadline the one replacing any other the article names.
_REPLACING = ("new", "revised", "extended", "updated", "later", "moved to", "pushed back to")


def _deadline_marker(tokens: list[Token], index: int) -> str | None:
    """The word that makes a date an end point: "deadline", "by", "before"."""
    if (
        index + 1 < len(tokens)
        and tokens[index + 1].tag is Tag.WORD
        and tokens[index + 1].low
        in (
            "withdrawal",
            "departure",
            "exit",
            "pullout",
            "drawdown",
        )
    ):
        nxt = tokens[index + 2] if index + 2 < len(tokens) else None
        if nxt is None or not (nxt.tag is Tag.WORD and nxt.low in DEADLINE_NOUNS):
            return "date"  # "Biden's announced Sept. 11 departure"
    if (
        index > 0
        and tokens[index - 1].is_word("until", "till")
        and index + 2 < len(tokens)
        and tokens[index + 1].is_word("to")
        and any(lx.cue is Cue.LEAVE for lx in tokens[index + 2].lexemes)
    ):
        return "until ... to leave"  # "gave US forces until May 15 to leave"
    if index > 0 and tokens[index - 1].is_word("until", "till"):
        clause = clause_of(tokens, index)
        words = {t.low for t in tokens[clause.start : index] if t.tag is Tag.WORD}
        if words & {"not", "n't"} and words & {"complete", "completed", "over", "finished", "done"}:
            return "not until"  # "will not be complete until the end of August"
    after = index + 1
    while after < len(tokens) and tokens[after].is_word(
        "withdrawal", "exit", "pullout", "departure"
    ):
        after += 1
    if (
        after < len(tokens)
        and tokens[after].tag is Tag.WORD
        and tokens[after].low in DEADLINE_NOUNS
    ):
        return tokens[after].low
    j = index - 1
    while j >= 0 and tokens[j].is_word("the", "a", "its", "this", "an", "mid", "early", "late"):
        j -= 1
    if j >= 0 and tokens[j].tag is Tag.WORD:
        two = f"{tokens[j - 1].low} {tokens[j].low}" if j > 0 else ""
        three = f"{tokens[j - 2].low} {two}" if j > 1 else ""
        for phrase in (three, two, tokens[j].low):
            if phrase and phrase in DEADLINE_PREPOSITIONS:
                return phrase
            if phrase and phrase.split()[-1] in DEADLINE_NOUNS:
                return phrase.split()[-1]
        if tokens[j].is_word("to") and _extended_from(tokens, _date_before(tokens, j)):
            return "extended to"  # "from August 31 to September 15"
        if (
            tokens[j].is_word("to", "until")
            and j > 0
            and any(
                tokens[k].is_word(
                    "extended", "extend", "extends", "postponed", "pushed", "moved", "delayed"
                )
                for k in range(max(0, j - 4), j)
            )
        ):
            return "extended to"
        if tokens[j].is_word("of", "for", "is", "was", "at", "on", ":") and j > 0:
            k = j - 1
            while k >= 0 and tokens[k].is_word("set", "been", "has", "the", "new", "a"):
                k -= 1
            if k >= 0 and tokens[k].tag is Tag.WORD and tokens[k].low in DEADLINE_NOUNS:
                return tokens[k].low
    return None


def _planned_end(tokens: list[Token], index: int, events: list[Event]) -> str | None:
    """ "are expected to leave Mali in August": when the whole withdrawal is planned
    to be over is its deadline."""
    if index == 0 or not tokens[index - 1].is_word("in", "on"):
        return None
    before = [e for e in events if e.index < index and index - e.index <= 6]
    if not before:
        return None
    event = before[-1]
    if event.cue is not Cue.LEAVE or event.partial or event.bases:
        return None
    if event.aspect in (Aspect.PLANNED, Aspect.DECIDED) and event.here:
        return "planned end"
    if event.aspect in (Aspect.NAMED, Aspect.DECIDED) and event.whole and not event.elsewhere:
        return "the whole withdrawal"  # "leading to a full withdrawal in September 2026"
    return None


def _date_before(tokens: list[Token], index: int) -> int:
    """The date just before ``index`` ("from [August 31] to"), or -1."""
    j = index - 1
    return j if j >= 0 and tokens[j].tag is Tag.DATE else -1


def _extended_from(tokens: list[Token], index: int) -> bool:
    """ "extended from May 1 to September 11": the first date is the old one."""
    return (
        index > 0
        and tokens[index - 1].is_word("from")
        and any(t.is_word("to", "until") for t in tokens[index + 1 : index + 3])
    )


def _event_for_date(events: list[Event], tokens: list[Token], index: int) -> Event | None:
    """The event a date belongs to: the nearest before it in its clause, else after."""
    clause = clause_of(tokens, index)
    before = [e for e in events if e.index < index and e.index >= clause.start - 6]
    if before:
        return before[-1]
    after = [e for e in events if e.index > index and e.index < clause.end + 6]
    return after[0] if after else None
