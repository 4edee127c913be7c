"""The language of the family of stories watcher reads: a force leaves a place.

Every story of the family is told with the same words (withdraw, pull out,
hand over, complete, begin, extend, remain...), whoever leaves and wherever
from, so they live here and not in each topic. A word is looked up by its
lower-case form and gives its :class:`Cue` and its :class:`Form`, from which
the reader works out tense and aspect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Cue(StrEnum):
    """What a word says happens."""

    LEAVE = "leave"  # withdraw, pull out, leave, depart, vacate
    HAND_OVER = "hand_over"  # hand over, turn over, return, transfer, cede
    TAKE_OVER = "take_over"  # the host takes over, takes control, takes possession
    CLOSE = "close"  # close or shut a base
    COMPLETE = "complete"  # complete, finish, conclude, wrap up
    BEGIN = "begin"  # begin, start, launch, continue, under way
    DECIDE = "decide"  # agree, decide, announce, order, vote, approve
    DEMAND = "demand"  # ask, demand, request, urge: not yet decided
    EXTEND = "extend"  # extend, postpone, delay, push back, bring forward
    END = "end"  # end a presence, a mission or an agreement
    SUSPEND = "suspend"  # suspend an agreement
    STAY = "stay"  # remain, stay, be stationed, keep
    MOVE = "move"  # people who moved, came or fell: not those present


class Form(StrEnum):
    """The grammatical form of a cue word."""

    BASE = "base"  # leave
    PRESENT = "present"  # leaves
    PAST = "past"  # left (simple past; the same spelling may be a participle)
    PARTICIPLE = "participle"  # withdrawn, left
    GERUND = "gerund"  # leaving
    NOUN = "noun"  # withdrawal
    STATE = "state"  # complete, over, under way: said of a process


@dataclass(frozen=True)
class Lexeme:
    lemma: str
    cue: Cue
    form: Form
    particle: tuple[str, ...] = ()  # words that must follow ("out", "over")


def _regular(lemma: str) -> tuple[str, str, str, str]:
    """present, past, participle and gerund of a regular verb."""
    if lemma.endswith("e"):
        return lemma + "s", lemma + "d", lemma + "d", lemma[:-1] + "ing"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies", lemma[:-1] + "ied", lemma[:-1] + "ied", lemma + "ing"
    if lemma.endswith(("sh", "ch", "s", "x")):
        return lemma + "es", lemma + "ed", lemma + "ed", lemma + "ing"
    return lemma + "s", lemma + "ed", lemma + "ed", lemma + "ing"


# lemma: (present, past, participle, gerund) where not regular
_IRREGULAR = {
    "withdraw": ("withdraws", "withdrew", "withdrawn", "withdrawing"),
    "leave": ("leaves", "left", "left", "leaving"),
    "take": ("takes", "took", "taken", "taking"),
    "give": ("gives", "gave", "given", "giving"),
    "begin": ("begins", "began", "begun", "beginning"),
    "draw": ("draws", "drew", "drawn", "drawing"),
    "quit": ("quits", "quit", "quit", "quitting"),
    "set": ("sets", "set", "set", "setting"),
    "fly": ("flies", "flew", "flown", "flying"),
    "send": ("sends", "sent", "sent", "sending"),
    "shut": ("shuts", "shut", "shut", "shutting"),
    "kick": ("kicks", "kicked", "kicked", "kicking"),
    "stop": ("stops", "stopped", "stopped", "stopping"),
    "get": ("gets", "got", "gotten", "getting"),
    "keep": ("keeps", "kept", "kept", "keeping"),
    "put": ("puts", "put", "put", "putting"),
    "tear": ("tears", "tore", "torn", "tearing"),
    "come": ("comes", "came", "come", "coming"),
    "go": ("goes", "went", "gone", "going"),
    "ship": ("ships", "shipped", "shipped", "shipping"),
    "pack": ("packs", "packed", "packed", "packing"),
    "scrap": ("scraps", "scrapped", "scrapped", "scrapping"),
    "annul": ("annuls", "annulled", "annulled", "annulling"),
    "cancel": ("cancels", "cancelled", "cancelled", "cancelling"),
    "commit": ("commits", "committed", "committed", "committing"),
    "admit": ("admits", "admitted", "admitted", "admitting"),
    "rebase": ("rebases", "rebased", "rebased", "rebasing"),
    "exit": ("exits", "exited", "exited", "exiting"),
    "finalize": ("finalizes", "finalized", "finalized", "finalizing"),
    "transfer": ("transfers", "transferred", "transferred", "transferring"),
    "defer": ("defers", "deferred", "deferred", "deferring"),
    "die": ("dies", "died", "died", "dying"),
    "wrap": ("wraps", "wrapped", "wrapped", "wrapping"),
    "bring": ("brings", "brought", "brought", "bringing"),
    "agree": ("agrees", "agreed", "agreed", "agreeing"),
    "break": ("breaks", "broke", "broken", "breaking"),
    "freeze": ("freezes", "froze", "frozen", "freezing"),
}

# (lemma, cue, particle): a particle, when given, must follow the verb within
# a few words ("pulled its last troops out").
_VERBS: list[tuple[str, Cue, tuple[str, ...]]] = [
    ("withdraw", Cue.LEAVE, ()),
    ("leave", Cue.LEAVE, ()),
    ("depart", Cue.LEAVE, ()),
    ("exit", Cue.LEAVE, ()),
    ("quit", Cue.LEAVE, ()),
    ("vacate", Cue.LEAVE, ()),
    ("bring", Cue.LEAVE, ("home",)),
    ("empty", Cue.LEAVE, ()),
    ("evacuate", Cue.LEAVE, ()),
    ("abandon", Cue.LEAVE, ()),
    ("pull", Cue.LEAVE, ("out", "back")),
    ("draw", Cue.LEAVE, ("down",)),
    ("move", Cue.LEAVE, ("out",)),
    ("ship", Cue.LEAVE, ("out",)),
    ("pack", Cue.LEAVE, ("up",)),
    ("get", Cue.LEAVE, ("out",)),
    ("relocate", Cue.LEAVE, ()),
    ("redeploy", Cue.LEAVE, ()),
    ("retreat", Cue.LEAVE, ()),
    ("hand", Cue.HAND_OVER, ("over", "back", "to")),
    ("turn", Cue.HAND_OVER, ("over",)),
    ("give", Cue.HAND_OVER, ("back",)),
    ("return", Cue.HAND_OVER, ()),
    ("transfer", Cue.HAND_OVER, ()),
    ("cede", Cue.HAND_OVER, ()),
    ("relinquish", Cue.HAND_OVER, ()),
    ("restitute", Cue.HAND_OVER, ()),
    ("retrocede", Cue.HAND_OVER, ()),
    ("take", Cue.TAKE_OVER, ("over", "control", "possession", "charge")),
    ("assume", Cue.TAKE_OVER, ("control",)),
    ("seize", Cue.TAKE_OVER, ("control",)),
    ("recover", Cue.TAKE_OVER, ()),
    ("reclaim", Cue.TAKE_OVER, ()),
    ("regain", Cue.TAKE_OVER, ("control",)),
    ("close", Cue.CLOSE, ()),
    ("shut", Cue.CLOSE, ()),
    ("dismantle", Cue.CLOSE, ()),
    ("complete", Cue.COMPLETE, ()),
    ("finish", Cue.COMPLETE, ()),
    ("conclude", Cue.COMPLETE, ()),
    ("finalise", Cue.COMPLETE, ()),
    ("finalize", Cue.COMPLETE, ()),
    ("wrap", Cue.COMPLETE, ("up",)),
    ("begin", Cue.BEGIN, ()),
    ("start", Cue.BEGIN, ()),
    ("commence", Cue.BEGIN, ()),
    ("launch", Cue.BEGIN, ()),
    ("initiate", Cue.BEGIN, ()),
    ("kick", Cue.BEGIN, ("off",)),
    ("continue", Cue.BEGIN, ()),
    ("proceed", Cue.BEGIN, ()),
    ("agree", Cue.DECIDE, ()),
    ("decide", Cue.DECIDE, ()),
    ("announce", Cue.DECIDE, ()),
    ("order", Cue.DECIDE, ()),
    ("vote", Cue.DECIDE, ()),
    ("approve", Cue.DECIDE, ()),
    ("accept", Cue.DECIDE, ()),
    ("confirm", Cue.DECIDE, ()),
    ("accelerate", Cue.DECIDE, ()),
    ("expedite", Cue.DECIDE, ()),
    ("hasten", Cue.DECIDE, ()),
    ("precipitate", Cue.DECIDE, ()),
    ("anticipate", Cue.DECIDE, ()),
    ("commit", Cue.DECIDE, ()),
    ("sign", Cue.DECIDE, ()),
    ("ratify", Cue.DECIDE, ()),
    ("ask", Cue.DEMAND, ()),
    ("demand", Cue.DEMAND, ()),
    ("request", Cue.DEMAND, ()),
    ("urge", Cue.DEMAND, ()),
    ("call", Cue.DEMAND, ("for", "on")),
    ("extend", Cue.EXTEND, ()),
    ("postpone", Cue.EXTEND, ()),
    ("delay", Cue.EXTEND, ()),
    ("defer", Cue.EXTEND, ()),
    ("push", Cue.EXTEND, ("back",)),
    ("bring", Cue.EXTEND, ("forward",)),
    ("end", Cue.END, ()),
    ("terminate", Cue.END, ()),
    ("revoke", Cue.END, ()),
    ("cancel", Cue.END, ()),
    ("annul", Cue.END, ()),
    ("scrap", Cue.END, ()),
    ("denounce", Cue.END, ()),
    ("renounce", Cue.END, ()),
    ("tear", Cue.END, ("up",)),
    ("sever", Cue.END, ()),
    ("break", Cue.END, ("off",)),
    ("rescind", Cue.END, ()),
    ("abrogate", Cue.END, ()),
    ("nullify", Cue.END, ()),
    ("repeal", Cue.END, ()),
    ("expire", Cue.END, ()),
    ("cease", Cue.END, ()),
    ("suspend", Cue.SUSPEND, ()),
    ("freeze", Cue.SUSPEND, ()),
    ("put", Cue.SUSPEND, ("hold",)),  # "put the agreement on hold"
    ("remain", Cue.STAY, ()),
    ("stay", Cue.STAY, ()),
    ("keep", Cue.STAY, ()),
    ("maintain", Cue.STAY, ()),
    ("retain", Cue.STAY, ()),
    ("occupy", Cue.STAY, ()),
    ("station", Cue.STAY, ()),
    ("base", Cue.STAY, ()),
    ("house", Cue.STAY, ()),
    ("host", Cue.STAY, ()),
    ("operate", Cue.STAY, ()),
    ("guard", Cue.STAY, ()),
    ("protect", Cue.STAY, ()),
    ("patrol", Cue.STAY, ()),
    ("arrive", Cue.MOVE, ()),
    ("deploy", Cue.MOVE, ()),
    ("send", Cue.MOVE, ()),
    ("fly", Cue.MOVE, ()),
    ("repatriate", Cue.MOVE, ()),
    ("kill", Cue.MOVE, ()),
    ("wound", Cue.MOVE, ()),
    ("injure", Cue.MOVE, ()),
    ("die", Cue.MOVE, ()),
    ("capture", Cue.MOVE, ()),
]

# Nouns naming a cue's event ("the withdrawal", "the handover").
_NOUNS: dict[str, Cue] = {
    **dict.fromkeys(
        ("withdrawal", "withdrawals", "pullout", "pull-out", "departure", "departures", "exit"),
        Cue.LEAVE,
    ),
    **dict.fromkeys(
        ("drawdown", "draw-down", "evacuation", "redeployment", "retreat", "pullback"), Cue.LEAVE
    ),
    **dict.fromkeys(
        ("handover", "hand-over", "handovers", "turnover", "retrocession", "transfer"),
        Cue.HAND_OVER,
    ),
    **dict.fromkeys(("takeover", "take-over"), Cue.TAKE_OVER),
    **dict.fromkeys(("closure", "closing"), Cue.CLOSE),
    **dict.fromkeys(("completion",), Cue.COMPLETE),
    **dict.fromkeys(("agreement", "deal", "decision", "accord"), Cue.DECIDE),
    **dict.fromkeys(("extension", "postponement"), Cue.EXTEND),
    **dict.fromkeys(("suspension",), Cue.SUSPEND),
    **dict.fromkeys(
        ("termination", "revocation", "cancellation", "annulment", "end", "expiry", "expiration"),
        Cue.END,
    ),
    **dict.fromkeys(("deployment", "arrival"), Cue.MOVE),
}

# Words that say a process is done or going on ("the withdrawal is complete").
_STATES: dict[str, Cue] = {
    **dict.fromkeys(("complete", "over", "done", "finished", "concluded"), Cue.COMPLETE),
    **dict.fromkeys(("underway", "ongoing"), Cue.BEGIN),
}
# Two-word states, by their first word.
STATE_PHRASES: dict[tuple[str, str], Cue] = {
    ("under", "way"): Cue.BEGIN,
    ("in", "progress"): Cue.BEGIN,
    ("in", "full"): Cue.BEGIN,  # "in full swing"
}


# Verbs read only as participles: "base", "bases", "station" are nearly always nouns.
_NOUN_FIRST = frozenset({"base", "station"})


def _build() -> dict[str, list[Lexeme]]:
    table: dict[str, list[Lexeme]] = {}

    def add(form_text: str, word: Lexeme) -> None:
        entries = table.setdefault(form_text, [])
        if word not in entries:
            entries.append(word)

    for lemma, cue, particle in _VERBS:
        present, past, participle, gerund = _IRREGULAR.get(lemma) or _regular(lemma)
        if lemma not in _NOUN_FIRST:
            add(lemma, Lexeme(lemma, cue, Form.BASE, particle))
            add(present, Lexeme(lemma, cue, Form.PRESENT, particle))
        add(past, Lexeme(lemma, cue, Form.PAST, particle))
        add(participle, Lexeme(lemma, cue, Form.PARTICIPLE, particle))
        add(gerund, Lexeme(lemma, cue, Form.GERUND, particle))
    for noun, cue in _NOUNS.items():
        add(noun, Lexeme(noun, cue, Form.NOUN))
    for state, cue in _STATES.items():
        add(state, Lexeme(state, cue, Form.STATE))
    return table


WORDS: dict[str, list[Lexeme]] = _build()


def own_words(nouns: tuple[str, ...], verbs: tuple[str, ...]) -> dict[str, list[Lexeme]]:
    """A topic's own words for the withdrawal ("replacement") and for leaving
    ("replace"), which take the place of the built-in reading of the same word. A
    noun reads as "withdrawal" does."""
    table: dict[str, list[Lexeme]] = {}
    for verb in verbs:
        lemma = verb.lower()
        present, past, participle, gerund = _IRREGULAR.get(lemma) or _regular(lemma)
        for text, form in (
            (lemma, Form.BASE),
            (present, Form.PRESENT),
            (past, Form.PAST),
            (participle, Form.PARTICIPLE),
            (gerund, Form.GERUND),
        ):
            table.setdefault(text, []).append(Lexeme(lemma, Cue.LEAVE, form))
    for noun in nouns:
        table.setdefault(noun.lower(), []).append(Lexeme("withdrawal", Cue.LEAVE, Form.NOUN))
    return table


# Words naming the people a count counts.
PEOPLE = frozenset(
    {
        *("troops", "troop", "soldiers", "soldier", "forces", "personnel", "servicemembers"),
        *("marines", "airmen", "sailors", "peacekeepers", "peacekeeper", "instructors"),
        *("trainers", "advisers", "advisors", "mercenaries", "fighters", "contractors"),
        *("commandos", "paratroopers", "service members", "military personnel"),
        *("uniformed personnel", "special forces", "special operations forces", "force"),
    }
)
# Words that may sit between a number and the people it counts ("2,500 US
# combat troops"); actor names may too.
PEOPLE_MODIFIERS = frozenset(
    {
        *("military", "remaining", "special", "operations", "active-duty", "combat", "army"),
        *("air", "force", "ground", "uniformed", "armed", "elite", "international", "foreign"),
        *("defence", "defense", "security", "un", "u.n.", "-strong", "navy", "naval", "other"),
        *("regular", "support", "intelligence", "training", "coalition", "allied", "western"),
        *("service", "more", "of", "its", "their", "the", "and"),
    }
)

# How firm a number is, by the words before it.
QUALIFIER_WORDS: dict[str, tuple[str, ...]] = {
    "about": (
        *("about", "around", "roughly", "approximately", "some", "an estimated", "estimated"),
        *("close to", "circa", "approx.", "an approximate", "nearly about"),
    ),
    "more_than": (
        *("more than", "over", "upwards of", "in excess of", "at least", "just over"),
        *("well over", "a little over", "a little more than", "slightly more than", "above"),
    ),
    "fewer_than": (
        *("fewer than", "less than", "under", "just under", "nearly", "almost", "up to"),
        *("as many as", "no more than", "not more than", "a little under", "below", "just shy of"),
    ),
}

# Words that make what follows in their clause not a fact: a plan, a guess,
# a condition, a denial. Matched as whole words, longest first.
MODALS = frozenset(
    {
        *("will", "would", "shall", "should", "could", "may", "might", "must", "can"),
        *("won't", "wouldn't", "couldn't", "shouldn't", "can't", "cannot", "mustn't"),
    }
)
FIRM_MODALS = frozenset({"will", "shall", "must"})
NEGATIONS = frozenset(
    {"not", "never", "no", "n't", "without", "neither", "nor", "nothing", "none", "nobody"}
)
# Verbs and phrases that govern what follows them in the clause.
DENIALS = (
    *("deny", "denies", "denied", "denying", "dismissed", "dismisses", "rejected", "rejects"),
    *("refuted", "refutes", "contradicted", "disputed", "disputes", "refuse", "refused"),
    *("refuses", "refusing", "fail", "failed", "fails", "yet to", "no longer", "declined"),
    *("declines", "ruled out", "rules out", "rule out"),
)
DOUBTS = (
    *("whether", "if", "unless", "unclear", "uncertain", "rumours", "rumors", "speculation"),
    *("question", "questions", "doubt", "doubts", "doubtful", "possibly", "perhaps", "maybe"),
    *("potential", "potentially", "possible", "considering", "consider", "considers", "weighing"),
    *("mulling", "discussing", "discuss", "discussed", "talks on", "talks about", "negotiating"),
    *("negotiate", "proposal", "proposed", "proposes", "propose", "suggested", "suggests"),
    *("once", "in case", "hypothetical", "allegedly", "claims that", "claimed that"),
)
# Words after which a verb in the infinitive is a plan ("plans to leave").
PLANS = (
    *("plan", "plans", "planned", "planning", "intend", "intends", "intended", "aim", "aims"),
    *("aimed", "aiming", "expect", "expects", "expected", "set", "scheduled", "due", "poised"),
    *("prepare", "prepares", "prepared", "preparing", "ready", "seek", "seeks", "sought"),
    *("want", "wants", "wanted", "hope", "hopes", "hoped", "pledge", "pledged", "pledges"),
    *("promise", "promised", "promises", "vow", "vowed", "vows", "threaten", "threatened"),
    *("going", "about", "likely", "unlikely", "able", "have", "has", "had", "need", "needs"),
    *("order", "in order", "so as", "is", "are", "was", "were", "be", "tasked", "supposed"),
    *("slated", "on track", "on course", "allowed", "obliged", "required", "forced"),
    *("asked", "urged", "told", "called on", "requested", "demanded", "invited", "decision"),
    *("agreement", "deal", "bid", "effort", "efforts", "move", "way", "time", "chance"),
    *("attempt", "attempts", "push", "pressure", "demand", "demands", "request", "call"),
)
# Markers that make a count or a date one of the past, not of now.
PAST_MARKERS = (
    *("at its peak", "at their peak", "at the peak", "at the height", "peaked", "once"),
    *("previously", "formerly", "originally", "initially", "at one point", "used to"),
    *("had numbered", "had been", "at the time", "in the past", "down from", "up from"),
    *("reduced from", "cut from", "compared with", "compared to", "before the", "hovered"),
    *("peaked", "has stood", "had stood"),
)
# Words before a date that make it the end point of something ("by Sept. 15").
DEADLINE_PREPOSITIONS = (
    *("by", "before", "no later than", "not later than", "ahead of"),
    *("by the end of", "before the end of", "until the end of", "by end of", "by end-"),
)
DEADLINE_NOUNS = frozenset(
    {"deadline", "deadlines", "cutoff", "cut-off", "timeline", "timetable", "target", "end date"}
)
# Nouns that stand for a force or part of one as a subject ("the last convoy left").
FORCE_NOUNS = frozenset(
    {
        *("mission", "contingent", "force", "forces", "convoy", "convoys", "unit", "units"),
        *("battalion", "troops", "army", "military", "personnel", "soldiers", "detachment"),
        *("peacekeepers", "group", "column", "coalition", "advisers", "advisors", "men"),
        *("marines", "trainers", "instructors", "mercenaries", "fighters", "staff", "elements"),
    }
)
# Words that make a deadline a former one ("the original May 1 deadline").
SUPERSEDED = (
    *("original", "originally", "initial", "initially", "previous", "previously", "earlier"),
    *("old", "former", "formerly", "missed", "instead of", "rather than", "replacing"),
    *("replaced", "replaces", "had been set", "was set for", "first set"),
)
# Words that say a count is of people present now ("remain", "are stationed").
PRESENT_MARKERS = (
    *("remain", "remains", "remained", "remaining", "stay", "stays", "stationed", "based"),
    *("deployed in", "present", "there are", "there were", "has", "have", "numbering"),
    *("number", "numbers", "total", "totals", "still", "currently", "now", "left behind"),
)
# Pronouns and nouns that continue the subject of the sentence before.
CONTINUATIONS = frozenset(
    {
        *("they", "their", "them", "it", "its", "he", "she", "his", "her", "the", "this"),
        *("these", "those", "most", "some", "all", "both", "troops", "forces", "soldiers"),
    }
)


# -- words that qualify an event ------------------------------------------------

# Cues that name what happens to a force or a base; the others (complete,
# begin, decide...) say something of them. STAY and MOVE say where a force is.
CORE = frozenset({Cue.LEAVE, Cue.HAND_OVER, Cue.TAKE_OVER, Cue.CLOSE, Cue.END, Cue.SUSPEND})


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
        "others",
        *("contingent", "group", "batch", "portion", "partial", "partially", "half", "more"),
        *("majority", "bulk", "region", "province", "district", "area", "parts", "convoy"),
        *("third", "thirds", "quarter", "fraction"),
    }
)


STAGES = frozenset({"phase", "stage", "part", "leg", "step", "round", "wave"})


PROCESS_NOUNS = frozenset(
    {"withdrawal", "pullout", "pull-out", "departure", "exit", "drawdown", "draw-down", "retreat"}
)
