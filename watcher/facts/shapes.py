"""The JSON shapes of what is known: ``watcher facts --json`` prints them, the web API serves them.

One place for both, so a field added for one shows in the other.
"""

from __future__ import annotations

from typing import Any

from watcher.facts.compare import KnownFact
from watcher.facts.topic import Topic
from watcher.models import FactChange


def fact_json(fact: KnownFact) -> dict[str, Any]:
    """A known fact in the fact shape of the CLI contract, with where it comes from."""
    first = fact.sources[0] if fact.sources else None
    return {
        **fact.to_json(),
        "quote": first.quote if first else None,
        "source": first.url if first else None,
    }


def facts_document(
    topic: Topic, facts: list[KnownFact], changes: list[FactChange]
) -> dict[str, Any]:
    """``{"topic", "facts", "changes"}``: the facts as they stand and the changes that led there."""
    return {
        "topic": topic.name,
        "facts": [fact_json(f) for f in facts],
        "changes": [c.to_json() for c in changes],
    }
