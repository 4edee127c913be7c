"""What an event is done to: bases, lists of bases, an agreement, the place or
another, its date, and whether it is all of the force or part of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.facts.clauses import RELATIVES, Aspect, Clause, clause_of, previous_clause
from watcher.facts.dates import WEEKDAYS, DateMatch
from watcher.facts.lexicon import (
    CORE,
    FORCE_NOUNS,
    PART,
    PROCESS_NOUNS,
    STAGES,
    WHOLE,
    Cue,
)
from watcher.facts.names import Party
from watcher.facts.tokens import REGIONS, Tag, Token, is_locative, the_hosts_ground

if TYPE_CHECKING:
    from watcher.facts.events import Event


_TIMES = frozenset(
    {"week", "month", "year", "night", "weekend", "time", "days", "months", "year's"}
)


# Nouns a force's presence goes by: ending one is leaving the place.
PRESENCE_NOUNS = frozenset(
    {"presence", "mission", "operation", "operations", "deployment", "occupation", "mandate"}
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
        *("area", "areas", "province", "provinces", "airport", "airports"),
    }
)


# Agreements the topic does not name: ending one is not leaving.
AGREEMENT_NOUNS = frozenset(
    {"agreement", "agreements", "accord", "accords", "treaty", "treaties", "pact", "deal"}
)


# Words that make a departure short of whole.
EXCEPTIONS = frozenset({"except", "excluding", "apart", "besides", "save"})


_TARGET_REACH = 14


def read_targets(
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
        aside = _time_aside(tokens, i)
        if aside is not None:
            # "handed over, on Wednesday, the Kamanyola base": past the time, the object
            clause = Clause(clause.start, clause_of(tokens, aside).end)
            end = min(len(tokens), aside + _TARGET_REACH)
            i = aside
            continue
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
            for base in token.base_keys:
                if all(key != base for key, _ in event.bases):
                    event.bases.append((base, None))
            last_base = next(n for n, (key, _) in enumerate(event.bases) if key == token.key)
        elif token.tag is Tag.AGREEMENT:
            event.agreement = token.key
        elif token.tag is Tag.DATE and token.date is not None:
            if last_base is not None and event.bases[last_base][1] is None:
                event.bases[last_base] = (event.bases[last_base][0], token.date)
            elif event.date is None:
                event.date = token.date
        elif token.tag is Tag.NAME and is_locative(tokens, i):
            _place(event, tokens, i)
        elif token.tag is Tag.WORD and not (event.bases or event.agreement):
            _object_noun(event, token, tokens, i)
        i += 1
    if not event.bases and event.agreement is None:
        antecedent = _relative_antecedent(tokens, clause, event)
        if antecedent is not None:
            event.bases.append((antecedent, None))  # "Air Base 101, which US forces left"
    if not event.bases and event.agreement is None and event.cue is Cue.HAND_OVER:
        site = _site_of_control(tokens, event.index, after)
        if site is not None:
            event.bases.append((site, None))
    if backward and not event.bases and event.agreement is None:
        # "Air Base 101 was handed over", "the withdrawal from Bagram is complete":
        # the thing done to stands before the cue, maybe before a relative clause
        # ("The accord, which allowed US troops in, was cancelled").
        before = list(range(event.index - 1, clause.start - 1, -1))
        interrupted = _before_relative(tokens, clause)
        if interrupted is not None:
            before += range(interrupted.end - 1, interrupted.start - 1, -1)
        for j in before:
            token = tokens[j]
            if token.tag is Tag.BASE and token.key:
                event.bases += [(base, None) for base in token.base_keys]
                if interrupted is None or not interrupted.start <= j < interrupted.end:
                    break  # a list in apposition is read whole: "two FOBs – A and B –"
            elif event.bases and not token.is_word("and") and token.text != ",":
                break
            if token.tag is Tag.AGREEMENT:
                event.agreement = token.key
                break
    for j in range(clause.start, event.index):
        token = tokens[j]
        if token.tag is Tag.NAME and is_locative(tokens, j) and not (event.here or event.elsewhere):
            _place(event, tokens, j)
    if event.date is None:
        event.date = _event_date(tokens, event.index, since=event.aspect is Aspect.ONGOING)


def _time_aside(tokens: list[Token], i: int) -> int | None:
    """ ", on Wednesday," ", this week,": a time set off by commas right after the
    verb; where what follows it starts."""
    if tokens[i].text != ",":
        return None
    j = i + 1
    while j < len(tokens) and j <= i + 4 and tokens[j].text != ",":
        j += 1
    if j >= len(tokens) or tokens[j].text != "," or j == i + 1:
        return None
    inside = tokens[i + 1 : j]
    timely = any(t.tag is Tag.DATE for t in inside) or any(
        t.low in _TIMES or t.low in WEEKDAYS for t in inside
    )
    words_only = all(t.tag in (Tag.WORD, Tag.DATE) and not t.lexemes for t in inside)
    nxt = tokens[j + 1] if j + 1 < len(tokens) else None
    object_next = nxt is not None and (
        nxt.tag in (Tag.BASE, Tag.NAME) or nxt.is_word("the", "a", "its", "their", "both", "all")
    )
    return j + 1 if timely and words_only and object_next else None


def _before_relative(tokens: list[Token], clause: Clause) -> Clause | None:
    """The clause a relative clause set off by commas interrupts, when ``clause``
    goes on after it: "The accord[, which allowed US troops in,] was cancelled";
    or a base in apposition: "One FOB, Marka Ayub, was closed"."""
    if clause.start < 1 or tokens[clause.start - 1].text not in (",", "-", "–", "—"):
        return None
    relative = previous_clause(tokens, clause)
    if relative is None:
        return None
    segment: Clause | None = relative
    for _ in range(2):  # "The main logistics base, Star Base, used by the UN since 2003, was"
        if segment is None:
            break
        if segment.end - segment.start <= 5 and any(
            t.tag is Tag.BASE for t in tokens[segment.start : segment.end]
        ):
            return segment
        if segment.start < 2 or tokens[segment.start - 1].text != ",":
            break
        segment = previous_clause(tokens, segment)
    k = relative.start
    while k > 0 and k >= relative.start - 1 and not tokens[k].is_word(*RELATIVES):
        k -= 1
    if not tokens[k].is_word(*RELATIVES) or k < 2 or tokens[k - 1].text != ",":
        return None
    return clause_of(tokens, k - 2)


def _event_date(tokens: list[Token], index: int, *, since: bool) -> DateMatch | None:
    """The day an event happened, stated anywhere in its sentence: "On August 5,
    the US handed over...", "...handed over the base on Sunday"; the nearest."""
    days = [
        (abs(j - index), token.date)
        for j, token in enumerate(tokens)
        if token.tag is Tag.DATE
        and token.date is not None
        and (
            token.date.weekday
            or (j > 0 and tokens[j - 1].is_word("on", "last"))
            or (since and j > 0 and tokens[j - 1].is_word("since"))  # "withdrawing since May 1"
        )
    ]
    return min(days, key=lambda d: d[0])[1] if days else None


def _object_noun(event: Event, token: Token, tokens: list[Token], i: int) -> None:
    """What a word after the cue says about what the event is done to."""
    low = token.low
    decided = event.process or event.mission or event.facility or event.other_agreement
    if low in ("country", "nation") and _the_country(tokens, i) and not event.elsewhere:
        event.here = True  # "will leave the country": the place of the story
    elif the_hosts_ground(tokens, i) and not event.elsewhere:
        event.here = True  # "left Malian soil", "the Kyrgyz territory"
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
    elif event.cue is Cue.END and low in PROCESS_NOUNS:
        event.process = True
    elif low in AGREEMENT_NOUNS and _an_organisation(tokens, i):
        return  # "the Collective Security Treaty Organization": a body, not an accord
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


def _an_organisation(tokens: list[Token], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].is_word("organization", "organisation")


_ALL_SITES = frozenset({"bases", "installations", "camps", "facilities", "sites", "garrisons"})


def _the_country(tokens: list[Token], i: int) -> bool:
    """ "the country", "the West African nation": the place, named before."""
    j = i - 1
    while j >= max(0, i - 4) and tokens[j].tag is Tag.WORD and not tokens[j].is_word("the"):
        j -= 1
    return j >= 0 and tokens[j].is_word("the")


def _site_of_control(tokens: list[Token], index: int, after: int) -> str | None:
    """ "held a ceremony at Air Base 201 and returned control to Niger": control,
    handed over with no base after it, is of the one base the sentence named before."""
    j = after
    while j < len(tokens) and tokens[j].is_word("the", "full", "formal", "formally"):
        j += 1
    if j >= len(tokens) or not tokens[j].is_word("control", "keys", "command"):
        return None
    if j + 1 < len(tokens) and tokens[j + 1].is_word("of", "over"):
        return None  # "control of the airport": what follows says of what
    named = {t.key for t in tokens[:index] if t.tag is Tag.BASE and t.key}
    return named.pop() if len(named) == 1 else None


def _relative_antecedent(tokens: list[Token], clause: Clause, event: Event) -> str | None:
    """The base a relative clause is about: "Air Base 101, which ...", "the base that
    ...", or a participle set off after it: "Agadez, vacated by the Americans,"."""
    start = clause.start
    if start > 0 and tokens[start - 1].is_word("which", "that"):
        j = start - 2
    elif tokens[start].is_word("which", "that") or (
        event.index == start and start >= 2 and event.reading.why == "passive"
    ):
        j = start - 1
    else:
        return None
    while j >= 0 and tokens[j].text in (",", '"'):
        j -= 1
    if j < 0:
        return None
    if tokens[j].tag is Tag.BASE:
        return tokens[j].key
    return _town_base(tokens[j]) if event.cue in _LEAVING else None


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


_LEAVING = frozenset({Cue.LEAVE, Cue.HAND_OVER, Cue.TAKE_OVER, Cue.CLOSE})
_DESTINATIONS = frozenset({"to", "toward", "towards", "into"})


def _town_base(token: Token) -> str | None:
    """The base a town names, where the town stands for the base it has."""
    named = token.named
    return named.base if token.tag is Tag.NAME and named is not None else None


def _destination(tokens: list[Token], index: int) -> bool:
    """ "redeployed to the city of Irbil": where they go, not where they leave."""
    j = index - 1
    while j > 0 and tokens[j].is_word("the", "city", "town", "of", "capital", "northern"):
        j -= 1
    return j >= 0 and tokens[j].low in _DESTINATIONS


def _place(event: Event, tokens: list[Token], index: int) -> None:
    named = tokens[index].named
    assert named is not None
    town = (
        named.town
        and not event.here  # "from western Iraq and Baghdad": the place is named too
        and event.cue in _LEAVING
        and not _destination(tokens, index)
    )  # a departure from one of the host's towns; being in one is being in the place
    if town and index > 0 and tokens[index - 1].is_word("near", "outside", "around", "beyond"):
        return  # "a disused depot near Gyumri": where something else is
    if town and named.base is not None:
        if all(key != named.base for key, _ in event.bases):
            event.bases.append((named.base, None))  # "left Agadez": the base there
    elif town:
        event.facility = True  # "left Tillaberi": a part of the place
    elif named.party is Party.HOST:
        event.here = True
    else:
        event.elsewhere = True


def read_extent(tokens: list[Token], event: Event, clause: Clause) -> None:
    """ "all its troops", "the last soldiers", "some 500 troops": whole or partial."""
    stop = min(clause.end, event.index + 8)
    part_before = whole_after = one_kind = False
    for i, token in enumerate(tokens[clause.start : stop], start=clause.start):
        if token.low in _KINDS and i + 1 < len(tokens) and tokens[i + 1].low in FORCE_NOUNS:
            one_kind = True  # "the last combat troops": one kind of them, others stay
        elif token.tag is Tag.WORD and token.low in WHOLE:
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
            whole_after = whole_after or i > event.index
        elif (
            token.tag is Tag.WORD
            and token.low in PART
            and not _ordinal_of_other(tokens, i)
            and not (i + 1 < len(tokens) and tokens[i + 1].low in _TIMES)  # "several days ago"
        ):
            event.partial = True
            part_before = part_before or i < event.index
        elif token.tag is Tag.COUNT:
            event.partial = event.counted = True
    if event.excepted or (part_before and whole_after) or one_kind:
        # "others have left the country entirely": some of them left it for good
        event.partial, event.whole = True, False


_KINDS = frozenset({"combat", "ground", "infantry"})


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
            after.lexemes or after.low in FORCE_NOUNS or after.low in PART or after.low in STAGES
        )
    )
