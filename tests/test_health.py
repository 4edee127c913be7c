from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from watcher.alerts.health import assess, health_events
from watcher.store import SourceState

NOW = datetime(2024, 8, 10, 12, tzinfo=UTC)
WELL = SourceState(
    name="wire",
    url="https://wire.example/feed",
    etag=None,
    last_modified=None,
    body_hash=None,
    last_attempt=NOW,
    last_success=NOW,
    last_error=None,
    consecutive_failures=0,
    last_new_item=NOW - timedelta(hours=3),
    added_at=NOW - timedelta(days=30),
    health="ok",
)
LIMITS = {"failures": 3, "silence": 2 * 86400.0, "now": NOW}


def test_a_healthy_source_raises_nothing() -> None:
    assert assess(WELL, **LIMITS)[0] == "ok"
    assert health_events([WELL], **LIMITS) == []


def test_failing_source_raises_once_then_recovers() -> None:
    failing = replace(WELL, consecutive_failures=3, last_error="HTTP 500 Internal Server Error")
    [event] = health_events([failing], **LIMITS)
    assert event.kind == "failing" and "3 failed polls in a row: HTTP 500" in event.detail
    # Once the failing health is recorded, more failures raise nothing new.
    assert (
        health_events([replace(failing, consecutive_failures=9, health="failing")], **LIMITS) == []
    )
    [recovered] = health_events([replace(WELL, health="failing")], **LIMITS)
    assert recovered.kind == "recovered"


def test_two_failures_are_not_yet_a_failing_source() -> None:
    assert health_events([replace(WELL, consecutive_failures=2)], **LIMITS) == []


def test_silent_source() -> None:
    quiet = replace(WELL, last_new_item=NOW - timedelta(days=2, hours=1))
    [event] = health_events([quiet], **LIMITS)
    assert event.kind == "silent" and "2.0 days" in event.detail


def test_new_source_without_items_is_silent_from_when_it_was_added() -> None:
    never = replace(WELL, last_new_item=None, added_at=NOW - timedelta(days=1))
    assert assess(never, **LIMITS)[0] == "ok"
    never = replace(never, added_at=NOW - timedelta(days=3))
    assert assess(never, **LIMITS)[0] == "silent"
    # Recording the silence does not make it look like a recovery.
    assert health_events([replace(never, health="silent", health_since=NOW)], **LIMITS) == []
