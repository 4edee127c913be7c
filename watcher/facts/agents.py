"""Who does an event: a force named before it, after "by" or "of", a pronoun's
antecedent, or the force the sentence before was about."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.facts.clauses import (
    ADVERBS,
    PASSIVE_READINGS,
    RELATIVES,
    Clause,
    previous_clause,
)
from watcher.facts.lexicon import (
    FORCE_NOUNS,
    Cue,
    Form,
    Lexeme,
)
from watcher.facts.names import HOST_FORCE, Named, Party
from watcher.facts.tokens import Tag, Token, is_locative, of_the_host

if TYPE_CHECKING:
    from watcher.facts.events import Event


def read_agent(
    tokens: list[Token], event: Event, clause: Clause, lexeme: Lexeme, carried: Named | None
) -> None:
    """Who does it: a force named in the clause before the cue (not after a
    preposition), "by" a force after a passive, the owner of a noun ("the US
    withdrawal", "the withdrawal of US troops"), else the sentence's or the
    one before's."""
    passive = (
        lexeme.form in (Form.PARTICIPLE, Form.PAST)
        and event.reading.why in PASSIVE_READINGS
        and not tokens[event.index].is_word("out", "gone")  # "out of Niger": the place
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
    if (
        lexeme.lemma == "leave"
        and lexeme.form is not Form.NOUN
        and _subject_left_as_object(tokens, event.index)
    ):
        event.agent_why = "the subject is what was left"
        return  # "the closure left the US without drones": not the subject leaving
    if lexeme.cue is Cue.LEAVE and lexeme.form is not Form.NOUN and not passive:
        moved = _subject_moved(tokens, event.index + 1 + len(lexeme.particle), clause.end)
        if moved is not None:
            event.agent, event.agent_why = moved
            return
    stop = event.index
    if lexeme.form is Form.NOUN:
        while stop > clause.start and (
            tokens[stop - 1].text in ('"', "'") or _host_place(tokens[stop - 1])
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
    if lexeme.cue is Cue.TAKE_OVER and _institution_before(tokens, event.index):
        # "The government of South Darfur took over the camp": the host's
        event.agent, event.agent_why = HOST_FORCE, "the host's institution"
        return
    if carried is not None:
        event.agent, event.agent_why = carried, "the sentence before"


def _subject_left_as_object(tokens: list[Token], index: int) -> bool:
    """ "left the US without drones", "leaves Washington with few options": the
    subject as the object of 'leave' is what is left, not who leaves."""
    j = index + 1
    while j < len(tokens) and tokens[j].is_word("the"):
        j += 1
    named = tokens[j].named if j < len(tokens) and tokens[j].tag is Tag.NAME else None
    if named is None:
        return False
    nxt = tokens[j + 1] if j + 1 < len(tokens) else None
    people = nxt is not None and nxt.low in FORCE_NOUNS  # "left US troops stranded"
    return named.party is Party.SUBJECT and not people


_OBJECT_LEADS = frozenset({"the", "all", "some", "remaining", "last", "most", "of"})


def _subject_moved(tokens: list[Token], start: int, end: int) -> tuple[Named, str] | None:
    """ "welcomed the decision to withdraw US troops": the subject's people as the
    object of a verb of leaving are the ones who leave, whoever decides it."""
    j = start
    while j < end and (tokens[j].tag is Tag.COUNT or tokens[j].is_word(*_OBJECT_LEADS)):
        j += 1
    if j + 1 >= end or tokens[j].tag is not Tag.NAME:
        return None
    named = tokens[j].named
    if named is None or named.party is not Party.SUBJECT or not named.force:
        return None
    if not tokens[j + 1].is_word(*FORCE_NOUNS):
        return None
    return named, f"{tokens[j].text} {tokens[j + 1].text} as its object"


_INSTITUTIONS = frozenset({"government", "authorities", "army", "police", "gendarmerie", "state"})


def _institution_before(tokens: list[Token], index: int) -> bool:
    """ "the government", "the local authorities": an institution named as the
    subject before the verb, with no force named."""
    return any(
        t.is_word(*_INSTITUTIONS) and k > 0 and tokens[k - 1].is_word("the", "local", "state")
        for k, t in enumerate(tokens[:index])
    )


def _host_place(token: Token) -> bool:
    return of_the_host(token) and token.named is not None and token.named.place


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
    found = subject or candidates
    return found[0] if found else None


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
            named = tokens[m - 1].named
            if named is not None:
                group.append(named)
            m -= 2
        subject = next((n for n in group if n.party is Party.SUBJECT), None)
        return (subject or token.named), token.text
    return None
