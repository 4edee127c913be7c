"""Deadlines: which dates in a sentence are the end point of the withdrawal.

A date is a deadline when a word makes it one ("by", "until", "the ...
deadline", "are expected to leave in August") and the event it belongs to is
the subject's withdrawal, not done, denied, asked for or replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from watcher.facts.clauses import Aspect, clause_of, relative_opening
from watcher.facts.dates import DateMatch, Precision
from watcher.facts.events import Event
from watcher.facts.lexicon import (
    DEADLINE_NOUNS,
    DEADLINE_PREPOSITIONS,
    PROCESS_NOUNS,
    STAGES,
    SUPERSEDED,
    Cue,
    Form,
)
from watcher.facts.names import Party
from watcher.facts.numbers import Qualifier
from watcher.facts.tokens import Tag, Token


@dataclass(frozen=True)
class DeadlineReading:
    value: str
    qualifier: str
    phrase: str
    why: str
    replaces: bool  # "a new deadline of Sept. 11": other deadlines here are older


def read_deadlines(
    tokens: list[Token], events: list[Event], subject_leaves: bool, published: date | None
) -> tuple[list[DeadlineReading], list[str]]:
    """The deadlines a sentence states, and why its other dates are none.
    ``subject_leaves``: the sentence is about the subject leaving, which lets a
    deadline noun ("the September 15 deadline") stand without its event."""
    found: list[DeadlineReading] = []
    notes: list[str] = []
    for i, token in enumerate(tokens):
        if token.tag is not Tag.DATE or token.date is None or token.date.weekday:
            continue
        if token.date.precision is Precision.YEAR:
            continue  # "by 2026": a year is no date to count down to
        marker = _deadline_marker(tokens, i) or _planned_end(tokens, i, events)
        if marker is None:
            notes.append(f"{token.text!r}: no word makes it the end of the withdrawal")
            continue
        clause = clause_of(tokens, i)
        window = " ".join(t.low for t in tokens[max(0, clause.start - 1) : i])
        superseded = next(
            (w for w in SUPERSEDED if f" {w} " in f" {window} " and _of_a_date(window, w)), None
        )
        if superseded or _extended_from(tokens, i) or _extended_object(tokens, i):
            notes.append(f"{token.text!r}: a former deadline ({superseded or 'extended from'})")
            continue
        if _begins_then(tokens, i):
            notes.append(f"{token.text!r}: when it is to begin, not end")
            continue
        event = _event_for_date(events, tokens, i)
        if event is None:
            if marker not in DEADLINE_NOUNS or not subject_leaves:
                notes.append(f"{token.text!r} after {marker!r}: not the end of the withdrawal")
                continue
        elif event.aspect is Aspect.NEGATED and marker != "not until":
            notes.append(f"{token.text!r}: {event.aspect.value} ({event.reading.why})")
            continue
        elif event.aspect is Aspect.PROPOSED and marker not in DEADLINE_NOUNS:
            # "would stay until Biden's September 11 deadline": the plan is in
            # doubt, the deadline it names is not.
            notes.append(f"{token.text!r}: {event.aspect.value} ({event.reading.why})")
            continue
        elif (
            event.aspect is Aspect.DONE
            and marker not in DEADLINE_NOUNS
            and marker not in ("not until", "date")
            and event.cue is not Cue.EXTEND
        ):
            notes.append(f"{token.text!r}: when it was done, not a deadline")
            continue
        elif event.agent is None or event.agent.party is not Party.SUBJECT:
            who = event.agent.ident if event.agent else "nobody named"
            notes.append(f"{token.text!r}: the deadline of {who}, not of the subject")
            continue
        if event is not None and (event.elsewhere and not event.here):
            continue
        if event is not None and _topic_of_another_noun(tokens, event.index):
            notes.append(f"{token.text!r}: the date of what is about the withdrawal, not its own")
            continue
        if marker == "stay until" and (event is None or event.bases):
            notes.append(f"{token.text!r}: how long they stay at a base, not in the country")
            continue
        if (
            event is not None
            and marker not in DEADLINE_NOUNS
            and _some_leave(tokens, event)
            and not _the_rest(tokens, event.index, i)
        ):
            # "hundreds of troops will leave by September 2025": a stage, unless the
            # date is the deadline itself ("before the September 15 deadline").
            notes.append(f"{token.text!r}: when some of the force leave, a stage")
            continue
        if event is not None:
            event.deadline = True
        value, qualifier = _date_value(_ahead(token.date, published))
        replaces = next((w for w in _REPLACING if f" {w} " in f" {window} "), None)
        why = f"deadline: {marker!r}" + (f", {replaces!r}" if replaces else "")
        found.append(DeadlineReading(value, qualifier, token.text, why, bool(replaces)))
    if len(found) > 1 and not any(d.replaces for d in found):
        # "by September 2025 for some and by the end of 2026 for others": the end of
        # the whole is the last of them; the others are stages.
        last = max(found, key=lambda d: d.value)
        notes += [f"{d.phrase!r}: a stage before {last.phrase!r}" for d in found if d != last]
        found = [last]
    return found, notes


def _of_a_date(window: str, word: str) -> bool:
    """ "replacing the May 1 deadline", not "complete replacing military personnel by":
    a verb of replacing makes a date former only when the date is its object."""
    if word not in ("replacing", "replaced", "replaces", "instead of", "rather than"):
        return True
    return len(f" {window} ".split(f" {word} ", 1)[1].split()) <= 3  # "replacing the original"


# Words that make a deadline the one replacing any other the article names.
_REPLACING = ("new", "revised", "extended", "updated", "a later", "moved to", "pushed back to")


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
        and any(lx.cue in (Cue.LEAVE, Cue.COMPLETE) for lx in tokens[index + 2].lexemes)
    ):
        return "until ... to leave"  # "gave US forces until May 15 to leave / to complete"
    if index > 0 and tokens[index - 1].is_word("until", "till"):
        clause = clause_of(tokens, index)
        words = {t.low for t in tokens[clause.start : index] if t.tag is Tag.WORD}
        if words & {"not", "n't"} and words & {"complete", "completed", "over", "finished", "done"}:
            return "not until"  # "will not be complete until the end of August"
        if (
            any(
                lx.cue is Cue.STAY and lx.form is not Form.NOUN
                for t in tokens[clause.start : index - 1]
                for lx in t.lexemes
            )
            and [t.low for t in tokens[max(0, index - 3) : index - 1]] != ["at", "least"]
            and not words & {"was", "were", "had"}
        ):
            # "will remain in the country until September 15"; not "were due to stay
            # at least until November 2025", a former plan and a least.
            return "stay until"
    if _named_as_deadline(tokens, index):
        return "as the date"  # "set September 15 as the date for the last troops to leave"
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
                or tokens[k].is_word("push")  # "agreed to push back the deadline ... to"
                for k in range(max(0, j - 9), j)
            )
        ):
            return "extended to"
        if tokens[j].is_word("of", "for", "is", "was", "at", "on", ":") and j > 0:
            k = j - 1
            while k >= 0 and (
                tokens[k].is_word("set", "been", "has", "the", "new", "a", "fixed", "now")
                or tokens[k].text == ","  # "the deadline, set for September 15,"
            ):
                k -= 1
            if k >= 0 and tokens[k].tag is Tag.WORD and tokens[k].low in DEADLINE_NOUNS:
                return tokens[k].low
        if tokens[j].is_word("is", "was", "remains", "be"):
            # "the deadline for the US withdrawal[, set in May,] is September 15"
            noun = next(
                (t.low for t in tokens[:j] if t.tag is Tag.WORD and t.low in DEADLINE_NOUNS), None
            )
            if noun is not None:
                return noun
        if tokens[j].is_word("on", "in") and j > 0 and _planned_to_end(tokens, j - 1):
            return "to end on"  # "the withdrawal is scheduled to end on September 15"
    return None


def _named_as_deadline(tokens: list[Token], index: int) -> bool:
    """ "set September 15 as the date for ...", "... as its deadline"."""
    j = index + 1
    if j >= len(tokens) or not tokens[j].is_word("as"):
        return False
    j += 1
    while j < len(tokens) and tokens[j].is_word("the", "a", "its", "their", "final", "new"):
        j += 1
    return (
        j < len(tokens) and tokens[j].tag is Tag.WORD and tokens[j].low in DEADLINE_NOUNS | {"date"}
    )


def _planned_to_end(tokens: list[Token], verb: int) -> bool:
    """ "is scheduled to end", "will conclude": a verb of ending or completing, in a
    future, whose clause names the withdrawal ("the withdrawal ... to end on")."""
    if not any(
        lx.cue in (Cue.END, Cue.COMPLETE) and lx.form in (Form.BASE, Form.PRESENT)
        for lx in tokens[verb].lexemes
    ):
        return False
    if verb == 0 or not tokens[verb - 1].is_word("to", "will", "shall"):
        return False
    clause = clause_of(tokens, verb)
    return any(t.low in PROCESS_NOUNS for t in tokens[clause.start : verb] if t.tag is Tag.WORD)


def _begins_then(tokens: list[Token], index: int) -> bool:
    """ "the drawdown will start by the end of 2023": the nearest verb before the date
    is one of beginning."""
    clause = clause_of(tokens, index)
    for t in reversed(tokens[clause.start : index]):
        if t.tag is Tag.WORD and t.lexemes:
            return any(lx.cue is Cue.BEGIN and lx.form is not Form.NOUN for lx in t.lexemes)
    return False


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
    if event.aspect in (Aspect.PLANNED, Aspect.DECIDED) and _completing(tokens, event.index):
        return "planned completion"  # "UNAMID will complete its drawdown on 30 June 2021"
    if event.aspect in (Aspect.PLANNED, Aspect.DECIDED) and event.here:
        return "planned end"
    if event.aspect in (Aspect.NAMED, Aspect.DECIDED) and event.whole and not event.elsewhere:
        return "the whole withdrawal"  # "leading to a full withdrawal in September 2026"
    return None


def _topic_of_another_noun(tokens: list[Token], index: int) -> bool:
    """ "a progress report on the withdrawal strategy is expected by March 31": the
    event is what another noun is about, and the date is that noun's."""
    k = index - 1
    while k >= 0 and (tokens[k].is_word("the", "a", "its", "their") or tokens[k].tag is Tag.NAME):
        k -= 1
    return (
        k >= 1
        and tokens[k].is_word("on", "about", "regarding", "concerning", "into")
        and tokens[k - 1].tag is Tag.WORD
        and not tokens[k - 1].lexemes
    )


def _completing(tokens: list[Token], index: int) -> bool:
    """ "complete [its] drawdown": a verb of completing a few words before the event."""
    return any(
        lx.cue is Cue.COMPLETE and lx.form is not Form.NOUN
        for t in tokens[max(0, index - 4) : index]
        for lx in t.lexemes
    )


def _some_leave(tokens: list[Token], event: Event) -> bool:
    """ "Some US troops will leave", "hundreds of soldiers are to depart": the ones
    leaving are a part of the force, named before the cue."""
    if event.whole or event.cue is not Cue.LEAVE:
        return False
    if event.partial and any(t.low in STAGES for t in tokens[: event.index] if t.tag is Tag.WORD):
        return True  # "the second phase of the drawdown ... by the end of September"
    after = tokens[event.index + 1 : event.index + 6]
    for k, token in enumerate(after):
        if token.tag is Tag.COUNT and any(t.is_word(*_MORE) for t in after[max(0, k - 2) : k]):
            return True  # "withdraw an additional 3,000 troops by the end of September"
    for token in tokens[clause_of(tokens, event.index).start : event.index]:
        if token.tag is Tag.COUNT and token.count is not None:
            if token.count.qualifier is Qualifier.VAGUE:
                return True
        elif token.tag is Tag.WORD and token.low in _SOME:
            return True
    return False


def _the_rest(tokens: list[Token], cue: int, index: int) -> bool:
    """ "...by August 1, and the rest by September 15": the last of them go then."""
    for token in reversed(tokens[cue + 1 : index]):
        if token.tag is Tag.PUNCT or token.is_word("and"):
            return False
        if token.is_word(*_REST):
            return True
    return False


_REST = ("rest", "remainder", "remaining", "all", "last")
_MORE = ("additional", "further", "another", "more", "extra")


_SOME = frozenset({"some", "hundreds", "dozens", "thousands", "several", "part", "portion"})


def _date_before(tokens: list[Token], index: int) -> int:
    """The date just before ``index`` ("from [August 31] to"), or -1."""
    j = index - 1
    return j if j >= 0 and tokens[j].tag is Tag.DATE else -1


def _extended_object(tokens: list[Token], index: int) -> bool:
    """ "It extends the May 2021 deadline": the date a verb of extending moves is the
    old one (the new one follows "to" or "until")."""
    k = index - 1
    while k >= 0 and tokens[k].is_word("the", "a", "its", "their", "previous"):
        k -= 1
    return k >= 0 and any(lx.cue is Cue.EXTEND for lx in tokens[k].lexemes)


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
    # "The withdrawal, which began in May, is to be finished by": past the relative
    opening = relative_opening(tokens, clause.start - 1)
    start = opening if opening is not None else clause.start
    before = [e for e in events if e.index < index and e.index >= start - 6]
    if before:
        return before[-1]
    reach = clause.end + 6
    if clause.start == 0 and clause.end < len(tokens) and tokens[clause.end].text == ",":
        # "By September 15, all US forces will have left Niger": a date put first
        reach = clause_of(tokens, clause.end + 1).end
    after = [e for e in events if e.index > index and e.index < reach]
    return after[0] if after else None


# How far before the article a year-less deadline may be and still be this year's:
# one just passed ("missed the August 31 deadline") is; one months before is next year's.
_JUST_PASSED = timedelta(days=45)


def _ahead(match: DateMatch, published: date | None) -> DateMatch:
    """ "has until 30 September", told in February: a deadline is still to come, so
    a year-less one months before the article is next year's, not the nearest."""
    if not match.yearless or published is None or match.value >= published - _JUST_PASSED:
        return match
    try:
        return replace(match, value=match.value.replace(year=match.value.year + 1))
    except ValueError:  # February 29
        return replace(match, value=match.value.replace(year=match.value.year + 1, day=28))


def _date_value(match: DateMatch) -> tuple[str, str]:
    return match.value.isoformat(), match.precision.value
