"""Corrections with their alerts, in one transaction each.

Rejecting a change cancels its alerts not sent yet, and queues one
correction notice for each channel that heard it (or may have: an alert
left uncertain); a notice is keyed by change and channel, so it is sent
once, whatever happens to the correction after. A change that a
correction's refold brings out is alerted like any other.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from watcher.alerts.outbox import enqueue, enqueue_change
from watcher.config import Config
from watcher.facts import corrections, knowledge
from watcher.facts.corrections import Corrected, Rejected
from watcher.facts.known import ChangeEvent, describe
from watcher.facts.stories import Story, policy_of
from watcher.models import AlertKind, AlertState, FactChange
from watcher.store import Store, alerts, utcnow


def queue_recorded(
    conn: Connection, config: Config, corrected: Corrected, *, at: datetime
) -> list[tuple[FactChange, ChangeEvent, list[str]]]:
    """Queue the alerts of the changes a correction's refold created or moved on."""
    story = corrected.story
    channels = {n: r for n, r in config.notify.channels().items() if story.hears(n)}
    queued = []
    for recorded in corrected.recorded:
        change = knowledge.present(
            recorded.change, recorded.change_id, recorded.first_seen, story.topic, story.name
        )
        subject = story.subject_key(change.key)
        sent_to = enqueue_change(conn, change, recorded.event, channels, at=at, subject_key=subject)
        queued.append((change, recorded.event, sent_to))
    return queued


def reject_change(
    config: Config,
    store: Store,
    stories: list[Story],
    change_id: int,
    *,
    why: str | None,
    by: str,
) -> tuple[Rejected, list[str]]:
    """Reject a change; returns what was done and the channels a notice is queued for."""
    at = utcnow()
    with store.transaction() as conn:
        rejected = corrections.reject(
            conn, stories, change_id, why=why, by=by, at=at, policy=policy_of(config)
        )
        heard = _cancel_and_heard(conn, change_id, rejected.correction_id)
        notice = correction_notice(rejected, at=at)
        story = rejected.story
        noticed = []
        for channel in heard:
            if channel not in config.notify.channels():
                continue  # no longer configured: nothing to send it with
            if enqueue(
                conn,
                kind=AlertKind.CORRECTION,
                channel=channel,
                idempotency_key=f"correction:{change_id}:{channel}",
                subject_key=story.subject_key(rejected.key),
                payload=notice.to_json(),
                change_id=change_id,
                at=at,
            ):
                noticed.append(channel)
        queue_recorded(conn, config, rejected, at=at)
    return rejected, noticed


def _cancel_and_heard(conn: Connection, change_id: int, correction_id: int) -> list[str]:
    """Cancel the change's alerts not sent; return the channels that heard it (or may
    have: uncertain, or being sent right now)."""
    rows = conn.execute(
        select(alerts.c.channel, alerts.c.state).where(
            alerts.c.change_id == change_id, alerts.c.kind == AlertKind.CHANGE
        )
    ).all()
    conn.execute(
        update(alerts)
        .where(
            alerts.c.change_id == change_id,
            alerts.c.kind == AlertKind.CHANGE,
            alerts.c.state.in_((AlertState.PENDING, AlertState.FAILED)),
        )
        .values(
            state=AlertState.CANCELLED,
            last_error=f"the change was rejected (correction {correction_id})",
        )
    )
    heard = (AlertState.SENT, AlertState.UNCERTAIN, AlertState.SENDING)
    return sorted({channel for channel, state in rows if state in heard})


def correction_notice(rejected: Rejected, *, at: datetime) -> FactChange:
    """The notice, shown like a change: what was reported, what stands now, and why."""
    story, change = rejected.story, rejected.change
    assert change is not None
    label = knowledge.label_of(story.topic, rejected.key)
    wrong = describe(change.kind, change.new.value, change.new.qualifier)
    reason = f": {rejected.why}" if rejected.why else ""
    return FactChange(
        change_id=rejected.change_id,
        story=story.name,
        story_title=story.title,
        key=rejected.key,
        label=f"Correction: {label}",
        change_type=AlertKind.CORRECTION,  # a notice, not a ChangeType
        old=wrong,
        new=corrections.value_text(rejected.fact),
        status=f"the report of {wrong} was rejected by {rejected.by}{reason}",
        first_seen=at,
        evidence=(),
    )


def set_fact(
    config: Config,
    store: Store,
    story: Story,
    key: str,
    value: str,
    *,
    qualifier: str | None,
    as_of: date | None,
    why: str | None,
    by: str,
) -> Corrected:
    at = utcnow()
    with store.transaction() as conn:
        corrected = corrections.set_value(
            conn,
            story,
            key,
            value,
            qualifier=qualifier,
            as_of=as_of or at.date(),
            why=why,
            by=by,
            at=at,
            policy=policy_of(config),
        )
        queue_recorded(conn, config, corrected, at=at)
    return corrected


def undo_correction(
    config: Config, store: Store, stories: list[Story], correction_id: int, *, by: str
) -> Corrected:
    at = utcnow()
    with store.transaction() as conn:
        corrected = corrections.undo(
            conn, stories, correction_id, by=by, at=at, policy=policy_of(config)
        )
        queue_recorded(conn, config, corrected, at=at)
    return corrected
