"""One sentence read: the statuses, counts and deadlines its events state,
with the words that decided each and why the others gave nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from watcher.facts.clauses import Aspect, aspect_of, clause_of
from watcher.facts.counts import read_counts
from watcher.facts.dates import DateMatch, Precision
from watcher.facts.deadlines import read_deadlines
from watcher.facts.events import Event, find_events
from watcher.facts.lexicon import (
    DENIALS,
    FORCE_NOUNS,
    MODALS,
    NEGATIONS,
    PEOPLE,
    Cue,
    Form,
)
from watcher.facts.names import Named, Names, Party
from watcher.facts.statuses import base_value, process_value, told_in_the_past
from watcher.facts.tokens import Tag, Token, is_locative
from watcher.facts.topic import FactType, Topic


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
    staying: bool = False  # a count of people said to remain ("about 20 remain")

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


class SentenceReader:
    def __init__(
        self,
        topic: Topic,
        names: Names,
        tokens: list[Token],
        published: date | None,
        carried: Named | None,
        text: str,
        focus: Named | None = None,
    ) -> None:
        self.topic = topic
        self.focus = focus  # the force the article was last about, past paragraph breaks
        self.names = names
        self.tokens = tokens
        self.published = published
        self.text = text
        self.question = text.rstrip().rstrip("\"'").endswith("?")
        self.about = _main_force(tokens) or carried
        self.carried = carried
        self.reading = SentenceReading(text, self.about.ident if self.about else None)

    def read(self, just_named: str | None = None, last_left: str | None = None) -> SentenceReading:
        """``just_named``: the base the sentence before named; ``last_left``: the base
        the article last told the subject left."""
        if self._elsewhere_only():
            self.reading.notes.append("about another place")
            return self.reading
        events = find_events(
            self.tokens, self.carried if not _main_force(self.tokens) else self.about, self.question
        )
        self._event_anaphora(events, just_named, last_left)
        for event in events:
            self._attribute(event)
        self._deadlines(events)
        for event in events:
            self._status(event)
        self._final_extension()
        self._not_renewed()
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
            if token.tag is Tag.NAME and token.named and token.named.party is Party.HOST:
                here = True  # "Kyrgyzstan, a member of the Moscow-led alliance, declined"
            elif token.tag is Tag.NAME and token.named and is_locative(self.tokens, i):
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
            if aspect is Aspect.NEGATED:
                self._not_yet_left(event, label)
                self._none_remain(event, label)
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
                self._add(
                    Found(
                        presence,
                        "withdrawn",
                        None,
                        _day(event.date, self.published),
                        event.words,
                        label,
                    )
                )
            else:
                self._note(
                    f"{label}: by {agent.ident if agent else 'nobody named'}, not the subject"
                )
            return
        if event.cue is Cue.LEAVE and not event.bases and aspect is Aspect.DONE:
            at = self._base_of_the_ones_leaving(event)
            if at is not None:
                # "Indian military personnel, who have been operating helicopters in
                # Addu, have left the country": those of that base left it
                event.bases.append((at, None))
        who = agent.ident if agent else "-"
        why = f"{label}: {aspect.value} ({event.reading.why}), by {who} [{event.agent_why}]"
        if event.cue in (Cue.LEAVE, Cue.HAND_OVER, Cue.CLOSE):
            for base in event.earlier:
                self._add(
                    Found(base, "handed_over", None, None, event.words, f"{why}: done before")
                )
        if event.aspect is Aspect.ONGOING and not event.bases and event.cue is Cue.LEAVE:
            # "has begun withdrawing from its camps, starting with Tessalit and Aguelhok",
            # "the withdrawal began with the departure of the first convoy from Ain al-Asad"
            event.bases += [(key, None) for key in self._begun_with(event)]
        if self._history(event):
            self._note(f"{why}: long before the article ({event.date.value if event.date else ''})")
            return
        if event.bases:
            state = base_value(event)
            if state is None:
                self._note(f"{why}: nothing about the base")
                return
            for key, when in event.bases:
                as_of = _day(when or event.date, self.published) if state != "withdrawing" else None
                self._add(
                    Found(
                        key,
                        state,
                        None,
                        as_of,
                        event.words,
                        why,
                        undated=as_of is None and told_in_the_past(event),
                    )
                )
            self._under_way(event, why)
            return
        if event.elsewhere and not event.here:
            self._note(f"{why}: elsewhere")
            return
        if event.facility and base_value(event):
            self._under_way(event, why)
            return
        if event.facility or event.other_agreement:
            thing = "site" if event.facility else "agreement"
            self._note(f"{why}: done to a {thing} the topic does not track")
            return
        withdrawal = topic.key_of(FactType.WITHDRAWAL)
        status = process_value(event)
        if withdrawal is None or status is None:
            self._note(f"{why}: says nothing of the withdrawal")
            return
        as_of = _day(event.date, self.published) if status == "completed" else None
        undated = status == "completed" and as_of is None and told_in_the_past(event)
        self._add(Found(withdrawal, status, None, as_of, event.words, why, undated=undated))

    def _attribute(self, event: Event) -> None:
        """ "...A new paragraph. The second part of the pullout began in September":
        a departure no sentence near it attributes is the one the article is about."""
        if (
            event.agent is None
            and not event.agent_why  # nor a thing as its subject: "the plane departed"
            and event.cue in (Cue.LEAVE, Cue.HAND_OVER)
            and any(lx.form is Form.NOUN for lx in self.tokens[event.index].lexemes)
            and self.focus is not None
            and self.focus.party is Party.SUBJECT
        ):
            event.agent, event.agent_why = self.focus, "the article's"

    def _base_of_the_ones_leaving(self, event: Event) -> str | None:
        """The base a relative clause on the subject names ("personnel, who have been
        operating helicopters in Addu, have left"), by its name or its town."""
        tokens = self.tokens
        start = next(
            (k for k in range(event.index - 1, -1, -1) if tokens[k].is_word("who", "which")), None
        )
        if start is None or start == 0 or tokens[start - 1].text != ",":
            return None
        words = " " + " ".join(t.low for t in tokens[start : event.index]) + " "
        for key, own in self.names.own_names.items():
            if any(f" {name} " in words for name in own):
                return key
        return None

    def _not_renewed(self) -> None:
        """ "declined to extend the U.S. lease of the base", "decided not to renew the
        agreement": an agreement its party will not renew is ended."""
        for index, token in enumerate(self.tokens):
            if not token.is_word(*_RENEWING):
                continue
            before = {t.low for t in self.tokens[max(0, index - 4) : index] if t.tag is Tag.WORD}
            if not before & _REFUSING:
                continue
            agreement = next(
                (t for t in self.tokens[index + 1 : index + 8] if t.tag is Tag.AGREEMENT), None
            )
            if agreement is not None and agreement.key is not None:
                self._add(Found(agreement.key, "ended", None, None, token.text, "not renewed"))

    def _final_extension(self) -> None:
        """ "extended the mandate of UNMIL for a final period until 30 March 2018": a
        mission given its last extension is one whose end is decided."""
        key = self.topic.key_of(FactType.WITHDRAWAL)
        if key is None or self.about is None or self.about.party is not Party.SUBJECT:
            return
        for index, token in enumerate(self.tokens):
            extend = next(
                (lx for lx in token.lexemes if lx.cue is Cue.EXTEND and lx.form is not Form.NOUN),
                None,
            )
            if extend is None:
                continue
            words = {t.low for t in self.tokens[index:] if t.tag is Tag.WORD}
            if not (words & {"final", "last"} and words & _MANDATES):
                continue
            reading = aspect_of(self.tokens, index, extend.form, self.question)
            if reading.aspect in (Aspect.DONE, Aspect.DECIDED):
                self._add(Found(key, "agreed", None, None, token.text, "a final extension"))
                return

    def _begun_with(self, event: Event) -> list[str]:
        """The bases a withdrawal under way began with: after "starting with",
        "beginning with" or "with", later in the sentence."""
        tokens = self.tokens
        for k in range(event.index + 1, len(tokens)):
            if not tokens[k].is_word("with"):
                continue
            keys: list[str] = []
            for t in tokens[k + 1 : k + 14]:
                if t.tag is Tag.BASE:
                    keys += [key for key in t.base_keys if key not in keys]
                elif t.text in (".", ";") or (t.tag is Tag.WORD and t.low in ("but", "while")):
                    break
            return keys
        return []

    def _not_yet_left(self, event: Event, label: str) -> None:
        """ "has yet to close the sites in Gao and Timbuktu", "have not yet left Air
        Base 201": the subject is still at the base."""
        if event.cue not in (Cue.LEAVE, Cue.CLOSE, Cue.HAND_OVER) or not event.bases:
            return
        if event.agent is not None and event.agent.party is not Party.SUBJECT:
            return
        clause = clause_of(self.tokens, event.index)
        if not any(t.is_word("yet", "still") for t in self.tokens[clause.start : event.index]):
            return
        for key, _ in event.bases:
            self._add(Found(key, "operating", None, None, event.words, f"{label}: not yet"))

    def _none_remain(self, event: Event, label: str) -> None:
        """ "No US troops remain in Niger", "none of the French soldiers remain in
        Mali": none of the subject's people are left in the place, now."""
        agent = event.agent
        if event.cue is not Cue.STAY or agent is None or agent.party is not Party.SUBJECT:
            return
        if (
            not event.here
            or event.bases
            or self.tokens[event.index].low not in ("remain", "remains")
        ):
            return
        clause = clause_of(self.tokens, event.index)
        before = self.tokens[clause.start : event.index]
        nobody = next((k for k, t in enumerate(before) if t.is_word("no", "none")), None)
        if nobody is None or any(t.is_word("of") for t in before[nobody + 2 :]):
            return  # "No member of the Plus Ultra brigade remains": one unit, not the force
        if any(t.low in MODALS for t in before):
            return  # "No troops will remain after September": a plan
        withdrawal = self.topic.key_of(FactType.WITHDRAWAL)
        if withdrawal is not None:
            as_of = _day(event.date, self.published)
            self._add(
                Found(withdrawal, "completed", None, as_of, event.words, f"{label}: none remain")
            )

    def _event_anaphora(
        self, events: list[Event], just_named: str | None, last_left: str | None
    ) -> None:
        """ "...left Tessalit camp. The pullout was completed on Sunday": a definite
        noun for the event, in a sentence that names no base or place, is the base's.
        So is a departure told with a verb right after the base ("...completed their
        withdrawal from Ain al-Asad. All personnel have now departed"): the smaller
        claim, where the larger would be the whole withdrawal completed."""
        anaphors = [t.key for t in self.tokens if t.tag is Tag.BASE and t.anaphor and t.key]
        if any(t.tag is Tag.BASE and not t.anaphor for t in self.tokens):
            return
        if anaphors:
            # "The U.S. exit was completed quickly enough that looters got into the
            # base": the base the sentence refers back to
            just_named, last_left = anaphors[0], None
        for event in events:
            token = self.tokens[event.index]
            before = self.tokens[event.index - 1] if event.index > 0 else None
            noun = any(lx.form is Form.NOUN for lx in token.lexemes)
            definite = before is not None and (
                before.is_word("the", "its", "their", "this")
                or (before.tag is Tag.NAME and before.named and before.named.force)
            )
            base = (just_named or last_left) if noun and definite else None
            if not noun and event.cue is Cue.LEAVE and event.agent is not None:
                # "All US troops had left by Thursday night", some sentences after the
                # base's handover: the whole of them, from that base
                base = just_named or (last_left if event.whole else None)
            if (
                base is not None
                and event.aspect is Aspect.DONE  # "was completed", "took place"; not "is under way"
                and event.cue in (Cue.LEAVE, Cue.HAND_OVER)
                and not (event.bases or event.here or event.elsewhere or event.facility)
            ):
                event.bases.append((base, None))

    def _at_bases(self, events: list[Event]) -> None:
        """ "US troops are mainly at Air Base 201", "has 1,000 personnel at two bases,
        including Air Base 201": the subject is at the base, and nothing moves."""
        tokens = self.tokens
        for index, token in enumerate(tokens):
            if token.tag is not Tag.BASE or token.key is None or token.anaphor:
                continue
            if self._home_to_subject(index):
                self._add(Found(token.key, "operating", None, None, token.text, "home to it"))
                continue
            if index == 0 or not tokens[index - 1].is_word("at", "including"):
                continue
            clause = clause_of(tokens, index)
            start = clause.start
            if tokens[index - 1].is_word("including") and start > 0:
                start = clause_of(tokens, start - 2).start
            if any(
                token.key in [k for k, _ in e.bases] and e.aspect in (Aspect.DONE, Aspect.ONGOING)
                for e in events
            ):
                continue  # something happens to the base: the event says what; what is
                # to happen to it ("which will be the last to close") does not yet
            words = {t.low for t in tokens[start : clause.end] if t.tag is Tag.WORD}
            caption = tokens[-1].text not in (".", "!", "?")  # "US marines at Kabul airport"
            if not (words & {"is", "are", "has", "have", "remain", "remains"} or caption):
                continue
            if words & {"was", "were", "had", "not", "no", "never", "once", "previously"}:
                continue
            forces = [
                t.named
                for j, t in enumerate(tokens[start:index], start=start)
                if t.tag is Tag.NAME and t.named and t.named.force and not is_locative(tokens, j)
            ]
            if forces and forces[-1].party is Party.SUBJECT:  # the force nearest before
                self._add(
                    Found(token.key, "operating", None, None, token.text, "the subject is there")
                )

    def _home_to_subject(self, index: int) -> bool:
        """ "Air Base 201 is home to most of the US contingent": the subject is there."""
        after = self.tokens[index + 1 : index + 9]
        lows = [t.low for t in after]
        if lows[:3] not in (["is", "home", "to"], ["remains", "home", "to"]):
            return False
        return any(
            t.tag is Tag.NAME and t.named is not None and t.named.party is Party.SUBJECT
            for t in after[3:]
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
            while words and words[0] in _SITE_WORDS:
                words.pop(0)  # "Ain al-Asad [Air Base] is now..."
            if not words or words[0] not in _STATE_VERBS:
                continue
            to_come = words[0] in ("is", "are", "was", "were") and words[1:2] in (["to"], ["due"])
            if to_come or any(w in _NOT_NOW for w in words[:4]):
                continue  # "is not", "will be", "is to be handed over": not the state now
            state = next((w for w in words[:5] if w in _LEFT_STATES), None)
            controlled = (
                index >= 2
                and tokens[index - 2].is_word("control")
                and tokens[index - 1].is_word("of")
            )  # "Control of the base passed to the Nigerien army"
            if state is None and ("control" in words[:8] or "hands" in words[:6] or controlled):
                hosts = [t for t in after if t.tag is Tag.NAME and t.named]
                if hosts and all(t.named and t.named.party is Party.HOST for t in hosts):
                    state = "under the host's control"
            if state is not None:
                for base in token.base_keys:
                    self._add(Found(base, "handed_over", None, None, token.text, f"now {state}"))

    def _subject(self) -> Named:
        return self.names.subject

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
        if self.tokens[event.index].is_word("expires", "expire"):
            # "when its lease expires", "expires in July": the end it is due to come to
            self._note(f"{label}: a term that runs out, the agreement stands")
            return
        value = {Cue.END: "ended", Cue.SUSPEND: "suspended", Cue.LEAVE: "ended"}.get(event.cue)
        if value is None or event.agreement is None:
            return
        self._add(
            Found(
                event.agreement, value, None, _day(event.date, self.published), event.words, label
            )
        )

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
        found, notes = read_deadlines(
            self.tokens, events, self._subject_withdrawal_in_sentence(events), self.published
        )
        self.reading.notes.extend(notes)
        for d in found:
            self._add(Found(key, d.value, d.qualifier, None, d.phrase, d.why, replaces=d.replaces))

    def _subject_withdrawal_in_sentence(self, events: list[Event]) -> bool:
        return any(
            e.agent is not None and e.agent.party is Party.SUBJECT and e.cue in (Cue.LEAVE, Cue.END)
            for e in events
        ) or (
            self.about is not None
            and self.about.party is Party.SUBJECT
            and any(t.is_word(*_ITS_WORDS) for t in self.tokens)
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
            clause = clause_of(self.tokens, reading.index)
            staying = any(
                t.tag is Tag.WORD and t.low in _STAYING
                for t in self.tokens[clause.start : clause.end]
            )
            self._add(
                Found(
                    key,
                    count.value,
                    count.qualifier.value,
                    None,
                    reading.phrase,
                    reading.why,
                    upper=count.upper,
                    staying=staying,
                )
            )


# Words that, in a sentence about the subject, tell of its withdrawal ("the deadline").
_ITS_WORDS = ("withdrawal", "pullout", "exit", "departure", "drawdown", "leave", "out", "deadline")


# Not renewing an agreement: the verb, and the words before it that refuse it.
_RENEWING = ("renew", "extend", "prolong")
_REFUSING = NEGATIONS | frozenset(DENIALS) | {"against"}


# What a final extension is of.
_MANDATES = frozenset({"mandate", "mission", "deployment", "presence", "operation"})


# Words that say people are still there: after a completed withdrawal, the only count.
_STAYING = frozenset(
    {"remain", "remains", "remained", "remaining", "stay", "stays", "still", "behind"}
)


# Words that make a base's state not its state now ("is not", "will be").
_NOT_NOW = frozenset(
    {"not", "no", "never", "will", "would", "could", "should", "may", "might", "must", "shall"}
)
# What a base is once the force has gone.
_LEFT_STATES = frozenset({"empty", "abandoned", "vacated", "deserted", "unoccupied", "evacuated"})
# What may follow a base that is said to be in a state: "is now empty", "came under ... control".
_STATE_VERBS = frozenset(
    {"is", "was", "are", "were", "now", "has", "have", "came", "comes", "come", "passed", "passes"}
    | {"reverted", "reverts"}
)
_SITE_WORDS = frozenset(
    {"air", "base", "airbase", "airfield", "camp", "station", "garrison", "military"}
)


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
        and not _after_preposition(tokens, i)
    ]
    if not forces:
        return None
    subject = next((f for f in forces if f.party is Party.SUBJECT), None)
    if subject is not None and len({f.ident for f in forces}) == 1:
        return subject
    return forces[0]


def _after_preposition(tokens: list[Token], i: int) -> bool:
    """ "to Nigerien forces", "with the U.N. resolution": a name after a preposition
    is not who acts, nor one after "the" naming what is not an event or a force
    (but "for the American withdrawal" is the Americans')."""
    j = i - 1
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if (
        j >= 0
        and tokens[j].is_word("the", "a", "an")
        and after is not None
        and after.tag is Tag.WORD
        and not after.lexemes
        and after.low not in FORCE_NOUNS
    ):
        j -= 1
    return j >= 0 and tokens[j].tag is Tag.WORD and tokens[j].low in _PREPOSITIONS


def _day(match: DateMatch | None, published: date | None) -> date | None:
    """The day an event that happened is dated to; "in early July" counts (as July 5),
    a year does not."""
    if match is None or match.precision is Precision.YEAR:
        return None
    return match.in_the_past(published)
