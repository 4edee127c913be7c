"""Events in a sentence: who leaves or hands over what, where, when, and how sure.

A cue word (withdraw, hand over, the withdrawal...) is read with its clause:
the words that govern it ("completed [the withdrawal]", "began [pulling
out]", "agreed [to leave]"), what the clause says of it ("[the withdrawal]
is complete"), who does it (:mod:`agents`), and what it is done to (a base,
a list of bases, a place) and when (:mod:`targets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watcher.facts.agents import read_agent
from watcher.facts.clauses import (
    PASSIVE_READINGS,
    Aspect,
    ClauseAspect,
    aspect_of,
    clause_of,
)
from watcher.facts.dates import DateMatch
from watcher.facts.governors import read_alternative, read_governors
from watcher.facts.lexicon import (
    CORE,
    PROCESS_NOUNS,
    Cue,
    Form,
    Lexeme,
)
from watcher.facts.names import Named
from watcher.facts.targets import read_extent, read_targets
from watcher.facts.tokens import Tag, Token, the_hosts_ground

PRESENCE = frozenset({Cue.STAY, Cue.MOVE})


_PARTICLE_REACH = 5


@dataclass
class Event:
    cue: Cue
    index: int  # the cue word's token
    words: str  # the cue as written, particle included
    reading: ClauseAspect
    agent: Named | None = None
    agent_why: str = ""
    bases: list[tuple[str, DateMatch | None]] = field(default_factory=list)
    here: bool = False  # names the story's place as where it happens
    elsewhere: bool = False  # names another place as where it happens
    date: DateMatch | None = None
    whole: bool = False
    partial: bool = False
    earlier: list[str] = field(default_factory=list)  # bases it was done to before
    excepted: bool = False  # "all its bases, except one": a part, whatever "all" says
    process: bool = False  # about the whole withdrawal (a process noun, or a presence ended)
    mission: bool = False  # ends a mission or its operations: a decision, not a departure
    facility: bool = False  # done to a base or site the topic does not track
    agreement: str | None = None
    other_agreement: str | None = None  # the noun of an agreement the topic does not name
    deadline: bool = False  # a deadline is set for it in the sentence ("by September 15")
    counted: bool = False  # a number of people is named with it ("500 troops left")

    @property
    def aspect(self) -> Aspect:
        return self.reading.aspect


def find_events(tokens: list[Token], carried: Named | None, question: bool) -> list[Event]:
    """The events of a sentence; ``carried`` is the force the sentence before was about."""
    events: list[Event] = []
    used: set[int] = set()
    for index, token in enumerate(tokens):
        if token.tag is not Tag.WORD or index in used:
            continue
        lexeme = _out_of(tokens, index) if not token.lexemes else _choose(tokens, index)
        if lexeme is None:
            continue
        particle_end = _particle(tokens, index, lexeme)
        if particle_end is None:
            continue
        if lexeme.cue not in CORE | PRESENCE:
            continue
        event = _event(tokens, index, lexeme, particle_end, carried, question)
        if event is not None:
            events.append(event)
            used.update(range(index, particle_end))
    return events


def _out_of(tokens: list[Token], index: int) -> Lexeme | None:
    """ "must be out of Niger by September 15", "are due out of Niger", "should be
    gone from Niger": being out of the place is having left it."""
    token = tokens[index]
    if not token.is_word("out", "gone") or index == 0:
        return None
    if not tokens[index - 1].is_word("be", "been", "is", "are", "was", "were", "due", "all"):
        return None
    left = Lexeme("leave", Cue.LEAVE, Form.PARTICIPLE)
    if (
        index + 2 < len(tokens)
        and tokens[index + 1].is_word("by", "before")
        and any(t.tag is Tag.DATE for t in tokens[index + 2 : index + 4])
    ):
        return left  # "we will be out by the 31st of March"
    if index + 2 >= len(tokens) or not tokens[index + 1].is_word("of", "from"):
        return None
    place = tokens[index + 2]
    if place.tag is not Tag.NAME or place.named is None:
        return None
    if place.named.place or (index + 3 < len(tokens) and the_hosts_ground(tokens, index + 3)):
        return left  # "out of Niger", "gone from Latvian soil"
    return None


def _choose(tokens: list[Token], index: int) -> Lexeme | None:
    """The reading of an ambiguous word from its neighbours."""
    token = tokens[index]
    options = token.lexemes
    before = tokens[index - 1] if index > 0 else None
    determined = before is not None and (
        before.is_word("the", "a", "an", "its", "their", "his", "her", "this", "that", "whose")
        or (before.tag is Tag.NAME and before.named is not None and before.named.force)
    )
    nouns = [lx for lx in options if lx.form is Form.NOUN]
    verbs = [lx for lx in options if lx.form not in (Form.NOUN, Form.STATE)]
    states = [lx for lx in options if lx.form is Form.STATE]
    if nouns and (determined or _modifies_noun(tokens, index)):
        return nouns[0]
    if (
        before is not None
        and determined
        and before.tag is Tag.WORD
        and verbs
        and all(lx.form is Form.BASE for lx in verbs)
    ):
        return None  # "the base", "the order": a noun the lexicon does not read
    if token.low == "left" and _remaining_left(tokens, index):
        return Lexeme("remain", Cue.STAY, Form.PAST)
    if token.low in ("leaving", "leave", "leaves", "left") and _leaving_behind(tokens, index):
        return Lexeme("remain", Cue.STAY, Form.GERUND)
    if verbs and all(lx.form is Form.BASE for lx in verbs) and not _verb_position(tokens, index):
        # "an immediate end", "the entry and exit", "the same base": a noun
        return nouns[0] if nouns else None
    if verbs:
        # Participle before past for words spelt alike, decided later by the auxiliaries.
        for form in (Form.PARTICIPLE, Form.PAST, Form.GERUND, Form.PRESENT, Form.BASE):
            for lexeme in verbs:
                if lexeme.form is form:
                    return lexeme
    if nouns:
        return nouns[0]
    return states[0] if states else None


# Nouns that a cue word can modify: "his exit date", "the pullout plan".
_COMPOUND_HEADS = frozenset(
    {
        *("date", "dates", "deadline", "plan", "plans", "timeline", "timetable", "strategy"),
        *("ceremony", "talks", "process", "route", "routes", "schedule", "order", "orders"),
    }
)


def _modifies_noun(tokens: list[Token], index: int) -> bool:
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    return after is not None and after.tag is Tag.WORD and after.low in _COMPOUND_HEADS


def _verb_position(tokens: list[Token], index: int) -> bool:
    """Whether a word spelt like a verb's base form stands where a verb can:
    after a force, a pronoun, an auxiliary, "to", or another verb and "and"."""
    if index == 0:
        return True  # a headline's first word
    before = tokens[index - 1]
    if before.tag is Tag.NAME or before.tag is Tag.COUNT:
        return True
    if before.tag is not Tag.WORD:
        return before.text in ('"', "'")
    if before.low in ("and", "or"):
        return index >= 2 and any(lx.form is not Form.NOUN for lx in tokens[index - 2].lexemes)
    return before.low in _BEFORE_BASE_VERB or (
        bool(before.lexemes) and all(lx.form is not Form.NOUN for lx in before.lexemes)
    )


def _remaining_left(tokens: list[Token], index: int) -> bool:
    """ "200 troops left in Syria", "the few left behind": left as in remaining."""
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    before = tokens[index - 1] if index > 0 else None
    people = before is not None and (
        before.tag is Tag.COUNT or before.low in ("troops", "soldiers")
    )
    return people and (
        after is None or after.is_word("in", "behind", "there") or after.tag is Tag.PUNCT
    )


_BEFORE_BASE_VERB = frozenset(
    {
        *("to", "will", "would", "shall", "should", "could", "may", "might", "must", "can"),
        *("did", "do", "does", "not", "n't", "'ll", "troops", "forces", "soldiers", "they"),
        *("we", "also", "personnel", "peacekeepers", "then", "still", "never", "military"),
        *("army", "it", "he", "she", "who", "that", "which", "mission", "force", "contingent"),
        *("fully", "finally", "formally", "officially", "soon", "now", "already", "gradually"),
    }
)


_LEFT_BEHIND = frozenset(
    {
        *("troops", "soldiers", "forces", "force", "personnel", "advisers", "advisors"),
        *("contingent", "presence", "residual", "enough", "small", "some", "a", "about"),
    }
)


def _leaving_behind(tokens: list[Token], index: int) -> bool:
    """ "..., leaving about 600 in the country", "will leave 650 troops", "leave a small
    force behind": those who stay, not a departure."""
    j = index + 1
    while j < len(tokens) and tokens[j].is_word("only", "just", "the", "its", "their", "behind"):
        j += 1
    if j >= len(tokens):
        return False
    return tokens[j].tag is Tag.COUNT or (
        tokens[j].tag is Tag.WORD and tokens[j].low in _LEFT_BEHIND
    )


def _particle(tokens: list[Token], index: int, lexeme: Lexeme) -> int | None:
    """One past the cue's last token: its particle, when it needs one."""
    if not lexeme.particle:
        return index + 1
    for i in range(index + 1, min(len(tokens), index + 1 + _PARTICLE_REACH)):
        if tokens[i].tag is Tag.PUNCT:
            return None
        if tokens[i].is_word(*lexeme.particle):
            # "handed the base to the army", "put the accord on hold": what is done to
            # stands before the particle, so it is read from the verb on.
            return index + 1 if tokens[i].is_word("to", "hold") else i + 1
    return None


def _no_object(tokens: list[Token], after: int) -> bool:
    """ "expired on Sunday", "ended.": nothing done to after the verb, so what ended
    stands before it."""
    if after >= len(tokens):
        return True
    nxt = tokens[after]
    return nxt.tag in (Tag.PUNCT, Tag.DATE) or nxt.is_word("on", "at", "in", "last", "this", "to")


def _event(
    tokens: list[Token],
    index: int,
    lexeme: Lexeme,
    particle_end: int,
    carried: Named | None,
    question: bool,
) -> Event | None:
    token = tokens[index]
    words = " ".join(t.text for t in tokens[index:particle_end]) if lexeme.particle else token.text
    if lexeme.particle and particle_end - index > 2:
        words = f"{token.text} ... {tokens[particle_end - 1].text}"
    reading = aspect_of(tokens, index, lexeme.form, question)
    event = Event(lexeme.cue, index, words, reading)
    clause = clause_of(tokens, index)
    backward = (
        reading.why in PASSIVE_READINGS
        or lexeme.form in (Form.NOUN, Form.STATE)
        or (lexeme.form is Form.PARTICIPLE and index > 0 and tokens[index - 1].is_word("be"))
        or (lexeme.cue in (Cue.END, Cue.SUSPEND) and _no_object(tokens, particle_end))
    )  # "the last to be handed over", "the agreement expired on Sunday"
    read_targets(tokens, event, clause, particle_end, backward=backward)
    if (
        lexeme.cue in (Cue.END, Cue.SUSPEND)
        and event.agreement is None
        and not (event.process or event.mission or event.other_agreement)
    ):
        return None  # ending something that is neither an agreement, a mission nor a presence
    if lexeme.cue is Cue.CLOSE and not event.bases:
        return None  # "close to", "a close ally"
    if lexeme.cue is Cue.HAND_OVER and lexeme.lemma in ("return", "transfer") and not event.bases:
        return None  # "returned home", "transferred troops"
    if lexeme.form is Form.NOUN and lexeme.cue is Cue.LEAVE:
        event.process = event.process or lexeme.lemma in PROCESS_NOUNS
    read_governors(tokens, event, clause, lexeme)
    read_alternative(tokens, event, clause)
    read_extent(tokens, event, clause)
    read_agent(tokens, event, clause, lexeme, carried)
    return event
