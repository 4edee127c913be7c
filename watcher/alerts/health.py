"""Source health: a source that keeps failing or goes silent is itself news.

Each source's health (ok, failing, silent) is remembered, so an alert is
raised once when it turns bad and a recovery notice once when it is well
again, not on every poll in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from watcher.models import SourceHealth
from watcher.store import SourceState


class HealthChange(StrEnum):
    """What a health alert says of a source (``HealthEvent.kind``)."""

    FAILING = "failing"
    SILENT = "silent"
    RECOVERED = "recovered"  # back to ok


@dataclass(frozen=True)
class HealthEvent:
    """A source's health changing: the cause of a health alert, not a fact change."""

    source: str
    url: str
    kind: HealthChange
    detail: str
    at: datetime
    # The health it left
    previous: str = SourceHealth.OK

    @property
    def health(self) -> SourceHealth:
        """The source's health after this event."""
        return SourceHealth.OK if self.kind is HealthChange.RECOVERED else SourceHealth(self.kind)

    @property
    def subject_key(self) -> str:
        return f"source:{self.source}"

    def to_json(self) -> dict[str, str]:
        return {
            "source": self.source,
            "url": self.url,
            "kind": self.kind,
            "detail": self.detail,
            "at": self.at.isoformat(),
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> HealthEvent:
        return cls(
            source=data["source"],
            url=data["url"],
            kind=HealthChange(data["kind"]),
            detail=data["detail"],
            at=datetime.fromisoformat(data["at"]),
            previous=data.get("previous", SourceHealth.OK),
        )


def assess(
    state: SourceState, *, failures: int, silence: float, now: datetime
) -> tuple[SourceHealth, str]:
    """The health a source is in now, and why."""
    if state.consecutive_failures >= failures:
        return (
            SourceHealth.FAILING,
            f"{state.consecutive_failures} failed polls in a row: {state.last_error}",
        )
    quiet_since = state.last_new_item or state.added_at
    if (
        state.last_success is not None
        and quiet_since is not None
        and now - quiet_since > timedelta(seconds=silence)
    ):
        days = (now - quiet_since).total_seconds() / 86400
        return SourceHealth.SILENT, f"no new items for {days:.1f} days"
    return SourceHealth.OK, "polling normally again"


def health_events(
    states: list[SourceState], *, failures: int, silence: float, now: datetime
) -> list[HealthEvent]:
    """What changed in the sources' health since it was last recorded."""
    events = []
    for state in states:
        health, detail = assess(state, failures=failures, silence=silence, now=now)
        if health == state.health:
            continue
        kind = HealthChange.RECOVERED if health == SourceHealth.OK else HealthChange(health)
        events.append(HealthEvent(state.name, state.url, kind, detail, now, state.health))
    return events
