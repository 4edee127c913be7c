from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from watcher.alerts.outbox import Outbox, enqueue
from watcher.store import Store, open_store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The outbox on each backend: an SQLite file, a PostgreSQL database."""
    opened = open_store(db_url)
    yield opened
    opened.close()


def add(store: Store, key: str = "change:1:email", at: datetime | None = None) -> bool:
    with store.transaction() as conn:
        return enqueue(
            conn,
            kind="change",
            channel="email",
            idempotency_key=key,
            subject_key="bases.air_base_201.status",
            payload={"new": "handed_over"},
            at=at or datetime.now(UTC),
        )


def outbox(store: Store, attempts: int = 3) -> Outbox:
    return Outbox(store, max_attempts=attempts, backoff=60, backoff_max=600)


def test_same_idempotency_key_is_queued_once(store: Store) -> None:
    assert add(store) is True
    assert add(store) is False
    assert len(outbox(store).due()) == 1


def test_claimed_alert_cannot_be_claimed_twice(store: Store) -> None:
    add(store)
    box = outbox(store)
    [alert] = box.due()
    assert box.claim(alert) is True
    assert box.claim(alert) is False
    assert box.due() == []


def test_failure_backs_off_then_gives_up_and_retry_revives(store: Store) -> None:
    with freeze_time("2024-08-05 12:00:00"):
        add(store)
        box = outbox(store, attempts=2)
        [alert] = box.due()
        box.claim(alert)
        assert box.failed(alert, "connection refused", permanent=False) == "pending"
        assert box.due() == []  # not before the backoff has passed
    with freeze_time("2024-08-05 12:01:01"):
        [alert] = box.due()
        assert alert.attempts == 1 and alert.last_error == "connection refused"
        box.claim(alert)
        assert box.failed(alert, "connection refused", permanent=False) == "failed"
        assert [a.state for a in box.listing()] == ["failed"]
        assert box.retry() == 1
        [alert] = box.due()
        assert alert.attempts == 0


def test_retry_after_longer_than_backoff_is_honoured(store: Store) -> None:
    with freeze_time("2024-08-05 12:00:00"):
        add(store)
        box = outbox(store)
        [alert] = box.due()
        box.claim(alert)
        box.failed(alert, "HTTP 429", permanent=False, retry_after=300)
    with freeze_time("2024-08-05 12:04:59"):
        assert box.due() == []
    with freeze_time("2024-08-05 12:05:01"):
        assert len(box.due()) == 1


def test_permanent_failure_is_kept_visible(store: Store) -> None:
    add(store)
    box = outbox(store)
    [alert] = box.due()
    box.claim(alert)
    assert box.failed(alert, "HTTP 404 no_service", permanent=True) == "failed"
    [listed] = box.listing()
    assert (listed.state, listed.last_error) == ("failed", "HTTP 404 no_service")


def test_alert_left_sending_by_a_dead_process_is_not_resent(store: Store) -> None:
    add(store)
    box = outbox(store)
    [alert] = box.due()
    box.claim(alert)  # ... and the process dies here
    assert outbox(store).recover() == 1
    assert outbox(store).due() == []
    [listed] = box.listing()
    assert listed.state == "uncertain"


def test_thread_root_is_the_first_sent_message_about_a_fact(store: Store) -> None:
    box = outbox(store)
    for number in (1, 2):
        add(store, key=f"change:{number}:email")
    first, second = box.due()
    assert box.thread_root("email", "bases.air_base_201.status") is None
    box.claim(first)
    box.sent(first, message_id="<first@watcher>")
    box.claim(second)
    box.sent(second, message_id="<second@watcher>")
    assert box.thread_root("email", "bases.air_base_201.status") == "<first@watcher>"
    assert box.thread_root("slack", "bases.air_base_201.status") is None
