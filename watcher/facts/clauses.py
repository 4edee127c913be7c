"""Where a clause starts and ends, and what governs a word inside it.

Scope, not distance: "not", "whether", "will" or "denied" govern the words
after them up to the end of their clause (NegEx-style cue scope), and a verb
in the infinitive takes its meaning from the word that governs it ("agreed
to leave" is a decision, "refused to leave" a denial, "began to leave" a
start).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from watcher.facts.lexicon import FORCE_NOUNS, MODALS, PLANS, Form
from watcher.facts.scope import (
    ACCEPTED,
    conditioned_after,
    decided_before,
    doubted,
    doubted_after,
    governing_sentence,
    host_does,
    negated,
    reported_before,
)
from watcher.facts.tokens import Tag, Token


class Aspect(StrEnum):
    """What a sentence says of an event."""

    DONE = "done"  # it happened
    ONGOING = "ongoing"  # it is happening
    DECIDED = "decided"  # it was agreed, decided, ordered: it will happen
    PLANNED = "planned"  # someone means or expects it to happen
    PROPOSED = "proposed"  # asked for, proposed, possible: nothing decided
    NEGATED = "negated"  # it did not happen, or is denied or doubted
    NAMED = "named"  # a noun that names the event and says nothing of it


# Words that end a clause for scope: what governs words before them does not
# reach the words after.
_BREAK_PUNCT = frozenset({",", ";", ":", "(", ")", "[", "]", "-"})
_BREAK_WORDS = frozenset(
    {"but", "while", "whereas", "although", "though", "however", "which", "who", "whom", "whose"}
)
RELATIVES = frozenset({"which", "who", "whom", "whose", "that"})

_BE = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "'s", "'re"})
_HAVE = frozenset({"has", "have", "had", "having", "'ve", "'d"})
# Words that may stand between an auxiliary and its verb.
ADVERBS = frozenset(
    {
        *("already", "now", "also", "formally", "officially", "finally", "fully", "just"),
        *("recently", "quietly", "largely", "mostly", "partly", "partially", "still", "then"),
        *("completely", "effectively", "reportedly", "gradually", "eventually", "soon", "yet"),
        *("entirely", "successfully", "swiftly", "quickly", "all", "both", "indeed"),
        *("silently", "hastily", "virtually", "almost", "nearly", "practically", "since"),
        *("officially", "actually", "really", "once", "again", "previously", "initially"),
    }
)
_DONE_LEADS = frozenset({"after", "since", "upon", "following"})
_PLAN_LEADS = frozenset({"before", "ahead", "until", "till", "pending"})
# Words that open a clause whose present tense is to come ("after the force leaves").
_FUTURE_LEADS = _PLAN_LEADS | {"after", "when", "once", "if", "unless"}
_DECIDE_GOVERNORS = frozenset(
    {
        *("agree", "agreed", "agrees", "agreeing", "decide", "decided", "decides", "decision"),
        *("agreement", "deal", "order", "ordered", "orders", "vote", "voted", "votes"),
        *("committed", "commits", "accepted", "accepts", "approved", "approves", "announced"),
        *("announces", "confirmed", "confirms", "resolved", "resolution", "consented"),
        *("chose", "chosen", "chooses", "opted", "opts"),
    }
)
_BEGIN_GOVERNORS = frozenset(
    {
        *("begin", "began", "begun", "begins", "beginning", "start", "started", "starts"),
        *("starting", "continue", "continued", "continues", "continuing", "commenced"),
        *("launched", "launches", "launch", "initiated", "initiates"),
    }
)
_DENY_GOVERNORS = frozenset({"refuse", "refused", "refuses", "refusing", "fail", "failed", "fails"})
_DEMAND_GOVERNORS = frozenset(
    {
        *("ask", "asked", "asks", "asking", "demand", "demanded", "demands", "demanding"),
        *("urge", "urged", "urges", "request", "requested", "requests", "told", "call"),
        *("called", "calls", "invited", "pressure", "pressured", "push", "pushed", "want"),
        *("wants", "wanted", "hope", "hopes", "hoped", "seek", "seeks", "sought", "proposal"),
        *("proposed", "proposes", "propose", "offer", "offered", "threat", "threatened"),
        *("threatens", "considering", "consider", "considers", "weighing", "mulling"),
        *("could", "might", "may", "would", "should", "can", "possibly", "likely", "unlikely"),
        *("able", "attempt", "attempts", "attempted", "effort", "efforts", "bid", "chance"),
        *("given", "gave", "give", "gives", "granted", "grants"),
    }
)
_TIME_WORDS = frozenset(
    {"in", "on", "last", "this", "next", "week", "month", "year", "earlier", "until", "till"}
)


@dataclass(frozen=True)
class Clause:
    start: int  # token index of the clause's first token
    end: int  # one past its last


def clause_of(tokens: list[Token], index: int) -> Clause:
    start = index
    while start > 0 and not _breaks(tokens, start - 1):
        start -= 1
    end = index + 1
    while end < len(tokens) and not _breaks(tokens, end):
        end += 1
    return Clause(start, end)


def _breaks(tokens: list[Token], index: int) -> bool:
    token = tokens[index]
    if token.text == "," and _place_apposition(tokens, index):
        return False  # "from Manas, Kyrgyzstan, by July 2014": one clause
    if token.tag is Tag.PUNCT:
        if token.text == "-" and 0 < index < len(tokens) - 1:
            joined = tokens[index - 1].end == token.start and token.end == tokens[index + 1].start
            return not joined  # "US-led": one word; " - ": a break
        return token.text in _BREAK_PUNCT
    return token.tag is Tag.WORD and token.low in _BREAK_WORDS


def _place_apposition(tokens: list[Token], index: int) -> bool:
    """A comma around a place that only says where the name before it is:
    "Manas, Kyrgyzstan," or "in Addu, Maldives"."""

    def place(k: int) -> bool:
        t = tokens[k] if 0 <= k < len(tokens) else None
        return t is not None and t.tag is Tag.NAME and t.named is not None and t.named.place

    before = tokens[index - 1] if index > 0 else None
    if before is None or before.tag not in (Tag.NAME, Tag.BASE):
        return False
    if place(index + 1) and (index + 2 >= len(tokens) or tokens[index + 2].text in (",", ".")):
        return True  # the comma before the place
    return place(index - 1) and index >= 2 and tokens[index - 2].text == ","  # the one after


def relative_closing(tokens: list[Token], comma: int) -> int | None:
    """The comma that closes a relative clause opened at ``comma`` (", which ...,")."""
    if comma + 1 >= len(tokens) or tokens[comma].text != ",":
        return None
    if not tokens[comma + 1].is_word("which", "who"):
        return None
    return next((k for k in range(comma + 2, len(tokens)) if tokens[k].text == ","), None)


def relative_opening(tokens: list[Token], comma: int) -> int | None:
    """The comma that opens a relative clause closed at ``comma``: "The withdrawal[,
    which began in May,] is to be finished by"."""
    if comma < 1 or tokens[comma].text != ",":
        return None
    return next(
        (
            k
            for k in range(comma - 1, max(0, comma - 13), -1)
            if relative_closing(tokens, k) == comma
        ),
        None,
    )


def previous_clause(tokens: list[Token], clause: Clause) -> Clause | None:
    """The clause before one that a relative pronoun opens ("Bagram, which...")."""
    if clause.start < 2:
        return None
    return clause_of(tokens, clause.start - 2)


# Readings in which what is done to stands before the cue ("Air Base 101 was handed over").
PASSIVE_READINGS = frozenset({"passive", "being done", "perfect passive"})


@dataclass(frozen=True)
class ClauseAspect:
    """What a clause says of the event a cue word names."""

    aspect: Aspect
    why: str  # the words that decided it, for --explain
    governor: int | None = None  # the token of a governing cue ("completed [the withdrawal]")


def aspect_of(tokens: list[Token], index: int, form: Form, question: bool) -> ClauseAspect:
    """How the clause around the cue at ``index`` presents its event."""
    clause = clause_of(tokens, index)
    denial = negated(tokens, clause, index)
    if denial:
        return ClauseAspect(Aspect.NEGATED, denial)
    if question:
        return ClauseAspect(Aspect.NEGATED, "a question")
    reading = _grammatical(tokens, clause, index, form)
    governing = governing_sentence(tokens, index)
    if governing == ACCEPTED:
        if reading.aspect in (Aspect.PLANNED, Aspect.PROPOSED, Aspect.DECIDED):
            return ClauseAspect(Aspect.DECIDED, governing)
        governing = None
    doubt = (
        doubted(tokens, clause, index)
        or governing
        or doubted_after(tokens, clause, index)
        or (conditioned_after(tokens, index) if reading.aspect is not Aspect.DONE else None)
    )
    if doubt and reading.aspect in (
        Aspect.DONE,
        Aspect.ONGOING,
        Aspect.DECIDED,
        Aspect.PLANNED,
        Aspect.NAMED,  # "that withdrawing by May 1 would be unlikely"
    ):
        return ClauseAspect(Aspect.PROPOSED, doubt)
    if reading.aspect is Aspect.PLANNED or reading.why == "possibility: 'would'":
        # "agreed that US forces would leave": the future of a decision.
        decided = decided_before(tokens, index)
        if decided:
            return ClauseAspect(Aspect.DECIDED, f"{reading.why}, after {decided!r}")
    if reading.why == "possibility: 'would'":
        said = reported_before(tokens, index)
        if said:
            # "The US said it would withdraw its troops": its "will", reported.
            return ClauseAspect(Aspect.PLANNED, f"future reported: {said!r} ... 'would'")
    return reading


def _main_clause_plan(tokens: list[Token], clause: Clause) -> ClauseAspect | None:
    """The plan or decision of the clause a participle clause hangs on, if it tells
    of one: a modal, an infinitive or a decision before the comma."""
    if clause.start < 2 or tokens[clause.start - 1].text != ",":
        return None
    lows = [t.low for t in tokens[: clause.start - 1] if t.tag is Tag.WORD]
    decided = decided_before(tokens, clause.start - 1)
    if decided:
        return ClauseAspect(Aspect.DECIDED, f"participle clause, after {decided!r}")
    modal = next((w for w in reversed(lows) if w in MODALS), None)
    infinitive = any(
        tokens[k].is_word("to") and any(lx.form is Form.BASE for lx in tokens[k + 1].lexemes)
        for k in range(max(0, clause.start - 10), clause.start - 2)
    )
    if modal in ("will", "shall", "must") or infinitive:
        return ClauseAspect(Aspect.PLANNED, "participle clause of a plan")
    if modal is not None:
        return ClauseAspect(Aspect.PROPOSED, f"participle clause, possibility: {modal!r}")
    return None


def _grammatical(tokens: list[Token], clause: Clause, index: int, form: Form) -> ClauseAspect:
    """Tense and aspect from the auxiliaries and the governing word."""
    chain: list[Token] = []
    i = index - 1
    while i >= clause.start and (
        (
            tokens[i].tag is Tag.WORD
            and tokens[i].low
            in _BE | _HAVE | MODALS | ADVERBS | {"to", "did", "does", "do", "'ll", "n't"}
        )
        or tokens[i].text in ('"', "'")
    ):
        if tokens[i].tag is Tag.WORD:
            chain.append(tokens[i])
        i -= 1
    lows = [t.low for t in chain]
    index_of_to = index - 1
    while "to" in lows and not tokens[index_of_to].is_word("to"):
        index_of_to -= 1
    if form is Form.NOUN or form is Form.STATE:
        return _noun(tokens, clause, index)
    if "to" in lows:
        return _governed(tokens, index_of_to - 1, clause)
    modal = next((w for w in lows if w in MODALS or w == "'ll"), None)
    if modal is None and form in (Form.BASE, Form.PRESENT):
        # "would see all troops leave": a modal earlier in the clause.
        modal = next(
            (t.low for t in tokens[clause.start : index] if t.tag is Tag.WORD and t.low in MODALS),
            None,
        )
    if modal:
        if modal in ("will", "shall", "'ll", "must"):
            return ClauseAspect(Aspect.PLANNED, f"future: {modal!r}")
        return ClauseAspect(Aspect.PROPOSED, f"possibility: {modal!r}")
    future = _future_time(tokens, clause, index)
    if form is Form.GERUND:
        if any(w in _BE for w in lows):
            if _relative(tokens, clause):
                # "the base from which US forces are withdrawing": describes the base
                return ClauseAspect(Aspect.NAMED, "progressive in a relative clause")
            return ClauseAspect(Aspect.ONGOING, "progressive")
        lead = tokens[i].low if i >= 0 and tokens[i].tag is Tag.WORD else ""
        if lead in _DONE_LEADS:
            return ClauseAspect(Aspect.DONE, f"after {lead!r}")
        if lead in _PLAN_LEADS:
            return ClauseAspect(Aspect.PLANNED, f"after {lead!r}")
        if lead in _BEGIN_GOVERNORS:
            return ClauseAspect(Aspect.ONGOING, f"after {lead!r}", governor=i)
        if lead == "of" and (process := _process_of(tokens, i, clause)) is not None:
            return process
        if lead in ("of", "for", "on", "about", "by", "without", "in", "with"):
            return (
                _governed(tokens, i, clause)
                if lead != "without"
                else ClauseAspect(Aspect.NEGATED, "without")
            )
        if lead in FORCE_NOUNS and i >= clause.start:
            # "a convoy departing Ain al-Asad": the force does it, when the sentence says
            return (
                ClauseAspect(Aspect.PLANNED, future)
                if future
                else ClauseAspect(Aspect.DONE, f"a {lead} doing it")
            )
        if (
            i >= 0
            and tokens[i].tag is Tag.WORD
            and not tokens[i].lexemes
            and lead
            not in (
                "and",
                "then",
                "thus",
                "so",
            )
        ):
            # "a timeline ending..."
            return ClauseAspect(Aspect.NAMED, f"describes {tokens[i].text!r}")
        if future:
            return ClauseAspect(Aspect.PLANNED, future)
        main = _main_clause_plan(tokens, clause)
        if main is not None:
            # "decided to terminate the mandate on 31 December, withdrawing all
            # personnel by 30 June": the participle clause goes with its main clause.
            return main
        return ClauseAspect(Aspect.DONE, "participle clause")
    if form in (Form.PARTICIPLE, Form.PAST):
        if index > 0 and tokens[index - 1].is_word("due"):
            return ClauseAspect(Aspect.PLANNED, "after 'due'")  # "are due out of Niger"
        if "being" in lows:
            return ClauseAspect(Aspect.ONGOING, "being done")
        if any(w in _HAVE for w in lows):
            # "has been handed over": done, to what stands before it
            return ClauseAspect(Aspect.DONE, "perfect passive" if "been" in lows else "perfect")
        lead = tokens[i].low if i >= 0 and tokens[i].tag is Tag.WORD else ""
        if lead in _PLAN_LEADS and not any(w in _BE for w in lows):
            return ClauseAspect(Aspect.PLANNED, f"after {lead!r}")
        if any(w in _BE for w in lows) or (
            form is Form.PARTICIPLE and index + 1 < len(tokens) and tokens[index + 1].is_word("by")
        ):
            return ClauseAspect(Aspect.DONE, "passive")
        ordered = _ordered_done(tokens, clause, index)
        if ordered is not None:
            return ordered
        return ClauseAspect(Aspect.DONE, "past")
    if form is Form.BASE and i >= clause.start and tokens[i].is_word("and"):
        # "voted to end the mission and fully withdraw it": the same governor.
        partner = _infinitive_before(tokens, clause, i)
        if partner is not None:
            return _governed(tokens, partner - 1, clause)
    # base or present form: "did leave", or a headline's present ("US hands over base"),
    # unless a subordinate clause or a time makes it future ("after the force completes").
    lead = _lead(tokens, clause)
    if lead in _FUTURE_LEADS:
        return ClauseAspect(Aspect.PLANNED, f"after {lead!r}")
    inner = _subordinator_before(tokens, clause, index)
    if inner is not None:
        # "a few days before US troops formally leave Somalia": to come
        return ClauseAspect(Aspect.PLANNED, f"after {inner!r}")
    if lead in ("as", "while"):
        return ClauseAspect(Aspect.ONGOING, f"after {lead!r}")
    if future:
        return ClauseAspect(Aspect.PLANNED, future)
    return ClauseAspect(Aspect.DONE, "present")


_FUTURE_TIMES = (
    *("in the coming", "in coming", "next week", "next month", "next year", "tomorrow"),
    *("later this", "in the next", "over the next", "within the next", "soon", "shortly"),
)


def _process_of(tokens: list[Token], of: int, clause: Clause) -> ClauseAspect | None:
    """ "in the process of withdrawing": under way; "has begun the process of
    withdrawing": as "has begun withdrawing"."""
    j = of - 1
    if j < clause.start + 1 or not tokens[j].is_word("process", "midst", "course"):
        return None
    k = j - 1 if tokens[j - 1].is_word("the") else j
    if k - 1 >= clause.start and tokens[k - 1].is_word("in"):
        return ClauseAspect(Aspect.ONGOING, f"in the {tokens[j].low} of")
    if k - 1 >= clause.start and tokens[k - 1].low in _BEGIN_GOVERNORS:
        return _governed(tokens, k - 1, clause)
    return None


def _wisher_for(tokens: list[Token], i: int, clause: Clause) -> int | None:
    """The word wanting in "<wants> for <someone> to <act>", where "for" opens the
    infinitive's own subject a few words before ``i``."""
    for j in range(i, max(clause.start - 1, i - 9), -1):
        if tokens[j].is_word("for") and j - 1 >= clause.start:
            before = tokens[j - 1]
            if before.tag is not Tag.WORD or before.low not in _WISHING | _AIMING:
                return None
            if before.low in _AIMING and not (j >= 2 and tokens[j - 2].tag is Tag.NAME):
                return None  # "the roadmap aims for troops to leave": a plan's aim
            if j >= 2 and tokens[j - 2].is_word(*_SETTLED):
                return None  # "the timetable calls for all troops to leave": what it sets
            return j - 1
    return None


_AIMING = frozenset({"aim", "aims", "aimed", "aiming"})  # a wish when a party aims
_WISHING = frozenset(
    {
        *("push", "pushes", "pushed", "pushing", "press"),
        *("presses", "pressed", "pressing", "call", "calls", "called", "calling", "lobby"),
        *("lobbied", "lobbying", "ask", "asks", "asked", "asking", "wait", "waiting", "hope"),
        *("hopes", "hoped", "hoping", "pressure", "demand", "demands", "appeal", "appealed"),
    }
)


def _infinitive_before(tokens: list[Token], clause: Clause, index: int) -> int | None:
    """The "to" of an infinitive earlier in the clause ("to end X and withdraw")."""
    for j in range(index - 1, max(clause.start, index - 8) - 1, -1):
        if (
            tokens[j].is_word("to")
            and j + 1 < index
            and any(lx.form is Form.BASE for lx in tokens[j + 1].lexemes)
        ):
            return j
    return None


def _relative(tokens: list[Token], clause: Clause) -> bool:
    """Whether the clause is a relative one: "(from) which", "where", "whose"."""
    around = tokens[max(0, clause.start - 1) : clause.start + 2]
    return any(t.is_word("which", "where", "whom", "whose") for t in around)


def _future_time(tokens: list[Token], clause: Clause, index: int) -> str | None:
    text = " " + " ".join(t.low for t in tokens[clause.start : clause.end]) + " "
    found = next((w for w in _FUTURE_TIMES if f" {w} " in text), None)
    return f"a future time: {found!r}" if found else None


def _subordinator_before(tokens: list[Token], clause: Clause, index: int) -> str | None:
    """A subordinating word a few words before a verb in the present, with only its
    subject between: "before US troops formally leave"."""
    for k in range(index - 1, max(clause.start, index - 6) - 1, -1):
        token = tokens[k]
        if token.tag is Tag.WORD and token.lexemes:
            return None  # another verb between
        if token.is_word(*_FUTURE_LEADS):
            return token.low
    return None


def _lead(tokens: list[Token], clause: Clause) -> str:
    """The subordinating word that opens a clause ("after", "as", "when"), if any."""
    first = tokens[clause.start]
    if first.tag is Tag.WORD:
        return first.low
    if clause.start > 0 and tokens[clause.start - 1].tag is Tag.WORD:
        return tokens[clause.start - 1].low
    return ""


def _governed(tokens: list[Token], before_to: int, clause: Clause) -> ClauseAspect:
    """An infinitive or a gerund after a preposition: the governing word decides."""
    i = before_to
    if (
        i - 2 >= clause.start
        and tokens[i].is_word(*_ORDINALS)
        and tokens[i - 1].is_word("the")
        and tokens[i - 2].is_word("was", "were")
    ):
        # "was the last to be handed over", "were the first to leave": it happened
        return ClauseAspect(Aspect.DONE, f"the {tokens[i].low} to")
    # Skip adverbs and a time between the governor and "to": "agreed in April to leave".
    while i >= clause.start and (
        (tokens[i].tag is Tag.WORD and tokens[i].low in ADVERBS | _TIME_WORDS)
        or tokens[i].tag is Tag.DATE
    ):
        i -= 1
    if i > clause.start and tokens[i].is_word("and"):
        # "to start withdrawing ... and to end its mission": the first one's governor.
        partner = _infinitive_before(tokens, clause, i)
        if partner is not None:
            return _governed(tokens, partner - 1, clause)
    wisher = _wisher_for(tokens, i, clause) if i >= clause.start else None
    if wisher is not None:
        # "Iraq aims for the coalition to leave", "pushing for US troops to go": one
        # party wants another to act, which is not yet decided.
        return ClauseAspect(Aspect.PROPOSED, f"after '{tokens[wisher].low} for'")
    if i < clause.start or tokens[i].tag is not Tag.WORD:
        return ClauseAspect(Aspect.PLANNED, "infinitive")
    if tokens[i].is_word("operation", "process", "effort", "efforts", "exercise"):
        k = i - 1
        while k >= clause.start and tokens[k].is_word("the", "a", "an", "its", "their"):
            k -= 1
        if k >= clause.start and tokens[k].low in _BEGIN_GOVERNORS:
            # "launched an operation to withdraw its troops": under way
            inner = _grammatical(tokens, clause, k, _form_of(tokens[k]))
            if inner.aspect is Aspect.DONE:
                return ClauseAspect(Aspect.ONGOING, f"after {tokens[k].low!r} ... to", governor=k)
    word = tokens[i].low
    two = f"{tokens[i - 1].low} {word}" if i > clause.start else word
    if word in _DENY_GOVERNORS:
        return ClauseAspect(Aspect.NEGATED, f"after {word!r}")
    if word in _DECIDE_GOVERNORS:
        if word in ("order", "ordered", "orders") and host_does(tokens, i):
            return ClauseAspect(Aspect.PROPOSED, f"ordered by the host: {word!r}")
        inner = _grammatical(tokens, clause, i, _form_of(tokens[i]))
        if inner.aspect in (Aspect.DONE, Aspect.ONGOING):
            return ClauseAspect(Aspect.DECIDED, f"after {word!r}", governor=i)
        return ClauseAspect(
            inner.aspect if inner.aspect is not Aspect.NAMED else Aspect.DECIDED, inner.why
        )
    if word in _BEGIN_GOVERNORS:
        inner = _grammatical(tokens, clause, i, _form_of(tokens[i]))
        if inner.aspect is Aspect.DONE:
            return ClauseAspect(Aspect.ONGOING, f"after {word!r}", governor=i)
        return inner
    if word in _DEMAND_GOVERNORS or two in _DEMAND_GOVERNORS:
        return ClauseAspect(Aspect.PROPOSED, f"after {word!r}")
    if word in PLANS or two in PLANS:
        return ClauseAspect(Aspect.PLANNED, f"after {word!r}")
    return ClauseAspect(Aspect.PLANNED, "infinitive")


_ORDERING = frozenset({"ordered", "orders", "order", "ordering"})


def _ordered_done(tokens: list[Token], clause: Clause, index: int) -> ClauseAspect | None:
    """ "ordered Spanish troops pulled out of Iraq": the participle is what was
    ordered, not what was done; ordered by the host, it is asked for."""
    j = index - 1
    while j > clause.start and (
        tokens[j].tag in (Tag.NAME, Tag.COUNT)
        or tokens[j].is_word("the", "all", "its", "their", "his", "remaining", "combat")
        or tokens[j].low in FORCE_NOUNS
    ):
        j -= 1
    if j == index - 1 or tokens[j].tag is not Tag.WORD or tokens[j].low not in _ORDERING:
        return None
    if host_does(tokens, j):
        return ClauseAspect(Aspect.PROPOSED, f"ordered by the host: {tokens[j].text!r}")
    return ClauseAspect(Aspect.DECIDED, f"after {tokens[j].text!r}", governor=j)


_ORDINALS = frozenset({"first", "second", "third", "last", "latest", "final", "next"})


def _form_of(token: Token) -> Form:
    forms = {lexeme.form for lexeme in token.lexemes}
    for form in (Form.PARTICIPLE, Form.PAST, Form.GERUND, Form.PRESENT, Form.BASE, Form.NOUN):
        if form in forms:
            return form
    if token.low.endswith("ed"):
        return Form.PAST
    if token.low.endswith("ing"):
        return Form.GERUND
    if token.low in ("decision", "agreement", "deal", "resolution", "order", "vote"):
        return Form.NOUN
    return Form.PRESENT


def _noun(tokens: list[Token], clause: Clause, index: int) -> ClauseAspect:
    """A noun's event is what its clause says of it: "the withdrawal is complete",
    "after the handover"; a bare noun says nothing."""
    lead = _preposition_before(tokens, clause, index)
    if lead in ("for", "on", "of"):
        plan = _plan_before(tokens, clause, index)
        if plan:
            # "an agreement for the withdrawal"
            return ClauseAspect(Aspect.DECIDED, f"{plan!r} for it")
    if lead in _DONE_LEADS:
        return ClauseAspect(Aspect.DONE, f"after {lead!r}")
    if lead in ("amid", "amidst"):
        return ClauseAspect(Aspect.ONGOING, f"after {lead!r}")
    if lead in _PLAN_LEADS:
        return ClauseAspect(Aspect.PLANNED, f"after {lead!r}")
    if index > 0 and tokens[index - 1].is_word(*_EARLIER):
        # "their earlier withdrawal"
        return ClauseAspect(Aspect.DONE, f"{tokens[index - 1].text!r}")
    k = index - 1
    while k >= clause.start and (tokens[k].tag is Tag.NAME or tokens[k].is_word(*_MANNER)):
        k -= 1  # "the planned US withdrawal", "the upcoming full withdrawal"
    if k >= clause.start and tokens[k].is_word(*_SETTLED_BEFORE):
        return ClauseAspect(Aspect.DECIDED, f"{tokens[k].text!r}")
    k = index - 1
    while k >= clause.start and tokens[k].is_word("the", "a", "an", "its", "their"):
        k -= 1
    if k >= clause.start and tokens[k].is_word(*_MARKING):
        # "the exit marked the completion of the US withdrawal": it took place
        return ClauseAspect(Aspect.DONE, f"after {tokens[k].text!r}")
    return ClauseAspect(Aspect.NAMED, "a noun")


_MARKING = ("marked", "celebrated", "completed", "witnessed", "saw")


_EARLIER = ("earlier", "recent", "previous")
# Words before a noun of leaving that say it is settled: "the upcoming withdrawal".
_SETTLED_BEFORE = ("planned", "scheduled", "upcoming", "impending", "forthcoming", "announced")
# Words of manner that may stand between a noun and what governs it ("the
# announcement of a staggered withdrawal").
_MANNER = frozenset(
    {
        *("gradual", "phased", "staggered", "orderly", "swift", "rapid", "speedy", "quick"),
        *("progressive", "accelerated", "hasty", "immediate", "coordinated", "responsible"),
        *("safe", "total", "partial", "full", "complete", "final", "formal", "official"),
    }
)


# Nouns and verbs that settle what a "for"/"on" phrase names ("an agreement for
# the withdrawal", "agreed on plans for the departure", "a roadmap for...").
_SETTLED = frozenset(
    {
        *("agreement", "agreements", "deal", "accord", "plan", "plans", "roadmap", "timeline"),
        *("timetable", "schedule", "decision", "order", "orders", "agreed", "decided", "ordered"),
        *("approved", "resolution", "framework", "arrangement", "understanding"),
        *("announcement", "announced", "announce", "announces"),
    }
)
_UNSETTLED = frozenset(
    {"talks", "request", "demand", "demands", "calls", "call", "proposal", "negotiations"}
)


def _plan_before(tokens: list[Token], clause: Clause, index: int) -> str | None:
    """The settled plan a noun is governed by, within a few words before it."""
    for i in range(index - 1, max(clause.start, index - 7) - 1, -1):
        token = tokens[i]
        if token.tag is not Tag.WORD:
            continue
        if token.low in _UNSETTLED:
            return None
        if token.low in _SETTLED:
            return token.text
    return None


def _preposition_before(tokens: list[Token], clause: Clause, index: int) -> str:
    i = index - 1
    while i >= clause.start and (
        tokens[i].tag is Tag.NAME
        or tokens[i].is_word(
            "the", "its", "their", "his", "her", "a", "an", "formal", "final", "full"
        )
        or tokens[i].is_word("military", "troop", "planned", "ongoing", *_MANNER)
        or tokens[i].is_word(*_EARLIER)
    ):
        i -= 1
    if i >= 0 and tokens[i].tag is Tag.WORD:
        if tokens[i].low == "of" and i > 0 and tokens[i - 1].is_word("ahead"):
            return "ahead"
        return tokens[i].low
    return ""
