"""The scope of what governs an event from afar: negation and denial,
doubt, a demand, a proposal or a condition earlier in the sentence, a
decision the event is the plan of, and who orders or accepts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.facts.lexicon import DENIALS, DOUBTS, NEGATIONS
from watcher.facts.names import Named, Party
from watcher.facts.tokens import Tag, Token

if TYPE_CHECKING:
    from watcher.facts.clauses import Clause


_FALSITY = frozenset(
    {"wrong", "false", "untrue", "inaccurate", "unfounded", "baseless", "fake", "incorrect"}
    | {"premature", "mistaken", "erroneous", "groundless"}
)


_DECIDED = frozenset(
    {
        *("agreed", "decided", "announced", "ordered", "confirmed", "voted", "approved"),
        *("agree", "agrees", "decides", "announces", "orders", "confirms", "approves"),
        *("agreement", "deal", "decision"),
    }
)


def decided_before(tokens: list[Token], index: int) -> str | None:
    """ "agreed that American forces will leave": a plan someone has decided."""
    for i in range(index - 1, -1, -1):
        token = tokens[i]
        if token.low in _SCOPE_ENDS or token.text == ".":
            return None
        if token.tag is Tag.WORD and token.low in _DECIDED:
            if token.low in ("agreement", "deal", "decision") and index - i > 6:
                continue  # a noun decides only what it is close to: "a deal that US forces leave"
            if host_does(tokens, i) and token.low in ("ordered", "decided", "decides"):
                return None  # the host ordering them out is a demand, not a decision
            return token.text
    return None


def reported_before(tokens: list[Token], index: int) -> str | None:
    """ "The US said it would withdraw": a verb of saying before a "would", in the
    same sentence, whose speaker is not the host (who would be making a demand)."""
    for i in range(index - 1, -1, -1):
        token = tokens[i]
        if token.low in _SCOPE_ENDS or token.text == ".":
            return None
        if token.tag is Tag.WORD and token.low in _SAID:
            return None if host_does(tokens, i) else token.text
    return None


_SAID = frozenset(
    {
        *("said", "says", "told", "stated", "added", "explained", "noted", "indicated"),
        *("insisted", "reiterated", "repeated", "wrote", "informed", "assured", "promised"),
        *("promise", "promises", "pledge", "pledged", "pledges", "vowed", "vows"),
    }
)


def host_does(tokens: list[Token], index: int) -> bool:
    """Whether the host is who does the verb at ``index`` ("ordered"): the force
    named last before it, not counting names after a preposition ("talks with
    Paris"), or, for "it ordered", the name the pronoun stands for; for "...,
    and ordered", the sentence's first force."""
    pronoun = index > 0 and tokens[index - 1].is_word("it", "they")
    if index > 1 and tokens[index - 1].is_word("and") and tokens[index - 2].text == ",":
        first = _forces(tokens, 0, index, pronoun=False)
        return bool(first) and first[0].party is Party.HOST
    forces = _forces(tokens, max(0, index - 12), index, pronoun=pronoun)
    return bool(forces) and forces[-1].party is Party.HOST


def _forces(tokens: list[Token], start: int, end: int, *, pronoun: bool) -> list[Named]:
    """The forces named in ``tokens[start:end]`` as subjects: after a preposition
    only where a pronoun may stand for them."""
    found = []
    for i in range(start, end):
        token = tokens[i]
        if token.tag is not Tag.NAME or token.named is None or not token.named.force:
            continue
        if not pronoun and i > 0 and tokens[i - 1].low in _PREPOSITIONS:
            continue
        found.append(token.named)
    return found


_PREPOSITIONS = frozenset({"with", "from", "to", "of", "by", "in", "against", "for", "on", "at"})


# Words whose scope runs past commas and relative clauses to the end of the
# sentence (or to "but", ";"): "demanded that peacekeepers, who ..., leave".
_SENTENCE_SCOPE = frozenset(
    {
        *("demanded", "demands", "demand", "demanding", "asked", "asks", "urged", "urges"),
        *("requested", "requests", "request", "insisted", "insists", "wants", "wanted"),
        "called",
        *("proposed", "proposes", "proposal", "draft", "whether", "if", "unless"),
    }
)


_TIME_NOUNS = frozenset({"day", "days", "week", "weeks", "month", "months", "hours", "year"})


_SCOPE_ENDS = frozenset({"but", "however", "while", "whereas", "although", ";"})


_ACCEPT = frozenset(
    {
        *("comply", "complied", "complies", "respect", "respected", "respects", "accept"),
        *("accepted", "accepts", "heed", "heeded", "honour", "honor", "honoured", "honored"),
        *("agreed", "agree", "agrees", "granted", "grant", "meet", "met"),
    }
)


ACCEPTED = "a demand accepted"


def accepted_before(tokens: list[Token], index: int) -> bool:
    """ "will respect the terms of Burkina Faso's request": the demand at ``index``
    is accepted by whoever speaks before it."""
    return any(t.tag is Tag.WORD and t.low in _ACCEPT for t in tokens[max(0, index - 6) : index])


def governing_sentence(tokens: list[Token], index: int) -> str | None:
    """A demand, a proposal or a condition earlier in the sentence, still in scope."""
    for i in range(index - 1, -1, -1):
        token = tokens[i]
        if token.low in _SCOPE_ENDS:
            return None
        if (
            token.is_word("after", "following", "since")
            and i > 0
            and tokens[i - 1].low in _TIME_NOUNS
        ):
            return None  # "asked them to leave, the day after the announcement of a withdrawal"
        if token.tag is Tag.WORD and token.low in _SENTENCE_SCOPE:
            if token.low == "called" and not (
                i + 1 < len(tokens) and tokens[i + 1].is_word("for", "on")
            ):
                continue
            if _noun_out_of_reach(tokens, i, index):
                continue  # "following the demand for withdrawal, has chosen to terminate"
            if accepted_before(tokens, i):
                return ACCEPTED  # "would comply with the request": accepted
            return f"governed by {token.text!r}"
        if i == 0 and token.is_word("if", "unless", "should"):  # "Should talks fail, ..."
            return f"a condition: {token.text!r}"
    return None


_SCOPE_NOUNS = frozenset({"demand", "demands", "request", "requests", "proposal", "draft"})


def _noun_out_of_reach(tokens: list[Token], noun: int, index: int) -> bool:
    """ "the demand for troop withdrawal": a noun of demand governs what it names,
    in its own phrase, not a verb after it in another clause."""
    if tokens[noun].low not in _SCOPE_NOUNS or noun == 0:
        return False
    before = tokens[noun - 1]
    determined = before.is_word("the", "a", "an", "its", "their", "this", "that") or (
        before.tag is Tag.NAME
    )
    if not determined:
        return False
    between = tokens[noun + 1 : index]
    return index - noun > 6 or any(t.text in (",", ";", ":") for t in between)


# Words that open a clause of their own, out of reach of a negation before them.
_SUBORDINATORS = ("after", "because", "since", "when", "once", "although", "though")


def _as_a_clause(tokens: list[Token], i: int) -> bool:
    """ "there is no need for it as the contingent began to leave": "as" opening a
    clause with a subject of its own."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        tokens[i].is_word("as")
        and nxt is not None
        and (nxt.is_word("the", "its", "their", "they", "it") or nxt.tag is Tag.NAME)
        and i + 2 < len(tokens)
        and not tokens[i + 2].is_word("well", "part", "such", "much", "many", "soon", "long")
    )


def negated(tokens: list[Token], clause: Clause, index: int) -> str | None:
    start = clause.start
    for i in range(clause.start, index):
        if (
            tokens[i].is_word(*_SUBORDINATORS)
            and not (i + 1 < len(tokens) and tokens[i + 1].is_word("that"))
        ) or _as_a_clause(tokens, i):
            start = i + 1  # "has no legal basis after Mali withdrew": not its negation
    for i in range(start, index):
        token = tokens[i]
        if token.tag is not Tag.WORD:
            continue
        if token.low in NEGATIONS or token.low.endswith("n't"):
            # "not only", "no later than" do not deny.
            after = tokens[i + 1].low if i + 1 < len(tokens) else ""
            if (token.low, after) in (("not", "only"), ("no", "later"), ("not", "later")):
                continue
            if token.low == "no" and after in ("longer",):
                return "no longer"
            return f"negated by {token.text!r}"
        if token.low in DENIALS or _pair(tokens, i) in DENIALS:
            return f"denied by {token.text!r}"
    # "reports that they had left were wrong": a falsity word after the event.
    for token in tokens[index + 1 :]:
        if token.tag is Tag.WORD and token.low in _FALSITY:
            return f"said to be {token.text!r}"
    return None


def doubted(tokens: list[Token], clause: Clause, index: int) -> str | None:
    for i in range(clause.start, index):
        if tokens[i].tag is Tag.WORD and (tokens[i].low in DOUBTS or _pair(tokens, i) in DOUBTS):
            if tokens[i].low == "once" and i > 0 and tokens[i - 1].is_word("the", "a", "its"):
                continue  # "the once troubled country": an adjective, not a condition
            return f"doubt: {tokens[i].text!r}"
    # "it is not clear whether...": a doubt just before the clause reaches into it.
    if clause.start >= 2 and tokens[clause.start - 1].is_word("whether", "if"):
        return f"doubt: {tokens[clause.start - 1].text!r}"
    return None


_DOUBT_AFTER = frozenset({"unlikely", "impossible", "uncertain", "unclear", "doubtful"})


def doubted_after(tokens: list[Token], clause: Clause, index: int) -> str | None:
    """ "withdrawing by May 1 would be unlikely": a doubt said after the event."""
    for token in tokens[index + 1 : clause.end]:
        if token.tag is Tag.WORD and token.low in _DOUBT_AFTER:
            return f"doubt: {token.text!r}"
    return None


_CONDITIONS = frozenset({"if", "unless"})
_NOT_CONDITIONS = frozenset({"even", "as", "asked", "asks", "ask", "wondered", "see", "know"})


def conditioned_after(tokens: list[Token], index: int) -> str | None:
    """ "will pull its troops out only if allies agree", "pledged to bring them home
    by June 30 unless the UN takes charge": a condition said after the event."""
    for i in range(index + 1, min(len(tokens), index + 20)):
        token = tokens[i]
        if token.low in _SCOPE_ENDS:
            return None
        if token.tag is Tag.WORD and token.low in _CONDITIONS:
            if i > 0 and tokens[i - 1].low in _NOT_CONDITIONS:
                return None  # "even if", "as if", "asked if": no condition on it
            return f"a condition: {token.text!r}"
        if token.is_word("when", "once") and any(
            t.is_word("conditions", "condition") for t in tokens[i + 1 : i + 3]
        ):
            return f"a condition: {token.text!r} {tokens[i + 1].text!r}"  # "when conditions allow"
    return None


def _pair(tokens: list[Token], i: int) -> str:
    return f"{tokens[i].low} {tokens[i + 1].low}" if i + 1 < len(tokens) else tokens[i].low
