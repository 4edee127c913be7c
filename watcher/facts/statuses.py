"""The value an event gives a status: a base handed over or being left, the
withdrawal agreed, under way or completed."""

from __future__ import annotations

from watcher.facts.clauses import Aspect
from watcher.facts.events import Event
from watcher.facts.lexicon import Cue


def base_value(event: Event) -> str | None:
    if event.aspect is Aspect.DONE and event.cue in (
        Cue.LEAVE,
        Cue.HAND_OVER,
        Cue.TAKE_OVER,
        Cue.CLOSE,
        Cue.END,
    ):
        partly = event.partial and not event.whole and event.cue is Cue.LEAVE
        return "withdrawing" if partly else "handed_over"
    if event.aspect is Aspect.ONGOING:
        return "withdrawing"
    return None


def process_value(event: Event) -> str | None:
    aspect = event.aspect
    if event.cue not in (Cue.LEAVE, Cue.END):
        return None
    if event.mission:
        return "agreed" if aspect in (Aspect.DONE, Aspect.DECIDED) else None
    if aspect is Aspect.DONE:
        if event.agent is not None and event.agent.contingent:
            return "in_progress"  # "the last Italian peacekeepers left": one contingent
        if event.whole:
            return "completed"
        if event.partial:
            return "in_progress"
        if event.here and event.cue is Cue.LEAVE and not event.process:
            # A headline's present ("Wagner withdraws from Mali") may tell of a
            # departure announced, begun or over: it says no more than decided. The
            # past ("left Mali") tells of one that is over.
            return "agreed" if event.reading.why == "present" else "completed"
        if event.cue is Cue.END and event.process:
            return "completed"
        return None
    if aspect is Aspect.ONGOING:
        return "in_progress"
    if aspect is Aspect.DECIDED:
        return "agreed"
    if aspect is Aspect.PLANNED and (event.deadline or event.whole or firmly_from(event)):
        return "agreed"  # "plans to withdraw all its forces by September 11"
    if aspect is Aspect.NAMED and event.deadline and event.cue is Cue.LEAVE:
        return "agreed"  # "responsible for the withdrawal of French troops by the end of the year"
    return None


def firmly_from(event: Event) -> bool:
    """ "The United States will withdraw its troops from Chad": a firm future of
    leaving the place itself."""
    partly = event.partial and not event.counted  # a number may be the whole force
    return event.here and not partly and event.reading.why in ("future: 'will'", "future: 'shall'")


def told_in_the_past(event: Event) -> bool:
    """ "which US forces left", "was handed over": a past event, not today's news
    (the perfect and the present are)."""
    return event.reading.why in ("past", "passive")
