"""Events in a sentence: who leaves or hands over what, where, when, and how sure.

A cue word (withdraw, hand over, the withdrawal...) is read with its clause:
the words that govern it ("completed [the withdrawal]", "began [pulling
out]", "agreed [to leave]"), what the clause says of it ("[the withdrawal]
is complete"), who does it, and what it is done to (a base, a list of
bases, a place) and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watcher.facts.clauses import (
    ADVERBS,
    RELATIVES,
    Aspect,
    Clause,
    Reading,
    accepted_before,
    aspect_of,
    clause_of,
    host_does,
    previous_clause,
)
from watcher.facts.dates import DateMatch
from watcher.facts.lexicon import FORCE_NOUNS, STATE_PHRASES, Cue, Form, Lexeme
from watcher.facts.names import Named, Party
from watcher.facts.tokens import REGIONS, Tag, Token, is_locative

# Cues that name what happens to a force or a base; the others (complete,
# begin, decide...) say something of them. STAY and MOVE say where a force is.
CORE = frozenset({Cue.LEAVE, Cue.HAND_OVER, Cue.TAKE_OVER, Cue.CLOSE, Cue.END, Cue.SUSPEND})
PRESENCE = frozenset({Cue.STAY, Cue.MOVE})
# Cues that govern a core event named right after them.
GOVERNORS = frozenset({Cue.COMPLETE, Cue.BEGIN, Cue.DECIDE, Cue.DEMAND, Cue.EXTEND})
# Words that make a departure whole or partial.
WHOLE = frozenset(
    {
        *("all", "last", "final", "remaining", "fully", "entirely", "completely", "rest"),
        *("whole", "full", "total"),
    }
)
PART = frozenset(
    {
        *("some", "part", "first", "initial", "most", "several", "many", "hundreds", "dozens"),
        *("contingent", "group", "batch", "portion", "partial", "partially", "half", "more"),
        *("majority", "bulk", "region", "province", "district", "area", "parts", "convoy"),
    }
)
_STAGES = frozenset({"phase", "stage", "part", "leg", "step", "round", "wave"})
_TIMES = frozenset(
    {"week", "month", "year", "night", "weekend", "time", "days", "months", "year's"}
)
# Nouns a force's presence goes by: ending one is leaving the place.
PRESENCE_NOUNS = frozenset(
    {"presence", "mission", "operation", "operations", "deployment", "occupation", "mandate"}
)
_PROCESS_NOUNS = frozenset(
    {"withdrawal", "pullout", "pull-out", "departure", "exit", "drawdown", "draw-down", "retreat"}
)
# Ending these is a decision about the mission, not the last soldier gone.
MISSION_NOUNS = frozenset({"mission", "operation", "operations", "mandate", "combat", "war"})
# Nouns for a place the force is at: leaving one is leaving a base, not the country.
FACILITY_NOUNS = frozenset(
    {
        *("base", "bases", "airbase", "airbases", "airfield", "airfields", "camp", "camps"),
        *("garrison", "outpost", "outposts", "facility", "facilities", "compound", "site"),
        *("sites", "installation", "installations", "headquarters", "stronghold", "hub"),
        *("station", "barracks", "post", "positions", "position", "town", "city", "region"),
        *("area", "areas", "province", "provinces"),
    }
)
# Agreements the topic does not name: ending one is not leaving.
AGREEMENT_NOUNS = frozenset(
    {"agreement", "agreements", "accord", "accords", "treaty", "treaties", "pact", "deal"}
)
# Words that make a departure short of whole.
EXCEPTIONS = frozenset({"except", "excluding", "apart", "besides", "save"})
DEGREES = frozenset(
    {
        *("largely", "mostly", "nearly", "almost", "partly", "partially", "half", "virtually"),
        *("effectively", "practically", "percent", "per", "%", "intents", "substantially"),
    }
)
_PARTICLE_REACH = 5
_TARGET_REACH = 14


@dataclass
class Event:
    cue: Cue
    index: int  # the cue word's token
    words: str  # the cue as written, particle included
    reading: Reading
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
        if token.tag is not Tag.WORD or not token.lexemes or index in used:
            continue
        lexeme = _choose(tokens, index)
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
        determined
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
            return i + 1
    return None


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
    backward = reading.why in ("passive", "being done") or lexeme.form in (Form.NOUN, Form.STATE)
    _targets(tokens, event, clause, particle_end, backward=backward)
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
        event.process = event.process or token.low in _PROCESS_NOUNS
    _govern(tokens, event, clause, lexeme)
    _alternative(tokens, event, clause)
    _extent(tokens, event, clause)
    _agent(tokens, event, clause, lexeme, carried)
    return event


def _targets(
    tokens: list[Token], event: Event, clause: Clause, after: int, *, backward: bool
) -> None:
    """Bases, agreements and places the event is done to, and its date. ``backward``:
    the thing done to may stand before the cue ("Air Base 101 was handed over")."""
    end = min(len(tokens), after + _TARGET_REACH)
    i = after
    last_base: int | None = None
    listed = False  # a list of bases goes on past a comma
    while i < end:
        token = tokens[i]
        if i > after and token.tag is Tag.WORD and any(lx.cue in CORE for lx in token.lexemes):
            break  # another event begins: "...withdrawing since May 1 and their exit from Bagram"
        if (token.tag is Tag.PUNCT and token.text in (",", "-")) or token.is_word("and", "as"):
            nxt = _next_content(tokens, i)
            if nxt is not None and tokens[nxt].tag is Tag.BASE:
                listed = True  # "two camps in the Kidal region, Tessalit and Aguelhok"
                i = nxt
                continue
            if token.is_word("and") and nxt is not None and tokens[nxt].is_word("from", "at", "of"):
                i += 1
                continue
            if token.text == "," and i + 1 < len(tokens) and tokens[i + 1].low in EXCEPTIONS:
                event.excepted = True  # "from all its bases, except..."
                break
            if (
                token.text == ","
                and i + 1 < len(tokens)
                and tokens[i + 1].is_word("one", "including", "among", "notably", "namely")
            ):
                end = min(
                    len(tokens), i + _TARGET_REACH
                )  # "two bases, one of which is Air Base 201"
                clause = Clause(clause.start, _clause_end_after(tokens, i + 1))
                i += 1
                continue
        if i >= clause.end and not (token.tag is Tag.BASE and (last_base is not None or listed)):
            break
        if token.tag is Tag.BASE and token.key and i > 0 and tokens[i - 1].is_word("after"):
            event.earlier.append(token.key)  # "the second base handed back, after Kidal"
        elif token.tag is Tag.BASE and token.key:
            if all(key != token.key for key, _ in event.bases):
                event.bases.append((token.key, None))
            last_base = next(n for n, (key, _) in enumerate(event.bases) if key == token.key)
        elif token.tag is Tag.AGREEMENT:
            event.agreement = token.key
        elif token.tag is Tag.DATE and token.date is not None:
            if last_base is not None and event.bases[last_base][1] is None:
                event.bases[last_base] = (event.bases[last_base][0], token.date)
            elif event.date is None:
                event.date = token.date
        elif token.tag is Tag.NAME and is_locative(tokens, i):
            _place(event, token)
        elif token.tag is Tag.WORD and not (event.bases or event.agreement):
            _object_noun(event, token, tokens, i)
        i += 1
    if not event.bases and event.agreement is None:
        antecedent = _relative_antecedent(tokens, clause)
        if antecedent is not None:
            event.bases.append((antecedent, None))  # "Air Base 101, which US forces left"
    if backward and not event.bases and event.agreement is None:
        # "Air Base 101 was handed over", "the withdrawal from Bagram is complete":
        # the thing done to stands before the cue.
        for j in range(event.index - 1, clause.start - 1, -1):
            token = tokens[j]
            if token.tag is Tag.BASE and token.key:
                event.bases.append((token.key, None))
                break
            if token.tag is Tag.AGREEMENT:
                event.agreement = token.key
                break
    for j in range(clause.start, event.index):
        token = tokens[j]
        if token.tag is Tag.NAME and is_locative(tokens, j) and not (event.here or event.elsewhere):
            _place(event, token)
    if event.date is None:
        event.date = _event_date(tokens, event.index)


def _event_date(tokens: list[Token], index: int) -> DateMatch | None:
    """The day an event happened, stated anywhere in its sentence: "On August 5,
    the US handed over...", "...handed over the base on Sunday"; the nearest."""
    days = [
        (abs(j - index), token.date)
        for j, token in enumerate(tokens)
        if token.tag is Tag.DATE
        and token.date is not None
        and (token.date.weekday or (j > 0 and tokens[j - 1].is_word("on", "last", "since")))
    ]
    return min(days, key=lambda d: d[0])[1] if days else None


def _object_noun(event: Event, token: Token, tokens: list[Token], i: int) -> None:
    """What a word after the cue says about what the event is done to."""
    low = token.low
    decided = event.process or event.mission or event.facility or event.other_agreement
    if low in ("country", "nation") and _the_country(tokens, i) and not event.elsewhere:
        event.here = True  # "will leave the country": the place of the story
    elif low in EXCEPTIONS or (
        low == "with" and i + 2 < len(tokens) and tokens[i + 2].is_word("exception")
    ):
        event.excepted = True  # "from all bases, except for Erbil"
    elif low in REGIONS and i + 1 < len(tokens) and tokens[i + 1].tag is Tag.NAME:
        event.partial = True  # "from northern Mali"
    elif decided:
        return
    elif event.cue is Cue.END and low in PRESENCE_NOUNS - MISSION_NOUNS:
        event.process = True
    elif event.cue is Cue.END and low in MISSION_NOUNS:
        event.mission = True
    elif event.cue is Cue.END and low in _PROCESS_NOUNS:
        event.process = True
    elif low in AGREEMENT_NOUNS and (
        event.cue in (Cue.END, Cue.SUSPEND)
        or (event.cue is Cue.LEAVE and any(t.is_word("from") for t in tokens[max(0, i - 3) : i]))
    ):
        event.other_agreement = low  # "ended the accord", "withdrew from the agreements"
    elif low in FACILITY_NOUNS and event.cue is not Cue.END:
        if low in _ALL_SITES and any(t.is_word("all", "every") for t in tokens[max(0, i - 3) : i]):
            event.whole = True  # "from all military installations in Senegal": from the place
        else:
            event.facility = True


_ALL_SITES = frozenset({"bases", "installations", "camps", "facilities", "sites", "garrisons"})


def _the_country(tokens: list[Token], i: int) -> bool:
    """ "the country", "the West African nation": the place, named before."""
    j = i - 1
    while j >= max(0, i - 4) and tokens[j].tag is Tag.WORD and not tokens[j].is_word("the"):
        j -= 1
    return j >= 0 and tokens[j].is_word("the")


def _relative_antecedent(tokens: list[Token], clause: Clause) -> str | None:
    """The base a relative clause is about: "Air Base 101, which ...", "the base that ..."."""
    start = clause.start
    if start > 0 and tokens[start - 1].is_word("which", "that"):
        j = start - 2
    elif tokens[start].is_word("which", "that"):
        j = start - 1
    else:
        return None
    while j >= 0 and tokens[j].text in (",", '"'):
        j -= 1
    return tokens[j].key if j >= 0 and tokens[j].tag is Tag.BASE else None


def _clause_end_after(tokens: list[Token], i: int) -> int:
    """Where an apposition ends: at the next comma, semicolon or full stop."""
    j = i
    while j < len(tokens) and not (tokens[j].tag is Tag.PUNCT and tokens[j].text in ",;.:"):
        j += 1
    return j


def _next_content(tokens: list[Token], i: int) -> int | None:
    j = i + 1
    while j < len(tokens) and tokens[j].is_word(
        "the", "both", "also", "then", "and", "its", "from", "at"
    ):
        j += 1
    return j if j < len(tokens) else None


def _place(event: Event, token: Token) -> None:
    assert token.named is not None
    if token.named.party is Party.HOST:
        event.here = True
    else:
        event.elsewhere = True


def _govern(tokens: list[Token], event: Event, clause: Clause, lexeme: Lexeme) -> None:
    """Read the words that govern the event, before it and after it."""
    if event.reading.aspect in (Aspect.NEGATED,):
        return
    # Before: "completed [its] withdrawal", "began [the] handover", "began pulling out".
    i = event.index - 1
    adjectives = 0
    while i >= clause.start and (
        tokens[i].tag in (Tag.NAME, Tag.COUNT)
        or tokens[i].text in ('"', "'")  # its Afghanistan "withdrawal"
        or tokens[i].is_word("the", "its", "their", "his", "her", "a", "an", "of", "to")
        or (tokens[i].tag is Tag.WORD and tokens[i].low in ADVERBS | WHOLE | PART)
        or tokens[i].is_word("military", "troop", "troops", "formal", "official", "full", "planned")
        or (lexeme.form is Form.NOUN and adjectives < 2 and _adjective(tokens[i]))
    ):
        adjectives += lexeme.form is Form.NOUN and _adjective(tokens[i])
        if tokens[i].tag is Tag.WORD and tokens[i].low in PART:
            event.partial = True  # "finishing the logistical part of the withdrawal"
        i -= 1
    if i >= clause.start and tokens[i].is_word(*LIGHT_VERBS) and lexeme.form is Form.NOUN:
        # "would undertake a military withdrawal": the verb's tense is the event's.
        event.reading = aspect_of(tokens, i, _light_form(tokens[i]), False)
        return
    if i >= clause.start and tokens[i].lexemes:
        governor = next((lx for lx in tokens[i].lexemes if lx.cue in GOVERNORS), None)
        if governor is not None and lexeme.form in (Form.NOUN, Form.GERUND, Form.BASE):
            outer = aspect_of(tokens, i, governor.form, False)
            if governor.lemma == "order" and host_does(tokens, i):
                # "the junta ordered French troops to leave": a demand, not a decision
                event.reading = Reading(Aspect.PROPOSED, f"ordered by the host: {tokens[i].text!r}")
                return
            if governor.lemma in FACTIVE and lexeme.form is Form.NOUN:
                # "confirmed the departure": it happened.
                if outer.aspect in (Aspect.DONE, Aspect.ONGOING):
                    event.reading = Reading(Aspect.DONE, f"{tokens[i].text!r}: {outer.why}")
                return
            event.reading = _combine(governor.cue, outer, tokens[i].text)
            if governor.cue is Cue.DEMAND and accepted_before(tokens, i):
                # "will respect Burkina Faso's request to withdraw": agreed
                event.reading = Reading(Aspect.DECIDED, f"{tokens[i].text!r}: a demand accepted")
            if governor.cue is Cue.COMPLETE and event.reading.aspect is Aspect.DONE:
                event.whole = not event.partial
                if event.partial:
                    event.reading = Reading(Aspect.ONGOING, f"{tokens[i].text!r} a part")
            elif governor.cue is Cue.COMPLETE and _imminent(tokens, clause, i):
                # "days away from completing", "will complete it in the coming days":
                # not done yet, and under way.
                event.reading = Reading(Aspect.ONGOING, f"{tokens[i].text!r}: soon")
                event.partial = True
            return
    if lexeme.form is not Form.NOUN:
        return
    before = tokens[event.index - 1] if event.index > 0 else None
    k = event.index - 1
    while k >= clause.start and (
        tokens[k].tag is Tag.NAME or tokens[k].is_word("the", "a", "its", "their")
    ):
        k -= 1
    if (
        k >= clause.start
        and tokens[k].is_word("of")
        and k > clause.start
        and tokens[k - 1].is_word(*_STAGES)
    ):
        event.partial = True  # "the first phase of the withdrawal has begun": it has, in part
    elif k >= clause.start and tokens[k].is_word(
        "on", "about", "over", "regarding", "concerning", "for", "into", "with", "of"
    ):
        return  # "talks on the drawdown have concluded": the talks did
    del before
    # After: "the withdrawal [of US troops from Bagram] is complete / began / was completed".
    j = event.index + 1
    while j < clause.end:
        token = tokens[j]
        if token.lexemes:
            state = next(
                (
                    lx
                    for lx in token.lexemes
                    if lx.cue in (Cue.COMPLETE, Cue.BEGIN) and lx.form is not Form.NOUN
                ),
                None,
            )
            if state is not None:
                outer = aspect_of(
                    tokens, j, state.form if state.form is not Form.STATE else Form.PAST, False
                )
                if state.form is Form.STATE:
                    copula = _copula(tokens, clause, j)
                    if copula is None:
                        break
                    outer = copula
                event.reading = _combine(state.cue, outer, token.text)
                if state.cue is Cue.COMPLETE and event.reading.aspect is Aspect.DONE:
                    degree = _degree(tokens, event.index, j)
                    if degree:
                        event.reading = Reading(Aspect.ONGOING, f"{degree} {token.text}")
                        event.partial = True
                    elif event.partial:  # "the first phase of the withdrawal is complete"
                        event.reading = Reading(Aspect.ONGOING, f"{token.text!r} a part")
                    else:
                        event.whole = True
                return
        if j + 1 < clause.end and (token.low, tokens[j + 1].low) in STATE_PHRASES:
            copula = _copula(tokens, clause, j)
            if copula is not None:
                event.reading = _combine(Cue.BEGIN, copula, f"{token.text} {tokens[j + 1].text}")
            return
        if (
            token.is_word("took", "takes", "has", "have")
            and j + 1 < clause.end
            and tokens[j + 1].is_word("place", "taken", "begun", "started")
        ):
            event.reading = Reading(Aspect.DONE, f"{token.text} {tokens[j + 1].text}")
            return
        if token.is_word(*PRESUPPOSING) and event.reading.aspect is Aspect.NAMED:
            # "the closure of the Tessalit camp represents...": it happened.
            event.reading = Reading(Aspect.DONE, f"the subject of {token.text!r}")
            return
        j += 1


# Governors that say their event happened ("confirmed the departure", "accelerated
# its withdrawal from Ber").
FACTIVE = frozenset({"confirm", "accelerate", "expedite", "hasten", "precipitate", "anticipate"})
# Verbs whose subject, a noun for an event, took place ("the handover marks...").
PRESUPPOSING = frozenset(
    {
        *("marks", "marked", "represents", "represented", "followed", "came"),
        *("occurred", "happened", "went", "left", "ended", "capped"),
        *("conducted", "carried", "executed", "held"),
    }
)
# Verbs that only carry the event their noun names ("carried out the withdrawal").
LIGHT_VERBS = frozenset(
    {
        *("undertake", "undertook", "undertaken", "undertakes", "undertaking", "conduct"),
        *("conducted", "conducts", "conducting", "carry", "carried", "carries", "carrying"),
        *("implement", "implemented", "implements", "implementing", "execute", "executed"),
        *("effect", "effected", "make", "made", "makes", "making", "perform", "performed"),
    }
)


def _light_form(token: Token) -> Form:
    low = token.low
    if low.endswith("ing"):
        return Form.GERUND
    if low.endswith(("ed", "en", "ook", "ade")):
        return Form.PAST
    if low.endswith("s"):
        return Form.PRESENT
    return Form.BASE


_SOON = (
    *("in the coming days", "in coming days", "in the coming weeks", "next week", "within days"),
    *("days away", "weeks away", "nearing", "near", "close to", "in the next two weeks"),
    *("in the next few days", "within weeks", "imminent", "this week", "largely", "mostly"),
    *("on track", "on course", "well advanced", "nearly"),
)


def _imminent(tokens: list[Token], clause: Clause, index: int) -> bool:
    text = " " + " ".join(t.low for t in tokens[max(0, clause.start - 3) : clause.end]) + " "
    return any(f" {w} " in text for w in _SOON)


def _degree(tokens: list[Token], start: int, end: int) -> str | None:
    """ "90% complete", "largely complete": short of done."""
    for token in tokens[start:end]:
        if token.tag is Tag.WORD and token.low in DEGREES:
            return token.text
        if token.tag is Tag.COUNT or (token.tag is Tag.WORD and token.text[0].isdigit()):
            return token.text
    return None


_NOT_ADJECTIVES = frozenset(
    {
        *("and", "or", "but", "to", "from", "in", "on", "at", "for", "with", "by", "of"),
        *("that", "which", "who", "this", "these", "those", "it", "they", "he", "she"),
    }
)


def _adjective(token: Token) -> bool:
    """A word that may stand between a governing verb and its noun ("announced
    their coordinated withdrawal"): lower case, not a cue, not a function word."""
    return (
        token.tag is Tag.WORD
        and not token.lexemes
        and token.text.islower()
        and token.low not in _NOT_ADJECTIVES
        and token.low.endswith(("ed", "al", "ive", "ful", "ous", "ary", "ic", "le", "ing", "ate"))
    )


def _copula(tokens: list[Token], clause: Clause, index: int) -> Reading | None:
    """The tense of "is"/"was"/"will be" before a state word."""
    i = index - 1
    while i >= clause.start and (
        (
            tokens[i].tag is Tag.WORD
            and tokens[i].low in ADVERBS | DEGREES | {"not", "now", "cent", "about"}
        )
        or tokens[i].tag is Tag.COUNT
        or tokens[i].text in ("%", "-")
        or tokens[i].text[:1].isdigit()
    ):
        i -= 1
    if i < clause.start or not tokens[i].is_word("is", "are", "was", "were", "be", "been", "'s"):
        return None
    return (
        aspect_of(tokens, i, Form.PRESENT, False)
        if not tokens[i].is_word("be")
        else (aspect_of(tokens, i, Form.BASE, False))
    )


def _combine(cue: Cue, outer: Reading, word: str) -> Reading:
    """A core event under a governing cue: "completed" makes it done, "began"
    ongoing, "agreed" decided, "asked" proposed; the governor's own tense counts."""
    if outer.aspect in (Aspect.NEGATED, Aspect.PROPOSED):
        return Reading(outer.aspect, outer.why)
    if cue is Cue.COMPLETE:
        return Reading(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.BEGIN:
        if outer.aspect is Aspect.DONE:
            return Reading(Aspect.ONGOING, f"{word!r}: {outer.why}")
        if outer.aspect is Aspect.PLANNED:
            # "the withdrawal will begin in several weeks": settled, not yet begun
            return Reading(Aspect.DECIDED, f"{word!r}: {outer.why}")
        return Reading(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.DECIDE:
        if outer.aspect in (Aspect.DONE, Aspect.ONGOING, Aspect.NAMED):
            return Reading(Aspect.DECIDED, f"{word!r}: {outer.why}")
        return Reading(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.EXTEND:
        return Reading(Aspect.NAMED, f"{word!r}")
    return Reading(Aspect.PROPOSED, f"{word!r}: asked for")


def _alternative(tokens: list[Token], event: Event, clause: Clause) -> None:
    """ "have departed or are about to leave": done, or nearly done; under way."""
    if event.reading.aspect is not Aspect.DONE:
        return
    for i in range(event.index + 1, clause.end - 1):
        if tokens[i].is_word("or") and tokens[i + 1].is_word(
            "are", "is", "will", "about", "nearing", "soon", "expected", "set"
        ):
            event.reading = Reading(Aspect.ONGOING, f"done {tokens[i].text} {tokens[i + 1].text}")
            event.partial = True
            return


def _extent(tokens: list[Token], event: Event, clause: Clause) -> None:
    """ "all its troops", "the last soldiers", "some 500 troops": whole or partial."""
    stop = min(clause.end, event.index + 8)
    for i, token in enumerate(tokens[clause.start : stop], start=clause.start):
        if token.tag is Tag.WORD and token.low in WHOLE:
            if token.low in ("full", "total") and i != event.index - 1:
                continue  # "full control ... following the withdrawal": not its extent
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if (
                token.low in ("last", "final")
                and after is not None
                and (after.tag is Tag.DATE or after.low in _TIMES)
            ):
                continue  # "last week", "last Friday": a time, not the last soldiers
            event.whole = True
        elif token.tag is Tag.WORD and token.low in PART and not _ordinal_of_other(tokens, i):
            event.partial = True
        elif token.tag is Tag.COUNT:
            event.partial = event.counted = True
    if event.excepted:
        event.partial, event.whole = True, False


def _ordinal_of_other(tokens: list[Token], i: int) -> bool:
    """ "the first confirmation that the US has withdrawn": "first" of something
    other than the force or the withdrawal."""
    if not tokens[i].is_word("first", "initial"):
        return False
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        after is not None
        and after.tag is Tag.WORD
        and not (
            after.lexemes or after.low in FORCE_NOUNS or after.low in PART or after.low in _STAGES
        )
    )


def _agent(
    tokens: list[Token], event: Event, clause: Clause, lexeme: Lexeme, carried: Named | None
) -> None:
    """Who does it: a force named in the clause before the cue (not after a
    preposition), "by" a force after a passive, the owner of a noun ("the US
    withdrawal", "the withdrawal of US troops"), else the sentence's or the
    one before's."""
    passive = lexeme.form in (Form.PARTICIPLE, Form.PAST) and event.reading.why in (
        "passive",
        "being done",
    )
    if lexeme.form is Form.NOUN or passive:
        for j in range(event.index + 1, min(clause.end, event.index + 8)):
            if tokens[j].tag is Tag.NAME and tokens[j].named and tokens[j - 1].is_word("of", "by"):
                named = _coordinated_subject(tokens, j, clause.end) or tokens[j].named
                event.agent, event.agent_why = named, f"{tokens[j - 1].text} {tokens[j].text}"
                return
            if (
                tokens[j].tag is Tag.NAME
                and tokens[j].named
                and tokens[j - 2 : j]
                and tokens[j - 2].is_word("of", "by")
            ):
                event.agent, event.agent_why = tokens[j].named, f"of {tokens[j].text}"
                return
    stop = event.index
    if lexeme.form is Form.NOUN:
        while stop > clause.start and (
            tokens[stop - 1].text in ('"', "'")
            or (
                tokens[stop - 1].tag is Tag.NAME
                and tokens[stop - 1].named
                and tokens[stop - 1].named.party is Party.HOST
                and tokens[stop - 1].named.place
            )
        ):
            stop -= 1  # "its Afghanistan withdrawal": the place, not who withdraws
    pronoun = _pronoun_subject(tokens, clause, stop)
    if pronoun is not None:
        event.agent, event.agent_why = pronoun
        return
    thing = _thing_subject(tokens, clause, stop) if lexeme.form is not Form.NOUN else None
    if thing is not None:
        event.agent_why = f"{thing!r}, not a force"
        return  # "the plane departed from Mali"
    found = _force_before(tokens, clause.start, stop)
    if found is None and clause.start >= 2 and tokens[clause.start].is_word(*RELATIVES):
        before = previous_clause(tokens, clause)
        if before is not None:
            found = _force_before(tokens, before.start, before.end)
    if found is None:
        found = _force_before(tokens, 0, event.index, skip=_relative_spans(tokens))
    if found is not None:
        event.agent, event.agent_why = found
        return
    if carried is not None:
        event.agent, event.agent_why = carried, "the sentence before"


def _coordinated_subject(tokens: list[Token], start: int, end: int) -> Named | None:
    """ "by Turkish and US forces": the subject, where it is one of a list of forces."""
    j = start
    while j < end and (tokens[j].tag is Tag.NAME or tokens[j].is_word("and", ",")):
        named = tokens[j].named
        if tokens[j].tag is Tag.NAME and named and named.force and named.party is Party.SUBJECT:
            return named
        j += 1
    return None


_PRONOUNS = frozenset({"it", "they", "he", "she", "we"})


def _thing_subject(tokens: list[Token], clause: Clause, stop: int) -> str | None:
    """A subject that is neither a force nor a pronoun: "the plane departed"."""
    i = stop - 1
    while (
        i >= clause.start
        and tokens[i].tag is Tag.WORD
        and (tokens[i].low in ADVERBS | {"has", "have", "had", "is", "are", "was", "were"})
    ):
        i -= 1
    if i < clause.start + 1 or tokens[i].tag is not Tag.WORD or tokens[i].lexemes:
        return None
    if not tokens[i - 1].is_word("the", "a", "an", "this", "that"):
        return None
    return None if tokens[i].low in FORCE_NOUNS else tokens[i].text


def _pronoun_subject(tokens: list[Token], clause: Clause, stop: int) -> tuple[Named, str] | None:
    """ "The Malian army ... said it took possession": a pronoun subject stands for
    the first force the sentence names as a force."""
    i = stop - 1
    while (
        i >= clause.start
        and tokens[i].tag is Tag.WORD
        and (
            tokens[i].low in ADVERBS
            or tokens[i].low in ("has", "have", "had", "is", "are", "was", "were", "will", "would")
        )
    ):
        i -= 1
    if i < clause.start or not tokens[i].is_word(*_PRONOUNS) or tokens[i].low == "we":
        return None
    candidates = []  # the subject first among the forces the sentence names
    for j, token in enumerate(tokens[:i]):
        if (
            token.tag is Tag.NAME
            and token.named is not None
            and token.named.force
            and not is_locative(tokens, j)
            and not (
                j > 0 and tokens[j - 1].tag is Tag.WORD and tokens[j - 1].low in _NOT_AGENT_BEFORE
            )
        ):
            candidates.append((token.named, f"{tokens[i].text!r} = {token.text}"))
    subject = [c for c in candidates if c[0].party is Party.SUBJECT]
    return (subject or candidates or [None])[0]


_NOT_AGENT_BEFORE = frozenset(
    {
        *("to", "from", "with", "by", "for", "against", "than", "between", "into", "toward"),
        *("towards", "at", "in", "on", "over", "under", "across", "near", "like"),
    }
)


def _relative_spans(tokens: list[Token]) -> set[int]:
    """Tokens inside relative clauses set off by commas: ", which had ... out,"."""
    inside: set[int] = set()
    for i, token in enumerate(tokens):
        if token.text == "," and i + 1 < len(tokens) and tokens[i + 1].is_word("which", "who"):
            j = i + 1
            while j < len(tokens) and tokens[j].text != ",":
                inside.add(j)
                j += 1
    return inside


def _force_before(
    tokens: list[Token], start: int, stop: int, skip: set[int] | None = None
) -> tuple[Named, str] | None:
    """The nearest force named between ``start`` and ``stop``, not as a place and not
    after a preposition ("handed over to Afghan forces")."""
    for j in range(stop - 1, start - 1, -1):
        token = tokens[j]
        if skip and j in skip:
            continue
        if token.tag is not Tag.NAME or token.named is None or not token.named.force:
            continue
        if is_locative(tokens, j):
            continue
        k = j - 1
        while k >= start and (
            tokens[k].is_word("the", "its", "their")
            or tokens[k].tag is Tag.COUNT
            or tokens[k].low in ("and", "some", "all", "remaining", "last")
        ):
            k -= 1
        if k >= start and tokens[k].tag is Tag.WORD and tokens[k].low in _NOT_AGENT_BEFORE:
            continue
        # "US and NATO troops": any of a list of forces.
        group = [token.named]
        m = j - 1
        while m >= start + 1 and tokens[m].is_word("and", ",") and tokens[m - 1].tag is Tag.NAME:
            if tokens[m - 1].named:
                group.append(tokens[m - 1].named)
            m -= 2
        subject = next((n for n in group if n.party is Party.SUBJECT), None)
        return (subject or token.named), token.text
    return None
