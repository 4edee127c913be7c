"""The words that govern an event: "completed [the withdrawal]", "began
[pulling out]", "agreed [to leave]", "[the withdrawal] is complete"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.facts.clauses import (
    ADVERBS,
    Aspect,
    Clause,
    ClauseAspect,
    aspect_of,
    clause_of,
    relative_closing,
)
from watcher.facts.lexicon import (
    PART,
    STAGES,
    STATE_PHRASES,
    WHOLE,
    Cue,
    Form,
    Lexeme,
)
from watcher.facts.scope import accepted_before, host_does
from watcher.facts.tokens import Tag, Token

if TYPE_CHECKING:
    from watcher.facts.events import Event


# Cues that govern a core event named right after them.
GOVERNORS = frozenset({Cue.COMPLETE, Cue.BEGIN, Cue.DECIDE, Cue.DEMAND, Cue.EXTEND})


DEGREES = frozenset(
    {
        *("largely", "mostly", "nearly", "almost", "partly", "partially", "half", "virtually"),
        *("effectively", "practically", "percent", "per", "%", "intents", "substantially"),
    }
)


def read_governors(tokens: list[Token], event: Event, clause: Clause, lexeme: Lexeme) -> None:
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
        or (lexeme.form is Form.NOUN and tokens[i].tag is Tag.WORD and tokens[i].low in _STAGED)
    ):
        adjectives += lexeme.form is Form.NOUN and _adjective(tokens[i])
        if tokens[i].tag is Tag.WORD and tokens[i].low in PART:
            event.partial = True  # "finishing the logistical part of the withdrawal"
        if tokens[i].tag is Tag.WORD and tokens[i].low in STAGES and not _last_stage(tokens, i):
            event.partial = True  # "began the second phase of the drawdown": a part of it
        i -= 1
    while (
        i > clause.start
        and tokens[i].is_word("complete", "final")
        and tokens[i - 1].is_word("the", "a", "an", "its", "their", "and")
    ):
        # "the complete withdrawal of MONUSCO", "a full and complete pullout": an
        # adjective of extent, not the verb "complete".
        event.whole = True
        i -= 1
        while i >= clause.start and tokens[i].is_word("the", "a", "an", "its", "their", "and"):
            i -= 1
    if i >= clause.start and tokens[i].is_word(*_WITNESSING) and lexeme.form is Form.NOUN:
        # "the second phase has seen the handover of two bases": it took place, when
        # the verb tells of the past ("will see the handover": to come).
        form = Form.BASE if tokens[i].is_word("see", "sees", "witness") else Form.PAST
        outer = aspect_of(tokens, i, form, False)
        if outer.aspect is Aspect.DONE:
            event.reading = ClauseAspect(Aspect.DONE, f"{tokens[i].text!r}: {outer.why}")
        else:
            event.reading = outer
        return
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
                event.reading = ClauseAspect(
                    Aspect.PROPOSED, f"ordered by the host: {tokens[i].text!r}"
                )
                return
            if governor.lemma in FACTIVE and lexeme.form is Form.NOUN:
                # "confirmed the departure": it happened.
                if outer.aspect in (Aspect.DONE, Aspect.ONGOING):
                    event.reading = ClauseAspect(Aspect.DONE, f"{tokens[i].text!r}: {outer.why}")
                return
            event.reading = _combine(governor.cue, outer, tokens[i].text)
            if governor.cue is Cue.DEMAND and accepted_before(tokens, i):
                # "will respect Burkina Faso's request to withdraw": agreed
                event.reading = ClauseAspect(
                    Aspect.DECIDED, f"{tokens[i].text!r}: a demand accepted"
                )
            if governor.cue is Cue.COMPLETE and event.reading.aspect is Aspect.DONE:
                event.whole = not event.partial
                if event.partial:
                    event.reading = ClauseAspect(Aspect.ONGOING, f"{tokens[i].text!r} a part")
            elif governor.cue is Cue.COMPLETE and _imminent(tokens, clause, i):
                # "days away from completing", "will complete it in the coming days":
                # not done yet, and under way.
                event.reading = ClauseAspect(Aspect.ONGOING, f"{tokens[i].text!r}: soon")
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
        and tokens[k - 1].is_word(*STAGES)
    ):
        event.partial = True  # "the first phase of the withdrawal has begun": it has, in part
    elif k >= clause.start and tokens[k].is_word(
        "on", "about", "over", "regarding", "concerning", "for", "into", "with", "of"
    ):
        return  # "talks on the drawdown have concluded": the talks did
    del before
    # After: "the withdrawal [of US troops from Bagram] is complete / began / was completed",
    # past a relative clause: "the withdrawal, which began in May, is to be finished by".
    j, end = event.index + 1, clause.end
    close = relative_closing(tokens, end)
    if close is not None:
        clause = clause_of(tokens, close + 1)
        j, end = close + 1, clause.end
    elif _completed_aside(tokens, end):
        # "The closure of the air base, completed last week, left...": said in between
        clause = clause_of(tokens, end + 1)
        j, end = end + 1, clause.end
    while j < end:
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
                        event.reading = ClauseAspect(Aspect.ONGOING, f"{degree} {token.text}")
                        event.partial = True
                    elif event.partial:  # "the first phase of the withdrawal is complete"
                        event.reading = ClauseAspect(Aspect.ONGOING, f"{token.text!r} a part")
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
            event.reading = ClauseAspect(Aspect.DONE, f"{token.text} {tokens[j + 1].text}")
            return
        if token.is_word(*PRESUPPOSING) and event.reading.aspect is Aspect.NAMED:
            # "the closure of the Tessalit camp represents...": it happened.
            event.reading = ClauseAspect(Aspect.DONE, f"the subject of {token.text!r}")
            return
        j += 1


def _completed_aside(tokens: list[Token], end: int) -> bool:
    """ ", completed last week,": a participle of completing set off after the noun."""
    return (
        end + 1 < len(tokens)
        and tokens[end].text == ","
        and any(
            lx.cue is Cue.COMPLETE and lx.form in (Form.PAST, Form.PARTICIPLE)
            for lx in tokens[end + 1].lexemes
        )
    )


# Verbs whose subject, a time or a stage, saw the event take place.
_WITNESSING = frozenset({"saw", "seen", "see", "sees", "witnessed", "witness"})


# A stage of the event and its ordinal: "kicked off [the second phase of] troop drawdown".
_STAGED = STAGES | {"second", "third", "fourth", "next", "final", "last"}


def _last_stage(tokens: list[Token], i: int) -> bool:
    """ "completed the final phase of the withdrawal": the whole of it."""
    return i > 0 and tokens[i - 1].is_word("final", "last")


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
    """ "days away from completing", "will complete it in the coming days": near the
    governor, not anywhere in its clause ("a war that cost nearly 4,500 lives")."""
    window = tokens[max(0, clause.start - 3) : min(clause.end, index + 7)]
    text = " " + " ".join("#" if t.tag is Tag.COUNT else t.low for t in window) + " "
    return any(f" {w} " in text and f" {w} # " not in text for w in _SOON)


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
        and token.low.endswith(
            ("ed", "al", "ive", "ful", "ous", "ary", "ic", "le", "ing", "ate", "ly")
        )
    )


def _copula(tokens: list[Token], clause: Clause, index: int) -> ClauseAspect | None:
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


def _combine(cue: Cue, outer: ClauseAspect, word: str) -> ClauseAspect:
    """A core event under a governing cue: "completed" makes it done, "began"
    ongoing, "agreed" decided, "asked" proposed; the governor's own tense counts."""
    if outer.aspect in (Aspect.NEGATED, Aspect.PROPOSED):
        return ClauseAspect(outer.aspect, outer.why)
    if cue is Cue.COMPLETE:
        return ClauseAspect(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.BEGIN:
        if outer.aspect is Aspect.DONE:
            return ClauseAspect(Aspect.ONGOING, f"{word!r}: {outer.why}")
        if outer.aspect is Aspect.PLANNED:
            # "the withdrawal will begin in several weeks": settled, not yet begun
            return ClauseAspect(Aspect.DECIDED, f"{word!r}: {outer.why}")
        return ClauseAspect(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.DECIDE:
        if outer.aspect in (Aspect.DONE, Aspect.ONGOING, Aspect.NAMED):
            return ClauseAspect(Aspect.DECIDED, f"{word!r}: {outer.why}")
        return ClauseAspect(outer.aspect, f"{word!r}: {outer.why}")
    if cue is Cue.EXTEND:
        return ClauseAspect(Aspect.NAMED, f"{word!r}")
    return ClauseAspect(Aspect.PROPOSED, f"{word!r}: asked for")


def read_alternative(tokens: list[Token], event: Event, clause: Clause) -> None:
    """ "have departed or are about to leave": done, or nearly done; under way."""
    if event.reading.aspect is not Aspect.DONE:
        return
    for i in range(event.index + 1, clause.end - 1):
        if tokens[i].is_word("or") and tokens[i + 1].is_word(
            "are", "is", "will", "about", "nearing", "soon", "expected", "set"
        ):
            event.reading = ClauseAspect(
                Aspect.ONGOING, f"done {tokens[i].text} {tokens[i + 1].text}"
            )
            event.partial = True
            return
