"""The JSON shapes of what is known: ``watcher facts --json`` prints them, the web API serves them.

One place for both, so a field added for one shows in the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from watcher.facts.known import KnownFact
from watcher.facts.stories import Story
from watcher.models import FactChange
from watcher.store import StoredCorrection


def fact_json(fact: KnownFact, story: str | None = None) -> dict[str, Any]:
    """A known fact in the fact shape of the CLI contract, with where it comes from."""
    first = fact.sources[0] if fact.sources else None
    return {
        "story": story,
        **fact.to_json(),
        "quote": first.quote if first else None,
        "source": first.url if first else None,
    }


@dataclass(frozen=True)
class StoryFacts:
    """One story's facts as they stand, its changes, and the corrections people made."""

    story: Story
    facts: list[KnownFact]
    changes: list[FactChange]
    corrections: list[StoredCorrection] = field(default_factory=list)


def facts_document(shown: Sequence[StoryFacts]) -> dict[str, Any]:
    """``{"topic", "stories", "facts", "changes", "corrections"}``: the facts as they stand
    and the changes that led there, every one with its story. ``topic`` is the topic's
    name when one story is shown (as before configs followed several), else null."""
    return {
        "topic": shown[0].story.topic.name if len(shown) == 1 else None,
        "stories": [
            {"name": s.story.name, "topic": s.story.topic.name, "title": s.story.title}
            for s in shown
        ],
        "facts": [fact_json(f, s.story.name) for s in shown for f in s.facts],
        "changes": [c.to_json() for s in shown for c in s.changes],
        "corrections": [c.to_json() for s in shown for c in s.corrections],
    }
