"""Counts of the subject's people in the place, as a sentence states them.

A number counts people when a word for people follows it ("2,500 US troops",
"a 1,000-strong force") or is left out after "remain" or "leaving". It counts
the subject's people when the subject is named with it or owns it ("France's
400", "its 400"), else when the clause or the sentence is about the subject.
It counts people *present* unless they moved ("400 left", "sent 300 more"),
were counted once ("at its peak", "a decade ago"), or are only planned
("will keep 650"). The whole force that is to leave is the force present
("will withdraw its 400 special forces").
"""

from __future__ import annotations

from dataclasses import dataclass

from watcher.facts.clauses import Aspect, Clause, clause_of
from watcher.facts.events import Event
from watcher.facts.lexicon import MODALS, PAST_MARKERS, PEOPLE_MODIFIERS, Cue, Form
from watcher.facts.names import Named, Party
from watcher.facts.numbers import Count, Qualifier
from watcher.facts.tokens import Tag, Token, is_locative

# Words in a count's phrase that make it someone else's people ("7,000 foreign forces").
_OTHERS = frozenset(
    {"foreign", "other", "another", "allied", "partner", "international", "western"}
)
# Words that make a count of people sent, not of people present.
_ADDED = frozenset({"additional", "extra", "more", "fresh", "new"})
_PAST_TENSE = frozenset(
    {"had", "were", "was", "remained", "numbered", "stood", "totalled", "totaled", "served"}
)
_TIME_ANCHORS = frozenset({"when", "before", "after", "until", "then", "ago", "once", "during"})
_CEILINGS = frozenset(
    {
        *("ceiling", "ceilings", "authorized", "authorised", "cap", "capped", "allowed"),
        *("allows", "permitted", "maximum", "limit"),
    }
)


@dataclass(frozen=True)
class CountReading:
    count: Count
    phrase: str
    owner: Named | None
    why: str  # why it is or is not a count of the subject's people present
    present: bool
    index: int  # the count's token


def read_counts(
    tokens: list[Token],
    events: list[Event],
    people_words: frozenset[str],
    about: Named | None,
) -> list[CountReading]:
    """Every count in the sentence, with what it counts and whether it is one."""
    readings = []
    for index, token in enumerate(tokens):
        if token.tag is not Tag.COUNT or token.count is None:
            continue
        found = _counted(tokens, index, people_words)
        if found is None:
            continue
        noun_end, named, mixed = found
        owner = _owner(tokens, index, noun_end, named, about)
        why, present = _judge(tokens, index, noun_end, events, owner, mixed)
        readings.append(CountReading(token.count, token.text, owner, why, present, index))
    return readings


def _judge(
    tokens: list[Token],
    index: int,
    noun_end: int,
    events: list[Event],
    owner: Named | None,
    mixed: bool,
) -> tuple[str, bool]:
    """Whether a count is of the subject's people present, and why (not)."""
    if mixed:
        return "counts several forces together", False
    if owner is None or owner.party is not Party.SUBJECT:
        return f"counts {owner.ident if owner else 'nobody named'}", False
    if owner.contingent:
        return "counts one contingent, not the whole force", False
    if _elsewhere(tokens, index, noun_end):
        return "counted in another place", False
    not_present = _not_present(tokens, index, noun_end, events)
    if not_present:
        return not_present, False
    return f"counts {owner.ident}", True


def _counted(
    tokens: list[Token], index: int, people: frozenset[str]
) -> tuple[int, Named | None, bool] | None:
    """Whether a count counts people: (where the phrase ends, the force named in
    it, whether it names several forces). "2,500 US troops", "1,000-strong"."""
    count = tokens[index].count
    assert count is not None
    if (
        count.value < 10
        and index > 0
        and tokens[index - 1].is_word("the", "both", "these", "those")
    ):
        return None  # "between the two forces": forces named before, not a count
    named: Named | None = None
    forces: set[str] = set()
    mixed = False
    j = index + 1
    while j < len(tokens) and j <= index + 6:
        t = tokens[j]
        if t.tag is Tag.NAME and t.named and t.named.force:
            named = named or t.named
            forces.add(t.named.ident)
            if t.low.split()[-1] in people:
                # "77 Indian military personnel", where the topic names the force so
                return j + 1, named, len(forces) > 1 or _joined(tokens, index, j, named)
        elif t.tag is Tag.WORD and (
            t.low in people or (j + 1 < len(tokens) and f"{t.low} {tokens[j + 1].low}" in people)
        ):
            if t.low in ("coalition",):
                mixed = True
            return j + 1, named, mixed or len(forces) > 1 or _joined(tokens, index, j, named)
        elif t.tag is Tag.WORD and t.low in PEOPLE_MODIFIERS:
            pass
        else:
            break
        j += 1
    if count.strong:
        return index + 1, named, False
    if _reduction(tokens, index) is not None and _levels_named(tokens, index, people):
        return index + 1, named, False  # "cut the number of troops from 4,500 to 2,500"
    # The people left out: "about 600 remain", "leaving about 600 in the country".
    k = index + 1
    while k < len(tokens) and tokens[k].is_word("still", "now", "are", "were", "have"):
        k += 1
    if k < len(tokens) and any(lx.lemma in ("remain", "stay") for lx in tokens[k].lexemes):
        return index + 1, named, False
    before = tokens[index - 1] if index > 0 else None
    if before is not None and before.is_word(
        "leaving", "leave", "leaves", "left", "remaining", "keeping"
    ):
        return index + 1, named, False
    return None


# Words that bring a force from one size to another.
_REDUCING = frozenset(
    {
        *("cut", "cuts", "cutting", "reduce", "reduced", "reduces", "reducing", "reduction"),
        *("decrease", "decreased", "decreasing", "drop", "dropped", "lower", "lowered"),
        *("shrink", "shrank", "trim", "trimmed", "drawdown", "drawn", "brought", "bring"),
        *("shrunk", "fallen", "fell", "scale", "scaled", "scaling"),
    }
)
_REDUCED = frozenset(
    {"reduced", "decreased", "dropped", "lowered", "shrank", "trimmed", "cut", "brought", "drawn"}
    | {"shrunk", "fallen", "fell"}
)
_PLANNING = frozenset(
    {*MODALS, "set", "plan", "plans", "planned", "aims", "aim", "expected", "due", "would"}
)


@dataclass(frozen=True)
class _Reduction:
    start: bool  # the count is where the force starts from ("from 4,500"), not its end
    planned: bool  # "will cut", "set to decrease": not yet done


def _reduction(tokens: list[Token], index: int) -> _Reduction | None:
    """ "from X to Y" after a word of reducing: which end the count is, and whether
    the reduction is still to come."""
    clause = clause_of(tokens, index)
    before = tokens[index - 1] if index > 0 else None
    if before is None:
        return None
    if before.is_word("from"):
        start = True  # "from 4,500 to 2,500", "a reduction from just over 2,500"
        verb_end = index - 1
    elif before.is_word("to"):
        start = False
        k = index - 2
        while k >= clause.start and tokens[k].tag is not Tag.COUNT:
            k -= 1
        from_count = k >= clause.start + 1 and tokens[k - 1].is_word("from")
        verb_end = k - 1 if from_count else index - 1
    else:
        return None
    reducing = [
        k
        for k in range(clause.start, verb_end)
        if tokens[k].low in _REDUCING and tokens[k].tag is Tag.WORD
    ]
    if not reducing:
        return None
    verb = reducing[0]
    words = {t.low for t in tokens[clause.start : verb] if t.tag is Tag.WORD}
    done = tokens[verb].low in _REDUCED  # "reduction", "to cut", "will cut": to come
    planned = bool(words & _PLANNING) or (verb > 0 and tokens[verb - 1].is_word("to")) or not done
    return _Reduction(start=start, planned=planned)


def _size_of_a_cut(tokens: list[Token], index: int, noun_end: int) -> bool:
    """ "reduce our numbers by 4,000 troops", "the reduction of 3,000 troops", "a
    2,000-strong exit": how many go, not how many are there."""
    before = tokens[index - 1] if index > 0 else None
    if before is not None and before.is_word("by", "of") and index >= 2:
        k = index - 2
        while k >= 0 and tokens[k].tag is Tag.WORD and tokens[k].low in _CUT_OBJECTS:
            k -= 1  # "reduce [our numbers] by"
        if k >= 0 and tokens[k].low in _REDUCING:
            return True
    count = tokens[index].count
    k = max(noun_end, index + 1)
    while k < len(tokens) and tokens[k].tag is Tag.NAME:
        k += 1  # "a 400-strong US withdrawal"
    after = tokens[k] if k < len(tokens) else None
    return bool(
        count is not None
        and count.strong
        and after is not None
        and any(lx.cue is Cue.LEAVE and lx.form is Form.NOUN for lx in after.lexemes)
    )


_CUT_OBJECTS = frozenset({"our", "its", "their", "the", "numbers", "number", "force", "strength"})


def _levels_named(tokens: list[Token], index: int, people: frozenset[str]) -> bool:
    """ "the number of troops", "troop levels": the people counted, named before."""
    return any(t.tag is Tag.WORD and (t.low in people or t.low == "troop") for t in tokens[:index])


def _joined(tokens: list[Token], start: int, end: int, named: Named | None) -> bool:
    """ "American and coalition personnel": a force and others counted together."""
    words = {t.low for t in tokens[start + 1 : end]}
    return "and" in words and bool(words & {"coalition", "nato", "allied", "partner", "european"})


def _owner(
    tokens: list[Token],
    index: int,
    noun_end: int,
    named: Named | None,
    about: Named | None,
) -> Named | None:
    if named is not None:
        return named
    phrase = {t.low for t in tokens[max(0, index - 1) : noun_end]}
    if phrase & _OTHERS:
        return Named("others", Party.OTHER, place=False, force=True)
    possessor = _possessor(tokens, index)
    if possessor is not None:
        return possessor
    clause = clause_of(tokens, index)
    for j in range(index - 1, clause.start - 1, -1):
        t = tokens[j]
        if t.tag is Tag.NAME and t.named and t.named.force and not is_locative(tokens, j):
            if t.text.endswith("'s") and j + 1 < len(tokens) and tokens[j + 1].tag is Tag.WORD:
                continue  # "America's main ally": the ally, not America
            if t.named.party is Party.HOST:
                continue  # "the junta asked the 13,000-strong force": not its own
            return t.named
    return about


def _possessor(tokens: list[Token], index: int) -> Named | None:
    """ "France's 1,500 troops": the force that owns a count by name."""
    j = index - 1
    while j >= 0 and tokens[j].is_word("the", "its", "all", "some", "remaining"):
        j -= 1
    t = tokens[j] if j >= 0 else None
    if t is not None and t.tag is Tag.NAME and t.named and t.text.endswith(("'s", "'")):
        return t.named
    return None


def _elsewhere(tokens: list[Token], index: int, noun_end: int) -> bool:
    """Whether the count is of people in another place: the place named right after
    it ("2,500 in Iraq and 900 in Syria"), else the one named before it in its clause."""
    clause = clause_of(tokens, index)
    for j in range(noun_end, clause.end):
        t = tokens[j]
        if t.tag is Tag.COUNT:
            break
        if t.tag is Tag.NAME and t.named and is_locative(tokens, j):
            if t.named.party is not Party.HOST:
                return True
            # "in Iraq and Syria": a count over two places.
            after = tokens[j + 1 : j + 3]
            return any(
                a.tag is Tag.NAME and a.named and a.named.party is not Party.HOST for a in after
            ) and any(a.is_word("and") for a in after)
    start = clause.start
    if start >= 2 and tokens[start].is_word("leaving", "bringing", "taking"):
        start = clause_of(tokens, start - 2).start  # "withdraw 600 from Syria, leaving 1,000"
    for j in range(index - 1, start - 1, -1):
        t = tokens[j]
        if t.tag is Tag.NAME and t.named and is_locative(tokens, j):
            return t.named.party is not Party.HOST
    return False


def _sent_then(tokens: list[Token], clause: Clause, events: list[Event]) -> bool:
    """ "Russia had deployed the 2,000-strong force", "the contingent was deployed to
    Karabakh in 2020": the clause tells of the force being sent, in the past."""
    return any(
        e.cue is Cue.MOVE
        and clause.start <= e.index < clause.end
        and e.aspect is Aspect.DONE
        and e.reading.why in ("past", "passive", "perfect")
        and not tokens[e.index - 1].is_word("is", "are", "been", "being")
        for e in events
    )


def _not_present(tokens: list[Token], index: int, noun_end: int, events: list[Event]) -> str | None:
    """Why a count is not of people present now, if it is not."""
    clause = clause_of(tokens, index)
    before_text = " " + " ".join(t.low for t in tokens[:index]) + " "
    clause_text = " " + " ".join(t.low for t in tokens[clause.start : clause.end]) + " "
    if _size_of_a_cut(tokens, index, noun_end):
        return "the size of a cut, not of the force"
    reduction = _reduction(tokens, index)
    if reduction is not None:
        if reduction.start == reduction.planned:
            return None  # "will cut it from 4,500" is there now; so is "cut it ... to 2,500"
        return "the size it is to reach" if reduction.planned else "the size it was cut from"
    past = next(
        (m for m in PAST_MARKERS if f" {m} " in before_text or f" {m} " in clause_text), None
    )
    if past or " ago " in clause_text:
        return f"a past figure ({past or 'ago'!r})"
    start = clause.start
    if start >= 2 and tokens[start].is_word("including"):
        start = clause_of(tokens, start - 2).start  # "MONUSCO had 17,753, including 12,000"
    lows = {t.low for t in tokens[start : clause.end] if t.tag is Tag.WORD}
    anchors = {t.low for t in tokens[: clause.end] if t.tag is Tag.WORD} & _TIME_ANCHORS
    dated = any(
        t.tag is Tag.DATE and t.date is not None and not t.date.weekday
        for t in tokens[: clause.end]
    )  # "As of February 2023, MONUSCO had 17,753 personnel"
    last = any(
        t.is_word("last", "earlier", "previous")
        and k + 1 < len(tokens)
        and tokens[k + 1].is_word("week", "month", "year", "summer", "spring", "autumn", "winter")
        for k, t in enumerate(tokens[: clause.end])
    )  # "Just last week there were 24,000 American troops in Iraq"
    if lows & _PAST_TENSE and (anchors or dated or last):
        return "a past figure (a past tense with a time of its own)"
    if {t.low for t in tokens[:index] if t.tag is Tag.WORD} & _CEILINGS:
        return "a ceiling, not the people there"  # "the authorized troop ceiling will be"
    if tokens[index - 1 : index] and tokens[index - 1].low in _ADDED:
        return "people sent, not present"
    partitive = (
        index >= 2
        and tokens[index - 1].is_word("the", "its", "their")
        and tokens[index - 2].is_word("of")
    )
    if any(t.is_word("none", "no", "not", "never") for t in tokens[clause.start : index]):
        return "denied (none of them)"  # "None of the roughly 1,000 troops remain"
    count = tokens[index].count
    strong = count is not None and count.strong
    if partitive and tokens[index - 3 : index - 2] and tokens[index - 3].is_word("last", "final"):
        done = [e for e in events if e.index > index and e.aspect is Aspect.DONE]
        if done and done[0].cue is Cue.LEAVE:
            return "the force that has now left"  # "the last of the 75 troops departed"
    if strong and _sent_then(tokens, clause, events):
        return "the force's size when it was sent"  # "the 2,000-strong force was deployed"
    if partitive or strong:
        return None  # "the last of the 2,500 troops", "the 1,000-strong force": the whole
    if _garrison(tokens, clause, index, noun_end) and not any(
        e.cue is Cue.LEAVE and e.here and index < e.index < clause.end for e in events
    ):  # "300 troops stationed at the base are to leave the country": the whole force
        return "people at one base"
    if (
        index > 0
        and tokens[index - 1].is_word("left", "leaving")
        and not any(t.low in MODALS for t in tokens[clause.start : index])
    ):
        return None  # "the departure of 400 left about 600 in Latvia": those still there
    # The events of the count's clause, nearest first: the one that governs it.
    near = sorted(
        (e for e in events if clause.start <= e.index < clause.end),
        key=lambda e: (abs(e.index - index), e.index > index),
    )
    for event in near:
        if event.cue is Cue.STAY:
            if (
                event.index == index - 1
                and tokens[event.index].is_word("remaining")
                and noun_end > index + 1  # the people are named: not "the remaining two"
            ):
                return None  # "the remaining 4,000 soldiers": those still there
            if event.aspect in (Aspect.PLANNED, Aspect.PROPOSED, Aspect.DECIDED, Aspect.NAMED):
                return f"a plan ({event.words!r}: {event.reading.why})"
            if event.aspect is Aspect.NEGATED:
                return f"denied ({event.reading.why})"
            return None
    for event in near:
        if event.cue in (Cue.LEAVE, Cue.HAND_OVER, Cue.MOVE):
            if event.aspect in (Aspect.DONE, Aspect.ONGOING):
                if (
                    event.cue is Cue.MOVE
                    and event.index >= noun_end
                    and tokens[event.index].is_word("deployed", "stationed", "based")
                ):
                    continue  # "1,000 troops deployed in Niger": where they are
                return f"people who moved ({event.words!r})"
            if (
                event.cue is Cue.LEAVE
                and _whole(tokens, index)
                and not _part(tokens, index, noun_end)
            ):
                return None  # "will withdraw its 400 special forces": the force present
            return f"people to be moved ({event.words!r})"
    modal = next(
        (t for t in tokens[clause.start : clause.end] if t.tag is Tag.WORD and t.low in MODALS),
        None,
    )
    if modal is not None:
        return f"a plan ({modal.text!r})"
    return None


def _whole(tokens: list[Token], index: int) -> bool:
    """ "its 400", "all 1,000", "the remaining 600", "some 11,600": the force, not a
    batch of it (a bare "600 personnel will be withdrawn" may be one)."""
    count = tokens[index].count
    if count is not None and count.qualifier is not Qualifier.EXACT:
        return True
    before = tokens[max(0, index - 3) : index]
    return any(
        t.is_word("its", "their", "his", "all", "the", "remaining", "entire", "whole")
        or (t.tag is Tag.NAME and t.text.endswith(("'s", "'")))
        for t in before
    )


_HOUSED = frozenset(
    {"housed", "houses", "accommodated", "accommodates", "hosted", "hosts", "held", "holds"}
    | {"home"}  # "the base, home to some 2,500 soldiers"
)
_STATIONED = ("stationed", "based", "deployed", "housed", "garrisoned")


def _garrison(tokens: list[Token], clause: Clause, index: int, noun_end: int) -> bool:
    """ "The base accommodated 300 French soldiers", "Air Base 201, which hosts 1,000
    US troops", "300 troops are stationed at Air Base 101": the people at one base."""
    start = clause.start
    relative = next(
        (k for k in (start, start - 1) if k >= 2 and tokens[k].is_word("which", "that", "where")),
        None,
    )
    if relative is not None and tokens[relative - 1].text == ",":
        start = clause_of(tokens, relative - 2).start  # the base the relative clause is about
    elif start >= 2 and tokens[start - 1].text == ",":
        start = clause_of(tokens, start - 2).start  # "the base, home to 2,500 soldiers,"
    housed = any(t.tag is Tag.WORD and t.low in _HOUSED for t in tokens[clause.start : index])
    if relative is not None and tokens[relative].is_word("where"):
        # "the air base, where some 500 airmen are stationed"
        housed = housed or any(t.is_word(*_STATIONED) for t in tokens[index : clause.end])
    if housed and any(_a_base(t) for t in tokens[start:index]):
        return True
    after = tokens[noun_end : min(clause.end, noun_end + 4)]
    return any(
        t.is_word("at") and k + 1 < len(after) and _a_base(after[k + 1])
        for k, t in enumerate(after)
    )


def _a_base(token: Token) -> bool:
    return token.tag is Tag.BASE or (
        token.tag is Tag.WORD and token.low in ("base", "camp", "airfield")
    )


def _part(tokens: list[Token], index: int, noun_end: int) -> bool:
    """ "200 of its 400 troops": only part of the force."""
    return noun_end < len(tokens) and any(
        t.is_word("of") for t in tokens[index + 1 : min(len(tokens), index + 3)]
    )
